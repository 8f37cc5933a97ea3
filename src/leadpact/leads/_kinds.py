"""Which event kinds an organisation may store: the fixed kinds, ``resumed`` and its declared pause kinds.

A pause kind (``waiting_on_customer`` …) is whatever a commitment of one of the organisation's
agreements names in ``clock.pause`` — in any version, a draft included, so that a sender can start
sending it before the version that measures it is in force.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from leadpact.agreements.models import Commitment
from leadpact.connectors.records import EventRecord, event_kind_problem
from leadpact.organization.models import Organization

__all__ = ["KindRefusal", "events_refuse_unknown_kinds", "organization_pause_kinds"]


def organization_pause_kinds(organization: Organization) -> frozenset[str]:
    """The pause kinds the organisation's agreements declare (any version)."""
    specs = Commitment.objects.filter(version__agreement__organization=organization).values_list(
        "spec", flat=True
    )
    out: set[str] = set()
    for spec in specs:
        clock: Any = (spec or {}).get("clock") or {}
        out.update(str(k) for k in clock.get("pause") or () if k)
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class KindRefusal:
    """An event refused for its kind: its index in the batch and the reason (naming the allowed kinds)."""

    index: int
    reason: str


def events_refuse_unknown_kinds(
    organization: Organization, events: Sequence[EventRecord]
) -> tuple[list[int], list[KindRefusal]]:
    """The indexes of the events whose kind the organisation may store, and the refusals of the others."""
    if all(not _custom(e.kind) for e in events):
        return list(range(len(events))), []
    pauses = organization_pause_kinds(organization)
    kept: list[int] = []
    refused: list[KindRefusal] = []
    for index, event in enumerate(events):
        problem = event_kind_problem(event.kind, pauses)
        if problem is None:
            kept.append(index)
        else:
            refused.append(KindRefusal(index, problem))
    return kept, refused


def _custom(kind: str) -> bool:
    return event_kind_problem(kind, ()) is not None
