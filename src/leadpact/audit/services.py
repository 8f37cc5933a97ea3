"""Writes to the audit log: :func:`audit_record`, called by every write service of every app."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from typing import TYPE_CHECKING, Any, TypeAlias

from django.contrib.auth.models import User
from django.db import connection, models, transaction
from django.http import HttpRequest

from leadpact.audit._local import LocalCheckpoint, local_checkpoint_store
from leadpact.audit.hashing import REKEY_ACTION, audit_entry_hash, canonical_json
from leadpact.audit.models import GENESIS_HASH, AuditCheckpoint, AuditEntry
from leadpact.audit.seal import AuditKey, audit_checkpoint_seal, audit_entry_seal, audit_key
from leadpact.errors import ApplicationError

if TYPE_CHECKING:
    from leadpact.agreements.models import Agreement
    from leadpact.organization.models import Organization

__all__ = [
    "REKEY_ACTION",
    "Actor",
    "actor_from_request",
    "actor_label",
    "actor_user",
    "audit_entry_hash",
    "audit_key_replace",
    "audit_record",
    "canonical_json",
    "text_digest",
]

Actor: TypeAlias = User | str
"""Who acts: a user, or a label for the system (``"cli"``, ``"system"``, ``"demo"``)."""

_LOCAL_FIELDS = ("chain", "entries", "last_id", "last_hash", "seal")

# Any constant: serialises writers of the chain on PostgreSQL (SQLite writers are serialised by
# BEGIN IMMEDIATE, see settings).
_CHAIN_LOCK = 0x1EAD_AC7


def _jsonable(value: Any) -> Any:
    # What the JSON column gives back is what was hashed (Decimal, dates, UUIDs become strings).
    return None if value is None else json.loads(canonical_json(value))


def actor_user(actor: Actor) -> User | None:
    """The acting user, or None when the system acted."""
    return None if isinstance(actor, str) else actor


def text_digest(text: str) -> dict[str, Any]:
    """What the audit trail keeps of free text people write (a note, a dispute's reason, a decision): its
    length and a digest, never the words — the trail cannot be changed, and such text may be about a
    person whose data is later erased (``leadpact privacy erase``). The row itself holds the text.

    >>> text_digest("called twice")
    {'chars': 12, 'sha256': '18155ebbbddb193b'}
    """
    return {"chars": len(text), "sha256": hashlib.sha256(text.encode()).hexdigest()[:16]}


def actor_label(actor: Actor) -> str:
    """The name written beside the entry: the user name, or the system label."""
    return actor if isinstance(actor, str) else actor.get_username()


def actor_from_request(request: HttpRequest, *, anonymous: str = "web") -> Actor:
    """The logged-in user of a request, or the label ``anonymous``."""
    user = request.user
    return user if isinstance(user, User) else anonymous


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

    A log already sealed with another key than this machine's (a database restored without its key)
    takes no new entry — the write fails and says which key to restore — and no new key is made for it.
    """
    if at.tzinfo is None:
        raise ValueError(f"audit entry for {action}: 'at' must be an aware datetime")
    _lock_chain()
    checkpoint = _checkpoint_row()
    key = audit_key(missing="create" if checkpoint is None else "fail")
    if checkpoint is not None and checkpoint[3] != key.key_id:
        raise ApplicationError(
            "audit.key",
            f"the audit log is sealed with key {checkpoint[3]}, but this machine's key ({key.source}) is "
            f"{key.key_id}; restore the key that was backed up with this database (or, if it is lost for "
            "good, see 'leadpact audit rekey')",
        )
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
    )
    return _append(entry, key=key, checkpoint=checkpoint)


_Checkpoint: TypeAlias = tuple[int, str, int, str]


def _checkpoint_row() -> _Checkpoint | None:
    return AuditCheckpoint.objects.order_by("id").values_list("id", "chain", "entries", "key_id").first()


def _append(entry: AuditEntry, *, key: AuditKey, checkpoint: _Checkpoint | None) -> AuditEntry:
    """Chain, seal and save ``entry`` and seal the checkpoint after it (the chain's lock is held)."""
    last = AuditEntry.objects.order_by("-id").values_list("hash", flat=True).first()
    entry.prev_hash = last or GENESIS_HASH
    entry.hash = audit_entry_hash(entry)
    entry.seal = audit_entry_seal(key, entry.hash)
    entry.full_clean()
    entry.save()
    pk, chain, entries = checkpoint[:3] if checkpoint is not None else (None, secrets.token_hex(16), 0)
    _checkpoint_advance(entry, key=key, pk=pk, chain=chain, entries=entries + 1)
    return entry


