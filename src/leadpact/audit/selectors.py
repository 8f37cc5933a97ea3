"""Reads of the audit log: the trail per agreement and the verification of the whole chain."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias

from django.contrib.auth.models import User
from django.db.models import QuerySet

from leadpact.audit._local import LocalCheckpoint, local_checkpoint, local_checkpoint_path
from leadpact.audit.hashing import REKEY_ACTION, audit_entry_hash
from leadpact.audit.models import GENESIS_HASH, AuditCheckpoint, AuditEntry
from leadpact.audit.seal import AuditKey, audit_checkpoint_seal, audit_entry_seal, audit_key
from leadpact.errors import ApplicationError

if TYPE_CHECKING:
    from leadpact.agreements.models import Agreement
    from leadpact.organization.models import Organization

__all__ = ["AuditVerification", "Fault", "audit_chain_verify", "audit_operator", "audit_trail"]

Fault: TypeAlias = Literal["entry", "missing", "checkpoint", "key"]


def audit_trail(
    *, agreement: Agreement | None = None, organization: Organization | None = None
) -> QuerySet[AuditEntry]:
    """Entries oldest first, for one agreement or one organisation (or all when neither is given)."""
    entries = AuditEntry.objects.select_related("actor").order_by("id")
    if agreement is not None:
        entries = entries.filter(agreement=agreement)
    if organization is not None:
        entries = entries.filter(organization=organization)
    return entries


def audit_operator(name: str) -> User:
    """The user an operator names themself by on the command line: a user name, or else an e-mail address.

    Raises ``audit.no_operator`` when no user, or more than one, answers to it.
    """
    users = User.objects
    found = list(users.filter(username=name)[:1]) or list(users.filter(email__iexact=name)[:2])
    if len(found) != 1:
        problem = "several users have" if found else "no user has"
        raise ApplicationError(
            "audit.no_operator", f"{problem} the name or e-mail {name!r}; give your own user name"
        )
    return found[0]


@dataclass(frozen=True, slots=True)
class AuditVerification:
    """The outcome of walking the chain: how many entries were checked, and the first thing wrong.

    ``broken_id`` names the entry that does not hold — for removed newest entries, the newest one the
    checkpoint remembers.  ``reason`` is empty when the log is intact; ``fault`` says what kind of thing
    is wrong: an entry, entries missing at the end, a checkpoint, or the key this machine has.
    """

    checked: int
    broken_id: int | None = None
    reason: str = ""
    key_id: str = ""
    fault: Fault | None = None

    @property
    def ok(self) -> bool:
        return not self.reason


def _entries(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'}"


def _were(count: int) -> str:
    return "was" if count == 1 else "were"


def _sealed(key: AuditKey, checkpoint: AuditCheckpoint | LocalCheckpoint) -> bool:
    expected = audit_checkpoint_seal(
        key, chain=checkpoint.chain, entries=checkpoint.entries, last_hash=checkpoint.last_hash
    )
    return hmac.compare_digest(expected, checkpoint.seal)


def _key_for(checkpoint: AuditCheckpoint) -> AuditKey | AuditVerification:
    """This machine's key, if it is the one the log is sealed with; else what is wrong."""
    try:
        key = audit_key(missing="fail")
    except ApplicationError as error:
        reason = f"{error.message} (the log is sealed with key {checkpoint.key_id})"
        return AuditVerification(0, None, reason, fault="key")
    if key.key_id != checkpoint.key_id:
        return AuditVerification(
            0,
            None,
            f"the log is sealed with audit key {checkpoint.key_id}, but this machine's key ({key.source}) is "
            f"{key.key_id}: use the key that was backed up with this database",
            fault="key",
        )
    return key


@dataclass(frozen=True, slots=True)
class _Walked:
    checked: int
    last_id: int | None
    fault: AuditVerification | None


