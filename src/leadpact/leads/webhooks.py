"""Webhook deliveries: verify on the raw bytes, store the delivery, then process it into leads and events.

A delivery is stored (its own transaction) before it is processed, so a crash in between loses nothing:
``leadpact webhooks process`` processes what is still pending. A replayed delivery (a retry, HubSpot's
repeated ``eventId``) creates nothing new: events dedupe by idempotency key, leads by their source id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Mapping
from functools import partial

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from leadpact.connectors.records import EventRecord, LeadRecord
from leadpact.connectors.salesforce_live import (
    OutboundMessage,
    parse_cdc,
    parse_outbound_message,
    same_organization,
)
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
from leadpact.leads._secrets import SecretUnreadable, unseal
from leadpact.leads._store import PeopleIndex, store_batch, store_retrying
from leadpact.leads.models import LeadSource, WebhookDelivery, WebhookIntegration, WebhookRejection
from leadpact.organization.models import Organization

__all__ = [
    "MAX_ATTEMPTS",
    "REJECTION_CAP",
    "REJECTION_DAYS",
    "body_digest",
    "webhook_deliveries_process",
    "webhook_deliveries_process_pending",
    "webhook_delivery_failed",
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
    WebhookIntegration.Kind.SALESFORCE: parse_outbound_message,
    WebhookIntegration.Kind.SALESFORCE_CDC: parse_cdc,
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
    """Check a request with the verifier of the integration's kind (its secret unsealed for the check)."""
    if integration.kind == WebhookIntegration.Kind.SALESFORCE:
        return _verify_outbound(integration, body)
    if integration.kind == WebhookIntegration.Kind.PIPEDRIVE:
        stored = integration.password_hash
        digest = stored.removeprefix("sha256:") if stored.startswith("sha256:") else ""
        return verify_pipedrive(headers=headers, username=integration.username, password_sha256=digest)
    try:
        secret = unseal(integration.secret_sealed)
    except SecretUnreadable as error:
        return Verification(False, f"the integration's secret cannot be used: {error}")
    if not secret:
        return Verification(False, "the integration has no secret: set one")
    if integration.kind == WebhookIntegration.Kind.HUBSPOT:
        return verify_hubspot(
            headers=headers,
            method=method,
            uri=integration.public_url or uri,
            body=body,
            client_secret=secret,
            now=now,
        )
    if integration.kind == WebhookIntegration.Kind.MAUTIC:
        return verify_mautic(headers=headers, body=body, secret=secret)
    return verify_generic(headers=headers, body=body, secret=secret, now=now)


def _verify_outbound(integration: WebhookIntegration, body: bytes) -> Verification:
    """An Outbound Message is taken when it carries the organisation id the integration was made for."""
    try:
        message = OutboundMessage(body)
    except WebhookPayloadError as error:
        return Verification(False, str(error))
    if not integration.account_id:
        return Verification(False, "the integration has no salesforce organisation id: set one")
    if not same_organization(message.organization_id, integration.account_id):
        return Verification(
            False, f"organisation id {message.organization_id[:18]!r} is not this integration's"
        )
    return Verification(True, "")


#: Refusals kept per integration (and for unknown addresses together) within :data:`REJECTION_DAYS`; past
#: that, the newest row counts the further ones, so a flood of unsigned requests cannot fill the table.
REJECTION_CAP = 1000
REJECTION_DAYS = 30
#: Processing that fails unexpectedly this many times leaves the delivery failed (it stays pending before).
MAX_ATTEMPTS = 5


def webhook_reject(
    *, integration: WebhookIntegration | None, path: str, reason: str, remote_addr: str, now: dt.datetime
) -> WebhookRejection:
    """Log a refused request and keep a row of it (never processed); rows older than
    :data:`REJECTION_DAYS` go, and past :data:`REJECTION_CAP` rows the newest one counts the rest."""
    logger.warning("webhook refused at %s: %s", path[:200], reason)
    with transaction.atomic():
        WebhookRejection.objects.filter(received_at__lt=now - dt.timedelta(days=REJECTION_DAYS)).delete()
        same = WebhookRejection.objects.filter(integration=integration)
        if same.count() >= REJECTION_CAP:
            latest = same.order_by("-received_at", "-id").first()
            if latest is not None:
                WebhookRejection.objects.filter(pk=latest.pk).update(count=F("count") + 1, received_at=now)
                latest.refresh_from_db()
                return latest
        return WebhookRejection.objects.create(
            integration=integration,
            path=path[:500],
            reason=reason[:500],
            remote_addr=remote_addr[:64],
            received_at=now,
        )


def body_digest(body: bytes) -> bytes:
    """The sha256 of a delivery's body: the same body twice is one delivery."""
    return hashlib.sha256(body).digest()


