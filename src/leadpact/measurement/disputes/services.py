"""Writes of disputes: sales contests that a lead met the definition; a lead of either party decides.

An upheld dispute takes the lead out of marketing's volume count (evidence ``excluded_disputed``).
Opening and deciding are audited; the rule check at handoff is shown beside the dispute.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.db import IntegrityError, transaction

from leadpact.agreements.models import AgreementVersion, Commitment
from leadpact.audit.services import audit_record, text_digest
from leadpact.errors import ApplicationError
from leadpact.leads.models import Lead
from leadpact.measurement.disputes.models import Dispute
from leadpact.measurement.disputes.selectors import handoff_check
from leadpact.organization.models import Person, Team

__all__ = ["dispute_decide", "dispute_open"]


def _actor(person: Person) -> object:
    return person.user or f"person:{person.pk}"


@transaction.atomic
def dispute_open(
    *,
    lead: Lead,
    commitment_key: str,
    opened_by: Person,
    reason: str,
    now: dt.datetime,
    version: AgreementVersion | None = None,
) -> Dispute:
    """Sales contests that ``lead`` met the definition of commitment ``commitment_key``."""
    check = handoff_check(lead, version)
    if version is None:
        if check is None:
            raise ApplicationError(
                "dispute.not_checked",
                f"lead {lead.pk}: not checked at a handoff, there is nothing to dispute",
            )
        version = check.agreement_version
    commitment = (
        Commitment.objects.filter(version=version, key=commitment_key).select_related("covers").first()
    )
    if commitment is None:
        raise ApplicationError(
            "dispute.commitment",
            f"dispute on lead {lead.pk}: version {version.number} has no commitment {commitment_key!r}",
        )
    if (
        opened_by.team.kind == Team.Kind.MARKETING
        or not version.parties.filter(pk=opened_by.team_id).exists()
    ):
        raise ApplicationError(
            "dispute.opened_by",
            f"dispute on lead {lead.pk}: {opened_by.name} is not in a sales party of the agreement",
        )
    if not reason.strip():
        raise ApplicationError("dispute.reason", f"dispute on lead {lead.pk}: the reason is empty")
    definition = check.definition_version if check is not None else commitment.covers
    try:
        with transaction.atomic():
            dispute = Dispute.objects.create(
                lead=lead,
                agreement_version=version,
                commitment_key=commitment_key,
                definition_version=definition,
                opened_by=opened_by,
                opened_at=now,
                reason=reason.strip(),
            )
    except IntegrityError as error:
        raise ApplicationError(
            "dispute.open", f"lead {lead.pk} has an open dispute on {commitment_key} already"
        ) from error
    audit_record(
        actor=_actor(opened_by),  # type: ignore[arg-type]
        action="dispute.open",
        obj=dispute,
        at=now,
        after={"lead": lead.pk, "commitment": commitment_key, "reason": text_digest(dispute.reason)},
        organization=version.agreement.organization,
        agreement=version.agreement,
    )
    return dispute


@transaction.atomic
def dispute_decide(
    *,
    dispute: Dispute,
    decided_by: Person,
    status: Literal["upheld", "rejected"],
    note: str = "",
    now: dt.datetime,
) -> Dispute:
    """A lead of either party upholds or rejects an open dispute; upheld leads leave the volume count."""
    dispute = (
        Dispute.objects.select_for_update()
        .select_related("agreement_version__agreement__organization")
        .get(pk=dispute.pk)
    )
    version = dispute.agreement_version
    if status not in (Dispute.Status.UPHELD, Dispute.Status.REJECTED):
        raise ApplicationError(
            "dispute.status", f"dispute {dispute.pk}: decide upheld or rejected, not {status!r}"
        )
    if dispute.status != Dispute.Status.OPEN:
        raise ApplicationError("dispute.decided", f"dispute {dispute.pk} is {dispute.status} already")
    if not (decided_by.is_lead and version.parties.filter(pk=decided_by.team_id).exists()):
        raise ApplicationError(
            "dispute.decided_by",
            f"dispute {dispute.pk}: only a team lead of a party may decide, not {decided_by.name}",
        )
    dispute.status = status
    dispute.decided_by = decided_by
    dispute.decided_at = now
    dispute.note = note.strip()
    dispute.save(update_fields=["status", "decided_by", "decided_at", "note"])
    audit_record(
        actor=_actor(decided_by),  # type: ignore[arg-type]
        action="dispute.decide",
        obj=dispute,
        at=now,
        before={"status": "open"},
        after={"status": status, "note": text_digest(dispute.note)},
        organization=version.agreement.organization,
        agreement=version.agreement,
    )
    return dispute
