"""The scorecard: an overview of every commitment as a tile, one commitment with its charts and rows,
and the leads behind each figure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from leadpact.core.periods import Period
from leadpact.errors import ApplicationError
from leadpact.measurement.closing.selectors import closed_view
from leadpact.measurement.closing.services import restatement_record
from leadpact.measurement.scorecard.results import MeasureResult
from leadpact.measurement.scorecard.selectors import measure_pacing, measure_periods, measure_trend
from leadpact.organization.models import Team
from leadpact.web import charts
from leadpact.web.access import AppRequest, page, require
from leadpact.web.describe import GOOD, OFF_TRACK, figure_sentence, meter, previous_sentence
from leadpact.web.formats import fmt_value
from leadpact.web.views._period import shown_version_period

__all__ = ["measure_commitment", "measure_page", "period_label"]


def period_label(period: Period | str) -> str:
    """A period as people say it: "October 2026", "Q4 2026", "week 41 of 2026"."""
    p = period if isinstance(period, Period) else Period.parse(period)
    if p.kind == "month":
        return date_format(p.start, "F Y")
    if p.kind == "quarter":
        return _("Q%(q)s %(year)s") % {"q": (p.start.month - 1) // 3 + 1, "year": p.start.year}
    if p.kind == "week":
        iso = p.start.isocalendar()
        return _("week %(week)s of %(year)s") % {"week": iso.week, "year": iso.year}
    return date_format(p.start, "j F Y")


@dataclass(frozen=True, slots=True)
class Tile:
    result: MeasureResult
    sentence: str
    previous: str
    meter: Any


def _tiles(current: list[MeasureResult], previous: list[MeasureResult], previous_name: str) -> list[Tile]:
    before = {r.commitment_key: r for r in previous if r.subject_kind == "team"}
    return [
        Tile(
            r, figure_sentence(r), previous_sentence(r, before.get(r.commitment_key), previous_name), meter(r)
        )
        for r in current
        if r.subject_kind == "team"
    ]


def _sides(tiles: list[Tile], teams: dict[int, Team]) -> list[dict[str, Any]]:
    """The tiles by owner team, marketing's first: the two sides of the agreement next to each other."""
    sides: dict[int, dict[str, Any]] = {}
    for tile in tiles:
        team = teams.get(tile.result.subject_id)
        side = sides.setdefault(
            tile.result.subject_id, {"team": team, "name": tile.result.subject_name, "tiles": []}
        )
        side["tiles"].append(tile)
    order = {str(Team.Kind.MARKETING): 0, str(Team.Kind.SDR): 1, str(Team.Kind.SALES): 2}

    def key(side: dict[str, Any]) -> tuple[int, str]:
        return order.get(str(getattr(side["team"], "kind", "")), 3), str(side["name"])

    return sorted(sides.values(), key=key)


@page()
@require_http_methods(["GET", "POST"])
def measure_page(request: AppRequest) -> HttpResponse:
    """The scorecard overview of a period: a tile per commitment, both parties side by side.

    A closed period shows its stored figures and, computed on the fly, how a recomputation differs;
    a GET never writes. A POST (a party lead's button) records the difference as a pending restatement.
    """
    context: dict[str, Any] = {}
    shown = shown_version_period(request, context)
    if isinstance(shown, int):
        return render(request, "leadpact/scorecard.html", context, status=shown)
    version, period = shown.version, shown.period
    now = timezone.now()
    try:
        if request.method == "POST":
            require(request, "restatement.decide")
            restatement_record(
                version=version,
                period=period,
                now=now,
                actor=request.user,  # type: ignore[arg-type]
            )
            return redirect(request.get_full_path())
        previous = period.previous()
        measured = measure_periods(version=version, periods=[previous, period], now=now, closed="recompute")
    except ApplicationError as error:
        context["error"] = error.message
        return render(request, "leadpact/scorecard.html", context, status=400)
    fresh = measured[str(period)]
    view = closed_view(version=version, period=period, fresh=fresh)
    before = closed_view(version=version, period=previous, fresh=measured[str(previous)]).results
    tiles = _tiles(view.results, before, period_label(previous))
    teams = {t.pk: t for t in version.parties.all()}
    statuses = [t.result.status for t in tiles]
    context.update(
        period_name=period_label(period),
        sides=_sides(tiles, teams),
        off_track=sum(s in OFF_TRACK for s in statuses),
        good=sum(s in GOOD for s in statuses),
        other=sum(s not in OFF_TRACK and s not in GOOD for s in statuses),
        closed=view.closed,
        restatement=None if view.restatement is None else view.restatement.pk,
        differences=_difference_rows(view.differences, view.results),
        differences_more=max(0, len(view.differences) - _DIFFERENCES_SHOWN),
        can_restate=request.access.allows("restatement.decide"),
        can_close=request.access.person is not None
        and request.access.allows("period.close", team=request.access.person.team_id)
        and version.parties.filter(pk=request.access.person.team_id).exists(),
        warnings=fresh[0].warnings if fresh else (),
    )
    return render(request, "leadpact/scorecard.html", context)


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


