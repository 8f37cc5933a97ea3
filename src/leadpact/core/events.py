"""Lead event kinds (DESIGN §2): the one list every part of leadpact speaks.

>>> "handed_over" in EVENT_KINDS
True
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["EVENT_KINDS", "EventKind"]

EventKind = Literal[
    "created",
    "handed_over",
    "assigned",
    "contact_attempt",
    "accepted",
    "rejected",
    "qualified",
    "opportunity",
    "won",
    "lost",
    "recycled",
    "feedback",
    "field_changed",
]
#: In lifecycle order.
EVENT_KINDS: tuple[EventKind, ...] = get_args(EventKind)
