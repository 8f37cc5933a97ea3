"""Writes a person makes on one lead from its page: a contact attempt, accept, reject with a reason code,
feedback, a duplicate mark — each an event stored through the same path as the API's ``POST /api/events``
(bounds, kind check, the store, idempotency by content), and each audited.

The event is addressed by the lead's first source id, as an API client addresses it; ``data.via`` says
it was recorded in leadpact by hand, and the acting person's name is the event's actor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from leadpact.audit.services import Actor, actor_label, audit_record
from leadpact.connectors.bounds import event_problems
from leadpact.connectors.records import EventRecord
from leadpact.core.agreement import ReasonCode
from leadpact.errors import ApplicationError
from leadpact.leads._duplicates import leads_mark_duplicate
from leadpact.leads._kinds import events_refuse_unknown_kinds
from leadpact.leads.models import Lead, LeadEvent
from leadpact.leads.services import leads_store
from leadpact.organization.models import Person

__all__ = [
    "CHANNELS",
    "VIA",
    "lead_accept",
    "lead_attempt",
    "lead_duplicate_set",
    "lead_feedback",
    "lead_reject",
]

VIA = "leadpact"
CHANNELS = ("phone", "email", "video", "meeting", "linkedin", "chat", "other")


def _now(now: dt.datetime | None) -> dt.datetime:
    return timezone.now() if now is None else now


def _who(actor: Actor, by: Person | None) -> str:
    return by.name if by is not None else actor_label(actor)


@transaction.atomic
def _event_store(
    *,
    lead: Lead,
    kind: str,
    actor: Actor,
    by: Person | None,
    now: dt.datetime | None,
    occurred_at: dt.datetime | None = None,
    **values: Any,
) -> LeadEvent:
    """Store one event on ``lead`` as the API does; audited as ``lead.<kind>``."""
    moment = _now(now)
    source = lead.sources.order_by("pk").first()
    if source is None:
        raise ApplicationError("lead.no_source", f"lead {lead.pk}: it has no source id to record an event by")
    record = EventRecord(
        source=source.source,
        external_id=source.external_id,
        kind=kind,
        occurred_at=occurred_at or moment,
        actor=_who(actor, by),
        data={"via": VIA},
        **values,
    )
    problems = event_problems(record)
    if problems:
        field, reason = problems[0]
        raise ApplicationError("lead.event", f"lead {lead.pk}: {kind}: {field} {reason}")
    _kept, refusals = events_refuse_unknown_kinds(lead.organization, [record])
    if refusals:
        raise ApplicationError("lead.event.kind", f"lead {lead.pk}: {refusals[0].reason}")
    outcome = leads_store(organization=lead.organization, events=[record], now=moment, unknown_leads="refuse")
    if outcome.problems or outcome.event_ids[0] is None:
        reason = outcome.problems[0].reason if outcome.problems else "not stored"
        raise ApplicationError("lead.event", f"lead {lead.pk}: {kind}: {reason}")
    event = LeadEvent.objects.get(pk=outcome.event_ids[0])
    if outcome.events_created[0]:
        audit_record(
            actor=actor,
            action=f"lead.{kind}",
            obj=event,
            at=moment,
            after={
                "lead": lead.pk,
                "kind": kind,
                **{k: str(v) for k, v in values.items() if v not in ("", None)},
            },
            organization=lead.organization,
        )
    return event


def lead_attempt(
    *,
    lead: Lead,
    actor: Actor,
    by: Person | None = None,
    channel: str,
    note: str = "",
    occurred_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> LeadEvent:
    """A human contact attempt (phone, e-mail …) on ``lead``: it stops a first-attempt clock."""
    if channel not in CHANNELS:
        raise ApplicationError(
            "lead.attempt.channel", f"lead {lead.pk}: channel {channel!r} is not one of {', '.join(CHANNELS)}"
        )
    moment = _now(now)
    if occurred_at is not None and occurred_at > moment:
        raise ApplicationError("lead.attempt.future", f"lead {lead.pk}: an attempt cannot be in the future")
    return _event_store(
        lead=lead,
        kind=LeadEvent.Kind.CONTACT_ATTEMPT,
        actor=actor,
        by=by,
        now=moment,
        occurred_at=occurred_at,
        channel=channel,
        human=True,
        reason=note.strip(),
    )


def lead_accept(
    *, lead: Lead, actor: Actor, by: Person | None = None, now: dt.datetime | None = None
) -> LeadEvent:
    """Sales accepts the lead to work within the SLA (it starts the attempt clock)."""
    return _event_store(lead=lead, kind=LeadEvent.Kind.ACCEPTED, actor=actor, by=by, now=now)


def lead_reject(
    *,
    lead: Lead,
    actor: Actor,
    by: Person | None = None,
    reason_code: str,
    reason: str = "",
    reason_codes: Sequence[ReasonCode],
    now: dt.datetime | None = None,
) -> LeadEvent:
    """Sales rejects the lead with a reason code of the agreement (and a text where the code needs one).

    Refused: no code, a code the agreement does not list, a missing text for a code that requires one.
    """
    code = reason_code.strip()
    known = {r.code: r for r in reason_codes}
    if not code:
        raise ApplicationError("lead.reject.reason_code", f"lead {lead.pk}: a rejection needs a reason code")
    if code not in known:
        raise ApplicationError(
            "lead.reject.reason_code",
            f"lead {lead.pk}: reason code {code!r} is not in the agreement's list"
            f" ({', '.join(sorted(known))})",
        )
    if known[code].requires_text and not reason.strip():
        raise ApplicationError(
            "lead.reject.reason", f"lead {lead.pk}: reason code {code!r} needs a text saying why"
        )
    return _event_store(
        lead=lead,
        kind=LeadEvent.Kind.REJECTED,
        actor=actor,
        by=by,
        now=now,
        reason_code=code,
        reason=reason.strip(),
    )


def lead_feedback(
    *, lead: Lead, actor: Actor, by: Person | None = None, text: str, now: dt.datetime | None = None
) -> LeadEvent:
    """Sales tells marketing how the lead went (objections, fit, timing)."""
    if not text.strip():
        raise ApplicationError("lead.feedback.text", f"lead {lead.pk}: the feedback is empty")
    return _event_store(
        lead=lead, kind=LeadEvent.Kind.FEEDBACK, actor=actor, by=by, now=now, reason=text.strip()
    )


@transaction.atomic
def lead_duplicate_set(
    *, lead: Lead, original_id: int | None, actor: Actor, now: dt.datetime | None = None
) -> Lead:
    """Mark ``lead`` a duplicate of lead ``original_id`` of the same organisation (``None``: clear the
    mark); a duplicate leaves every count. Audited as ``lead.duplicate``."""
    before = lead.duplicate_of_id
    leads_mark_duplicate(organization=lead.organization, lead_ids=[lead.pk], original_id=original_id)
    lead.refresh_from_db(fields=["duplicate_of"])
    if lead.duplicate_of_id != before:
        audit_record(
            actor=actor,
            action="lead.duplicate",
            obj=lead,
            at=_now(now),
            before={"duplicate_of": before},
            after={"duplicate_of": lead.duplicate_of_id},
            organization=lead.organization,
        )
    return lead
