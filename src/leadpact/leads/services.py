"""Writes for leads: store leads and events (upsert, append), API tokens, saved mappings, webhooks."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from django.db import transaction
from django.utils import timezone

from leadpact.audit.services import Actor, actor_label, audit_record
from leadpact.connectors.bounds import EVENT_TEXT, text_problem
from leadpact.connectors.mapping import Mapping
from leadpact.connectors.records import VOIDED, EventRecord, LeadRecord
from leadpact.errors import ApplicationError
from leadpact.leads._handoff import HandoffChecker
from leadpact.leads._prepare import key_digest
from leadpact.leads._secrets import generate_secret, password_hash, seal
from leadpact.leads._store import BatchOutcome, ItemProblem, PeopleIndex, leads_refresh_state, store_batch
from leadpact.leads.models import ApiToken, Lead, LeadEvent, SavedMapping, WebhookIntegration
from leadpact.organization.models import Organization

__all__ = [
    "BatchOutcome",
    "ItemProblem",
    "WebhookCredentials",
    "api_token_authenticate",
    "api_token_create",
    "api_token_revoke",
    "lead_event_void",
    "lead_upsert",
    "leads_refresh_state",
    "leads_store",
    "saved_mapping_save",
    "webhook_credentials_problem",
    "webhook_integration_create",
    "webhook_integration_renew",
    "webhook_integration_update",
]

TOKEN_PREFIX = "lp_"  # noqa: S105 - the visible start of every token, not a secret


def _now(now: dt.datetime | None) -> dt.datetime:
    return timezone.now() if now is None else now


@transaction.atomic
def leads_store(
    *,
    organization: Organization,
    leads: Sequence[LeadRecord] = (),
    events: Sequence[EventRecord] = (),
    now: dt.datetime | None = None,
    unknown_leads: Literal["create", "refuse"] = "create",
) -> BatchOutcome:
    """Upsert leads and append events in one transaction (see ``_store.store_batch``).

    Leads are matched by ``(source, external_id)``: fields given overwrite, fields left empty are kept.
    Events are deduplicated by idempotency key: the same event twice is one row, and the outcome names
    the stored row both times.
    """
    return store_batch(
        organization=organization,
        leads=leads,
        events=events,
        now=_now(now),
        people=PeopleIndex(organization),
        checker=HandoffChecker(organization),
        unknown_leads=unknown_leads,
    )


def lead_upsert(
    *, organization: Organization, record: LeadRecord, now: dt.datetime | None = None
) -> tuple[Lead, bool, list[ItemProblem]]:
    """Create or update one lead by its source id; returns the lead, whether it is new, and problems."""
    outcome = leads_store(organization=organization, leads=[record], now=now)
    return Lead.objects.get(pk=outcome.lead_ids[0]), outcome.leads_created[0], outcome.problems


@transaction.atomic
def lead_event_void(
    *,
    organization: Organization,
    event_id: int,
    reason: str,
    actor: Actor,
    now: dt.datetime | None = None,
) -> LeadEvent:
    """Void a stored event: a ``voided`` event naming it is appended (the log stays append-only), and
    the lead's state, its handoff checks, the SLA clocks and every measurement leave the voided event out
    from then on. Audited with the reason. Returns the ``voided`` event.

    Refused: an event of another organisation or none, a ``voided`` event, an event voided before, an
    empty reason.
    """
    moment = _now(now)
    why = reason.strip()
    problem = "is empty" if not why else text_problem(why, EVENT_TEXT["reason"])
    if problem is not None:
        raise ApplicationError("event.void.reason", f"void event {event_id}: the reason {problem}")
    event = LeadEvent.objects.filter(organization=organization, pk=event_id).select_related("lead").first()
    if event is None:
        raise ApplicationError(
            "event.void.unknown", f"void event {event_id}: {organization.name} has no event {event_id}"
        )
    if event.kind == VOIDED:
        raise ApplicationError(
            "event.void.void", f"void event {event_id}: it is itself a void; nothing to undo"
        )
    key = hashlib.sha256(f"leadpact:void:{event.pk}".encode()).hexdigest()
    earlier = LeadEvent.objects.filter(organization=organization, key_digest=key_digest(key)).first()
    if earlier is not None:
        raise ApplicationError(
            "event.void.twice",
            f"void event {event_id}: voided before (event {earlier.pk}, {earlier.recorded_at:%Y-%m-%d %H:%M}"
            f" UTC, by {earlier.actor_label or 'someone'})",
        )
    void = LeadEvent(
        organization=organization,
        lead=event.lead,
        kind=VOIDED,
        occurred_at=moment,
        recorded_at=moment,
        actor_label=actor_label(actor)[: EVENT_TEXT["actor"]],
        source="leadpact",
        idempotency_key=key,
        data={"event_id": event.pk, "kind": event.kind, "reason": why},
    )
    void.save()
    leads_refresh_state([event.lead_id])
    audit_record(
        actor=actor,
        action="lead_event.void",
        obj=event,
        at=moment,
        before={
            "kind": event.kind,
            "occurred_at": event.occurred_at,
            "data": event.data,
            "lead": event.lead_id,
        },
        after={"voided_by": void.pk, "reason": why},
        organization=organization,
    )
    return void


# --- API tokens -----------------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *,
    organization: Organization,
    name: str,
    scope: Literal["read", "write"],
    actor: Actor,
    now: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Make a token for one integration; returns the row and the token text, shown this once only.

    The token is ``lp_<prefix>_<secret>``; only its sha256 is stored, found by the prefix.
    """
    if scope not in ApiToken.Scope.values:
        raise ApplicationError(
            "token.scope", f"api token {name!r}: scope must be read or write, not {scope!r}"
        )
    if not name.strip():
        raise ApplicationError("token.name", "api token: the name is empty")
    prefix = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken(
        organization=organization,
        name=name.strip(),
        prefix=prefix,
        hashed_secret=_hash(token),
        scope=scope,
        created_at=_now(now),
    )
    row.full_clean()
    row.save()
    audit_record(
        actor=actor,
        action="api_token.create",
        obj=row,
        at=row.created_at,
        after={"name": row.name, "prefix": prefix, "scope": scope},
        organization=organization,
    )
    return row, token


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: Actor, now: dt.datetime | None = None) -> ApiToken:
    """Revoke a token: it stops working at once (revoking twice keeps the first time)."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = _now(now)
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="api_token.revoke",
            obj=token,
            at=token.revoked_at,
            after={"name": token.name, "prefix": token.prefix},
            organization=token.organization,
        )
    return token


def api_token_authenticate(raw: str, *, now: dt.datetime | None = None) -> ApiToken | None:
    """The live token this text is, or None (unknown, malformed, wrong secret or revoked)."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    prefix, sep, _ = raw[len(TOKEN_PREFIX) :].partition("_")
    if not sep or not prefix or len(prefix) > 16:
        return None
    row = ApiToken.objects.select_related("organization").filter(prefix=prefix).first()
    if row is None or not hmac.compare_digest(row.hashed_secret, _hash(raw)):
        return None
    if row.revoked_at is not None:
        return None
    moment = _now(now)
    # at most one write a minute per token, so reads stay reads
    if row.last_used_at is None or moment - row.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=moment)
        row.last_used_at = moment
    return row


