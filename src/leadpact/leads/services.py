"""Writes for leads: store leads and events (upsert, append), API tokens, saved mappings, webhooks."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from typing import Literal

from django.db import transaction
from django.utils import timezone

from leadpact.audit.services import Actor, audit_record
from leadpact.connectors.mapping import Mapping
from leadpact.connectors.records import EventRecord, LeadRecord
from leadpact.errors import ApplicationError
from leadpact.leads._handoff import HandoffChecker
from leadpact.leads._store import BatchOutcome, ItemProblem, PeopleIndex, leads_refresh_state, store_batch
from leadpact.leads.models import ApiToken, Lead, SavedMapping, WebhookIntegration
from leadpact.organization.models import Organization

__all__ = [
    "BatchOutcome",
    "ItemProblem",
    "api_token_authenticate",
    "api_token_create",
    "api_token_revoke",
    "lead_upsert",
    "leads_refresh_state",
    "leads_store",
    "saved_mapping_save",
    "webhook_integration_create",
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


@transaction.atomic
def webhook_integration_create(
    *,
    organization: Organization,
    kind: str,
    name: str,
    slug: str | None = None,
    secret: str = "",
    username: str = "",
    password: str = "",
    public_url: str = "",
    actor: Actor,
    now: dt.datetime | None = None,
) -> WebhookIntegration:
    """Register a webhook sender; its URL is ``/hooks/<kind>/<slug>/``."""
    if kind == WebhookIntegration.Kind.PIPEDRIVE and not (username and password):
        raise ApplicationError(
            "webhook.credentials", f"webhook {name!r}: pipedrive needs a user and a password"
        )
    if kind != WebhookIntegration.Kind.PIPEDRIVE and not secret:
        raise ApplicationError("webhook.secret", f"webhook {name!r}: {kind} needs a secret")
    row = WebhookIntegration(
        organization=organization,
        kind=kind,
        name=name,
        slug=slug or secrets.token_urlsafe(12).replace("_", "-").lower(),
        secret=secret,
        username=username,
        password=password,
        public_url=public_url,
        created_at=_now(now),
    )
    row.full_clean()
    row.save()
    audit_record(
        actor=actor,
        action="webhook_integration.create",
        obj=row,
        at=row.created_at,
        after={"kind": kind, "name": name, "slug": row.slug},
        organization=organization,
    )
    return row
