"""Reads of the audit log: the trail per agreement and the verification of the whole chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from leadpact.audit.models import GENESIS_HASH, AuditEntry
from leadpact.audit.services import audit_entry_hash

if TYPE_CHECKING:
    from leadpact.agreements.models import Agreement
    from leadpact.organization.models import Organization

__all__ = ["AuditVerification", "audit_chain_verify", "audit_trail"]


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
    """The outcome of walking the chain: how many entries were checked, and the first broken link."""

    checked: int
    broken_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def audit_chain_verify(*, chunk_size: int = 2000) -> AuditVerification:
    """Walk the chain oldest first; stop at the first entry whose hash or link does not hold."""
    expected_prev = GENESIS_HASH
    checked = 0
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=chunk_size):
        if entry.prev_hash != expected_prev:
            return AuditVerification(
                checked,
                entry.pk,
                f"audit entry {entry.pk} ({entry.action}): prev_hash does not match the hash of the entry "
                "before it (an entry was removed, inserted or re-chained)",
            )
        if audit_entry_hash(entry) != entry.hash:
            return AuditVerification(
                checked,
                entry.pk,
                f"audit entry {entry.pk} ({entry.action}): its content does not match its hash "
                "(the entry was changed after it was written)",
            )
        expected_prev = entry.hash
        checked += 1
    return AuditVerification(checked)