def webhook_delivery_store(
    *, integration: WebhookIntegration, headers: Mapping[str, str], body: bytes, now: dt.datetime
) -> tuple[WebhookDelivery, bool]:
    """Keep a verified request as a pending delivery (committed on its own); returns it and whether it is
    new. A body this integration delivered before is not stored again (the earlier delivery is returned):
    a replay — which schemes without a signed timestamp (Mautic, HubSpot v1/v2) cannot refuse — changes
    nothing, not even lead fields that moved on since."""
    kept = {k: v for k, v in headers.items() if k.lower() in _KEPT_HEADERS}
    digest = body_digest(body)
    earlier = WebhookDelivery.objects.filter(integration=integration, body_digest=digest).first()
    if earlier is not None:
        return earlier, False
    try:
        with transaction.atomic():
            return (
                WebhookDelivery.objects.create(
                    integration=integration, headers=kept, body=body, body_digest=digest, received_at=now
                ),
                True,
            )
    except IntegrityError:  # the same body at the same moment, stored by the other request first
        return WebhookDelivery.objects.get(integration=integration, body_digest=digest), False


def _store_each(
    organization: Organization, leads: list[LeadRecord], events: list[EventRecord], now: dt.datetime
) -> tuple[int, list[str]]:
    """Store the records one by one, each in its own savepoint: what the database refuses is a note on
    that record, the rest goes in. Returns the events stored and the notes."""
    people, checker = PeopleIndex(organization), HandoffChecker(organization)
    stored = 0
    notes: list[str] = []
    batches: list[tuple[str, list[LeadRecord], list[EventRecord]]] = [
        (f"lead {r.external_id[:60]!r}", [r], []) for r in leads
    ]
    batches += [(f"event {e.kind} of {e.external_id[:60]!r}", [], [e]) for e in events]
    for what, these_leads, these_events in batches:
        store = partial(
            store_batch,
            organization=organization,
            leads=these_leads,
            events=these_events,
            now=now,
            people=people,
            checker=checker,
        )
        try:
            outcome = store_retrying(store)
        except DatabaseError as error:
            notes.append(f"{what}: the database refused it ({str(error).strip()[:300]})")
            continue
        stored += sum(outcome.events_created)
        notes += [f"{what}: {p.field}: {p.reason}" for p in outcome.problems]
    return stored, notes


def webhook_delivery_process(delivery: WebhookDelivery, *, now: dt.datetime | None = None) -> WebhookDelivery:
    """Parse and store a pending delivery; it ends ``processed`` (with unusable items named in ``error``)
    or ``failed`` (a body that is not the sender's shape at all).

    An item out of bounds is a problem of that item; the others are stored. Should the database still
    refuse the batch, each record is stored on its own and the refused ones are named. Anything else
    raises, and the delivery stays pending (see :func:`webhook_delivery_failed`).
    """
    moment = timezone.now() if now is None else now
    integration = delivery.integration
    organization = integration.organization
    try:
        parsed: ParsedPayload = _PARSERS[WebhookIntegration.Kind(integration.kind)](bytes(delivery.body))
    except WebhookPayloadError as exc:
        WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING).update(
            status=WebhookDelivery.Status.FAILED, error=str(exc)[:2000], processed_at=moment
        )
        delivery.refresh_from_db()
        return delivery
    with transaction.atomic():
        locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.status != WebhookDelivery.Status.PENDING:
            return locked
        linked = _link_pipedrive_deals(organization, parsed)
        parsed_events = [
            e for e in parsed.events if not (e.kind == "created" and (e.source, e.external_id) in linked)
        ]
        kept, refusals = events_refuse_unknown_kinds(organization, parsed_events)
        events = [parsed_events[i] for i in kept]
        notes = [f"item {p.index}: {p.reason}" for p in parsed.problems]
        notes += [
            f"deal {deal}: made from lead {lead}; its events are that lead's"
            for (_, deal), lead in linked.items()
        ]
        notes += [f"event {r.index}: kind: {r.reason}" for r in refusals]
        chosen = [_chosen_key(e) for e in events]
        try:
            outcome = store_retrying(
                lambda: store_batch(
                    organization=organization,
                    leads=parsed.leads,
                    events=events,
                    now=moment,
                    people=PeopleIndex(organization),
                    checker=HandoffChecker(organization),
                    unknown_leads="create",
                    keys=chosen if any(chosen) else None,
                )
            )
        except DatabaseError:
            stored, more = _store_each(organization, list(parsed.leads), events, moment)
            notes += more
        else:
            stored = sum(outcome.events_created)
            notes += [
                f"{p.what} {kept[p.index] if p.what == 'event' else p.index}: {p.field}: {p.reason}"
                for p in outcome.problems
            ]
        notes += [
            f"item {p.index} ignored: {p.reason}" if p.index >= 0 else f"ignored: {p.reason}"
            for p in parsed.ignored_items
        ]
        if parsed.cursor:
            _advance_cursor(integration, parsed.cursor)
        locked.status = WebhookDelivery.Status.PROCESSED
        locked.error = "\n".join(notes)[:5000]
        locked.events_stored = stored
        locked.processed_at = moment
        locked.save(update_fields=["status", "error", "events_stored", "processed_at"])
    return locked


