"""Privacy (GDPR / AVG): erase a lead's personal data on request, export what is held about a person,
and anonymise leads past the retention period — each in the audit trail, none of it changing a figure.

Erasure keeps the lead row, its source ids (pseudonymous: a CRM's record number, needed so a later sync
does not bring the person back as a new lead) and every event with its time, kind, owner, reason code
and amount — what the measurements count — and blanks what names or reaches the person: name, e-mail
address, phone number, company, job title, the free fields in ``extra``, and any free text or personal
value an event carries.  The copies elsewhere go too (:mod:`._stores`): stored webhook request bodies,
import problems, disputes' text, alerts, the words of handoff checks, review notes and packs.  Duplicate
marks, handoff checks and clocks are stored results, so scorecards stay as they were
(``tests/privacy``).  An erased lead's ``extra`` holds only ``{"erased": "<instant>"}``.

Lead events are append-only for every other write; erasure is the one deliberate exception, made here
through a plain queryset, audited, and limited to those values.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models, transaction

from leadpact.audit.services import Actor, audit_record
from leadpact.leads.models import Lead, LeadEvent
from leadpact.organization.models import Organization, Person
from leadpact.privacy._stores import (
    lead_values,
    name_parts,
    redact_data,
    stores_erase,
    stores_expire,
    values_pattern,
)
from leadpact.privacy.selectors import lead_export, person_export

__all__ = [
    "PERSONAL_FIELDS",
    "RetentionReport",
    "lead_erase",
    "lead_export_record",
    "months_before",
    "person_export_record",
    "retention_apply",
    "retention_months",
]

PERSONAL_FIELDS = ("name", "email", "phone", "company", "job_title")
"""The lead's own fields that identify or reach a natural person; ``extra`` is emptied as well."""

_FREE_TEXT = ("reason", "note", "notes", "text", "comment", "message", "body")
"""Event values written by people about the lead; codes (``reason_code``) stay."""


def _event_data_scrubbed(data: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(data)
    for key in _FREE_TEXT:
        if isinstance(cleaned.get(key), str) and cleaned[key]:
            cleaned[key] = ""
    if cleaned.get("field") in (*PERSONAL_FIELDS, "extra") or str(cleaned.get("field", "")).startswith(
        "extra"
    ):
        for key in ("value", "old", "new", "before", "after"):
            if key in cleaned:
                cleaned[key] = ""
    return cleaned


def _erase(lead: Lead, *, now: dt.datetime, search: bool = True) -> tuple[int, dict[str, int]]:
    """Blank the lead, scrub its events and redact its values in the other stores; returns the events
    scrubbed and the rows changed per store."""
    values, parts = lead_values(lead), name_parts(lead)
    pattern = values_pattern(values)
    for field in PERSONAL_FIELDS:
        setattr(lead, field, "")
    lead.extra = {"erased": now.astimezone(dt.UTC).isoformat()}
    lead.updated_at = now
    lead.save(update_fields=[*PERSONAL_FIELDS, "extra", "updated_at"])
    changed = 0
    plain: models.QuerySet[LeadEvent] = models.QuerySet(
        model=LeadEvent
    )  # the append-only manager refuses updates: this one is audited
    for pk, data in LeadEvent.objects.filter(lead=lead).values_list("pk", "data"):
        cleaned = redact_data(_event_data_scrubbed(data or {}), pattern, parts)
        if cleaned != (data or {}):
            plain.filter(pk=pk).update(data=cleaned)
            changed += 1
    return changed, stores_erase(lead, values, parts=parts, search=search)


def lead_erase(*, lead: Lead, actor: Actor, now: dt.datetime, reason: str = "request") -> None:
    """Erase the lead's personal data (GDPR art. 17), keeping the anonymous events measurements need.

    Idempotent: erasing an erased lead again only records the request.  The audit entry names the lead
    by id and the fields erased — never their values.
    """
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        erased = [f for f in PERSONAL_FIELDS if getattr(lead, f)] + (["extra"] if lead.extra else [])
        events, stores = _erase(lead, now=now)
        audit_record(
            actor=actor,
            action="privacy.lead_erase",
            obj=lead,
            at=now,
            organization=lead.organization,
            after={"reason": reason, "fields": erased, "events_scrubbed": events, "stores": stores},
        )


def lead_export_record(*, lead: Lead, actor: Actor, now: dt.datetime) -> dict[str, Any]:
    """:func:`lead_export`, with the export in the audit trail (who asked for whose data, when)."""
    data = lead_export(lead=lead)
    with transaction.atomic():
        audit_record(
            actor=actor, action="privacy.lead_export", obj=lead, at=now, organization=lead.organization
        )
    return data


def person_export_record(*, person: Person, actor: Actor, now: dt.datetime) -> dict[str, Any]:
    """:func:`person_export`, audited."""
    data = person_export(person=person)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="privacy.person_export",
            obj=person,
            at=now,
            organization=person.team.organization,
        )
    return data


