"""Leads and their append-only event log: stored from the JSON API, file imports and signed webhooks."""
