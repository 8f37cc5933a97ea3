"""Reads of closed periods: the stored figures to show, and how a recomputation differs from them.

Reading never writes: a difference is computed on each view; it becomes a restatement only by an
explicit action (:func:`leadpact.measurement.closing.services.restatement_record`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from leadpact.agreements.models import AgreementVersion
from leadpact.core.periods import Period
from leadpact.measurement.closing.models import ClosedPeriod, Restatement
from leadpact.measurement.scorecard.results import MeasureResult, result_data, result_from_data

__all__ = [
    "ClosedView",
    "closed_results",
    "closed_view",
    "figure_key",
    "figures_differences",
    "figures_fingerprint",
]

_COMPARED = ("actual", "target", "status", "sample_size", "evidence")


def figure_key(data: dict[str, Any]) -> str:
    """``<commitment>|<subject>``: how a figure is keyed in a closed period and a restatement."""
    return f"{data['commitment']}|{data['subject']}"


def figures_differences(
    stored: dict[str, dict[str, Any]], fresh: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per figure and compared field, the stored and the recomputed value where they differ."""
    out: list[dict[str, Any]] = []
    for key in sorted(set(stored) | set(fresh)):
        old, new = stored.get(key), fresh.get(key)
        commitment, _, subject = key.partition("|")
        for name in _COMPARED:
            a = None if old is None else old.get(name)
            b = None if new is None else new.get(name)
            if name == "evidence":
                a = sorted((a or {}).get("counted", []))
                b = sorted((b or {}).get("counted", []))
            if a != b:
                out.append(
                    {
                        "commitment": commitment,
                        "subject": subject,
                        "field": name,
                        "stored": a,
                        "recomputed": b,
                    }
                )
    return out


def figures_fingerprint(diff: list[dict[str, Any]]) -> str:
    """A digest of a list of differences: the same differences are one restatement."""
    return hashlib.sha256(json.dumps(diff, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ClosedView:
    """What a page shows of a period: its figures and, when closed, how a recomputation differs.

    ``results`` are the stored figures of a closed period (``fresh`` of an open one);
    ``differences`` (commitment, subject, field, stored, recomputed) are computed now and never
    stored by reading; ``restatement`` is the pending restatement that records exactly these
    differences, if one was recorded (``None``: the difference is not recorded yet).
    """

    results: list[MeasureResult]
    closed: bool = False
    differences: list[dict[str, Any]] = field(default_factory=list)
    restatement: Restatement | None = None


def closed_view(
    *,
    version: AgreementVersion,
    period: Period,
    fresh: list[MeasureResult],
    narrowed: bool = False,
) -> ClosedView:
    """The figures to show for ``period``; reads only.

    A narrowed measurement (one team or person) shows the stored figures of those subjects and the
    latest pending restatement (a part is never compared on its own).
    """
    closed = ClosedPeriod.objects.filter(agreement_version=version, period=str(period)).first()
    if closed is None:
        return ClosedView(fresh)
    stored = {figure_key(m.data): m.data for m in closed.measurements.all()}
    new = {figure_key(d): d for d in (result_data(r) for r in fresh)}
    pending = closed.restatements.filter(status=Restatement.Status.PENDING)
    if narrowed:
        restatement = pending.order_by("-id").first()
        rid = None if restatement is None else restatement.pk
        results = [
            result_from_data(stored[k], closed=True, restatement_id=rid) for k in sorted(new) if k in stored
        ]
        return ClosedView(results, closed=True, restatement=restatement)
    diff = figures_differences(stored, new)
    restatement = pending.filter(fingerprint=figures_fingerprint(diff)).first() if diff else None
    rid = None if restatement is None else restatement.pk
    results = [result_from_data(d, closed=True, restatement_id=rid) for _, d in sorted(stored.items())]
    return ClosedView(results, closed=True, differences=diff, restatement=restatement)


def closed_results(
    *,
    version: AgreementVersion,
    period: Period,
    fresh: list[MeasureResult],
    now: dt.datetime,
    narrowed: bool = False,
) -> list[MeasureResult]:
    """The stored figures of a closed period (``fresh`` when open); reads only (see :func:`closed_view`)."""
    return closed_view(version=version, period=period, fresh=fresh, narrowed=narrowed).results
