"""A lead: its fields, how its handoff measured up against each definition and the data contract, its
event timeline and every SLA clock with its due instant and paused spans."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from leadpact.agreements.models import AgreementVersion
from leadpact.agreements.selectors import agreement_version_at
from leadpact.connectors.records import VOIDED, voided_event_id
from leadpact.leads.models import Lead
from leadpact.leads.selectors import lead_detail
from leadpact.measurement.clocks.facts import lead_clock_facts
from leadpact.measurement.disputes.models import Dispute
from leadpact.web.access import AppRequest, page

__all__ = ["lead_page"]

_FIELDS = (
    "email",
    "phone",
    "company",
    "job_title",
    "industry",
    "company_size",
    "country",
    "source",
    "campaign",
    "trigger",
    "score",
    "recent_touches",
    "consent",
)


def _version_for(detail: Any) -> AgreementVersion | None:
    """The agreement version the lead's clocks run under: the one its last handoff was checked against,
    else the one in force at the handoff, else the active one."""
    if detail.handoff_checks:
        checked: AgreementVersion = detail.handoff_checks[-1].agreement_version
        return checked
    handed = detail.state.handed_over_at if detail.state else None
    versions = AgreementVersion.objects.filter(agreement__organization=detail.lead.organization)
    if handed is not None:
        for version in versions.filter(status__in=("active", "superseded")).select_related("agreement"):
            found = agreement_version_at(agreement=version.agreement, instant=handed)
            if found is not None:
                return found
    return versions.filter(status="active").first()


def _label(name: str) -> Any:
    return getattr(Lead._meta.get_field(name), "verbose_name", name)


@page()
def lead_page(request: AppRequest, pk: int) -> HttpResponse:
    detail = lead_detail(organization=request.access.organization, lead_id=pk)
    if detail is None:
        raise Http404
    now = timezone.now()
    version = _version_for(detail)
    clocks = (
        lead_clock_facts(version=version, leads=[detail.lead], now=now)[detail.lead.pk] if version else []
    )
    voided = {
        t for e in detail.events if e.kind == VOIDED for t in [voided_event_id(e.data)] if t is not None
    }
    lead = detail.lead
    fields = [(_label(name), getattr(lead, name)) for name in _FIELDS]
    context = {
        "detail": detail,
        "lead": lead,
        "fields": fields,
        "extra": sorted((lead.extra or {}).items()),
        "clocks": clocks,
        "voided": voided,
        "disputes": Dispute.objects.filter(lead=lead)
        .select_related("opened_by", "decided_by")
        .order_by("-id"),
        "zone": ZoneInfo(request.access.organization.timezone),
        "version": version,
    }
    return render(request, "leadpact/lead.html", context)
