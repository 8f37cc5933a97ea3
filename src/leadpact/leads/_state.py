"""A lead's current state, derived from its events by a pure function (no Django here).

Events are applied in the order ``(occurred_at, kind order, idempotency key)``: the source's time first,
then a fixed order of kinds for events at the same instant (a lead is created before it is handed over,
accepted before it is worked …), then the idempotency key, which depends only on the event's content.
So late and out-of-order arrivals give the same state whatever the order they arrived in.

>>> from datetime import datetime, UTC
>>> t = datetime(2026, 11, 26, 9, tzinfo=UTC)
>>> state = derive_state([EventFact("accepted", t, "b"), EventFact("handed_over", t, "a")])
>>> (state.stage, state.decision, state.handed_over_at == t)
('accepted', 'accepted', True)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from leadpact.connectors.bounds import amount_problem

__all__ = [
    "AMOUNT_TEXT_LENGTH",
    "KIND_ORDER",
    "STAGE_OF",
    "EventFact",
    "StateValues",
    "amount_text",
    "apply_events",
    "derive_state",
    "event_sort_key",
]

#: Tie-break for events at the same instant: the order things happen in a lead's life.
KIND_ORDER: dict[str, int] = {
    "created": 0,
    "field_changed": 1,
    "handed_over": 2,
    "assigned": 3,
    "accepted": 4,
    "rejected": 5,
    "contact_attempt": 6,
    "qualified": 7,
    "opportunity": 8,
    "won": 9,
    "lost": 10,
    "feedback": 11,
    "recycled": 12,
}

#: The longest amount text the state cache keeps (``LeadState.amount``).
AMOUNT_TEXT_LENGTH = 40

#: The stage an event moves the lead to; kinds not listed leave the stage as it is.
STAGE_OF: dict[str, str] = {
    "created": "new",
    "handed_over": "handed_over",
    "accepted": "accepted",
    "rejected": "rejected",
    "qualified": "qualified",
    "opportunity": "opportunity",
    "won": "won",
    "lost": "lost",
    "recycled": "recycled",
}


@dataclass(frozen=True, slots=True)
class EventFact:
    """What state derivation needs of one stored event."""

    kind: str
    occurred_at: datetime
    key: str
    actor_id: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class StateValues:
    """A lead's state after its events; ``None``/``""`` where nothing said otherwise.

    The handoff cycle (``handed_over_at``, ``decision``, attempts) restarts at a ``recycled`` event, so a
    recycled lead handed over again is measured afresh. ``human_attempts`` counts contact attempts not
    marked automated (``human`` true or unknown); ``attempts`` counts every contact attempt.
    """

    stage: str = "new"
    owner_id: int | None = None
    owner_label: str = ""
    created_at: datetime | None = None
    handed_over_at: datetime | None = None
    handoffs: int = 0
    decision: str = ""
    decided_at: datetime | None = None
    reason_code: str = ""
    first_attempt_at: datetime | None = None
    first_human_attempt_at: datetime | None = None
    attempts: int = 0
    human_attempts: int = 0
    outcome: str = ""
    closed_at: datetime | None = None
    amount: str = ""
    recycled: int = 0
    events: int = 0
    last_event_at: datetime | None = None


def amount_text(value: Any) -> str:
    """An event's stored amount as the state keeps it: the decimal text, or ``""`` when there is none or it
    is no number within ``connectors.bounds`` (a value stored before them, or by hand).

    >>> amount_text("1200.50"), amount_text("1" + "0" * 99), amount_text(None)
    ('1200.50', '', '')
    """
    text = value if isinstance(value, str) else "" if value is None or isinstance(value, bool) else str(value)
    if not text or len(text) > AMOUNT_TEXT_LENGTH:
        return ""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return ""
    return text if amount_problem(number) is None else ""


def event_sort_key(event: EventFact) -> tuple[datetime, int, str]:
    """``(occurred_at, kind order, idempotency key)``: an order independent of arrival."""
    return (event.occurred_at, KIND_ORDER.get(event.kind, 99), event.key)


def derive_state(events: Iterable[EventFact]) -> StateValues:
    """Fold a lead's events (in any order) into its state."""
    return apply_events(StateValues(), events)


def apply_events(state: StateValues, events: Iterable[EventFact]) -> StateValues:
    """Fold ``events`` (in any order) into ``state`` (changed in place and returned).

    Only the same as :func:`derive_state` over all the events when every new event sorts after every
    event ``state`` came from (e.g. each ``occurred_at`` later than ``state.last_event_at``).
    """
    for e in sorted(events, key=event_sort_key):
        state.events += 1
        state.last_event_at = e.occurred_at
        kind = e.kind
        stage = STAGE_OF.get(kind)
        if stage is not None:
            state.stage = stage
        if kind == "created":
            if state.created_at is None:
                state.created_at = e.occurred_at
        elif kind == "handed_over":
            state.handoffs += 1
            if state.handed_over_at is None:
                state.handed_over_at = e.occurred_at
        elif kind == "assigned":
            value = str(e.data.get("value", "") or "")
            owner = e.data.get("owner_id")
            state.owner_id = owner if isinstance(owner, int) else None
            state.owner_label = value
        elif kind in ("accepted", "rejected"):
            state.decision = kind
            state.decided_at = e.occurred_at
            state.reason_code = str(e.data.get("reason_code", "") or "") if kind == "rejected" else ""
        elif kind == "contact_attempt":
            state.attempts += 1
            if state.first_attempt_at is None:
                state.first_attempt_at = e.occurred_at
            if e.data.get("human") is not False:
                state.human_attempts += 1
                if state.first_human_attempt_at is None:
                    state.first_human_attempt_at = e.occurred_at
        elif kind in ("won", "lost"):
            state.outcome = kind
            state.closed_at = e.occurred_at
            state.amount = amount_text(e.data.get("amount"))
        elif kind == "opportunity":
            state.amount = amount_text(e.data.get("amount")) or state.amount
        elif kind == "recycled":
            state.recycled += 1
            state.handed_over_at = None
            state.decision = ""
            state.decided_at = None
            state.reason_code = ""
            state.first_attempt_at = None
            state.first_human_attempt_at = None
            state.attempts = 0
            state.human_attempts = 0
            state.outcome = ""
            state.closed_at = None
    return state
