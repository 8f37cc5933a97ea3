"""Writes of alerts: a clock crossed a threshold → tell its owner (and the manager from the escalation's
manager threshold) by e-mail and by the team's webhook, once per threshold, within the recipient's business
hours.

Alerts are rows of an outbox (:class:`~leadpact.measurement.alerts.models.Alert`), so a restart loses none.
**Delivery is at-most-once**: :func:`alerts_deliver` claims due rows (``pending`` → ``sending``) and
commits *before* it sends, then marks each ``sent``; a crash between the two leaves the row
``sending`` and it is never sent again (reported as ``failed`` "interrupted" by the next run). A send
that raises (SMTP refused, webhook not 2xx) was not delivered and is retried up to ``MAX_ATTEMPTS``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from email.utils import formatdate
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from leadpact.agreements.models import AgreementVersion
from leadpact.agreements.services import agreement_version_document
from leadpact.audit.services import Actor, audit_record
from leadpact.errors import ApplicationError
from leadpact.leads.models import Lead
from leadpact.measurement.alerts.models import Alert, AlertWebhook
from leadpact.measurement.alerts.webhooks import WebhookRefused, webhook_addresses, webhook_post
from leadpact.measurement.clocks.selectors import ClockPass
from leadpact.measurement.clocks.windows import clock_calendar
from leadpact.organization.models import Organization, Person
from leadpact.outbox.context import mail_for

__all__ = [
    "MAX_ATTEMPTS",
    "STALE_AFTER",
    "DeliveryReport",
    "alert_webhook_delete",
    "alert_webhook_save",
    "alerts_deliver",
    "alerts_queue",
]

MAX_ATTEMPTS = 5
STALE_AFTER = dt.timedelta(minutes=15)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one delivery run did."""

    sent: int
    failed: int
    retried: int
    interrupted: int


#: A clock first seen this long after its deadline raises no alert (see :func:`alerts_queue`).
HISTORY_AFTER = dt.timedelta(days=1)


def _threshold_text(t: Decimal) -> str:
    return format(t.normalize(), "f")


