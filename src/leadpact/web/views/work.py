"""A party lead's decisions: the disputes queue (uphold / reject with a note), pending restatements with
their differences (accept / decline), and closing a period from the scorecard after seeing what will be
frozen. Everyone sees the queues (transparency); only a party lead decides."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from leadpact.agreements.models import Commitment
from leadpact.errors import ApplicationError
from leadpact.measurement.closing.models import ClosedPeriod, Restatement
from leadpact.measurement.closing.services import period_close, restatement_accept, restatement_decline
from leadpact.measurement.disputes.models import Dispute
from leadpact.measurement.disputes.selectors import handoff_checks_of
from leadpact.measurement.disputes.services import dispute_decide
from leadpact.measurement.scorecard.compute import measure_fresh
from leadpact.organization.models import Person, Team
from leadpact.web.access import AppRequest, page
from leadpact.web.formats import fmt_number
from leadpact.web.views._period import shown_version_period
from leadpact.web.views.scorecard import period_label
from leadpact.web.work_forms import CloseForm, DecideForm, RestatementForm, decide_form

__all__ = ["dispute_decide_view", "disputes", "period_close_view", "restatement_decide", "restatements"]

_RECENT = 50


def _next(request: AppRequest, fallback: str) -> str:
    wanted = request.POST.get("next") or ""
    if wanted.startswith("/") and url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}):
        return wanted
    return fallback


def _person(request: AppRequest) -> Person:
    if request.access.person is None:
        raise PermissionDenied
    return request.access.person


@page()
def disputes(request: AppRequest) -> HttpResponse:
    """Open disputes first (oldest first), then the latest decided, each with the rule check at handoff."""
    organization = request.access.organization
    rows = (
        Dispute.objects.filter(lead__organization=organization)
        .select_related(
            "lead", "opened_by", "decided_by", "agreement_version__agreement", "definition_version"
        )
        .annotate(
            open_first=Case(When(status="open", then=Value(0)), default=Value(1), output_field=IntegerField())
        )
        .order_by("open_first", "opened_at", "id")
    )
    shown = list(rows[: _RECENT * 4])
    checks = handoff_checks_of(shown)  # one query for every dispute's check, not one each
    items: list[dict[str, Any]] = [
        {"dispute": d, "check": checks[d.pk], "form": decide_form(d.pk)} for d in shown
    ]
    return render(
        request,
        "leadpact/disputes.html",
        {
            "open": [i for i in items if i["dispute"].status == Dispute.Status.OPEN],
            "decided": [i for i in items if i["dispute"].status != Dispute.Status.OPEN][:_RECENT],
            "can_decide": request.access.allows("dispute.decide") and request.access.person is not None,
        },
    )


@page("dispute.decide")
@require_POST
def dispute_decide_view(request: AppRequest, pk: int) -> HttpResponse:
    dispute = (
        Dispute.objects.filter(pk=pk, lead__organization=request.access.organization)
        .select_related("lead")
        .first()
    )
    if dispute is None:
        raise Http404
    person = _person(request)
    form = DecideForm(request.POST, prefix="decide")
    back = _next(request, reverse("disputes"))
    if not form.is_valid():
        messages.error(request, _("Choose uphold or reject."))
        return redirect(back)
    try:
        dispute_decide(
            dispute=dispute,
            decided_by=person,
            status=form.cleaned_data["decision"],
            note=form.cleaned_data["note"],
            now=timezone.now(),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(back)
    if form.cleaned_data["decision"] == "upheld":
        messages.success(request, _("Dispute upheld: the lead leaves marketing's count."))
    else:
        messages.success(request, _("Dispute rejected: the lead keeps counting."))
    return redirect(back)


def _shown(value: Any) -> Any:
    """A stored figure as people read it: a decimal number rounded to one place, the rest as it is."""
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            return value
        return fmt_number(number, 0 if number == number.to_integral_value() else 1)
    return "—" if value is None else value


def _difference_rows(restatement: Restatement) -> list[dict[str, Any]]:
    version = restatement.closed_period.agreement_version
    titles = dict(Commitment.objects.filter(version=version).values_list("key", "title"))
    teams = dict(Team.objects.filter(organization=version.agreement.organization).values_list("pk", "name"))
    people = dict(
        Person.objects.filter(team__organization=version.agreement.organization).values_list("pk", "name")
    )
    rows = []
    for d in restatement.differences:
        kind, _sep, ident = str(d["subject"]).partition(":")
        name = (
            teams.get(int(ident))
            if kind in ("team", "outside") and ident.isdigit()
            else (people.get(int(ident)) if kind == "person" and ident.isdigit() else None)
        )
        stored, recomputed = d["stored"], d["recomputed"]
        if d["field"] == "evidence":
            stored, recomputed = len(stored or []), len(recomputed or [])
        rows.append(
            {
                "commitment": titles.get(d["commitment"]) or d["commitment"],
                "subject": name or d["subject"],
                "outside": kind == "outside",
                "field": d["field"],
                "stored": _shown(stored),
                "recomputed": _shown(recomputed),
            }
        )
    return rows


@page()
def restatements(request: AppRequest) -> HttpResponse:
    """Pending restatements with every difference, then the latest decided ones."""
    rows = (
        Restatement.objects.filter(
            closed_period__agreement_version__agreement__organization=request.access.organization
        )
        .select_related("closed_period__agreement_version__agreement", "accepted_by")
        .order_by("-created_at", "-id")
    )
    pending = [
        {"restatement": r, "rows": _difference_rows(r), "period": period_label(r.closed_period.period)}
        for r in rows.filter(status=Restatement.Status.PENDING)
    ]
    decided = [
        {"restatement": r, "period": period_label(r.closed_period.period)}
        for r in rows.exclude(status=Restatement.Status.PENDING)[:_RECENT]
    ]
    return render(
        request,
        "leadpact/restatements.html",
        {
            "pending": pending,
            "decided": decided,
            "can_decide": request.access.allows("restatement.decide") and request.access.person is not None,
            "form": RestatementForm(prefix="restatement"),
        },
    )


@page("restatement.decide")
@require_POST
def restatement_decide(request: AppRequest, pk: int) -> HttpResponse:
    restatement = Restatement.objects.filter(
        pk=pk, closed_period__agreement_version__agreement__organization=request.access.organization
    ).first()
    if restatement is None:
        raise Http404
    person = _person(request)
    form = RestatementForm(request.POST, prefix="restatement")
    back = _next(request, reverse("restatements"))
    if not form.is_valid():
        messages.error(request, _("Choose accept or decline."))
        return redirect(back)
    now = timezone.now()
    try:
        if form.cleaned_data["decision"] == "accept":
            restatement_accept(restatement=restatement, person=person, now=now)
            messages.success(request, _("Restatement accepted: the closed period now shows the new figures."))
        else:
            restatement_decline(
                restatement=restatement, person=person, note=form.cleaned_data["note"], now=now
            )
            messages.success(request, _("Restatement declined: the closed period keeps its figures."))
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect(back)


@page("period.close")
@require_http_methods(["GET", "POST"])
def period_close_view(request: AppRequest) -> HttpResponse:
    """What closing the period freezes (every team figure, how many figures in all, the leads behind
    them), then a confirmation; a POST with the box ticked closes it."""
    context: dict[str, Any] = {}
    shown = shown_version_period(request, context)
    if isinstance(shown, int):
        return render(request, "leadpact/period_close.html", context, status=shown)
    version, period = shown.version, shown.period
    person = _person(request)
    if not request.access.allows("period.close") or not version.parties.filter(pk=person.team_id).exists():
        raise PermissionDenied
    now = timezone.now()
    closed = ClosedPeriod.objects.filter(agreement_version=version, period=str(period)).first()
    scorecard = f"{reverse('measure')}?period={period}&agreement={version.agreement.key}"
    form = CloseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and closed is None and form.is_valid():
        try:
            period_close(version=version, period=period, actor=person, now=now)
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, _("%(period)s is closed: its figures are frozen.") % {"period": period_label(period)}
            )
            return redirect(scorecard)
    results = (
        [] if closed is not None else measure_fresh(version=version, periods=[period], now=now)[str(period)]
    )
    leads = {i for r in results for ids in r.evidence.values() for i in ids}
    context.update(
        period_name=period_label(period),
        closed=closed,
        scorecard=scorecard,
        form=form,
        teams=[r for r in results if r.subject_kind == "team"],
        figures=len(results),
        people=len({r.subject_id for r in results if r.subject_kind == "person"}),
        leads=len(leads),
        running=timezone.localdate(now, ZoneInfo(request.access.organization.timezone)) < period.end,
    )
    return render(request, "leadpact/period_close.html", context, status=400 if form.errors else 200)