def _value_label(result: MeasureResult) -> Any:
    def label(v: float) -> str:
        from decimal import Decimal

        return fmt_value(Decimal(str(v)), result.unit, result.currency or "EUR")

    return label


@page()
def measure_commitment(request: AppRequest, key: str) -> HttpResponse:
    """One commitment in a period: the chosen subject's pacing and trend charts, and every row."""
    context: dict[str, Any] = {}
    shown = shown_version_period(request, context)
    if isinstance(shown, int):
        return render(request, "leadpact/scorecard_commitment.html", context, status=shown)
    version, period = shown.version, shown.period
    now = timezone.now()
    fresh = [
        r
        for r in measure_periods(version=version, periods=[period], now=now)[str(period)]
        if r.commitment_key == key
    ]
    if not fresh:
        context["error"] = _("This agreement version has no commitment %(key)s.") % {"key": key}
        return render(request, "leadpact/scorecard_commitment.html", context, status=404)
    rows = closed_view(version=version, period=period, fresh=fresh, narrowed=True).results or fresh
    rows = [r for r in rows if r.commitment_key == key]
    team_row = next((r for r in rows if r.subject_kind == "team"), rows[0])
    wanted = (request.GET.get("subject") or "").strip() or team_row.subject
    chosen = next((r for r in rows if r.subject == wanted), None)
    if chosen is None:
        context["error"] = _("No figure for %(subject)s in this commitment.") % {"subject": wanted}
        return render(request, "leadpact/scorecard_commitment.html", context, status=404)
    pacing = measure_pacing(
        version=version, commitment_key=key, subject=chosen.subject, period=period, now=now
    )
    trend = measure_trend(version=version, commitment_key=key, subject=chosen.subject, last=period, now=now)
    label = _value_label(chosen)

    def label_of(value: Any) -> str:
        return fmt_value(value, chosen.unit, chosen.currency or "EUR")

    names = {
        "actual_name": _("Actual"),
        "target_name": _("Target") if chosen.unit in ("percent", "duration") else _("Target line"),
    }
    pacing_svg = None
    if pacing is not None and pacing.days and any(d.expected is not None for d in pacing.days):
        days = pacing.days
        today_index = max((i for i, d in enumerate(days) if d.actual is not None), default=None)
        pacing_svg = charts.pacing_chart(
            labels=[str(d.day.day) for d in days],
            actual=[d.actual for d in days],
            target=[d.expected or 0 for d in days],
            today=today_index if today_index is not None and today_index < len(days) - 1 else None,
            value_label=label,
            title=_("Pacing of %(title)s in %(period)s")
            % {"title": chosen.title, "period": period_label(period)},
            desc=figure_sentence(chosen),
            today_name=_("today"),
            **names,
        )
    trend_svg = charts.trend_chart(
        labels=[_short(p.period) for p in trend],
        actual=[p.actual for p in trend],
        target=[p.target for p in trend],
        statuses=[p.status or "not_in_force" for p in trend],
        value_label=label,
        title=_("%(title)s over the last %(n)s periods") % {"title": chosen.title, "n": len(trend)},
        desc=", ".join(
            f"{_short(p.period)}: {fmt_value(p.actual, chosen.unit, chosen.currency or 'EUR')}" for p in trend
        ),
        current=len(trend) - 1,
        **names,
    )
    context.update(
        period_name=period_label(period),
        subject_query=f"&subject={chosen.subject}",
        commitment=chosen,
        rows=[(r, figure_sentence(r)) for r in rows],
        chosen=chosen,
        sentence=figure_sentence(chosen),
        pacing=pacing,
        pacing_svg=pacing_svg,
        trend=trend,
        trend_svg=trend_svg,
    )
    return render(request, "leadpact/scorecard_commitment.html", context)


def _short(period: str) -> str:
    p = Period.parse(period)
    if p.kind == "month":
        return date_format(p.start, "M ’y")
    return period