def alerts_queue(
    *,
    version: AgreementVersion,
    clock_pass: ClockPass,
    previous_level: npt.NDArray[np.int64],
    now: dt.datetime,
) -> int:
    """Queue the alerts of the thresholds each open clock crossed since the last pass; returns how many.

    The unique constraint (lead, commitment, threshold, recipient, channel) keeps it once per threshold,
    whatever happens to the passes. A clock that crossed several thresholds since the last pass gets
    one alert, for the highest.
    """
    f = clock_pass.frame
    level = f.level.astype(np.int64)
    open_ = np.isnat(f.stopped_at)
    # a clock seen for the first time whose deadline passed more than a day ago is history (an import
    # of old data, a first worker run): it shows on the scorecard, but nobody is paged for it now
    stale_before = np.datetime64(int((now - HISTORY_AFTER).timestamp() * 1_000_000), "us")
    history = (previous_level < 0) & (f.due_at < stale_before)
    rows = np.flatnonzero(open_ & ~history & (level > np.maximum(previous_level, 0)))
    if rows.shape[0] == 0:
        return 0
    doc = agreement_version_document(version)
    manager_at = doc.settings.escalation.manager
    team = clock_pass.owner_team
    managers = [
        m
        for m in Person.objects.filter(team=team, role=Person.Role.LEAD)
        .select_related("team")
        .prefetch_related("leave")
        if m.end_date is None or m.end_date > now.date()
    ]
    owners = (
        Person.objects.select_related("team")
        .prefetch_related("leave")
        .in_bulk({int(o) for o in clock_pass.owner[rows] if o >= 0})
    )
    hooks = {h.team_id: h for h in AlertWebhook.objects.filter(organization=team.organization, active=True)}
    commitment = next(c for c in doc.commitments if c.key == clock_pass.commitment_key)
    leads = Lead.objects.in_bulk([int(clock_pass.lead_id[i]) for i in rows])
    deliver: dict[int, dt.datetime] = {}
    alerts: list[Alert] = []
    for i in rows.tolist():
        lead = leads[int(clock_pass.lead_id[i])]
        owner = owners.get(int(clock_pass.owner[i]))
        if owner is not None and owner.end_date is not None and owner.end_date <= now.date():
            owner = None  # gone: the manager hears of it instead
        due = _EPOCH + dt.timedelta(microseconds=int(f.due_at[i].astype(np.int64)))
        # a clock that jumped several thresholds since the last pass (a worker that was down) tells
        # only the highest one: one message that says where it stands, not a burst
        for j in (int(level[i]) - 1,):
            threshold = clock_pass.thresholds[j]
            recipients: list[tuple[Person, str]] = []
            if owner is not None:
                recipients.append((owner, "owner"))
            if threshold >= manager_at or owner is None:
                recipients += [(m, "manager") for m in managers if owner is None or m.pk != owner.pk]
            breached = threshold >= 1
            share = int(threshold * 100)
            subject = (
                f"SLA breached: {commitment.title} — lead {lead}"
                if breached
                else f"SLA at {share}%: {commitment.title} — lead {lead}"
            )
            window = commitment.clock.window if commitment.clock else ""
            used = (
                f"The window ({window}) has run out"
                if breached
                else f"{share}% of the window ({window}) is used"
            )
            due_text = due.astimezone(team_tz(team)).strftime("%a %d %b %Y %H:%M")
            who = f" Owner: {owner.name}." if owner is not None else " Nobody owns this lead."
            body = f"Lead {lead} (id {lead.pk}): {commitment.title}. {used}; due {due_text}.{who}"
            for person, role in recipients:
                if person.pk not in deliver:
                    deliver[person.pk] = clock_calendar(person).next_open(now)
                deliver_at = deliver[person.pk]
                alerts.append(
                    Alert(
                        lead=lead,
                        commitment_key=commitment.key,
                        threshold=_threshold_text(threshold),
                        recipient=person,
                        role=role,
                        channel=Alert.Channel.EMAIL,
                        address=person.email,
                        subject=subject[:300],
                        body=body,
                        created_at=now,
                        deliver_at=deliver_at,
                    )
                )
                hook = hooks.get(person.team_id) or hooks.get(None)
                if hook is not None:
                    alerts.append(
                        Alert(
                            lead=lead,
                            commitment_key=commitment.key,
                            threshold=_threshold_text(threshold),
                            recipient=person,
                            role=role,
                            channel=Alert.Channel.WEBHOOK,
                            address=hook.url,
                            subject=subject[:300],
                            body=f"{person.name}: {body}",
                            created_at=now,
                            deliver_at=deliver_at,
                        )
                    )
    before = Alert.objects.filter(created_at=now).count()
    Alert.objects.bulk_create(alerts, ignore_conflicts=True)
    return Alert.objects.filter(created_at=now).count() - before


def team_tz(team: object) -> dt.tzinfo:
    """The time zone of a team's calendar."""
    from zoneinfo import ZoneInfo

    return ZoneInfo(str(getattr(team, "calendar", {}).get("timezone", "UTC")))


def _send(alert: Alert, *, organization_id: int | None, now: dt.datetime | None = None) -> None:
    """Send one alert now; an e-mail is dated ``now`` and sent for ``organization_id`` (the outbox's)."""
    if alert.channel == Alert.Channel.EMAIL:
        headers = {"Date": formatdate(now.timestamp())} if now is not None else None
        message = EmailMessage(
            alert.subject, alert.body, settings.DEFAULT_FROM_EMAIL, [alert.address], headers=headers
        )
        with mail_for(organization_id):
            message.send(fail_silently=False)
        return
    # only to public addresses, checked as resolved, never following a redirect (webhooks.py)
    webhook_post(alert.address, json.dumps({"text": f"{alert.subject}\n{alert.body}"}).encode())


