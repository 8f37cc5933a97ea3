"""Reads of the scorecard: a period's figures (a closed period's stored ones), and the leads behind one.

:func:`measure_periods` computes the figures fresh (:mod:`.compute`) and, unless asked to recompute,
puts a closed period's stored figures in their place (:mod:`leadpact.measurement.closing.selectors`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from leadpact.agreements.models import AgreementVersion
from leadpact.core.periods import Period
from leadpact.leads.models import Lead
from leadpact.measurement.closing.selectors import closed_results
from leadpact.measurement.scorecard.compute import measure_fresh, period_parse
from leadpact.measurement.scorecard.results import MeasureResult
from leadpact.organization.models import Person, Team

__all__ = ["EvidenceBucket", "measure", "measure_evidence", "measure_periods"]


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