def _walk(key: AuditKey | None, marks: dict[int, tuple[str, str]], chunk_size: int) -> _Walked:
    """Check every entry's link, hash and (with a key) seal, and the entries the checkpoints name.

    A seal that fails is held back, not reported at once: a later ``audit.rekey`` entry, sealed with the
    key, takes over the entries before it (their old key was lost).  Anything else is reported first
    come, after a seal fault still held.
    """
    expected_prev = GENESIS_HASH
    checked = 0
    last_id: int | None = None
    unsealed: AuditVerification | None = None
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=chunk_size):
        name = f"audit entry {entry.pk} ({entry.action})"
        fault = ""
        if entry.prev_hash != expected_prev:
            fault = (
                f"{name}: prev_hash does not match the hash of the entry before it (an entry was removed, "
                "inserted or re-chained)"
            )
        elif audit_entry_hash(entry) != entry.hash:
            fault = (
                f"{name}: its content does not match its hash (the entry was changed after it was written)"
            )
        if fault:
            return _Walked(
                checked, last_id, unsealed or AuditVerification(checked, entry.pk, fault, fault="entry")
            )
        if key is not None:
            if not hmac.compare_digest(audit_entry_seal(key, entry.hash), entry.seal):
                unsealed = unsealed or AuditVerification(
                    checked,
                    entry.pk,
                    f"{name}: its seal does not match its hash (the log was rewritten and re-chained from "
                    "here without the audit key)",
                    fault="entry",
                )
            elif entry.action == REKEY_ACTION:
                unsealed = None
        checked += 1
        mark = marks.get(checked)
        if mark is not None and mark[0] != entry.hash:
            fault = (
                f"{name} is not the entry {mark[1]} sealed as number {checked} (the log was rewritten, "
                "or its checkpoint deleted and begun again)"
            )
            return _Walked(
                checked, last_id, unsealed or AuditVerification(checked - 1, entry.pk, fault, fault="entry")
            )
        expected_prev = entry.hash
        last_id = entry.pk
    return _Walked(checked, last_id, unsealed)


def audit_chain_verify(
    *, seals: Literal["check", "skip"] = "check", chunk_size: int = 2000
) -> AuditVerification:
    """Walk the chain oldest first and hold it against the sealed checkpoints; stop at the first fault.

    Each entry must link to the one before, match its hash and carry a valid seal under the audit key;
    the checkpoint in the database and this machine's copy of it (:mod:`leadpact.audit._local`) must be
    sealed too, and the log must reach as far as either says, through the very entry it names.  The
    checkpoints are read before the entries, so entries written meanwhile only lengthen the log.
    ``seals="skip"`` checks links, hashes and the count only (re-keying a log whose key is lost).
    """
    checkpoints = list(AuditCheckpoint.objects.order_by("id")[:2])
    if not checkpoints:
        first = AuditEntry.objects.order_by("id").only("id").first()
        if first is None:
            return AuditVerification(0)
        return AuditVerification(
            0,
            first.pk,
            "the log has entries but no checkpoint: the checkpoint was deleted outside leadpact",
            fault="checkpoint",
        )
    if len(checkpoints) > 1:
        return AuditVerification(
            0, None, "there are two audit checkpoints: one was added outside leadpact", fault="checkpoint"
        )
    checkpoint = checkpoints[0]
    key: AuditKey | None = None
    local: LocalCheckpoint | None = None
    where = local_checkpoint_path()
    # A checkpoint that is not sealed is reported after the entries: a rewritten entry is the more
    # precise finding, and a forger who rewrote entries usually set the checkpoint to match.
    unsealed = ""
    marks: dict[int, tuple[str, str]] = {}
    if seals == "check":
        found = _key_for(checkpoint)
        if isinstance(found, AuditVerification):
            return found
        key = found
        local = local_checkpoint(checkpoint.chain)
        if not _sealed(key, checkpoint):
            unsealed = "the checkpoint's seal does not match it: it was changed outside leadpact"
        elif local is not None and not _sealed(key, local):
            unsealed = (
                f"this machine's checkpoint ({where}) is not sealed with the key (changed by hand, or "
                "written before the key was replaced: then remove it)"
            )
        else:
            marks[checkpoint.entries] = (checkpoint.last_hash, "the checkpoint")
            if local is not None and local.entries != checkpoint.entries:
                marks[local.entries] = (local.last_hash, f"this machine's checkpoint ({where})")

    walked = _walk(key, marks, chunk_size)
    if walked.fault is not None:
        return walked.fault
    if unsealed:
        return AuditVerification(walked.checked, None, unsealed, fault="checkpoint")
    checked = walked.checked
    ends = (
        f"the log ends at entry {walked.last_id} after {_entries(checked)}"
        if walked.last_id
        else "the log is empty"
    )
    if checked < checkpoint.entries:
        missing = checkpoint.entries - checked
        return AuditVerification(
            checked,
            checkpoint.last_id,
            f"{ends}, but the checkpoint sealed {checkpoint.entries}, the newest being entry "
            f"{checkpoint.last_id}: the newest {_entries(missing)} {_were(missing)} removed",
            fault="missing",
        )
    if local is not None and checked < local.entries:
        return AuditVerification(
            checked,
            local.last_id,
            f"{ends}, but this machine sealed {local.entries}, the newest being entry {local.last_id} "
            f"({where}): the newest entries were removed and the checkpoint set back, or the database was "
            f"restored from an older backup (after a restore, remove {where} and verify again)",
            fault="missing",
        )
    return AuditVerification(checked, key_id=key.key_id if key else "")
