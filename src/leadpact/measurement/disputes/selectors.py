"""Reads of disputes: one dispute with the rule check made at handoff, and the open ones of an agreement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from leadpact.agreements.models import AgreementVersion
from leadpact.leads.models import HandoffCheck, Lead
from leadpact.measurement.disputes.models import Dispute

__all__ = ["DisputeDetail", "dispute_detail", "disputes_open", "handoff_check", "handoff_checks_of"]


@dataclass(frozen=True, slots=True)
class DisputeDetail:
    """A dispute with the rule check made at the lead's handoff (``None``: not checked)."""

    dispute: Dispute
    check: HandoffCheck | None


def handoff_check(lead: Lead, version: AgreementVersion | None = None) -> HandoffCheck | None:
    """The rule check of the lead's latest handoff (under ``version`` when given); ``None``: not checked."""
    checks = HandoffCheck.objects.filter(lead=lead).select_related("definition_version", "agreement_version")
    if version is not None:
        checks = checks.filter(agreement_version=version)
    return checks.order_by("-event__occurred_at", "-event_id").first()


def handoff_checks_of(disputes: Sequence[Dispute]) -> dict[int, HandoffCheck | None]:
    """:func:`handoff_check` of each dispute's lead under the dispute's version, by dispute id: one query
    for them all (the disputes page lists up to forty)."""
    latest: dict[tuple[int, int | None], HandoffCheck] = {}
    checks = (
        HandoffCheck.objects.filter(lead_id__in={d.lead_id for d in disputes})
        .select_related("definition_version", "agreement_version")
        .order_by("-event__occurred_at", "-event_id")
    )
    for check in checks:  # the latest first: under its version, and under none (any version)
        latest.setdefault((check.lead_id, check.agreement_version_id), check)
        latest.setdefault((check.lead_id, None), check)
    return {d.pk: latest.get((d.lead_id, d.agreement_version_id)) for d in disputes}


def dispute_detail(dispute: Dispute) -> DisputeDetail:
    """The dispute and the rule check at handoff (met, failed clauses, missing fields, definition version)."""
    return DisputeDetail(dispute, handoff_check(dispute.lead, dispute.agreement_version))


def disputes_open(*, version: AgreementVersion) -> list[Dispute]:
    """Open disputes of a version's agreement, oldest first."""
    return list(
        Dispute.objects.filter(agreement_version__agreement=version.agreement, status=Dispute.Status.OPEN)
        .select_related("lead", "opened_by")
        .order_by("opened_at", "id")
    )
