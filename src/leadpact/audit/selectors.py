"""Reads of the audit log: the trail per agreement and the verification of the whole chain."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias

from django.db.models import QuerySet

from leadpact.audit._local import LocalCheckpoint, local_checkpoint, local_checkpoint_path
from leadpact.audit.models import GENESIS_HASH, AuditCheckpoint, AuditEntry
from leadpact.audit.seal import AuditKey, audit_checkpoint_seal, audit_entry_seal, audit_key
from leadpact.audit.services import audit_entry_hash
from leadpact.errors import ApplicationError

if TYPE_CHECKING:
    from leadpact.agreements.models import Agreement
    from leadpact.organization.models import Organization

__all__ = ["AuditVerification", "Fault", "audit_chain_verify", "audit_trail"]

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


def audit_chain_verify(*, chunk_size: int = 2000) -> AuditVerification:
    """Walk the chain oldest first and hold it against the sealed checkpoints; stop at the first fault.

    Each entry must link to the one before, match its hash and carry a valid seal under the audit key;
    the checkpoint in the database and this machine's copy of it (:mod:`leadpact.audit._local`) must be
    sealed too, and the log must reach as far as either says, through the very entry it names.  The
    checkpoints are read before the entries, so entries written meanwhile only lengthen the log.
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
    # A checkpoint that is not sealed is reported after the entries: a rewritten entry is the more
    # precise finding, and a forger who rewrote entries usually set the checkpoint to match.
    fault = (
        ""
        if _sealed(key, checkpoint)
        else "the checkpoint's seal does not match it: it was changed outside leadpact"
    )
    local = local_checkpoint(checkpoint.chain)
    where = local_checkpoint_path()
    if not fault and local is not None and not _sealed(key, local):
        fault = f"this machine's checkpoint ({where}) is not sealed with the key"
    marks: dict[int, tuple[str, str]] = {}
    if not fault:
        marks[checkpoint.entries] = (checkpoint.last_hash, "the checkpoint")
        if local is not None and local.entries != checkpoint.entries:
            marks[local.entries] = (local.last_hash, f"this machine's checkpoint ({where})")

    expected_prev = GENESIS_HASH
    checked = 0
    last_id: int | None = None
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=chunk_size):
        name = f"audit entry {entry.pk} ({entry.action})"
        if entry.prev_hash != expected_prev:
            return AuditVerification(
                checked,
                entry.pk,
                f"{name}: prev_hash does not match the hash of the entry before it (an entry was removed, "
                "inserted or re-chained)",
                fault="entry",
            )
        if audit_entry_hash(entry) != entry.hash:
            return AuditVerification(
                checked,
                entry.pk,
                f"{name}: its content does not match its hash (the entry was changed after it was written)",
                fault="entry",
            )
        if not hmac.compare_digest(audit_entry_seal(key, entry.hash), entry.seal):
            return AuditVerification(
                checked,
                entry.pk,
                f"{name}: its seal does not match its hash (the log was rewritten and re-chained from here "
                "without the audit key)",
                fault="entry",
            )
        checked += 1
        mark = marks.get(checked)
        if mark is not None and mark[0] != entry.hash:
            return AuditVerification(
                checked - 1,
                entry.pk,
                f"{name} is not the entry {mark[1]} sealed as number {checked} (the log was rewritten, "
                "or its checkpoint deleted and begun again)",
                fault="entry",
            )
        expected_prev = entry.hash
        last_id = entry.pk

    if fault:
        return AuditVerification(checked, None, fault, fault="checkpoint")
    ends = f"the log ends at entry {last_id} after {_entries(checked)}" if last_id else "the log is empty"
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
    return AuditVerification(checked, key_id=key.key_id)
