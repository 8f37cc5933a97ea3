"""Closed periods: figures frozen at closing; later data shows as a restatement a party lead accepts."""
