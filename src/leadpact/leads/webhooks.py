"""Webhook deliveries: verify on the raw bytes, store the delivery, then process it into leads and events.

A delivery is stored (its own transaction) before it is processed, so a crash in between loses nothing:
``leadpact webhooks process`` processes what is still pending. A replayed delivery (a retry, HubSpot's
repeated ``eventId``) creates nothing new: events dedupe by idempotency key, leads by their source id.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from leadpact.connectors.webhooks import (
    ParsedPayload,
    Verification,
    WebhookPayloadError,
    parse_generic,
    parse_hubspot,
    parse_mautic,
    parse_pipedrive,
    verify_generic,
    verify_hubspot,
    verify_mautic,
    verify_pipedrive,
)
from leadpact.leads._handoff import HandoffChecker
from leadpact.leads._kinds import events_refuse_unknown_kinds
from leadpact.leads._store import PeopleIndex, store_batch
from leadpact.leads.models import WebhookDelivery, WebhookIntegration, WebhookRejection

__all__ = [
    "webhook_deliveries_process_pending",
    "webhook_delivery_process",
    "webhook_delivery_store",
    "webhook_reject",
    "webhook_verify",
]

logger = logging.getLogger("leadpact.webhooks")

_KEPT_HEADERS = (
    "content-type", "user-agent", "x-hubspot-signature", "x-hubspot-signature-v3",
    "x-hubspot-signature-version", "x-hubspot-request-timestamp", "webhook-signature",
    "x-leadpact-signature", "x-leadpact-timestamp",
)  # fmt: skip

_PARSERS = {
    WebhookIntegration.Kind.HUBSPOT: parse_hubspot,
    WebhookIntegration.Kind.MAUTIC: parse_mautic,
    WebhookIntegration.Kind.PIPEDRIVE: parse_pipedrive,
    WebhookIntegration.Kind.GENERIC: parse_generic,
}


def webhook_verify(
    integration: WebhookIntegration,
    *,
    headers: Mapping[str, str],
    method: str,
    uri: str,
    body: bytes,
    now: dt.datetime,
) -> Verification:
    """Check a request with the verifier of the integration's kind."""
    if integration.kind == WebhookIntegration.Kind.HUBSPOT:
        return verify_hubspot(
            headers=headers,
            method=method,
            uri=integration.public_url or uri,
            body=body,
            client_secret=integration.secret,
            now=now,
        )
    if integration.kind == WebhookIntegration.Kind.MAUTIC:
        return verify_mautic(headers=headers, body=body, secret=integration.secret)
    if integration.kind == WebhookIntegration.Kind.PIPEDRIVE:
        return verify_pipedrive(headers=headers, username=integration.username, password=integration.password)
    return verify_generic(headers=headers, body=body, secret=integration.secret, now=now)


def webhook_reject(
    *, integration: WebhookIntegration | None, path: str, reason: str, remote_addr: str, now: dt.datetime
) -> WebhookRejection:
    """Log a refused request (and keep a row of it); it is never processed."""
    logger.warning("webhook refused at %s: %s", path, reason)
    return WebhookRejection.objects.create(
        integration=integration,
        path=path[:500],
        reason=reason[:500],
        remote_addr=remote_addr[:64],
        received_at=now,
    )


@transaction.atomic
def webhook_delivery_store(
    *, integration: WebhookIntegration, headers: Mapping[str, str], body: bytes, now: dt.datetime
) -> WebhookDelivery:
    """Keep a verified request as a pending delivery (committed on its own)."""
    kept = {k: v for k, v in headers.items() if k.lower() in _KEPT_HEADERS}
    return WebhookDelivery.objects.create(integration=integration, headers=kept, body=body, received_at=now)


def webhook_delivery_process(delivery: WebhookDelivery, *, now: dt.datetime | None = None) -> WebhookDelivery:
    """Parse and store a pending delivery; it ends ``processed`` (with unusable items named in ``error``)
    or ``failed`` (a body that is not the sender's shape at all)."""
    moment = timezone.now() if now is None else now
    integration = delivery.integration
    organization = integration.organization
    try:
        parsed: ParsedPayload = _PARSERS[WebhookIntegration.Kind(integration.kind)](bytes(delivery.body))
    except WebhookPayloadError as exc:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED, error=str(exc)[:2000], processed_at=moment
        )
        delivery.refresh_from_db()
        return delivery
    with transaction.atomic():
        locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.status != WebhookDelivery.Status.PENDING:
            return locked
        kept, refusals = events_refuse_unknown_kinds(organization, parsed.events)
        outcome = store_batch(
            organization=organization,
            leads=parsed.leads,
            events=[parsed.events[i] for i in kept],
            now=moment,
            people=PeopleIndex(organization),
            checker=HandoffChecker(organization),
            unknown_leads="create",
        )
        notes = [f"item {p.index}: {p.reason}" for p in parsed.problems]
        notes += [f"event {r.index}: kind: {r.reason}" for r in refusals]
        notes += [
            f"{p.what} {kept[p.index] if p.what == 'event' else p.index}: {p.field}: {p.reason}"
            for p in outcome.problems
        ]
        locked.status = WebhookDelivery.Status.PROCESSED
        locked.error = "\n".join(notes)[:5000]
        locked.events_stored = sum(outcome.events_created)
        locked.processed_at = moment
        locked.save(update_fields=["status", "error", "events_stored", "processed_at"])
    return locked


def webhook_deliveries_process_pending(*, limit: int | None = None) -> dict[str, Any]:
    """Process every pending delivery, oldest first; returns counts by outcome."""
    counts = {"processed": 0, "failed": 0}
    query = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).select_related(
        "integration__organization"
    )
    for delivery in (
        query.order_by("received_at", "id")[:limit] if limit else query.order_by("received_at", "id")
    ):
        done = webhook_delivery_process(delivery)
        counts["failed" if done.status == WebhookDelivery.Status.FAILED else "processed"] += 1
    return counts