def _link_pipedrive_deals(organization: Organization, parsed: ParsedPayload) -> dict[tuple[str, str], str]:
    """A Pipedrive deal made from a Pipedrive lead (converted: the same person) is that lead from then on.

    Pipedrive archives the lead and creates a deal for its person; the deal's webhooks name the person,
    not the lead. A deal not seen before whose person has a Pipedrive lead here becomes another source id
    of that lead (its newest, if the person has several), so the deal's opportunity, won and lost count
    for the lead the handoff was measured on; the deal's own creation is the conversion, not a new lead.
    Returns ``(source, deal id) → lead's source id`` for the deals linked now.
    """
    linked: dict[tuple[str, str], str] = {}
    for record in parsed.leads:
        extra = record.fields.extra
        person = extra.get("person_id")
        if record.source != "pipedrive" or not person or "pipeline_id" not in extra:
            continue  # not a deal, or a deal without a person
        key = (record.source, record.external_id)
        if (
            key in linked
            or LeadSource.objects.filter(
                organization=organization, source=record.source, external_id=record.external_id
            ).exists()
        ):
            continue
        origin = (
            LeadSource.objects.filter(
                organization=organization,
                source="pipedrive",
                lead__extra__person_id=person,
                external_id__contains="-",  # Pipedrive lead ids are UUIDs, deal ids numbers
            )
            .order_by("-lead__created_at", "-id")
            .first()
        )
        if origin is None:
            continue
        LeadSource.objects.create(
            organization=organization,
            lead_id=origin.lead_id,
            source=record.source,
            external_id=record.external_id,
        )
        linked[key] = origin.external_id
    return linked


def _advance_cursor(integration: WebhookIntegration, cursor: str) -> None:
    """Keep the highest replay id seen (deliveries may arrive out of order)."""
    row = WebhookIntegration.objects.select_for_update().get(pk=integration.pk)
    if not row.cursor or (cursor.isdigit() and row.cursor.isdigit() and int(cursor) > int(row.cursor)):
        WebhookIntegration.objects.filter(pk=row.pk).update(cursor=cursor)


def _chosen_key(event: EventRecord) -> str | None:
    """The idempotency key of an event the sender re-reports on every delivery without saying when it
    happened: a Mautic stage (each contact update carries the stage) is one event per contact and stage."""
    if event.source == "mautic" and "stage" in event.data:
        text = f"leadpact:mautic-stage:{len(event.external_id)}:{event.external_id}:{event.kind}"
        return hashlib.sha256(text.encode()).hexdigest()
    if event.source == "salesforce" and "status" in event.data and event.precision != "millisecond":
        # an Outbound Message repeats the status on every send, timed by the last modification
        status = event.data["status"]
        text = (
            f"leadpact:salesforce-status:{len(event.external_id)}:{event.external_id}:{event.kind}:{status}"
        )
        return hashlib.sha256(text.encode()).hexdigest()
    return None


def webhook_delivery_failed(delivery: WebhookDelivery, error: BaseException, *, now: dt.datetime) -> None:
    """Note an unexpected failure of processing on the delivery: it stays pending for the next run, and
    is failed for good after :data:`MAX_ATTEMPTS`."""
    attempts = delivery.attempts + 1
    text = f"attempt {attempts} failed: {type(error).__name__}: {str(error)[:1500]}"
    done = attempts >= MAX_ATTEMPTS
    WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING).update(
        attempts=attempts,
        error=text + ("; given up" if done else "; it stays pending"),
        status=WebhookDelivery.Status.FAILED if done else WebhookDelivery.Status.PENDING,
        processed_at=now if done else None,
    )


def webhook_deliveries_process(deliveries: Iterable[WebhookDelivery]) -> dict[str, int]:
    """Process these deliveries one by one; one that fails unexpectedly is noted on it
    (:func:`webhook_delivery_failed`) and the next one is processed all the same. Counts by outcome:
    ``processed``, ``failed`` (its body is unusable, or it failed too often) and ``stuck`` (pending)."""
    counts = {"processed": 0, "failed": 0, "stuck": 0}
    for delivery in deliveries:
        if delivery.status != WebhookDelivery.Status.PENDING:
            continue
        try:
            done = webhook_delivery_process(delivery)
        except Exception as error:  # every failure is the delivery's, not the run's
            logger.exception("webhook delivery %s not processed", delivery.pk)
            webhook_delivery_failed(delivery, error, now=timezone.now())
            delivery.refresh_from_db()
            counts["failed" if delivery.status == WebhookDelivery.Status.FAILED else "stuck"] += 1
            continue
        counts["failed" if done.status == WebhookDelivery.Status.FAILED else "processed"] += 1
    return counts


def webhook_deliveries_process_pending(*, limit: int | None = None) -> dict[str, int]:
    """Process every pending delivery, oldest first (see :func:`webhook_deliveries_process`)."""
    query = (
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
        .select_related("integration__organization")
        .order_by("received_at", "id")
    )
    return webhook_deliveries_process(query[:limit] if limit else query)
