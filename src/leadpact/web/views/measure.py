"""Pages of measurement: the scorecard, the leads behind each number, the accountability map."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from leadpact.agreements.models import AgreementVersion
from leadpact.core.periods import Period
from leadpact.errors import ApplicationError
from leadpact.measurement.accountability.selectors import accountability_map, accountability_people
from leadpact.measurement.closing.selectors import closed_view
from leadpact.measurement.closing.services import restatement_record
from leadpact.measurement.scorecard.results import MeasureResult
from leadpact.measurement.scorecard.selectors import measure_evidence, measure_periods
from leadpact.organization.models import Person
from leadpact.web.access import AppRequest, page, require
from leadpact.web.views._period import shown_version_period

__all__ = ["accountability", "accountability_person", "measure_evidence_page", "measure_page"]


def _version_period(request: AppRequest, context: dict[str, Any]) -> tuple[AgreementVersion, Period] | int:
    shown = shown_version_period(request, context)
    return shown if isinstance(shown, int) else (shown.version, shown.period)


def _cards(results: list[MeasureResult]) -> list[dict[str, Any]]:
    cards: dict[str, dict[str, Any]] = {}
    for r in results:
        card = cards.setdefault(
            r.commitment_key, {"key": r.commitment_key, "title": r.title, "team": None, "people": []}
        )
        if r.subject_kind == "team":
            card["team"] = r
        else:
            card["people"].append(r)
    return list(cards.values())


_DIFFERENCES_SHOWN = 50


def _difference_rows(differences: list[dict[str, Any]], results: list[MeasureResult]) -> list[dict[str, Any]]:
    """The differences as table rows: subject names, and lead counts instead of lead id lists."""
    names = {r.subject: r.subject_name for r in results}
    titles = {r.commitment_key: r.title for r in results}
    rows = []
    for d in differences[:_DIFFERENCES_SHOWN]:
        stored, recomputed = d["stored"], d["recomputed"]
        if d["field"] == "evidence":
            stored, recomputed = len(stored or []), len(recomputed or [])
        rows.append(
            {
                "commitment": titles.get(d["commitment"], d["commitment"]),
                "subject": names.get(d["subject"], d["subject"]),
                "field": d["field"],
                "stored": "—" if stored is None else stored,
                "recomputed": "—" if recomputed is None else recomputed,
            }
        )
    return rows


@page()
@require_http_methods(["GET", "POST"])
def measure_page(request: AppRequest) -> HttpResponse:
    """The scorecard of a period: per commitment the team row and each person's row.

    A closed period shows its stored figures and, computed on the fly, how a recomputation differs;
    a GET never writes. A POST (the page's button) records the difference as a pending restatement.
    """
    context: dict[str, Any] = {}
    found = _version_period(request, context)
    if isinstance(found, int):
        return render(request, "leadpact/measure.html", context, status=found)
    version, period = found
    now = timezone.now()
    try:
        if request.method == "POST":
            require(request, "restatement.decide")
            restatement_record(version=version, period=period, now=now)
            return redirect(request.get_full_path())
        fresh = measure_periods(version=version, periods=[period], now=now, closed="recompute")[str(period)]
    except ApplicationError as error:
        context["error"] = error.message
        return render(request, "leadpact/measure.html", context, status=400)
    shown = closed_view(version=version, period=period, fresh=fresh)
    context["cards"] = _cards(shown.results)
    context["closed"] = shown.closed
    context["restatement"] = None if shown.restatement is None else shown.restatement.pk
    context["differences"] = _difference_rows(shown.differences, shown.results)
    context["can_restate"] = request.access.allows("restatement.decide")
    context["differences_more"] = max(0, len(shown.differences) - _DIFFERENCES_SHOWN)
    return render(request, "leadpact/measure.html", context)


@page()
def measure_evidence_page(request: AppRequest) -> HttpResponse:
    """The leads behind one number, by bucket (counted, excluded and why)."""
    context: dict[str, Any] = {}
    found = _version_period(request, context)
    if isinstance(found, int):
        return render(request, "leadpact/measure_evidence.html", context, status=found)
    version, period = found
    commitment = (request.GET.get("commitment") or "").strip()
    subject = (request.GET.get("subject") or "").strip()
    shown = measure_evidence(
        version=version, period=period, commitment_key=commitment, subject=subject, now=timezone.now()
    )
    if shown is None:
        context["error"] = _("No figure for commitment %(commitment)s and %(subject)s in %(period)s.") % {
            "commitment": commitment or "—",
            "subject": subject or "—",
            "period": period,
        }
        return render(request, "leadpact/measure_evidence.html", context, status=404)
    context["result"], context["buckets"] = shown
    return render(request, "leadpact/measure_evidence.html", context)


@page()
def accountability(request: AppRequest) -> HttpResponse:
    """Everyone in the agreement's parties, each linking to their map."""
    context: dict[str, Any] = {}
    found = _version_period(request, context)
    if isinstance(found, int):
        return render(request, "leadpact/accountability.html", context, status=found)
    version, _period = found
    context["people"] = accountability_people(version=version)
    return render(request, "leadpact/accountability.html", context)


@page()
def accountability_person(request: AppRequest, pk: int) -> HttpResponse:
    """One person's map: what they own, what they depend on, who feeds whom."""
    context: dict[str, Any] = {}
    found = _version_period(request, context)
    if isinstance(found, int):
        return render(request, "leadpact/accountability_person.html", context, status=found)
    version, period = found
    person = Person.objects.filter(pk=pk, team__in=version.parties.all()).select_related("team").first()
    if person is None:
        context["error"] = _("No person %(pk)s in this agreement's teams.") % {"pk": pk}
        return render(request, "leadpact/accountability_person.html", context, status=404)
    context["map"] = accountability_map(person=person, version=version, period=period)
    return render(request, "leadpact/accountability_person.html", context)
