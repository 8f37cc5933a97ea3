"""A test alert: one message through the same sender the outbox uses (e-mail, or a chat webhook)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from leadpact.audit.services import Actor, audit_record
from leadpact.errors import ApplicationError
from leadpact.measurement.alerts.models import Alert, AlertWebhook
from leadpact.measurement.alerts.services import _send
from leadpact.measurement.alerts.webhooks import WebhookRefused
from leadpact.organization.models import Organization

__all__ = ["alert_test_send"]


def alert_test_send(
    *,
    organization: Organization,
    channel: str,
    address: str,
    actor: Actor,
    webhook: AlertWebhook | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Send a test alert to an e-mail address or to ``webhook``'s URL, now, by the outbox's sender.

    Nothing is queued: the test is sent at once (outside anyone's quiet hours) and audited; a refusal
    (SMTP error, webhook not 2xx or not a public address) raises ``ApplicationError`` saying why.
    """
    moment = timezone.now() if now is None else now
    if webhook is not None:
        if webhook.organization_id != organization.pk:
            raise ApplicationError("alert.test.webhook", "the webhook is not this organisation's")
        channel, address = Alert.Channel.WEBHOOK, webhook.url
    if channel not in Alert.Channel.values or not address:
        raise ApplicationError("alert.test.address", "a test alert needs an e-mail address or a webhook")
    alert = Alert(
        channel=channel,
        address=address,
        subject=f"leadpact test alert for {organization.name}",
        body="This is a test: alerts about SLA clocks reach you here. Nothing needs doing.",
        created_at=moment,
        deliver_at=moment,
    )
    try:
        _send(alert, organization_id=organization.pk, now=moment)
    except (WebhookRefused, OSError, ValueError) as error:
        raise ApplicationError("alert.test.failed", f"{type(error).__name__}: {error}") from error
    audit_record(
        actor=actor,
        action="alert.test",
        obj=webhook if webhook is not None else organization,
        at=moment,
        after={"channel": channel, "to": "webhook" if webhook is not None else address},
        organization=organization,
    )
