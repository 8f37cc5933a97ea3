"""Reads of the scorecard: a period's figures (a closed period's stored ones), and the leads behind one.

:func:`measure_periods` computes the figures fresh (:mod:`.compute`) and, unless asked to recompute,
puts a closed period's stored figures in their place (:mod:`leadpact.measurement.closing.selectors`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from leadpact.agreements.models import AgreementVersion
from leadpact.agreements.selectors import agreement_version_at
from leadpact.core.periods import Period
from leadpact.leads.models import Lead
from leadpact.measurement.closing.models import ClosedMeasurement
from leadpact.measurement.closing.selectors import closed_results
from leadpact.measurement.scorecard.compute import Measurer, measure_fresh, period_parse
from leadpact.measurement.scorecard.results import MeasureResult, PacingSeries, TrendPoint, result_from_data
from leadpact.organization.models import Person, Team

__all__ = [
    "EvidenceBucket",
    "measure",
    "measure_evidence",
    "measure_pacing",
    "measure_periods",
    "measure_trend",
]


def measure_periods(
    *,
    version: AgreementVersion,
    periods: Sequence[Period | str],
    now: dt.datetime,
    subject: Team | Person | None = None,
    closed: Literal["stored", "recompute"] = "stored",
) -> dict[str, list[MeasureResult]]:
    """:func:`measure` for several periods sharing one read of the database (a year's months)."""
    parsed = [period_parse(p) for p in periods]
    out = measure_fresh(version=version, periods=parsed, now=now, subject=subject)
    if closed == "stored":
        for p in parsed:
            out[str(p)] = closed_results(
                version=version, period=p, fresh=out[str(p)], now=now, narrowed=subject is not None
            )
    return out


def measure(
    *,
    version: AgreementVersion,
    period: Period | str,
    now: dt.datetime,
    subject: Team | Person | None = None,
) -> list[MeasureResult]:
    """Every commitment of ``version`` in ``period``: the owner team's row and each person's.

    ``subject`` narrows to one team or one person. A closed period gives its stored figures (and the
    pending restatement's id when the data changed since).
    """
    p = period_parse(period)
    return measure_periods(version=version, periods=[p], now=now, subject=subject)[str(p)]


@dataclass(frozen=True, slots=True)
class EvidenceBucket:
    """One reason with the leads in it (the first ``limit``) and how many there are."""

    name: str
    total: int
    leads: list[Any]


def measure_evidence(
    *,
    version: AgreementVersion,
    period: Period,
    commitment_key: str,
    subject: str,
    now: dt.datetime,
    limit: int = 500,
) -> tuple[MeasureResult, list[EvidenceBucket]] | None:
    """The figure of one commitment × subject and the leads behind it by bucket; ``None`` if unknown."""
    kind, _, pk = subject.partition(":")
    if kind not in ("team", "person", "outside") or not pk.isdigit():
        return None
    narrowed: Team | Person | None
    if kind in ("team", "outside"):
        narrowed = Team.objects.filter(pk=int(pk), organization=version.agreement.organization).first()
    else:
        narrowed = Person.objects.filter(
            pk=int(pk), team__organization=version.agreement.organization
        ).first()
    if narrowed is None:
        return None
    found = next(
        (
            r
            for r in measure(version=version, period=period, now=now, subject=narrowed)
            if r.commitment_key == commitment_key and r.subject == subject
        ),
        None,
    )
    if found is None:
        return None
    buckets: list[EvidenceBucket] = []
    for name, ids in found.evidence.items():
        shown = [int(i) for i in ids[:limit]]
        rows = Lead.objects.in_bulk(shown)
        buckets.append(EvidenceBucket(name, len(ids), [rows[i] for i in shown if i in rows]))
    return found, buckets


def _subject(version: AgreementVersion, subject: str) -> Team | Person | None:
    """The team or person a subject key (``team:<id>``, ``person:<id>``, ``outside:<team id>``) names in
    the version's organisation, or ``None``."""
    kind, _, pk = subject.partition(":")
    if kind not in ("team", "person", "outside") or not pk.isdigit():
        return None
    org = version.agreement.organization
    if kind == "person":
        return Person.objects.filter(pk=int(pk), team__organization=org).first()
    return Team.objects.filter(pk=int(pk), organization=org).first()


def measure_trend(
    *,
    version: AgreementVersion,
    commitment_key: str,
    subject: str,
    last: Period | str,
    now: dt.datetime,
    count: int = 12,
) -> list[TrendPoint]:
    """The figure of one commitment and subject in the ``count`` periods up to ``last`` (oldest first),
    for a trend chart: actual, target, status of each.

    Each period is measured against the version in force at its start (``version`` where none was); a
    closed period gives its stored figure without recomputing; the open ones are measured together,
    reading only what the one commitment needs.
    """
    if count < 1:
        return []
    periods = [period_parse(last)]
    while len(periods) < count:
        periods.insert(0, periods[0].previous())
    narrowed = _subject(version, subject)
    if narrowed is None:
        return [TrendPoint(str(p), None) for p in periods]
    zone = ZoneInfo(version.agreement.organization.timezone)
    by_version: dict[int, tuple[AgreementVersion, list[Period]]] = {}
    for p in periods:
        start = dt.datetime.combine(p.start, dt.time(), tzinfo=zone)
        found = agreement_version_at(agreement=version.agreement, instant=start) or version
        by_version.setdefault(found.pk, (found, []))[1].append(p)
    figures: dict[str, MeasureResult] = {}
    for found, group in by_version.values():
        stored = ClosedMeasurement.objects.filter(
            closed_period__agreement_version=found,
            closed_period__period__in=[str(p) for p in group],
            commitment_key=commitment_key,
            subject=subject,
        ).select_related("closed_period")
        for item in stored:
            figures[item.closed_period.period] = result_from_data(item.data, closed=True)
        closed = set(
            found.closed_periods.filter(period__in=[str(p) for p in group]).values_list("period", flat=True)
        )
        fresh = [p for p in group if str(p) not in closed]
        if not fresh:
            continue
        measured = measure_fresh(
            version=found, periods=fresh, now=now, subject=narrowed, commitments=[commitment_key]
        )
        for name, results in measured.items():
            hit = next((r for r in results if r.subject == subject), None)
            if hit is not None:
                figures[name] = hit
    return [TrendPoint(str(p), figures.get(str(p))) for p in periods]


def measure_pacing(
    *,
    version: AgreementVersion,
    period: Period | str,
    commitment_key: str,
    subject: str,
    now: dt.datetime,
) -> PacingSeries | None:
    """The pacing chart of one commitment and subject in ``period``: per day, the figure so far at the
    day's end against the target line (see :class:`PacingSeries`); ``None`` if there is no such figure.
    Computed from the events now, also for a closed period (a chart, not the stored figure)."""
    p = period_parse(period)
    if _subject(version, subject) is None:
        return None
    return Measurer(version=version, periods=[p], now=now, commitments=[commitment_key]).series(
        p, commitment_key, subject
    )
