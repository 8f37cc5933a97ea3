"""Reads of reviews: the series of an organisation, a review's pack (the agenda filled from the
measurements, in the order of the meeting), the action items that carry, and who is overdue.

The pack is plain JSON-able data, language-neutral where it can be (figures, dates, keys) and with both
languages side by side where words come from the engine (targets in plain words, agreement changes), so a
closed review's frozen pack renders the same in English and Dutch, whatever happens to the data later.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import translation

from leadpact.agreements.models import AgreementVersion
from leadpact.agreements.selectors import agreement_version_at
from leadpact.agreements.services import agreement_version_document
from leadpact.core.agreement import agreement_diff
from leadpact.core.periods import Period
from leadpact.leads.models import LeadState
from leadpact.measurement.closing.models import Restatement
from leadpact.measurement.disputes.models import Dispute
from leadpact.measurement.periods import period_bounds
from leadpact.measurement.scorecard.results import MeasureResult, result_data
from leadpact.measurement.scorecard.selectors import measure_pacing, measure_periods
from leadpact.measurement.targets.selectors import commitment_targets
from leadpact.organization.models import Leave, Organization, Person, Team
from leadpact.organization.selectors import team_calendar
from leadpact.reviews.models import (
    ActionItem,
    AgendaItemNote,
    Attendance,
    Decision,
    ExchangeNote,
    Review,
    ReviewSeries,
    SupportCheck,
    SupportCommitment,
)
from leadpact.reviews.schedule import series_version

__all__ = [
    "PACK_FORMAT",
    "action_items_carried",
    "overdue_action_items",
    "review_as_of",
    "review_on",
    "review_pack",
    "review_period",
    "review_previous",
    "series_get",
    "series_list",
]

#: The shape of the stored pack; a reader of an older one can tell.
PACK_FORMAT = 1
#: Statuses that need someone to act (as the scorecard's).
OFF_TRACK = ("behind", "at_risk", "cannot_be_met", "breached")
_TREND = 6
_EXAMPLES = 3
_SIDE_ORDER = {str(Team.Kind.MARKETING): 0, str(Team.Kind.SDR): 1, str(Team.Kind.SALES): 2}


def series_list(organization: Organization) -> QuerySet[ReviewSeries]:
    """Every review series of the organisation's agreements."""
    return (
        ReviewSeries.objects.filter(agreement__organization=organization)
        .select_related("agreement")
        .order_by("agreement__title", "name")
    )


def series_get(organization: Organization, pk: int) -> ReviewSeries | None:
    """One series of the organisation (None: not found, or another organisation's)."""
    return series_list(organization).filter(pk=pk).first()


def review_on(series: ReviewSeries, day: dt.date) -> Review | None:
    """The review of ``series`` on ``day`` (the day it takes place, or the day the rule planned before it
    moved): the stored one, else an unsaved one for the occurrence (reading writes nothing); None when the
    series does not meet then."""
    from leadpact.reviews.schedule import series_occurrences

    found = Review.objects.filter(series=series, day=day).first()
    if found is not None:
        return found
    for occurrence in series_occurrences(
        series, after=day - dt.timedelta(days=40), before=day + dt.timedelta(days=40)
    ):
        if day in (occurrence.day, occurrence.planned):
            stored = Review.objects.filter(series=series, day=occurrence.day).first()
            return stored or Review(
                series=series,
                day=occurrence.day,
                starts_at=occurrence.starts_at,
                moved_from=occurrence.planned if occurrence.moved else None,
                moved_reason=occurrence.reason[:200],
            )
    return None


def review_as_of(review: Review, now: dt.datetime) -> dt.datetime:
    """The instant a review's pack is measured at: its start, or now for one still to come."""
    return min(now, review.starts_at)


def review_period(review: Review) -> Period:
    """The measurement period a review looks at: the period of the series' kind holding the review day,
    or (``last_…``) the one before it."""
    kind = review.series.period_kind
    previous = kind.startswith("last_")
    period = Period.containing(kind.removeprefix("last_"), review.day)  # type: ignore[arg-type]
    return period.previous() if previous else period


def review_previous(review: Review) -> Review | None:
    """The review of the same series before this one (that has been held or made)."""
    return Review.objects.filter(series=review.series, day__lt=review.day).order_by("-day").first()


