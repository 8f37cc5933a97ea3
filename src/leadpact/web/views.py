"""Page views: thin — they read through selectors and render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from leadpact.agreements.models import Agreement
from leadpact.core.periods import Period, PeriodError
from leadpact.measurement.selectors import commitment_targets, today_in
from leadpact.measurement.versions import VersionNotFound, version_for_period


@login_required
def home(request: HttpRequest) -> HttpResponse:
    agreements = (
        Agreement.objects.select_related("organization")
        .prefetch_related("versions__signatures__signed_by", "versions__parties")
        .order_by("organization__name", "key")
    )
    return render(request, "leadpact/home.html", {"agreements": agreements})


@login_required
def targets(request: HttpRequest) -> HttpResponse:
    lang = "nl" if (get_language() or "en").startswith("nl") else "en"
    wanted = request.GET.get("period") or None
    context: dict[str, object] = {"period_text": wanted or ""}
    try:
        version = version_for_period(
            organization=request.GET.get("organization") or None,
            agreement=request.GET.get("agreement") or None,
            period=wanted,
        )
    except VersionNotFound as error:
        context["error"] = str(error)
        return render(request, "leadpact/targets.html", context, status=200)
    try:
        period = Period.parse(wanted) if wanted else Period.containing("month", today_in(version))
    except PeriodError as error:
        context["error"] = _("Period: %(reason)s") % {"reason": error}
        return render(request, "leadpact/targets.html", context, status=400)
    rows = commitment_targets(version=version, period=period)
    context.update(
        version=version,
        period=period,
        period_text=str(period),
        previous=period.previous(),
        next=period.next(),
        rows=[
            {
                "target": row,
                "explanation": row.explanation.render(lang),  # type: ignore[arg-type]
                "people": [(p, p.explanation.render(lang)) for p in row.people],  # type: ignore[arg-type]
            }
            for row in rows
        ],
    )
    return render(request, "leadpact/targets.html", context)
