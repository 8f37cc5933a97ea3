"""Targets: every commitment's target for a period, per owner team and person; overrides set by hand."""