def action_items_carried(review: Review) -> QuerySet[ActionItem]:
    """The action items earlier reviews of the series raised that are still open, those the previous
    review raised (whatever their state), and those done since it — "last review's action items and their
    state"."""
    previous = review_previous(review)
    shown = Q(status=ActionItem.Status.OPEN)
    if previous is not None:
        shown |= Q(review=previous) | Q(done_at__gte=previous.starts_at)
    return (
        ActionItem.objects.filter(review__series=review.series, review__day__lt=review.day)
        .filter(shown)
        .select_related("owner", "review")
        .order_by("due", "id")
    )


def overdue_action_items(person: Person, *, today: dt.date | None = None) -> QuerySet[ActionItem]:
    """The open action items ``person`` owns whose due day has passed (for "My page")."""
    from django.utils import timezone

    day = today or timezone.localdate()
    return (
        ActionItem.objects.filter(owner=person, status=ActionItem.Status.OPEN, due__lt=day)
        .select_related("review__series")
        .order_by("due", "id")
    )


# --------------------------------------------------------------------------------------------- the pack


def _version(review: Review, as_of: dt.datetime) -> AgreementVersion | None:
    return agreement_version_at(agreement=review.series.agreement, instant=as_of) or series_version(
        review.series
    )


def _figure(r: MeasureResult) -> dict[str, Any]:
    data = result_data(r)
    evidence = data.pop("evidence")
    data["buckets"] = {name: len(ids) for name, ids in evidence.items() if ids}
    data["subject_kind"] = r.subject_kind
    return data


def _periods_back(last: Period, count: int) -> list[Period]:
    out = [last]
    while len(out) < count:
        out.insert(0, out[0].previous())
    return out


def _scorecard(
    version: AgreementVersion, period: Period, as_of: dt.datetime, *, with_charts: bool
) -> tuple[list[dict[str, Any]], list[MeasureResult]]:
    """The team rows by side (marketing's first), each with its trend and (counts, amounts) pacing."""
    periods = _periods_back(period, _TREND if with_charts else 1)
    measured = measure_periods(version=version, periods=periods, now=as_of)
    current = measured[str(period)]
    teams = {t.pk: t for t in version.parties.all()}
    sides: dict[int, dict[str, Any]] = {}
    for r in current:
        if r.subject_kind != "team":
            continue
        team = teams.get(r.subject_id)
        side = sides.setdefault(
            r.subject_id,
            {"team": r.subject_name, "kind": str(getattr(team, "kind", "")), "rows": []},
        )
        row = _figure(r)
        if with_charts:
            row["trend"] = []
            for p in periods:
                hit = next(
                    (
                        x
                        for x in measured[str(p)]
                        if x.commitment_key == r.commitment_key and x.subject == r.subject
                    ),
                    None,
                )
                row["trend"].append(
                    {
                        "period": str(p),
                        "actual": None if hit is None or hit.actual is None else str(hit.actual),
                        "target": None if hit is None else str(hit.target),
                        "status": "not_in_force" if hit is None else hit.status,
                    }
                )
            row["pacing"] = []
            if r.unit in ("count", "amount") and r.status != "not_in_force":
                series = measure_pacing(
                    version=version,
                    period=period,
                    commitment_key=r.commitment_key,
                    subject=r.subject,
                    now=as_of,
                )
                if series is not None:
                    row["pacing"] = [
                        [
                            d.day.isoformat(),
                            None if d.actual is None else str(d.actual),
                            None if d.expected is None else str(d.expected),
                        ]
                        for d in series.days
                    ]
        side["rows"].append(row)
    ordered = sorted(sides.values(), key=lambda s: (_SIDE_ORDER.get(s["kind"], 3), s["team"]))
    return ordered, current


