"""Pages of measurement: the scorecard, the leads behind each number, the accountability map."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from leadpact.agreements.models import AgreementVersion
from leadpact.core.periods import Period
from leadpact.measurement.accountability.selectors import accountability_map, accountability_people
from leadpact.measurement.scorecard.results import MeasureResult
from leadpact.organization.models import Person
from leadpact.web.access import AppRequest, page
from leadpact.web.views._period import shown_version_period

__all__ = ["accountability", "accountability_person"]


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
