"""My page, the home after login: my commitments this period with their pace, my open leads with their
clocks (breached and at risk first), and what waits for me. A party lead sees the same for their team."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from leadpact.leads.models import Lead, LeadEvent
from leadpact.measurement.clocks.facts import ClockFacts, lead_clock_facts
from leadpact.measurement.closing.models import Restatement
from leadpact.measurement.disputes.models import Dispute
from leadpact.measurement.scorecard.selectors import measure
from leadpact.organization.models import Person, Team
from leadpact.reviews.selectors import overdue_action_items
from leadpact.web.access import AppRequest, page
from leadpact.web.describe import figure_sentence, meter
from leadpact.web.views._period import shown_version_period
from leadpact.web.views.scorecard import period_label

__all__ = ["my_page"]

_LEADS = 200  # open leads read for the clocks
_SHOWN = 25  # open leads shown
_TODO = 5  # leads shown per kind of thing waiting (the count says how many in all)
_URGENCY = {"breached": 0, "at_risk": 1, "running": 2, "paused": 3}


def _urgent(clocks: list[ClockFacts]) -> ClockFacts | None:
    """The clock to act on first: breached, at risk, running, paused — the earliest due of its kind."""
    live = [c for c in clocks if c.state in _URGENCY and c.stopped_at is None]
    if not live:
        return None
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return min(live, key=lambda c: (_URGENCY[c.state], c.due_at or far))


def _scope(request: AppRequest) -> tuple[Person | None, Team | None]:
    """Whose page this is: the person, and the team they lead (None when they lead none)."""
    person = request.access.person
    team = person.team if person is not None and request.access.leads_team(person.team_id) else None
    return person, team


def _commitments(version: Any, period: Any, person: Person | None, team: Team | None) -> list[dict[str, Any]]:
    """The person's own figures, their team's when they lead it — or, for someone in no team (an admin,
    a viewer), every party's team figures: the organisation as a whole."""
    if person is None:
        results = measure(version=version, period=period, now=timezone.now())
        return [
            {"result": r, "sentence": figure_sentence(r), "meter": meter(r)}
            for r in results
            if r.subject_kind == "team"
        ]
    subject: Team | Person = team if team is not None else person
    results = measure(version=version, period=period, now=timezone.now(), subject=subject)
    wanted = ("team", team.pk) if team is not None else ("person", person.pk)
    return [
        {"result": r, "sentence": figure_sentence(r), "meter": meter(r)}
        for r in results
        if (r.subject_kind, r.subject_id) == wanted
    ]


def _open_leads(request: AppRequest, person: Person | None, team: Team | None) -> Any:
    organization = request.access.organization
    if team is not None:
        owned = Q(sales_owner__team=team) | Q(marketing_owner__team=team)
    elif person is not None:
        owned = Q(sales_owner=person) | Q(marketing_owner=person)
    else:
        owned = Q()  # someone in no team sees the organisation's open leads, the most urgent first
    return (
        Lead.objects.filter(owned, organization=organization, duplicate_of__isnull=True)
        .exclude(state__outcome__in=("won", "lost"))
        .exclude(state__decision="rejected")
        .select_related("state", "sales_owner", "marketing_owner")
    )


@page()
def my_page(request: AppRequest) -> HttpResponse:
    context: dict[str, Any] = {}
    person, team = _scope(request)
    shown = shown_version_period(request, context)
    version = None if isinstance(shown, int) else shown.version
    open_leads = _open_leads(request, person, team)
    rows: list[dict[str, Any]] = []
    if version is not None:
        leads = list(open_leads.order_by("-created_at", "-id")[:_LEADS])
        facts = lead_clock_facts(version=version, leads=leads, now=timezone.now()) if leads else {}
        for lead in leads:
            clock = _urgent(facts.get(lead.pk, []))
            rows.append({"lead": lead, "clock": clock})
        far = dt.datetime.max.replace(tzinfo=dt.UTC)
        rows.sort(
            key=lambda r: (
                _URGENCY.get(r["clock"].state, 9) if r["clock"] else 9,
                (r["clock"].due_at if r["clock"] else None) or far,
            )
        )
    sales_side = Q(sales_owner__team=team) if team is not None else Q(sales_owner=person)
    undecided = (
        open_leads.filter(sales_side, state__handed_over_at__isnull=False, state__decision="")
        if person is not None
        else Lead.objects.none()
    )
    without_code = (
        Lead.objects.filter(
            sales_side,
            organization=request.access.organization,
            state__decision="rejected",
            state__reason_code="",
        )
        if person is not None
        else Lead.objects.none()
    )
    # feedback is due on the leads decided since the previous period began: older ones are history
    since = None if isinstance(shown, int) else shown.period.previous().start
    decided = (
        Lead.objects.filter(sales_side, organization=request.access.organization)
        .filter(state__decided_at__date__gte=since)
        .filter(Q(state__decision__in=("accepted", "rejected")) | Q(state__outcome__in=("won", "lost")))
        .exclude(pk__in=LeadEvent.objects.filter(kind=LeadEvent.Kind.FEEDBACK).values("lead_id"))
        if person is not None and since is not None
        else Lead.objects.none()
    )
    # the organisation's open items: to decide for a party lead, to know of for an admin or a viewer
    can_decide = request.access.allows("dispute.decide") or person is None
    organization = request.access.organization
    context.update(
        person=person,
        team=team,
        period_name="" if isinstance(shown, int) else period_label(shown.period),
        commitments=[] if isinstance(shown, int) else _commitments(shown.version, shown.period, person, team),
        leads=rows[:_SHOWN],
        leads_more=max(0, len(rows) - _SHOWN),
        breached=sum(1 for r in rows if r["clock"] and r["clock"].state == "breached"),
        at_risk=sum(1 for r in rows if r["clock"] and r["clock"].state == "at_risk"),
        undecided=list(undecided.order_by("state__handed_over_at")[:_TODO]),
        undecided_count=undecided.count(),
        without_code=list(without_code.order_by("-id")[:_TODO]),
        without_code_count=without_code.count(),
        feedback_due=list(decided.order_by("state__decided_at")[:_TODO]),
        feedback_count=decided.count(),
        disputes_open=Dispute.objects.filter(lead__organization=organization, status="open").count()
        if can_decide
        else None,
        restatements_pending=Restatement.objects.filter(
            closed_period__agreement_version__agreement__organization=organization, status="pending"
        ).count()
        if request.access.allows("restatement.decide") or person is None
        else None,
        overdue_actions=list(overdue_action_items(person)[:_TODO]) if person is not None else [],
    )
    return render(request, "leadpact/my_page.html", context)
