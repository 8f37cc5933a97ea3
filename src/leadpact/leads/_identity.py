"""One fact, one event: an event's identity across sources, and which report of it is kept.

A HubSpot export gives a handoff as ``2026-10-07 10:00`` (a minute), a HubSpot webhook gives the same
handoff as ``08:00:00.123Z`` (a millisecond); a Salesforce report gives a creation date (a day), the Bulk
API the same creation to the second. Their content keys differ, so the content key alone stored the fact
twice (and a first call at 08:00:30 was "before" one handoff and after the other).

The rule: two events are the same event when they belong to the same lead (its source record), have the
same kind and their instants agree at the coarser of the two precisions — the finer instant falls in the
coarser one's span ``[instant, instant + span)`` (a minute's 60 s, a day's 24 h from its local midnight).
Values (a note, a channel) do not take part: two reports of one fact may word it differently.

Conflicts: the most precise report wins. A finer report of a stored event is stored and the coarser one is
voided (a ``voided`` event naming it, reason ``superseded``; the log stays append-only and measurement
leaves it out); an equal or coarser report adds nothing. One exception keeps the order the coarser source
gave: a refinement that would carry the event past another event of the lead known only at the coarser
precision (an export's handoff "15:31" and call "15:31"; the handoff refined to 15:31:00.123 would fall
after the call and the call would stop counting) is not applied — the coarser report stays, so the facts
keep the order their only common evidence gives them. Reports of the same precision are left to their
content key (the same values at the same instant are one event, as before), so two calls a second apart
— or two calls the API gives at one instant with different values — stay two calls.

Both the file import and the webhook/API path call :func:`resolve` from ``_store.store_items``; a lead made
in the batch has no stored events, so a bulk load of new leads costs nothing here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from leadpact.connectors.records import PRECISIONS, VOIDED, voided_event_id

__all__ = ["SPANS", "SUPERSEDED", "Identity", "match_stored", "resolve", "same_event", "span", "void_key"]

#: How long an instant given at each precision may stand for (a day: 24 h from its local midnight; a
#: day with a clock change is an hour longer or shorter, which no fact of a real day falls into).
SPANS: dict[str, dt.timedelta] = {
    "day": dt.timedelta(days=1),
    "minute": dt.timedelta(minutes=1),
    "second": dt.timedelta(seconds=1),
    "millisecond": dt.timedelta(milliseconds=1),
    "microsecond": dt.timedelta(microseconds=1),
}
_RANK: dict[str, int] = {name: i for i, name in enumerate(PRECISIONS)}
_FINEST = PRECISIONS[-1]
SUPERSEDED = "superseded by a more precise report of the same event"


def span(precision: str) -> dt.timedelta:
    """The span of a precision (unknown or ``""``: a microsecond, the finest)."""
    return SPANS.get(precision or _FINEST, SPANS[_FINEST])


def _rank(precision: str) -> int:
    return _RANK.get(precision or _FINEST, _RANK[_FINEST])


def same_event(a_at: dt.datetime, a_precision: str, b_at: dt.datetime, b_precision: str) -> bool:
    """Whether two instants of one lead's events of one kind are the same fact (see the module).

    >>> from datetime import datetime, UTC
    >>> csv = datetime(2026, 10, 7, 8, 0, tzinfo=UTC)
    >>> hook = datetime(2026, 10, 7, 8, 0, 0, 123000, tzinfo=UTC)
    >>> same_event(csv, "minute", hook, "millisecond"), same_event(csv, "second", hook, "second")
    (True, False)
    """
    if _rank(a_precision) > _rank(b_precision):
        a_at, a_precision, b_at, b_precision = b_at, b_precision, a_at, a_precision
    # a is the coarser (or equally precise) one: b falls in a's span
    if _rank(a_precision) == _rank(b_precision):
        return False  # equally precise reports: their content key decides (two calls in one instant stay two)
    return a_at <= b_at < a_at + span(a_precision)


def void_key(event_id: int) -> str:
    """The idempotency key of the void of an event (the same as ``lead_event_void`` writes)."""
    return hashlib.sha256(f"leadpact:void:{event_id}".encode()).hexdigest()


@dataclass(slots=True)
class Identity:
    """What :func:`resolve` decided for a batch's events, by their index in the batch.

    ``same``: index → id of the stored event it repeats (nothing to store); ``repeats``: index → index
    of the earlier event of the same batch it repeats; ``supersede``: index → id of the stored,
    coarser event it
    replaces (store it, void that one); ``voided_leads``: the leads whose state must be folded again.
    """

    same: dict[int, int] = field(default_factory=dict)
    repeats: dict[int, int] = field(default_factory=dict)
    supersede: dict[int, int] = field(default_factory=dict)
    voided_leads: set[int] = field(default_factory=set)


def resolve(
    candidates: Sequence[tuple[int, int, str, dt.datetime, dict[str, Any]]],
    stored: Iterable[tuple[int, int, str, dt.datetime, dict[str, Any]]],
) -> Identity:
    """Match a batch's new events against stored ones (and earlier ones of the batch) by identity.

    ``candidates``: ``(index, lead id, kind, instant, data)`` of events whose content key is not stored;
    ``stored``: ``(event id, lead id, kind, instant, data)`` of the same leads' stored events of those
    kinds, voids included (a voided event is no match; a void is never one). ``data["precision"]`` is
    the event's precision.
    """
    out = Identity()
    rows = list(stored)
    voided = {voided_event_id(data) for _, _, kind, _, data in rows if kind == VOIDED}
    by_lead_kind: dict[tuple[int, str], list[tuple[int, dt.datetime, str]]] = {}
    by_lead: dict[int, list[tuple[int, dt.datetime, str]]] = {}
    for pk, lead_id, kind, at, data in rows:
        if kind == VOIDED or pk in voided:
            continue
        by_lead_kind.setdefault((lead_id, kind), []).append((pk, at, _precision(data)))
        by_lead.setdefault(lead_id, []).append((pk, at, _precision(data)))
    taken: dict[tuple[int, str], list[tuple[int, dt.datetime, str]]] = {}
    for index, lead_id, kind, at, data in candidates:
        if kind == VOIDED:
            continue
        precision = _precision(data)
        earlier = taken.setdefault((lead_id, kind), [])
        first = next((i for i, b_at, b_prec in earlier if same_event(at, precision, b_at, b_prec)), None)
        if first is not None:
            out.repeats[index] = first
            continue
        match = next(
            (
                (pk, b_precision)
                for pk, b_at, b_precision in by_lead_kind.get((lead_id, kind), ())
                if pk not in out.supersede.values() and same_event(at, precision, b_at, b_precision)
            ),
            None,
        )
        if match is not None:
            pk, b_precision = match
            if _rank(precision) > _rank(b_precision) and not _reorders(
                by_lead.get(lead_id, ()), pk, _coarse_at(by_lead_kind[(lead_id, kind)], pk), at, precision
            ):
                out.supersede[index] = pk
                out.voided_leads.add(lead_id)
            else:
                out.same[index] = pk
                continue
        earlier.append((index, at, precision))
    return out


def _coarse_at(events: Iterable[tuple[int, dt.datetime, str]], pk: int) -> dt.datetime:
    return next(at for event_pk, at, _ in events if event_pk == pk)


def _reorders(
    events: Iterable[tuple[int, dt.datetime, str]],
    replaced: int,
    coarse_at: dt.datetime,
    fine_at: dt.datetime,
    precision: str,
) -> bool:
    """Whether moving an event from ``coarse_at`` to ``fine_at`` would carry it past another event of the
    lead whose place against it is known only at a coarser precision (a call "at 15:31" and a handoff "at
    15:31" from one export: a handoff refined to 15:31:00.123 would fall after that call)."""
    rank = _rank(precision)
    return any(
        pk != replaced and coarse_at <= at <= fine_at and _rank(other) < rank for pk, at, other in events
    )


def _precision(data: Any) -> str:
    value = data.get("precision", "") if isinstance(data, dict) else ""
    return value if isinstance(value, str) else ""


def match_stored(
    organization_id: int,
    keyed: Sequence[tuple[Any, str, bytes, int | None]],
    existing: dict[str, int],
    new_ids: set[int],
) -> Identity:
    """:func:`resolve` for ``_store``'s keyed batch: the events of leads stored before this batch whose
    content key is new, against those leads' stored events of the same kinds (one query per batch)."""
    from leadpact.leads.models import LeadEvent

    candidates = [
        (index, lead_id, item[2], item[3], item[5])
        for index, (item, key, _digest, lead_id) in enumerate(keyed)
        if lead_id is not None and lead_id not in new_ids and key not in existing
    ]
    if not candidates:
        return Identity()
    leads = sorted({c[1] for c in candidates})
    stored: list[tuple[int, int, str, dt.datetime, dict[str, Any]]] = []
    for start in range(0, len(leads), 500):
        # every kind: a refinement must not reorder the lead's other events (see _reorders)
        stored.extend(
            LeadEvent.objects.filter(
                organization_id=organization_id, lead_id__in=leads[start : start + 500]
            ).values_list("id", "lead_id", "kind", "occurred_at", "data")
        )
    return resolve(candidates, stored)
