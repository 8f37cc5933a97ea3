"""Writes to the audit log: :func:`audit_record`, called by every write service of every app."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from typing import TYPE_CHECKING, Any, TypeAlias

from django.contrib.auth.models import User
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.http import HttpRequest

from leadpact.audit._local import LocalCheckpoint, local_checkpoint_store
from leadpact.audit.models import GENESIS_HASH, AuditCheckpoint, AuditEntry
from leadpact.audit.seal import AuditKey, audit_checkpoint_seal, audit_entry_seal, audit_key

if TYPE_CHECKING:
    from leadpact.agreements.models import Agreement
    from leadpact.organization.models import Organization

__all__ = [
    "Actor",
    "actor_from_request",
    "actor_label",
    "actor_user",
    "audit_entry_hash",
    "audit_record",
    "canonical_json",
]

Actor: TypeAlias = User | str
"""Who acts: a user, or a label for the system (``"cli"``, ``"system"``, ``"demo"``)."""

# Any constant: serialises writers of the chain on PostgreSQL (SQLite writers are serialised by
# BEGIN IMMEDIATE, see settings).
_CHAIN_LOCK = 0x1EAD_AC7


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the bytes that are hashed.

    >>> canonical_json({"b": 1, "a": [1, "x"]})
    '{"a":[1,"x"],"b":1}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder)


def _jsonable(value: Any) -> Any:
    # What the JSON column gives back is what was hashed (Decimal, dates, UUIDs become strings).
    return None if value is None else json.loads(canonical_json(value))


def actor_user(actor: Actor) -> User | None:
    """The acting user, or None when the system acted."""
    return None if isinstance(actor, str) else actor


def actor_label(actor: Actor) -> str:
    """The name written beside the entry: the user name, or the system label."""
    return actor if isinstance(actor, str) else actor.get_username()


def actor_from_request(request: HttpRequest, *, anonymous: str = "web") -> Actor:
    """The logged-in user of a request, or the label ``anonymous``."""
    user = request.user
    return user if isinstance(user, User) else anonymous


def audit_entry_hash(entry: AuditEntry) -> str:
    """sha256 (hex) over the canonical JSON of the entry's content and its ``prev_hash``."""
    at = entry.at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    content = {
        "at": at,
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "organization_id": entry.organization_id,
        "agreement_id": entry.agreement_id,
        "before": entry.before,
        "after": entry.after,
        "prev_hash": entry.prev_hash,
    }
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])


@transaction.atomic
def audit_record(
    *,
    actor: Actor,
    action: str,
    obj: models.Model,
    at: dt.datetime,
    before: Any = None,
    after: Any = None,
    organization: Organization | None = None,
    agreement: Agreement | None = None,
) -> AuditEntry:
    """Append one sealed entry to the chain and move the checkpoint on, inside the caller's transaction.

    The chain is serialised: on PostgreSQL by a transaction-scoped advisory lock taken before the last
    entry is read, on SQLite by ``BEGIN IMMEDIATE``.  The unique ``prev_hash`` makes a fork impossible
    even if that were bypassed.  Once the transaction commits, this machine's copy of the checkpoint
    (in the data folder) moves on too.
    """
    if at.tzinfo is None:
        raise ValueError(f"audit entry for {action}: 'at' must be an aware datetime")
    key = audit_key()
    _lock_chain()
    last = AuditEntry.objects.order_by("-id").values_list("hash", flat=True).first()
    entry = AuditEntry(
        at=at.astimezone(dt.UTC),
        actor=actor_user(actor),
        actor_label=actor_label(actor),
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        organization=organization,
        agreement=agreement,
        before=_jsonable(before),
        after=_jsonable(after),
        prev_hash=last or GENESIS_HASH,
    )
    entry.hash = audit_entry_hash(entry)
    entry.seal = audit_entry_seal(key, entry.hash)
    entry.full_clean()
    entry.save()
    _checkpoint_advance(entry, key=key)
    return entry


def _checkpoint_advance(entry: AuditEntry, *, key: AuditKey) -> None:
    """Count ``entry`` into the sealed checkpoint (created with the first entry), under the chain's lock."""
    checkpoint = AuditCheckpoint.objects.order_by("id").first()
    if checkpoint is None:
        checkpoint = AuditCheckpoint(chain=secrets.token_hex(16), entries=0)
    checkpoint.entries += 1
    checkpoint.last_id = entry.pk
    checkpoint.last_hash = entry.hash
    checkpoint.key_id = key.key_id
    checkpoint.seal = audit_checkpoint_seal(
        key, chain=checkpoint.chain, entries=checkpoint.entries, last_hash=entry.hash
    )
    checkpoint.save()
    local = LocalCheckpoint(
        chain=checkpoint.chain,
        entries=checkpoint.entries,
        last_id=entry.pk,
        last_hash=entry.hash,
        seal=checkpoint.seal,
    )
    transaction.on_commit(lambda: local_checkpoint_store(local), robust=True)