# --- saved mappings, webhook integrations -----------------------------------------------------------------


@transaction.atomic
def saved_mapping_save(
    *, organization: Organization, name: str, mapping: Mapping, now: dt.datetime | None = None
) -> SavedMapping:
    """Save (or replace) a mapping under a name, to reuse with ``leadpact import --mapping NAME``."""
    row, _ = SavedMapping.objects.update_or_create(
        organization=organization,
        name=name,
        defaults={"mapping": mapping.to_dict(), "created_at": _now(now)},
    )
    return row


@dataclass(frozen=True, slots=True)
class WebhookCredentials:
    """What a sender is set up with, shown once: the signing secret, or Pipedrive's user and password."""

    secret: str = ""
    username: str = ""
    password: str = ""

    def lines(self) -> list[str]:
        """The credentials as lines to show (the secret, or user and password)."""
        if self.password:
            return [f"user: {self.username}", f"password: {self.password}"]
        return [f"secret: {self.secret}"] if self.secret else []


#: A secret given by hand (HubSpot's client secret, Mautic's own) must be at least this long.
SECRET_MIN_LENGTH = 16


def _credentials(
    kind: str, name: str, *, secret: str, username: str
) -> tuple[WebhookCredentials, dict[str, str]]:
    """The credentials of a new or renewed sender and the row's values for them (sealed, hashed)."""
    if kind not in WebhookIntegration.Kind.values:
        raise ApplicationError("webhook.kind", f"webhook {name!r}: unknown kind {kind!r}")
    if kind == WebhookIntegration.Kind.PIPEDRIVE:
        if secret:
            raise ApplicationError(
                "webhook.secret", f"webhook {name!r}: pipedrive's password is generated, not given"
            )
        user = username.strip() or "leadpact"
        problem = text_problem(user, 200)
        if problem is not None or ":" in user:
            raise ApplicationError(
                "webhook.credentials", f"webhook {name!r}: user {problem or 'contains a colon'}"
            )
        password = generate_secret()
        shown = WebhookCredentials(username=user, password=password)
        return shown, {"username": user, "password_hash": password_hash(password), "secret_sealed": ""}
    if kind == WebhookIntegration.Kind.SALESFORCE:
        # Outbound Messages carry no signature: the organisation id in each message is checked instead
        if secret:
            raise ApplicationError(
                "webhook.secret",
                f"webhook {name!r}: salesforce outbound messages are not signed; give the organisation id",
            )
        return WebhookCredentials(), {"secret_sealed": "", "username": "", "password_hash": ""}
    given = secret.strip()
    if kind == WebhookIntegration.Kind.HUBSPOT and not given:
        raise ApplicationError(
            "webhook.secret",
            f"webhook {name!r}: give the HubSpot app's client secret (it signs with that)",
        )
    if given and (len(given) < SECRET_MIN_LENGTH or text_problem(given, 400) is not None):
        raise ApplicationError(
            "webhook.secret",
            f"webhook {name!r}: a secret needs at least {SECRET_MIN_LENGTH} characters of text "
            "(leave it empty to have one generated)",
        )
    value = given or generate_secret()
    shown = WebhookCredentials(secret="" if given else value)
    return shown, {"secret_sealed": seal(value), "username": "", "password_hash": ""}