@transaction.atomic
def audit_key_replace(*, operator: User, now: dt.datetime | None = None) -> AuditEntry:
    """Seal the log with this machine's key from now on, because the key it was sealed with is lost.

    Allowed only to an active staff user, and only when every link and hash of the log holds (its old
    seals cannot be checked any more).  Appends one ``audit.rekey`` entry, sealed with the new key, that
    names both keys and the entry count and newest hash it takes over; ``audit verify`` accepts the
    old seals of every entry before it.  Whoever wrote to the database before this moment without the
    old key is no longer caught: use it only when the key is truly gone.
    """
    from leadpact.audit.selectors import audit_chain_verify  # selectors import this module

    name = operator.get_username()
    if not (operator.is_active and operator.is_staff):
        raise ApplicationError("audit.not_operator", f"{name} is not an active staff user")
    _lock_chain()
    checkpoint = _checkpoint_row()
    if checkpoint is None:
        raise ApplicationError("audit.rekey_nothing", "the audit log has no entries yet; nothing to re-key")
    key = audit_key()
    if checkpoint[3] == key.key_id:
        raise ApplicationError(
            "audit.rekey_nothing", f"the audit log is already sealed with this machine's key {key.key_id}"
        )
    links = audit_chain_verify(seals="skip")
    if not links.ok:
        raise ApplicationError(
            "audit.rekey_broken", f"the log does not hold, so it is not re-keyed: {links.reason}"
        )
    last = AuditEntry.objects.order_by("-id").values_list("hash", flat=True).first()
    entry = AuditEntry(
        at=(now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC),
        actor=operator,
        actor_label=name,
        action=REKEY_ACTION,
        object_type=AuditCheckpoint._meta.label_lower,
        object_id=str(checkpoint[0]),
        after={
            "old_key_id": checkpoint[3],
            "new_key_id": key.key_id,
            "entries": links.checked,
            "last_hash": last,
        },
    )
    return _append(entry, key=key, checkpoint=checkpoint)


def _checkpoint_advance(
    entry: AuditEntry, *, key: AuditKey, pk: int | None, chain: str, entries: int
) -> None:
    """Seal ``entries`` (``entry`` the newest) into the checkpoint (created with the first entry)."""
    fields: dict[str, Any] = {
        "entries": entries,
        "last_id": entry.pk,
        "last_hash": entry.hash,
        "key_id": key.key_id,
        "seal": audit_checkpoint_seal(key, chain=chain, entries=entries, last_hash=entry.hash),
    }
    if pk is None:
        AuditCheckpoint.objects.create(chain=chain, **fields)
    else:
        AuditCheckpoint.objects.filter(pk=pk).update(**fields)
    _local_store_on_commit(key)


def _local_store_on_commit(key: AuditKey) -> None:
    """Once the transaction commits, move this machine's copy of the checkpoint on (never back).

    One callback per transaction, however many entries it writes: it reads the checkpoint as committed
    (so an entry of a rolled-back savepoint never reaches the copy) and keeps it if its seal holds.  A
    failure to write is logged, not raised: the database has committed, and the copy is a lower bound.
    """
    if any(getattr(item[1], "leadpact_audit_checkpoint", False) for item in connection.run_on_commit):
        return  # a callback still to run in this transaction reads the checkpoint after this entry too

    def store() -> None:
        store.leadpact_audit_checkpoint = False  # type: ignore[attr-defined]  # ran: covers no later entry
        row = AuditCheckpoint.objects.order_by("id").values(*_LOCAL_FIELDS).first()
        if row is None:
            return
        local = LocalCheckpoint(**row)
        seal = audit_checkpoint_seal(key, chain=local.chain, entries=local.entries, last_hash=local.last_hash)
        if hmac.compare_digest(seal, local.seal):
            local_checkpoint_store(local)

    store.leadpact_audit_checkpoint = True  # type: ignore[attr-defined]
    transaction.on_commit(store, robust=True)