def months_before(instant: dt.datetime, months: int) -> dt.datetime:
    """The same wall time ``months`` calendar months earlier, the day clamped to the month's last.

    >>> months_before(dt.datetime(2026, 3, 31, 12, tzinfo=dt.UTC), 1).isoformat()
    '2026-02-28T12:00:00+00:00'
    """
    index = instant.year * 12 + instant.month - 1 - months
    year, month = divmod(index, 12)
    day = min(instant.day, calendar.monthrange(year, month + 1)[1])
    return instant.replace(year=year, month=month + 1, day=day)


def retention_months() -> int | None:
    """``LEADPACT_RETENTION_MONTHS`` (settings ``PRIVACY_RETENTION_MONTHS``): None keeps leads' data."""
    months = getattr(settings, "PRIVACY_RETENTION_MONTHS", None)
    return int(months) if months else None


@dataclass(frozen=True, slots=True)
class RetentionReport:
    cutoff: dt.datetime | None
    anonymised: int


def retention_apply(
    *,
    now: dt.datetime,
    months: int | None = None,
    organization: Organization | None = None,
    actor: Actor = "retention",
    limit: int = 10_000,
) -> RetentionReport:
    """Anonymise every lead created more than ``months`` before ``now`` and not anonymised yet.

    One audit entry per organisation and pass (the count and the cutoff, no names).  At most ``limit``
    leads per pass, so a first run over years of data does not hold a transaction for long; the worker
    comes back for the rest.
    """
    months = months if months is not None else retention_months()
    if not months:
        return RetentionReport(cutoff=None, anonymised=0)
    cutoff = months_before(now, months)
    leads = Lead.objects.filter(created_at__lt=cutoff).exclude(extra__has_key="erased")
    if organization is not None:
        leads = leads.filter(organization=organization)
    done = 0
    by_org: dict[int, int] = {}
    stores: dict[int, dict[str, int]] = {}
    for pk in list(leads.order_by("pk").values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            lead = Lead.objects.select_for_update().get(pk=pk)
            if "erased" in (lead.extra or {}):  # another worker was first
                continue
            # rows that point at the lead here; the stores without such a key by their age, below
            _, changed = _erase(lead, now=now, search=False)
            by_org[lead.organization_id] = by_org.get(lead.organization_id, 0) + 1
            for store, n in changed.items():
                totals = stores.setdefault(lead.organization_id, {})
                totals[store] = totals.get(store, 0) + n
            done += 1
    organizations = Organization.objects.all() if organization is None else [organization]
    for org in organizations:
        with transaction.atomic():
            expired = stores_expire(organization_id=org.pk, before=cutoff)
            count = by_org.get(org.pk, 0)
            if not count and not expired:
                continue
            totals = stores.get(org.pk, {})
            for store, n in expired.items():
                totals[store] = totals.get(store, 0) + n
            audit_record(
                actor=actor,
                action="privacy.retention",
                obj=org,
                at=now,
                organization=org,
                after={
                    "months": months,
                    "cutoff": cutoff.isoformat(),
                    "leads_anonymised": count,
                    "stores": totals,
                },
            )
    return RetentionReport(cutoff=cutoff, anonymised=done)