def webhook_credentials_problem(*, kind: str, secret: str, username: str = "") -> str | None:
    """Why these would not make a sender's credentials (see :func:`webhook_integration_create`), or None."""
    try:
        _credentials(kind, "", secret=secret, username=username)
    except ApplicationError as error:
        return error.message.removeprefix("webhook '': ")
    return None


@transaction.atomic
def webhook_integration_create(
    *,
    organization: Organization,
    kind: str,
    name: str,
    slug: str | None = None,
    secret: str = "",
    username: str = "",
    public_url: str = "",
    account_id: str = "",
    actor: Actor,
    now: dt.datetime | None = None,
) -> tuple[WebhookIntegration, WebhookCredentials]:
    """Register a webhook sender; its URL is ``/hooks/<kind>/<slug>/``. Returns the row and its
    credentials, shown this once: a generated secret (generic, Mautic without one given) or Pipedrive's
    user and generated password. HubSpot needs its app's client secret given; Mautic may be given its own.

    Secrets are stored sealed, passwords as a hash (``leads._secrets``); neither is ever shown again.
    """
    if not name.strip():
        raise ApplicationError("webhook.name", "webhook: the name is empty")
    shown, values = _credentials(kind, name, secret=secret, username=username)
    account = account_id.strip()
    if kind == WebhookIntegration.Kind.SALESFORCE and not re.fullmatch(
        r"00D[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?", account
    ):
        raise ApplicationError(
            "webhook.account",
            f"webhook {name!r}: give the Salesforce organisation id (00D…, 15 or 18 characters; Setup → "
            "Company Information)",
        )
    row = WebhookIntegration(
        organization=organization,
        kind=kind,
        name=name.strip(),
        slug=slug or secrets.token_urlsafe(12).replace("_", "-").lower(),
        public_url=public_url,
        account_id=account,
        created_at=_now(now),
        **values,
    )
    row.full_clean()
    row.save()
    audit_record(
        actor=actor,
        action="webhook_integration.create",
        obj=row,
        at=row.created_at,
        after={
            "kind": kind,
            "name": row.name,
            "slug": row.slug,
            "public_url": public_url,
            "secret": "generated" if shown.secret or shown.password else "given",
        },
        organization=organization,
    )
    return row, shown


@transaction.atomic
def webhook_integration_renew(
    *,
    integration: WebhookIntegration,
    secret: str = "",
    actor: Actor,
    now: dt.datetime | None = None,
) -> WebhookCredentials:
    """Replace a sender's secret (given, or generated) or Pipedrive's password (generated); the old one
    stops working at once. Returns the new credentials, shown this once."""
    row = WebhookIntegration.objects.select_for_update().get(pk=integration.pk)
    shown, values = _credentials(row.kind, row.name, secret=secret, username=row.username)
    for name, value in values.items():
        setattr(row, name, value)
    row.save(update_fields=list(values))
    audit_record(
        actor=actor,
        action="webhook_integration.renew",
        obj=row,
        at=_now(now),
        after={"kind": row.kind, "name": row.name, "secret": "generated" if shown.lines() else "given"},
        organization=row.organization,
    )
    return shown


@transaction.atomic
def webhook_integration_update(
    *,
    integration: WebhookIntegration,
    name: str,
    public_url: str,
    active: bool,
    actor: Actor,
    now: dt.datetime | None = None,
) -> WebhookIntegration:
    """Change a sender's name, public URL or whether it is active (audited with what changed)."""
    row = WebhookIntegration.objects.select_for_update().get(pk=integration.pk)
    before = {"name": row.name, "public_url": row.public_url, "active": row.active}
    row.name, row.public_url, row.active = name.strip(), public_url, active
    row.full_clean()
    after = {"name": row.name, "public_url": row.public_url, "active": row.active}
    if after != before:
        row.save(update_fields=["name", "public_url", "active"])
        audit_record(
            actor=actor,
            action="webhook_integration.update",
            obj=row,
            at=_now(now),
            before=before,
            after=after,
            organization=row.organization,
        )
    return row