def _exceptions(version: AgreementVersion, period: Period) -> dict[str, Any]:
    """What makes a period unusual: holidays by name, leave, people who started or left."""
    first, last = period.start, period.range.last
    holidays: dict[str, str] = {}
    teams = list(version.parties.order_by("key"))
    for team in teams:
        for day, name in team_calendar(team).holidays_between(first, last):
            holidays.setdefault(day.isoformat(), name)
    leave = []
    for item in (
        Leave.objects.filter(person__team__in=teams, first_day__lte=last, end_day__gt=first)
        .select_related("person__team")
        .order_by("first_day", "person__name")
    ):
        start, end = max(item.first_day, first), min(item.end_day, last + dt.timedelta(days=1))
        leave.append(
            {
                "person": item.person.name,
                "team": item.person.team.name,
                "first_day": item.first_day.isoformat(),
                "end_day": item.end_day.isoformat(),
                "days_in_period": (end - start).days,
            }
        )
    started = [
        {"person": p.name, "team": p.team.name, "day": p.start_date.isoformat()}
        for p in Person.objects.filter(team__in=teams, start_date__gte=first, start_date__lte=last)
        .select_related("team")
        .order_by("start_date")
    ]
    left = [
        {"person": p.name, "team": p.team.name, "day": p.end_date.isoformat()}
        for p in Person.objects.filter(team__in=teams, end_date__gte=first, end_date__lte=last)
        .select_related("team")
        .order_by("end_date")
        if p.end_date is not None
    ]
    return {
        "holidays": sorted(holidays.items()),
        "leave": leave,
        "started": started,
        "left": left,
    }


