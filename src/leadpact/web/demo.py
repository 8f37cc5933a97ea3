"""The demo organisation, loaded by ``leadpact start``; grows as the product does."""

from __future__ import annotations


def demo_load() -> str:
    """Load the demo data idempotently and return a one-line summary."""
    return "demo: nothing to load yet"
