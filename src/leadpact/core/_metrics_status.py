"""A measured figure and its status: :class:`Measurement`, :class:`StatusRules`, :class:`Evidence`.

Private module behind :mod:`leadpact.core.metrics` (see its docstring for the status rules): what every
metric hands back, below the metrics and their registry.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

from leadpact.core._metrics_frames import micros
from leadpact.core._metrics_prep import Frames

__all__ = [
    "STATUSES",
    "Evidence",
    "Measurement",
    "MetricName",
    "Status",
    "StatusRules",
    "Unit",
    "measurement_of",
    "standing",
]

Status = Literal[
    "not_in_force",
    "not_enough_data",
    "met",
    "on_track",
    "behind",
    "at_risk",
    "cannot_be_met",
    "breached",
]
#: Every status, from "nothing to say" to "decided and missed".
STATUSES: tuple[Status, ...] = get_args(Status)
Unit = Literal["count", "percent", "amount", "duration"]
MetricName = Literal[
    "lead_volume",
    "acceptance_rate",
    "decision_latency",
    "speed_to_lead",
    "attempts_within",
    "handoff_completeness",
    "feedback_completeness",
    "conversion",
    "pipeline_amount",
    "won_amount",
]
IntArray = npt.NDArray[np.int64]
Number = Decimal | int
_Rows = IntArray | Callable[[], IntArray]

#: Exact decimal arithmetic for figures: 28 digits, half to even.
DECIMALS = decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN)
MICRO = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class StatusRules:
    """Thresholds for the status: ``min_sample`` and the pace grades (agreement ``settings``)."""

    min_sample: int = 20
    on_track: Decimal = Decimal("0.95")
    behind: Decimal = Decimal("0.8")


@dataclass(frozen=True, slots=True)
class Measurement:
    """One measured figure with its target, status and the exact leads behind it.

    ``evidence`` maps a reason (``counted``, ``excluded_duplicate``, ``breached``,
    ``missing_field:email`` …) to the lead ids (``LeadFrame.lead_id``) in it, in time order; ``counted``
    holds exactly the leads behind ``actual`` (the numerator of a percentage). ``figures`` holds
    the secondary numbers (medians, P90, routing delay, per-field missing counts …). ``attainment`` is
    the actual against the target, ``pace`` against what is expected by now (the ratio the status
    grades; for a percentage or duration, whose target holds at every moment, the two are equal).
    """

    metric: MetricName
    unit: Unit
    actual: Decimal | None
    target: Decimal
    expected_to_date: Decimal | None
    attainment: Decimal | None
    status: Status
    sample_size: int
    evidence: Mapping[str, IntArray] = field(repr=False, compare=False)
    figures: Mapping[str, Decimal | int | None] = field(default_factory=dict)
    pace: Decimal | None = None


def _as_decimal(value: Number | timedelta | None) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return Decimal(value // timedelta(microseconds=1)) * MICRO
    return Decimal(value)


def _ratio(actual: Decimal, target: Decimal, *, lower_is_better: bool) -> Decimal:
    """How far ``actual`` is towards ``target``: 1 on it, below 1 short (inverted when lower is better)."""
    if lower_is_better:
        return DECIMALS.divide(target, actual) if actual > 0 else Decimal(1)
    return DECIMALS.divide(actual, target) if target > 0 else Decimal(1)


def standing(
    *,
    actual: Decimal | None,
    target: Decimal,
    expected: Decimal | None,
    unit: Unit,
    lower_is_better: bool,
    sample: int,
    period_over: bool,
    rules: StatusRules,
    failed: int | None = None,
    open_bounds: tuple[Decimal | None, Decimal | None] | None = None,
) -> tuple[Status, Decimal | None]:
    """The status of a figure and its pace (the ratio graded), by the rules in :mod:`leadpact.core.metrics`.

    ``failed``: leads in the sample that failed for good (no later event undoes it; ``None``: unknown or
    not so). ``open_bounds``: after the period, while some leads are still undecided, the best and the
    worst the figure can still end at (``None`` worst: no bound); ``None``: the figure is final.

    Higher is better unless ``lower_is_better`` (a duration's median or P90). A count or amount is a
    floor to reach by the end (met once reached); a percentage or duration holds at every moment.

    >>> rules = StatusRules(min_sample=2)
    >>> standing(actual=Decimal(95), target=Decimal(100), expected=None, unit="percent",
    ...          lower_is_better=False, sample=40, period_over=False, rules=rules, failed=2)
    ('cannot_be_met', Decimal('0.95'))
    >>> standing(actual=Decimal(9), target=Decimal(20), expected=Decimal(10), unit="count",
    ...          lower_is_better=False, sample=9, period_over=False, rules=rules)
    ('behind', Decimal('0.9'))
    """
    pace: Decimal | None = None
    if actual is not None:
        if unit in ("count", "amount"):
            pace = DECIMALS.divide(actual, expected) if expected is not None and expected > 0 else None
        else:
            pace = _ratio(actual, target, lower_is_better=lower_is_better)
        if pace is not None and not pace:
            pace = Decimal(0)  # a plain 0, not 0E+20
    # a failure no later lead undoes makes a target of 100% (or more) unreachable before the period ends
    if not period_over and unit == "percent" and not lower_is_better and failed and target >= 100:
        return "cannot_be_met", pace
    if actual is None or (unit in ("percent", "duration") and sample < rules.min_sample):
        return "not_enough_data", pace

    def meets(value: Decimal) -> bool:
        return value <= target if lower_is_better else value >= target

    good = meets(actual)
    if period_over:
        if open_bounds is None:
            return ("met" if good else "breached"), pace
        best, worst = open_bounds
        if best is not None and not meets(best):
            return "breached", pace  # whatever the undecided leads do
        if worst is not None and meets(worst):
            return "met", pace
    if good:
        return ("met" if unit in ("count", "amount") else "on_track"), pace
    if pace is None:  # nothing expected yet
        return "on_track", pace
    if pace >= rules.on_track:
        return "on_track", pace
    if pace >= rules.behind:
        return "behind", pace
    return "at_risk", pace


def _attainment(actual: Decimal | None, target: Decimal, *, lower_is_better: bool) -> Decimal | None:
    if actual is None:
        return None
    if lower_is_better:
        return DECIMALS.divide(target, actual) if actual > 0 else None
    if target <= 0:
        return None
    found = DECIMALS.divide(actual, target)
    return found if found else Decimal(0)  # a plain 0, not 0E+20


_NO_IDS = np.zeros(0, dtype=np.int64)
_NO_IDS.setflags(write=False)


class Evidence(Mapping[str, IntArray]):
    """Reason → lead ids (read-only arrays, in time order); ids are looked up when first read.

    Most measurements are never drilled into, so the lead rows are kept and turned into
    ``LeadFrame.lead_id`` values on access.
    """

    __slots__ = ("_ids", "_read", "_rows")

    def __init__(self, lead_id: IntArray, rows: Mapping[str, _Rows]) -> None:
        self._ids = lead_id
        self._rows = dict(rows)
        self._read: dict[str, IntArray] = {}

    def __getitem__(self, key: str) -> IntArray:
        found = self._read.get(key)
        if found is None:
            rows = self._rows[key]
            if callable(rows):
                rows = rows()
            found = self._ids.take(rows) if rows.shape[0] else _NO_IDS
            found.setflags(write=False)
            self._read[key] = found
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"Evidence({list(self._rows)})"


def measurement_of(
    frames: Frames,
    *,
    metric: MetricName,
    unit: Unit,
    actual: Decimal | None,
    target: Number | timedelta,
    expected_to_date: Number | timedelta | None,
    sample: int,
    end: datetime,
    rules: StatusRules,
    evidence: Mapping[str, _Rows],
    figures: Mapping[str, Decimal | int | None],
    lower_is_better: bool = False,
    failed: int | None = None,
    open_bounds: tuple[Decimal | None, Decimal | None] | None = None,
) -> Measurement:
    target_d = _as_decimal(target)
    assert target_d is not None
    expected_d = _as_decimal(expected_to_date)
    status, pace = standing(
        actual=actual,
        target=target_d,
        expected=expected_d,
        unit=unit,
        lower_is_better=lower_is_better,
        sample=sample,
        period_over=frames.now_us >= micros(end),
        rules=rules,
        failed=failed,
        open_bounds=open_bounds,
    )
    return Measurement(
        metric=metric,
        unit=unit,
        actual=actual,
        target=target_d,
        expected_to_date=expected_d,
        attainment=_attainment(actual, target_d, lower_is_better=lower_is_better),
        status=status,
        sample_size=sample,
        evidence=Evidence(frames.leads.lead_id, evidence),
        figures=dict(figures),
        pace=pace,
    )