def alerts_deliver(
    *, now: dt.datetime, limit: int = 500, organization: Organization | None = None
) -> DeliveryReport:
    """Send the alerts due at ``now`` (at-most-once; see the module's docstring); only ``organization``'s
    when given (the demo delivers its own)."""
    with transaction.atomic():
        interrupted = Alert.objects.filter(
            status=Alert.Status.SENDING, claimed_at__lt=now - STALE_AFTER
        ).update(status=Alert.Status.FAILED, error="interrupted while sending; not sent again (at-most-once)")
    with transaction.atomic():
        due = list(
            Alert.objects.select_for_update(skip_locked=True)
            .filter(Q(status=Alert.Status.PENDING) & Q(deliver_at__lte=now))
            .filter(
                Q()
                if organization is None
                else Q(lead_id__in=Lead.objects.filter(organization=organization).values("pk"))
            )
            .order_by("deliver_at", "id")[:limit]
        )
        ids = [a.pk for a in due]
        Alert.objects.filter(pk__in=ids, status=Alert.Status.PENDING).update(
            status=Alert.Status.SENDING, claimed_at=now
        )
    organizations = dict(
        Lead.objects.filter(pk__in={a.lead_id for a in due}).values_list("pk", "organization_id")
    )
    sent = failed = retried = 0
    for alert in due:
        alert.attempts += 1
        try:
            _send(alert, organization_id=organizations.get(alert.lead_id), now=now)
        except WebhookRefused as error:  # the address itself is refused: trying again changes nothing
            alert.error = f"{type(error).__name__}: {error}"[:2000]
            alert.status = Alert.Status.FAILED
            failed += 1
        except (OSError, ValueError) as error:
            alert.error = f"{type(error).__name__}: {error}"[:2000]
            if alert.attempts < MAX_ATTEMPTS:
                alert.status = Alert.Status.PENDING
                alert.deliver_at = now + dt.timedelta(minutes=5 * alert.attempts)
                retried += 1
            else:
                alert.status = Alert.Status.FAILED
                failed += 1
        else:
            alert.status = Alert.Status.SENT
            alert.sent_at = now
            alert.error = ""
            sent += 1
        with transaction.atomic():
            alert.save(update_fields=["status", "attempts", "sent_at", "error", "deliver_at"])
    return DeliveryReport(sent=sent, failed=failed, retried=retried, interrupted=interrupted)


def _webhook_state(hook: AlertWebhook) -> dict[str, object]:
    """What the audit log keeps of a webhook: its place, never its secret (a Slack or Teams webhook's path
    is its password): scheme and host, and a digest that changes when the address does."""
    parts = urlsplit(hook.url)
    return {
        "team": None if hook.team is None else hook.team.key,
        "url": f"{parts.scheme}://{parts.netloc}/…",
        "url_sha256": hashlib.sha256(hook.url.encode()).hexdigest()[:16],
        "active": hook.active,
    }


@transaction.atomic
def alert_webhook_save(
    *, webhook: AlertWebhook, actor: Actor, now: dt.datetime | None = None
) -> AlertWebhook:
    """Create or change an alert webhook, audited; its address must be one alerts may be posted to
    (:func:`~leadpact.measurement.alerts.webhooks.webhook_addresses`: public unless an operator allows
    private ones)."""
    try:
        webhook_addresses(webhook.url)
    except WebhookRefused as error:
        raise ApplicationError("alert_webhook.url", str(error), extra={"field": "url"}) from error
    if webhook.team is not None and webhook.team.organization_id != webhook.organization_id:
        raise ApplicationError(
            "alert_webhook.team",
            f"team {webhook.team.key} is not in {webhook.organization}",
            extra={"field": "team"},
        )
    before = None
    if webhook.pk is not None:
        stored = AlertWebhook.objects.select_related("team").filter(pk=webhook.pk).first()
        before = None if stored is None else _webhook_state(stored)
    webhook.full_clean()
    webhook.save()
    audit_record(
        actor=actor,
        action="alert_webhook.create" if before is None else "alert_webhook.change",
        obj=webhook,
        at=now or timezone.now(),
        before=before,
        after=_webhook_state(webhook),
        organization=webhook.organization,
    )
    return webhook


@transaction.atomic
def alert_webhook_delete(*, webhook: AlertWebhook, actor: Actor, now: dt.datetime | None = None) -> None:
    """Remove an alert webhook, audited."""
    audit_record(
        actor=actor,
        action="alert_webhook.delete",
        obj=webhook,
        at=now or timezone.now(),
        before=_webhook_state(webhook),
        after=None,
        organization=webhook.organization,
    )
    webhook.delete()
