"""Reads for leads: a lead with its events, state and handoff checks; lists; the CLI's organisation."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from leadpact.connectors.records import VOIDED, voided_event_id
from leadpact.errors import ApplicationError
from leadpact.leads.models import HandoffCheck, Lead, LeadEvent, LeadSource, LeadState
from leadpact.organization.models import Organization

__all__ = [
    "LeadDetail",
    "among",
    "events_voided",
    "lead_by_source",
    "lead_detail",
    "lead_handoff_status",
    "leads_handoff_status",
    "leads_list",
    "organization_for_cli",
]


def among(ids: Sequence[int]) -> RawSQL:
    """These ids as a subquery for ``pk__in=`` / ``lead_id__in=``: one query and one parameter whatever
    their number (PostgreSQL: one array, unnested; SQLite: one JSON array, through ``json_each``) where
    ``__in=`` a list takes one placeholder an id, so a figure's 70,000 leads took 14 queries in chunks."""
    values = [int(i) for i in ids]
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [values])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(values)])


@dataclass(frozen=True, slots=True)
class LeadDetail:
    """A lead with its source ids, events (in derivation order), state and handoff checks."""

    lead: Lead
    sources: list[LeadSource]
    events: list[LeadEvent]
    state: LeadState | None
    handoff_checks: list[HandoffCheck]

    @property
    def handoff_status(self) -> str:
        """``met``, ``not met``, ``not checked`` (no agreement in force) or ``not handed over``."""
        return lead_handoff_status(self)


def organization_for_cli(key: str | None) -> Organization:
    """The organisation named by ``--organization``, or the only one there is."""
    if key:
        found = Organization.objects.filter(key=key).first()
        if found is None:
            raise ApplicationError("organization.unknown", f"no organisation with key {key!r}")
        return found
    orgs = list(Organization.objects.all()[:2])
    if len(orgs) != 1:
        raise ApplicationError(
            "organization.choose",
            "there is no organisation yet" if not orgs else "several organisations: pass --organization KEY",
        )
    return orgs[0]


def leads_list(*, organization: Organization) -> QuerySet[Lead]:
    """The organisation's leads, newest first, with their state."""
    return (
        Lead.objects.filter(organization=organization).select_related("state").order_by("-created_at", "-id")
    )


def lead_by_source(*, organization: Organization, source: str, external_id: str) -> Lead | None:
    """The lead a source system knows by ``external_id``."""
    row = (
        LeadSource.objects.filter(organization=organization, source=source, external_id=external_id)
        .select_related("lead")
        .first()
    )
    return None if row is None else row.lead


def lead_detail(*, organization: Organization, lead_id: int) -> LeadDetail | None:
    """Everything about one lead of the organisation, or None."""
    lead = Lead.objects.filter(organization=organization, pk=lead_id).first()
    if lead is None:
        return None
    from leadpact.leads._state import KIND_ORDER

    events = sorted(
        LeadEvent.objects.filter(lead=lead),
        key=lambda e: (e.occurred_at, KIND_ORDER.get(e.kind, 99), e.idempotency_key),
    )
    return LeadDetail(
        lead=lead,
        sources=list(lead.sources.all()),
        events=events,
        state=LeadState.objects.filter(lead=lead).first(),
        handoff_checks=list(
            HandoffCheck.objects.filter(lead=lead).select_related("definition_version", "agreement_version")
        ),
    )


def events_voided(lead_ids: list[int]) -> set[int]:
    """The ids of these leads' events that a ``voided`` event voids."""
    rows = LeadEvent.objects.filter(lead_id__in=lead_ids, kind=VOIDED).values_list("data", flat=True)
    return {target for data in rows for target in [voided_event_id(data)] if target is not None}


def leads_handoff_status(lead_ids: list[int]) -> dict[int, str]:
    """:func:`lead_handoff_status` for many leads in three queries."""
    last: dict[int, tuple[dt.datetime, str, int]] = {}
    rows = LeadEvent.objects.filter(lead_id__in=lead_ids, kind=LeadEvent.Kind.HANDED_OVER).values_list(
        "lead_id", "occurred_at", "idempotency_key", "pk"
    )
    voided = events_voided(lead_ids)
    for lead_id, occurred_at, key, pk in rows:  # all of one kind: order by (time, key) as derivation does
        if pk in voided:
            continue
        if lead_id not in last or (occurred_at, key) > last[lead_id][:2]:
            last[lead_id] = (occurred_at, key, pk)
    met: dict[int, list[bool]] = {}
    wanted = [v[2] for v in last.values()]
    for event_id, ok in HandoffCheck.objects.filter(event_id__in=wanted).values_list("event_id", "met"):
        met.setdefault(event_id, []).append(ok)
    out: dict[int, str] = {}
    for lead_id in lead_ids:
        if lead_id not in last:
            out[lead_id] = "not handed over"
            continue
        checks = met.get(last[lead_id][2])
        out[lead_id] = "not checked" if not checks else ("met" if all(checks) else "not met")
    return out


def lead_handoff_status(detail: LeadDetail) -> str:
    """How the lead's last handoff fared against the agreement in force then."""
    voided = {
        t for e in detail.events if e.kind == VOIDED for t in [voided_event_id(e.data)] if t is not None
    }
    handoffs = [e for e in detail.events if e.kind == LeadEvent.Kind.HANDED_OVER and e.pk not in voided]
    if not handoffs:
        return "not handed over"
    last = handoffs[-1]
    checks = [c for c in detail.handoff_checks if c.event_id == last.pk]
    if not checks:
        return "not checked"
    return "met" if all(c.met for c in checks) else "not met"
