"""The metric registry: one :class:`Metric` per measurable commitment kind, each a count and a few facts.

Private module behind :mod:`leadpact.core.metrics`. What every metric shares — the slice of the frames it
counts (:class:`Scope`), turning a count into a :class:`Measurement` with target, attainment and status,
and which parameters a commitment gives it — is done here once; a metric only counts (:class:`Tally`).
A new metric is its count function under :func:`metric` (name, unit, commitment kind, and how a
commitment's clause becomes its parameters).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from leadpact.core._agreement_model import Commitment, CommitmentKind, Unit
from leadpact.core._metrics_frames import micros
from leadpact.core._metrics_prep import Calendars, Frames, Subject
from leadpact.core._metrics_status import DECIMALS, Measurement, MetricName, StatusRules, measurement_of
from leadpact.core._windows import Window

__all__ = ["METRICS", "Metric", "MetricInputs", "Scope", "Tally", "metric", "metric_for", "share_bounds"]

IntArray = npt.NDArray[np.int64]
Rows = IntArray | Callable[[], IntArray]
Number = Decimal | int
DEFAULT_RULES = StatusRules()


@dataclass(frozen=True, slots=True)
class Scope:
    """What one metric call counts: the frames, whose leads (``subject``) and the period ``[start, end)``."""

    frames: Frames
    subject: Subject
    start: datetime
    end: datetime

    @property
    def bounds(self) -> tuple[int, int]:
        """``[start, end)`` in µs since the epoch; an end before the start is a ``ValueError``."""
        start_us, end_us = micros(self.start), micros(self.end)
        if end_us < start_us:
            span = f"[{self.start.isoformat()}, {self.end.isoformat()})"
            raise ValueError(f"period {span}: end is before start")
        return start_us, end_us

    @property
    def over(self) -> bool:
        """Whether the period is over at the frames' ``now``."""
        return self.frames.now_us >= micros(self.end)

    def handoffs(self) -> tuple[IntArray, IntArray]:
        """Handoff rows of the period (each lead's first, duplicates left out) and the duplicate leads."""
        return self.frames.handoff_rows(self.subject, *self.bounds)


@dataclass(frozen=True, slots=True)
class Tally:
    """What a metric counted, before target and status: ``actual`` (``None``: nothing to measure), the
    sample, the evidence (bucket → lead rows, or a function giving them when read) and the figures.
    ``unit`` and ``lower_is_better`` override the metric's own (a clock's headline may be a duration).

    What can still change (see :func:`~leadpact.core._metrics_status.standing`): ``failed``, the leads
    of the sample that failed for good (``None``: a later event may still undo a failure); and, once the
    period is over, ``open_bounds``: the best and worst the figure can still end at while some of its
    leads are undecided (``None``: final as it stands)."""

    actual: Decimal | None
    sample: int
    evidence: Mapping[str, Rows]
    figures: Mapping[str, Decimal | int | None]
    unit: Unit | None = None
    lower_is_better: bool = False
    failed: int | None = None
    open_bounds: tuple[Decimal | None, Decimal | None] | None = None


@dataclass(frozen=True, slots=True)
class MetricInputs:
    """What a commitment's parameters are made of beside its clause: the clock window (business time or
    business days), the calendars its clocks run in (built when first asked), the reason codes' count,
    and the unit the target is in (a duration target is a clock's median)."""

    unit: Unit
    window: Window | None = None
    calendars: Callable[[], Calendars] | None = None
    reason_codes: int = 0


Count = Callable[..., Tally]
Arguments = Callable[[Commitment, MetricInputs], "dict[str, Any] | None"]


class Metric:
    """One metric: its name, unit, the commitment kind it measures, its count and its parameters.

    ``events``: the lead event kinds (by name) the metric counts in a period whatever the period of the
    lead's handoff (the amounts, feedback on closed leads): a reader of the frames must read those leads
    (a function of the commitment where it depends on the clause, see :meth:`events_for`).

    Calling it measures: ``lead_volume(frames, start=…, end=…, subject=…, target=…)`` → a
    :class:`Measurement`; keyword arguments beyond the common ones go to the count.
    """

    def __init__(
        self,
        name: MetricName,
        unit: Unit,
        kind: CommitmentKind,
        count: Count,
        arguments: Arguments,
        events: tuple[str, ...] | Callable[[Commitment], tuple[str, ...]] = (),
    ) -> None:
        self.name = name
        self.unit = unit
        self.kind = kind
        self.count = count
        self.arguments = arguments
        self.events = events
        self.__doc__ = count.__doc__
        self.__name__ = name

    def __repr__(self) -> str:
        return f"Metric({self.name!r}, unit={self.unit!r}, kind={self.kind!r})"

    def __call__(
        self,
        frames: Frames,
        *,
        start: datetime,
        end: datetime,
        subject: Subject,
        target: Number | timedelta,
        expected_to_date: Number | timedelta | None = None,
        rules: StatusRules = DEFAULT_RULES,
        **params: Any,
    ) -> Measurement:
        tally = self.count(Scope(frames, subject, start, end), **params)
        return measurement_of(
            frames,
            metric=self.name,
            unit=tally.unit or self.unit,
            actual=tally.actual,
            target=target,
            expected_to_date=expected_to_date,
            sample=tally.sample,
            end=end,
            rules=rules,
            evidence=tally.evidence,
            figures=tally.figures,
            lower_is_better=tally.lower_is_better,
            failed=tally.failed,
            open_bounds=tally.open_bounds,
        )

    def events_for(self, commitment: Commitment) -> tuple[str, ...]:
        """The event kinds (by name) whose leads a reader must read for ``commitment`` beyond the
        period's handoffs (see ``events``)."""
        return self.events(commitment) if callable(self.events) else self.events

    def for_commitment(self, commitment: Commitment, inputs: MetricInputs) -> dict[str, Any] | None:
        """The count's parameters for ``commitment`` (``None``: the clause lacks what it needs)."""
        return self.arguments(commitment, inputs)


#: Every metric by name, in the order they were registered.
METRICS: dict[str, Metric] = {}


def _none(commitment: Commitment, inputs: MetricInputs) -> dict[str, Any]:
    return {}


def metric(
    name: MetricName,
    *,
    unit: Unit,
    kind: CommitmentKind,
    arguments: Arguments = _none,
    events: tuple[str, ...] | Callable[[Commitment], tuple[str, ...]] = (),
) -> Callable[[Count], Metric]:
    """Register a count as the metric ``name`` that measures commitments of ``kind``."""

    def register(count: Count) -> Metric:
        if name in METRICS:
            raise ValueError(f"metric {name!r} is registered already")
        found = Metric(name, unit, kind, count, arguments, events)
        METRICS[name] = found
        return found

    return register


def share_bounds(ok: int, failed: int, undecided: int) -> tuple[Decimal | None, Decimal | None] | None:
    """Best and worst final percentage of ``ok`` of ``ok + failed`` when ``undecided`` leads still join
    the sample either way (``None``: none do, the figure is final)."""
    if undecided <= 0:
        return None
    total = Decimal(ok + failed + undecided)
    return (
        DECIMALS.divide(Decimal((ok + undecided) * 100), total),
        DECIMALS.divide(Decimal(ok * 100), total),
    )


def metric_for(kind: str) -> Metric | None:
    """The metric that measures commitments of ``kind`` (``None``: none does)."""
    return next((m for m in METRICS.values() if m.kind == kind), None)