def _quality(organization: Organization, period: Period, as_of: dt.datetime) -> dict[str, Any]:
    """Lead quality: rejection reasons by source and campaign, conversion by cohort, example leads."""
    start, end = period_bounds(period, organization.timezone)
    end = min(end, as_of)
    decided = LeadState.objects.filter(
        lead__organization=organization,
        decided_at__gte=start,
        decided_at__lt=end,
        decision__in=("accepted", "rejected"),
    )
    rejected = decided.filter(decision="rejected")
    by_source: Counter[tuple[str, str, str]] = Counter()
    reasons: Counter[str] = Counter()
    for reason, source, campaign in rejected.values_list("reason_code", "lead__source", "lead__campaign"):
        by_source[(reason or "", source or "", campaign or "")] += 1
        reasons[reason or ""] += 1
    examples = [
        {
            "id": s.lead_id,
            "name": s.lead.name,
            "company": s.lead.company,
            "source": s.lead.source,
            "campaign": s.lead.campaign,
            "reason": s.reason_code,
            "decided_at": s.decided_at.isoformat() if s.decided_at else None,
        }
        for s in rejected.select_related("lead").order_by("-decided_at", "-lead_id")[:_EXAMPLES]
    ]
    cohorts = []
    for p in _periods_back(Period.containing("month", (end - dt.timedelta(microseconds=1)).date()), 3):
        c_start, c_end = period_bounds(p, organization.timezone)
        if c_start >= as_of:
            continue
        cohort = LeadState.objects.filter(
            lead__organization=organization, handed_over_at__gte=c_start, handed_over_at__lt=min(c_end, as_of)
        )
        cohorts.append(
            {
                "cohort": str(p),
                "handed_over": cohort.count(),
                "accepted": cohort.filter(decision="accepted").count(),
                "qualified": cohort.filter(stage__in=("qualified", "opportunity", "won", "lost")).count(),
                "won": cohort.filter(outcome="won").count(),
            }
        )
    return {
        "decided": decided.count(),
        "rejected": rejected.count(),
        "reasons": [{"reason": r, "count": n} for r, n in reasons.most_common()],
        "by_source": [
            {"reason": r, "source": s, "campaign": c, "count": n}
            for (r, s, c), n in sorted(by_source.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
        ],
        "examples": examples,
        "cohorts": cohorts,
    }


def _note(note: ExchangeNote) -> dict[str, Any]:
    return {
        "id": note.pk,
        "direction": note.direction,
        "category": note.category,
        "text": note.text,
        "author": note.author.name,
        "created_at": note.created_at.isoformat(),
        "lead": note.lead_id,
        "lead_name": note.lead.name if note.lead is not None else "",
        "commitment": note.commitment_key,
        "campaign": note.campaign,
        "question": note.question,
        "answer": note.answer,
        "answered_by": note.answered_by.name if note.answered_by is not None else "",
    }


def _action(item: ActionItem, day: dt.date) -> dict[str, Any]:
    return {
        "id": item.pk,
        "text": item.text,
        "owner": item.owner.name,
        "due": item.due.isoformat(),
        "status": item.status,
        "raised": item.review.day.isoformat(),
        "overdue": item.status == ActionItem.Status.OPEN and item.due < day,
        "done_at": item.done_at.isoformat() if item.done_at else None,
        "lead": item.lead_id,
        "commitment": item.commitment_key,
        "support": item.commitment.text if item.commitment is not None else "",
    }


def _support(review: Review) -> list[dict[str, Any]]:
    checks = {c.commitment_id: c for c in SupportCheck.objects.filter(review=review)} if review.pk else {}
    items = SupportCommitment.objects.filter(agreement=review.series.agreement, active=True).filter(
        Q(series__isnull=True) | Q(series=review.series)
    )
    out = []
    for item in items.select_related("side"):
        check = checks.get(item.pk)
        out.append(
            {
                "id": item.pk,
                "side": item.side.name,
                "text": item.text,
                "cadence": item.cadence,
                "kept": None if check is None else check.kept,
                "note": "" if check is None else check.note,
            }
        )
    return out


def _disputes(version: AgreementVersion) -> dict[str, Any]:
    agreement = version.agreement
    disputes = [
        {
            "id": d.pk,
            "lead": d.lead_id,
            "lead_name": d.lead.name,
            "commitment": d.commitment_key,
            "reason": d.reason,
            "opened_by": d.opened_by.name,
            "opened_at": d.opened_at.isoformat(),
        }
        for d in Dispute.objects.filter(agreement_version__agreement=agreement, status=Dispute.Status.OPEN)
        .select_related("lead", "opened_by")
        .order_by("opened_at")
    ]
    restatements = [
        {
            "id": r.pk,
            "period": r.closed_period.period,
            "differences": len(r.differences),
            "created_at": r.created_at.isoformat(),
        }
        for r in Restatement.objects.filter(
            closed_period__agreement_version__agreement=agreement, status=Restatement.Status.PENDING
        )
        .select_related("closed_period")
        .order_by("created_at")
    ]
    return {"disputes": disputes, "restatements": restatements}


def _changes(version: AgreementVersion) -> list[dict[str, Any]]:
    """Drafts and proposals newer than the version in force, as the diff in words (both languages)."""
    current = agreement_version_document(version)
    out = []
    for newer in version.agreement.versions.filter(
        number__gt=version.number,
        status__in=(AgreementVersion.Status.DRAFT, AgreementVersion.Status.PROPOSED),
    ).order_by("number"):
        changes = agreement_diff(current, agreement_version_document(newer))
        out.append(
            {
                "version": newer.number,
                "status": newer.status,
                "changes": [{"en": c.describe("en"), "nl": c.describe("nl")} for c in changes],
            }
        )
    return out


def _targets(version: AgreementVersion, period: Period, period_names: dict[str, str]) -> list[dict[str, Any]]:
    """Each commitment's target for the team in plain words, in both languages."""
    from leadpact.web.describe import target_summary
    from leadpact.web.formats import fmt_value

    out = []
    for target in commitment_targets(version=version, period=period):
        row: dict[str, Any] = {
            "commitment": target.commitment.key,
            "title": target.commitment.title,
            "team": target.team.name,
            "unit": target.unit,
            "value": str(target.value),
        }
        for lang in ("en", "nl"):
            with translation.override(lang):
                row[f"value_{lang}"] = fmt_value(
                    Decimal(str(target.value)), target.unit, target.currency or "EUR"
                )
                row[lang] = target_summary(target, period_names[lang])
        out.append(row)
    return out


def _period_names(period: Period) -> dict[str, str]:
    from leadpact.web.views.scorecard import period_label

    names = {}
    for lang in ("en", "nl"):
        with translation.override(lang):
            names[lang] = period_label(period)
    return names


def _previous(review: Review, now: dt.datetime) -> dict[str, Any] | None:
    """The previous review's scorecard figures (its frozen pack if closed) to compare with."""
    previous = review_previous(review)
    if previous is None:
        return None
    if previous.is_closed and previous.pack:
        rows = {
            f"{row['commitment']}|{row['subject']}": {
                "actual": row["actual"],
                "status": row["status"],
                "period": row["period"],
            }
            for side in previous.pack.get("scorecard", [])
            for row in side["rows"]
        }
        return {"day": previous.day.isoformat(), "closed": True, "rows": rows}
    as_of = review_as_of(previous, now)
    version = _version(previous, as_of)
    if version is None:
        return None
    sides, _current = _scorecard(version, review_period(previous), as_of, with_charts=False)
    rows = {
        f"{row['commitment']}|{row['subject']}": {
            "actual": row["actual"],
            "status": row["status"],
            "period": row["period"],
        }
        for side in sides
        for row in side["rows"]
    }
    return {"day": previous.day.isoformat(), "closed": False, "rows": rows}


def _minutes(review: Review) -> dict[str, Any]:
    if review.pk is None:
        return {"attendance": [], "agenda_notes": [], "decisions": [], "actions": []}
    return {
        "attendance": [
            {"person": a.person.name, "present": a.present}
            for a in Attendance.objects.filter(review=review)
            .select_related("person")
            .order_by("person__name")
        ],
        "agenda_notes": [
            {"item": n.item, "text": n.text, "author": n.author.name}
            for n in AgendaItemNote.objects.filter(review=review).select_related("author")
        ],
        "decisions": [
            {"text": d.text, "author": d.created_by.name}
            for d in Decision.objects.filter(review=review).select_related("created_by")
        ],
        "actions": [
            _action(a, review.day)
            for a in ActionItem.objects.filter(review=review).select_related("owner", "review", "commitment")
        ],
    }


def review_pack(*, review: Review, now: dt.datetime) -> dict[str, Any]:
    """The pack of ``review``: a closed review's frozen pack, else built from the data as of
    :func:`review_as_of` (its start, or now for a review still to come)."""
    if review.is_closed and review.pack is not None:
        return dict(review.pack)
    series = review.series
    organization = series.agreement.organization
    as_of = review_as_of(review, now)
    period = review_period(review)
    version = _version(review, as_of)
    names = _period_names(period)
    pack: dict[str, Any] = {
        "format": PACK_FORMAT,
        "series": series.name,
        "series_id": series.pk,
        "agreement": series.agreement.title,
        "timezone": organization.timezone,
        "day": review.day.isoformat(),
        "starts_at": review.starts_at.isoformat(),
        "duration_minutes": series.duration_minutes,
        "moved_from": review.moved_from.isoformat() if review.moved_from else None,
        "moved_reason": review.moved_reason,
        "as_of": as_of.isoformat(),
        "period": str(period),
        "period_names": names,
        "agreement_version": version.number if version is not None else None,
        "attendees": [
            p.name
            for p in series.attendees.filter(Q(end_date__isnull=True) | Q(end_date__gt=review.day)).order_by(
                "team__key", "name"
            )
        ],
    }
    if version is None:
        pack.update(scorecard=[], breaches=[], exceptions={}, quality={}, targets=[], changes=[])
        pack.update(disputes={"disputes": [], "restatements": []})
    else:
        sides, current = _scorecard(version, period, as_of, with_charts=True)
        pack["scorecard"] = sides
        pack["breaches"] = [_figure(r) for r in current if r.status in OFF_TRACK]
        pack["exceptions"] = _exceptions(version, period)
        pack["exceptions"]["unassigned"] = [
            _figure(r) for r in current if r.subject_kind == "outside" and r.sample_size
        ]
        pack["quality"] = _quality(organization, period, as_of)
        pack["disputes"] = _disputes(version)
        pack["changes"] = _changes(version)
        pack["targets"] = _targets(version, period, names)
    notes = (
        list(ExchangeNote.objects.filter(review=review).select_related("author", "lead", "answered_by"))
        if review.pk is not None
        else []
    )
    pack["notes"] = {
        "marketing_to_sales": [
            _note(n) for n in notes if n.direction == ExchangeNote.Direction.MARKETING_TO_SALES
        ],
        "sales_to_marketing": [
            _note(n) for n in notes if n.direction == ExchangeNote.Direction.SALES_TO_MARKETING
        ],
    }
    pack["support"] = _support(review)
    pack["actions"] = [
        _action(a, review.day) for a in action_items_carried(review).select_related("commitment")
    ]
    pack["previous"] = _previous(review, now)
    pack["minutes"] = _minutes(review)
    return pack


def pack_figures(pack: dict[str, Any]) -> Sequence[dict[str, Any]]:
    """Every scorecard row of a pack (for tests and exports)."""
    return [row for side in pack.get("scorecard", []) for row in side["rows"]]
