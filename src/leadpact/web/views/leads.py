"""A lead: its fields, how its handoff measured up against each definition and the data contract, its
event timeline and every SLA clock with its due instant and paused spans."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from leadpact.agreements.models import AgreementVersion, Commitment
from leadpact.agreements.selectors import agreement_version_at
from leadpact.agreements.services import agreement_version_document
from leadpact.audit.services import actor_from_request
from leadpact.connectors.records import VOIDED, voided_event_id
from leadpact.core.agreement import ReasonCode
from leadpact.errors import ApplicationError
from leadpact.leads.actions import lead_accept, lead_attempt, lead_duplicate_set, lead_feedback, lead_reject
from leadpact.leads.models import Lead
from leadpact.leads.selectors import lead_detail
from leadpact.measurement.clocks.facts import lead_clock_facts
from leadpact.measurement.disputes.models import Dispute
from leadpact.measurement.disputes.services import dispute_open
from leadpact.web.access import AppRequest, page, require
from leadpact.web.work_forms import (
    AttemptForm,
    DisputeForm,
    DuplicateForm,
    FeedbackForm,
    RejectForm,
    decide_form,
)

__all__ = ["lead_act", "lead_page"]

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


EVENT_LABELS = {
    "created": gettext_lazy("Created"),
    "handed_over": gettext_lazy("Handed over"),
    "assigned": gettext_lazy("Assigned"),
    "contact_attempt": gettext_lazy("Contact attempt"),
    "accepted": gettext_lazy("Accepted"),
    "rejected": gettext_lazy("Rejected"),
    "qualified": gettext_lazy("Qualified"),
    "opportunity": gettext_lazy("Opportunity"),
    "won": gettext_lazy("Won"),
    "lost": gettext_lazy("Lost"),
    "recycled": gettext_lazy("Recycled"),
    "feedback": gettext_lazy("Feedback"),
    "field_changed": gettext_lazy("Field changed"),
    "resumed": gettext_lazy("Resumed"),
    "voided": gettext_lazy("Voided"),
}


def _label(name: str) -> Any:
    return getattr(Lead._meta.get_field(name), "verbose_name", name)


def _reason_codes(version: AgreementVersion | None) -> tuple[ReasonCode, ...]:
    return agreement_version_document(version).reason_codes if version is not None else ()


def _dispute_commitments(detail: Any) -> list[tuple[str, str]]:
    """The commitments a dispute may name: those of the checked version that count leads meeting a
    definition (the volume commitment first)."""
    if not detail.handoff_checks:
        return []
    version = detail.handoff_checks[-1].agreement_version
    rows = Commitment.objects.filter(version=version, covers__isnull=False).order_by("pk")
    ordered = sorted(rows, key=lambda c: (c.kind != Commitment.Kind.VOLUME, c.pk))
    return [(c.key, c.title or c.key) for c in ordered]


def _forms(request: AppRequest, detail: Any, version: AgreementVersion | None) -> dict[str, Any]:
    return {
        "attempt": AttemptForm(prefix="attempt"),
        "reject": RejectForm(prefix="reject", reason_codes=_reason_codes(version)),
        "feedback": FeedbackForm(prefix="feedback"),
        "dispute": DisputeForm(prefix="dispute", commitments=_dispute_commitments(detail)),
        "duplicate": DuplicateForm(prefix="duplicate", initial={"original": detail.lead.duplicate_of_id}),
    }


@page()
def lead_page(request: AppRequest, pk: int) -> HttpResponse:
    return _lead_render(request, pk)


def _lead_render(
    request: AppRequest, pk: int, *, bound: tuple[str, Any] | None = None, status: int = 200
) -> HttpResponse:
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
    disputes = list(
        Dispute.objects.filter(lead=lead).select_related("opened_by", "decided_by").order_by("-id")
    )
    context = {
        "detail": detail,
        "lead": lead,
        "fields": fields,
        "extra": sorted((lead.extra or {}).items()),
        "clocks": clocks,
        "voided": voided,
        "disputes": disputes,
        "zone": ZoneInfo(request.access.organization.timezone),
        "version": version,
        "can_work": request.access.allows("lead.work", lead=lead),
        "can_dispute": request.access.allows("dispute.open", lead=lead) and request.access.person is not None,
        "can_decide": request.access.allows("dispute.decide") and request.access.person is not None,
    }
    forms = _forms(request, detail, version)
    if bound is not None:
        forms[bound[0]] = bound[1]
    context["forms"] = forms
    context["timeline"] = [(e, EVENT_LABELS.get(e.kind, e.kind.replace("_", " "))) for e in detail.events]
    context["dispute_rows"] = [(d, decide_form(d.pk)) for d in disputes]
    context["open_form"] = bound[0] if bound is not None else ""
    return render(request, "leadpact/lead.html", context, status=status)


_ACTIONS = ("attempt", "accept", "reject", "feedback", "dispute", "duplicate")


@page()
@require_POST
def lead_act(request: AppRequest, pk: int, action: str) -> HttpResponse:
    """One action on a lead (a POST of the lead page's forms): an event through the API's path, audited.

    Refused with 403 when the user may not work the lead (``lead.work``; ``dispute.open`` for a dispute);
    bad input shows the lead page again with the message on the field (400).
    """
    if action not in _ACTIONS:
        raise Http404
    lead = (
        Lead.objects.filter(organization=request.access.organization, pk=pk)
        .select_related("marketing_owner", "sales_owner", "organization")
        .first()
    )
    if lead is None:
        raise Http404
    access = require(request, "dispute.open" if action == "dispute" else "lead.work", lead=lead)
    actor = actor_from_request(request)
    by = access.person
    detail = lead_detail(organization=request.access.organization, lead_id=pk)
    assert detail is not None
    version = _version_for(detail)
    form: Any = None
    try:
        if action == "accept":
            lead_accept(lead=lead, actor=actor, by=by)
            messages.success(request, _("Accepted: the lead is yours to work within the SLA."))
        elif action == "attempt":
            form = AttemptForm(request.POST, prefix="attempt")
            if form.is_valid():
                lead_attempt(
                    lead=lead,
                    actor=actor,
                    by=by,
                    channel=form.cleaned_data["channel"],
                    note=form.cleaned_data["note"],
                )
                messages.success(request, _("Contact attempt recorded."))
        elif action == "reject":
            form = RejectForm(request.POST, prefix="reject", reason_codes=_reason_codes(version))
            if form.is_valid():
                lead_reject(
                    lead=lead,
                    actor=actor,
                    by=by,
                    reason_code=form.cleaned_data["reason_code"],
                    reason=form.cleaned_data["reason"],
                    reason_codes=_reason_codes(version),
                )
                messages.success(request, _("Rejected, with the reason code."))
        elif action == "feedback":
            form = FeedbackForm(request.POST, prefix="feedback")
            if form.is_valid():
                lead_feedback(lead=lead, actor=actor, by=by, text=form.cleaned_data["text"])
                messages.success(request, _("Feedback recorded."))
        elif action == "duplicate":
            form = DuplicateForm(request.POST, prefix="duplicate")
            if form.is_valid():
                lead_duplicate_set(lead=lead, original_id=form.cleaned_data["original"], actor=actor)
                messages.success(
                    request,
                    _("Marked as a duplicate.")
                    if form.cleaned_data["original"]
                    else _("Duplicate mark cleared."),
                )
        else:  # dispute
            form = DisputeForm(request.POST, prefix="dispute", commitments=_dispute_commitments(detail))
            if form.is_valid():
                if by is None:
                    raise PermissionDenied
                dispute_open(
                    lead=lead,
                    commitment_key=form.cleaned_data["commitment"],
                    opened_by=by,
                    reason=form.cleaned_data["reason"],
                    now=timezone.now(),
                )
                messages.success(request, _("Dispute opened: a team lead of a party decides."))
    except ApplicationError as error:
        if form is None:
            messages.error(request, error.message)
            return redirect("lead", pk=pk)
        form.add_error(None, error.message)
    if form is not None and form.errors:
        return _lead_render(request, pk, bound=(action, form), status=400)
    return redirect(reverse("lead", args=[pk]) + "#actions")
