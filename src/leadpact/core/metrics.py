"""The measurement engine: commitment × period ``[start, end)`` × subject → a :class:`Measurement`.

Pure and vectorised over numpy columns (no Python loop per lead). Prepare the frames once with
:class:`Frames` (sorts the events by lead and time unless they already are, leaves out events after
``now``, splits each lead's log into handoff *episodes*), then call a metric function per period and
subject; per-handoff tables (business time of every clock, buckets) are memoised in the
:class:`Frames`, so a year of months × people costs one pass plus slices. Money and evidence stay
exact: evidence is the lead ids behind each bucket (:class:`Evidence`), looked up when read.

>>> from datetime import UTC, datetime
>>> t = datetime(2026, 3, 10, 10, tzinfo=UTC)
>>> events = EventFrame.from_rows([(0, EventKind.HANDED_OVER, t), (1, EventKind.HANDED_OVER, t)])
>>> leads = LeadFrame.from_rows([{"lead_id": 7, "marketing_owner": 1},
...                              {"lead_id": 8, "met_definition": False}])
>>> m = lead_volume(Frames(events, leads, now=t), start=datetime(2026, 3, 1, tzinfo=UTC),
...                 end=datetime(2026, 4, 1, tzinfo=UTC), subject=Subject.team("marketing", [1]),
...                 target=20, expected_to_date=2)
>>> m.actual, m.status, m.evidence["counted"].tolist(), m.evidence["excluded_definition"].tolist()
(Decimal('1'), 'at_risk', [7], [8])

Rules shared by every metric (each is the lead page's explanation of a number):

- A lead counts in a period through its **first** ``handed_over`` in ``[start, end)`` (unique leads);
  its episode runs from that handoff to its next ``handed_over``. Event-based metrics (feedback,
  amounts) take the lead's **last** event of the kind in the period.
- A lead belongs to the subject through its owner on the subject's side (see :class:`Subject`).
- Events sort by ``(lead, occurred_at)``, ties in input order; events after ``now`` are not known.
- Duplicates (``duplicate_of >= 0``) are left out of every metric (evidence ``excluded_duplicate``).
- The clocks (decision, speed to lead, attempts, feedback within its window) are sales' obligations:
  their business time is measured in the calendar of the lead's **sales owner** (:class:`Calendars`;
  the team calendar when unowned), whoever the subject is. A clock is **within** its window iff
  elapsed business time ``<= window``. A window is a ``timedelta`` of business time or a
  :class:`BusinessDuration`: minutes and hours are a fixed amount; whole business days (``1bd``,
  ``15bd``) run from the clock's start to the same business time of day ``N`` business days on, in
  the owner's calendar (clipped to a shorter day's close; weekends, holidays and leave skipped — see
  :meth:`~leadpact.core.calendar.BusinessCalendar.add_business_days`), so each lead's window is the
  business time to its own deadline and the breach is still elapsed business time > window.
- Percentiles are **nearest-rank** on business microseconds: ``P_p`` is the ``ceil(p/100 · n)``-th
  smallest value; the median is ``P50`` (the lower middle value when ``n`` is even). Figures in
  seconds are exact ``Decimal`` values.
- Percentages are ``Decimal`` in ``0..100``; money is summed in integer cents and returned as ``Decimal``.

Every metric is registered (:func:`metric`, :data:`METRICS`): a count over a :class:`Scope` (frames,
subject, period) returning a :class:`Tally`, with its name, unit, the commitment kind it measures and how
a commitment's clause becomes its parameters (:meth:`Metric.for_commitment`). Calling a metric turns the
tally into a :class:`Measurement` the same way for all: target, attainment, status. A new metric is its
count function under ``@metric(...)``; :func:`metric_for` finds the one for a commitment kind.

Status (``rules`` = :class:`StatusRules`, decided by :func:`standing`; each figure also carries its
``pace``, the ratio graded):

- ``cannot_be_met`` before the end of the period when no later lead can bring the figure back: a
  percentage target of 100% after a lead failed for good (data missing at handoff, a rejection, a
  breached clock). A count, amount, lower percentage or duration stays reachable while leads may come.
- ``not_enough_data``: no figure, or a percentage or duration over fewer than ``min_sample`` leads.
- Once ``now >= end``: ``met`` or ``breached`` — unless clocks of the period's leads still run, in
  which case the figure is decided only when they can no longer change it (the best it can still
  end at misses: ``breached``; the worst meets: ``met``); until then it is graded as below.
- Before the end, a count or amount that reached its target is ``met``; otherwise its pace ``actual ÷
  expected_to_date`` gives ``on_track`` (``>= on_track``), ``behind`` (``>= behind``) or ``at_risk``
  (nothing expected yet: ``on_track``). A percentage or duration meeting its target is ``on_track``,
  otherwise ``actual ÷ target`` (inverted when lower is better) is graded the same way.
- ``not_in_force`` is the service's: a period (or the part of it so far) before the agreement's start.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from leadpact.core._metrics_frames import (
    BusinessCalendarLike,
    EventFrame,
    EventKind,
    FrameError,
    LeadFrame,
    micros,
)
from leadpact.core._metrics_prep import MAX_US, Calendars, Frames, Subject, kind_mask
from leadpact.core._metrics_registry import (
    METRICS,
    Metric,
    MetricInputs,
    Scope,
    Tally,
    metric,
    metric_for,
    share_bounds,
)
from leadpact.core._metrics_status import (
    DECIMALS,
    MICRO,
    STATUSES,
    Evidence,
    Measurement,
    MetricName,
    Status,
    StatusRules,
    Unit,
    standing,
)
from leadpact.core._windows import BusinessDaysCalendar, Window, window_days, window_fixed_us
from leadpact.core.durations import BusinessDuration

if TYPE_CHECKING:
    from leadpact.core.agreement import Commitment

__all__ = [
    "METRICS",
    "STATUSES",
    "BusinessCalendarLike",
    "BusinessDuration",
    "Calendars",
    "EventFrame",
    "EventKind",
    "Evidence",
    "FrameError",
    "Frames",
    "Headline",
    "LeadFrame",
    "Measurement",
    "Metric",
    "MetricInputs",
    "MetricName",
    "Scope",
    "Stage",
    "Status",
    "StatusRules",
    "Subject",
    "Tally",
    "Unit",
    "Window",
    "acceptance_rate",
    "attempts_within",
    "conversion",
    "decision_latency",
    "feedback_completeness",
    "handoff_completeness",
    "lead_volume",
    "metric",
    "metric_for",
    "nearest_rank",
    "pipeline_amount",
    "speed_to_lead",
    "standing",
    "won_amount",
]

Headline = Literal["percent_within", "median", "p90"]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Number = Decimal | int


def nearest_rank(values: npt.NDArray[np.int64], p: int) -> int | None:
    """The nearest-rank ``p``-th percentile (``ceil(p/100·n)``-th smallest); ``None`` when empty.

    >>> nearest_rank(np.array([40, 10, 30, 20]), 50), nearest_rank(np.array([40, 10, 30, 20]), 90)
    (20, 40)
    """
    n = int(values.shape[0])
    if n == 0:
        return None
    if not 0 < p <= 100:
        raise ValueError(f"percentile {p}: must be in 1..100")
    k = (p * n + 99) // 100
    return int(np.partition(values, k - 1)[k - 1])


def _median_p90(values: npt.NDArray[np.int64]) -> tuple[int | None, int | None]:
    """Nearest-rank P50 and P90 with one partition."""
    n = int(values.shape[0])
    if n == 0:
        return None, None
    k50, k90 = (50 * n + 99) // 100 - 1, (90 * n + 99) // 100 - 1
    part = np.partition(values, [k50, k90])
    return int(part[k50]), int(part[k90])


_Rows = IntArray | Callable[[], IntArray]


class _Groups:
    """Lead rows grouped by a small code, computed only when some group is first read."""

    __slots__ = ("_codes", "_leads", "_parts", "_rows", "counts")

    def __init__(self, leads: IntArray, rows: IntArray, codes: npt.NDArray[np.int8], n: int) -> None:
        self._leads, self._rows, self._codes = leads, rows, codes
        if codes.shape[0] > 20_000:  # a compare per code beats bincount's widening copy on long columns
            self.counts = np.array([np.count_nonzero(codes == k) for k in range(n)], dtype=np.int64)
        else:
            self.counts = np.bincount(codes, minlength=n).astype(np.int64)
        self._parts: list[IntArray] | None = None

    def part(self, k: int) -> IntArray:
        if self._parts is None:
            order = np.argsort(self._codes, kind="stable")  # 8-bit keys: a radix sort
            grouped = self._leads[self._rows[order]]
            bounds = [0, *np.cumsum(self.counts).tolist()]
            self._parts = [grouped[bounds[j] : bounds[j + 1]] for j in range(len(bounds) - 1)]
        return self._parts[k]


def _split(
    frames: Frames, rows: IntArray, codes: npt.NDArray[np.int8], names: tuple[str, ...]
) -> tuple[dict[str, _Rows], IntArray]:
    """The handoff rows' leads grouped by code (``names[code]``), in time order, and the group counts."""
    groups = _Groups(frames.h_lead, rows, codes, len(names))
    return {name: functools.partial(groups.part, k) for k, name in enumerate(names)}, groups.counts


def _seconds(us: int | None) -> Decimal | None:
    return None if us is None else (Decimal(us) * MICRO)


def _percent(numerator: int, denominator: int) -> Decimal | None:
    if denominator == 0:
        return None
    return DECIMALS.divide(Decimal(numerator * 100), Decimal(denominator))


_us = micros


_WindowUs = int | IntArray  # one window for every handoff, or one per handoff (business days)


def _window_key(window: Window) -> tuple[Hashable, int | None, int | None]:
    """A cache key, the fixed window in µs (``None`` for business days) and the business days."""
    fixed = window_fixed_us(window)
    if fixed is not None:
        return fixed, fixed, None
    days = window_days(window)
    assert days is not None
    return ("bd", days), None, days


def _day_windows(frames: Frames, calendars: Calendars, begin_us: IntArray, days: int) -> IntArray:
    """Per handoff, the business µs from ``begin`` to the same business time ``days`` business days on."""
    n_days = np.full(frames.n_handoffs, days, dtype=np.int64)
    return _business(frames, calendars, begin_us, n_days, how="day_spans")


_NO_IDS = np.zeros(0, dtype=np.int64)
_NO_IDS.setflags(write=False)


def _split_duplicates(frames: Frames, rows: IntArray, lead_of_row: IntArray) -> tuple[IntArray, IntArray]:
    """Rows kept, and the leads left out as duplicates (usually none: then no copy)."""
    is_dup = frames.cached(
        ("duplicate rows", id(lead_of_row)), lead_of_row, lambda: frames.leads.duplicate_of[lead_of_row] >= 0
    )
    dup = is_dup[rows]
    if not dup.any():
        return rows, _NO_IDS
    return rows[~dup], lead_of_row[rows[dup]]


# --- volume -------------------------------------------------------------------------------------------


@metric("lead_volume", unit="count", kind="volume")
def lead_volume(scope: Scope) -> Tally:
    """Unique leads handed over in ``[start, end)`` that met the definition at handoff.

    Left out, in this order: duplicates, upheld disputes, leads that missed the definition; a lead
    whose first handoff in the period follows a ``recycled`` event is counted apart (``recycled``).
    """
    frames = scope.frames
    rows = frames.all_handoff_rows(scope.subject, *scope.bounds)
    codes = frames.cached("volume", None, lambda: _volume_codes(frames))[rows]
    evidence, counts = _split(frames, rows, codes, _VOLUME)
    figures = {"recycled": int(counts[1]), "handed_over": int(rows.shape[0])}
    return Tally(Decimal(int(counts[0])), int(rows.shape[0]), evidence, figures)


_VOLUME = ("counted", "recycled", "excluded_definition", "excluded_disputed", "excluded_duplicate")


def _volume_codes(frames: Frames) -> npt.NDArray[np.int8]:
    """Per handoff, its volume bucket: the first that applies, from duplicate back to counted."""
    leads = frames.leads
    codes = np.zeros(frames.n_handoffs, dtype=np.int8)
    codes[frames.h_recycled] = 1
    codes[~leads.met_definition[frames.h_lead]] = 2
    codes[leads.disputed_upheld[frames.h_lead]] = 3
    codes[frames.h_dup] = 4
    return codes


# --- decisions ----------------------------------------------------------------------------------------


def _decisions(frames: Frames) -> IntArray:
    def build() -> IntArray:
        decided = (frames.ev_kind == EventKind.ACCEPTED) | (frames.ev_kind == EventKind.REJECTED)
        return frames.first_in_episode(decided)

    return frames.cached("decisions", None, build)


@metric("acceptance_rate", unit="percent", kind="acceptance")
def acceptance_rate(scope: Scope) -> Tally:
    """Accepted ÷ (accepted + rejected) among leads handed over in the period, in percent.

    The decision is the first ``accepted``/``rejected`` of the lead's episode; ``undecided`` leads
    are outside the sample.
    """
    frames = scope.frames
    rows, dups = scope.handoffs()

    def build() -> npt.NDArray[np.int8]:
        decision = _decisions(frames)
        kind = np.where(decision >= 0, frames.ev_kind[np.clip(decision, 0, None)], -1)
        return np.where(kind == EventKind.ACCEPTED, 0, np.where(kind == EventKind.REJECTED, 1, 2)).astype(
            np.int8
        )

    codes = frames.cached("acceptance", None, build)[rows]
    evidence, counts = _split(frames, rows, codes, ("counted", "rejected", "undecided"))
    evidence["excluded_duplicate"] = dups
    n_acc, n_rej = int(counts[0]), int(counts[1])
    figures = {"accepted": n_acc, "rejected": n_rej}
    # a lead's first decision is its decision: a rejection is final
    return Tally(_percent(n_acc, n_acc + n_rej), n_acc + n_rej, evidence, figures, failed=n_rej)


def _business(
    frames: Frames,
    calendars: Calendars,
    starts: IntArray,
    other: IntArray,
    *,
    how: Literal["elapsed", "add", "day_spans"],
) -> IntArray:
    """Per handoff, ``elapsed(start, end)``, ``add(start, duration)`` or the business time of ``n``
    business days from the start (``day_spans``), in its sales owner's calendar (µs).

    The groups come team calendar first (all rows), then each own calendar overwriting its rows.
    """
    out = np.empty(frames.n_handoffs, dtype=np.int64)
    for calendar, rows in frames.calendar_groups(calendars):
        a = starts if rows is None else starts[rows]
        b = other if rows is None else other[rows]
        if how == "elapsed":
            got = np.asarray(calendar.elapsed_many(a.view("datetime64[us]"), b.view("datetime64[us]")))
            values = got.astype("timedelta64[us]", copy=False).view(np.int64)  # copied into out below
        elif how == "day_spans":
            if not isinstance(calendar, BusinessDaysCalendar):
                raise TypeError(f"calendar {type(calendar).__name__}: cannot add business days (a bd window)")
            got = np.asarray(calendar.business_days_span_many(a.view("datetime64[us]"), b))
            values = got.astype("timedelta64[us]", copy=False).view(np.int64)
        else:
            got = np.asarray(calendar.add_many(a.view("datetime64[us]"), b.view("timedelta64[us]")))
            values = got.astype("datetime64[us]", copy=False).view(np.int64)
        if rows is None:
            out[:] = values
        else:
            out[rows] = values
    return out


@dataclass(frozen=True, slots=True)
class _Clock:
    """Per handoff: clock start and stop (MAX_US: none) times, elapsed business µs to stop or now."""

    start_us: IntArray
    stop_us: IntArray
    elapsed_us: IntArray
    started: BoolArray
    stopped: BoolArray
    codes_by_window: dict[Hashable, npt.NDArray[np.int8]] = field(default_factory=dict)
    windows_by_days: dict[int, IntArray] = field(default_factory=dict)

    def windows(self, frames: Frames, calendars: Calendars, window: Window) -> tuple[Hashable, _WindowUs]:
        """The window's cache key and its business µs (per handoff for a window in business days)."""
        key, fixed, days = _window_key(window)
        if fixed is not None:
            return key, fixed
        assert days is not None
        if days not in self.windows_by_days:
            begin = np.where(self.started, self.start_us, frames.now_us)
            self.windows_by_days[days] = _day_windows(frames, calendars, begin, days)
        return key, self.windows_by_days[days]

    def detail(self, key: Hashable, w: _WindowUs) -> npt.NDArray[np.int8]:
        """Per handoff: 0 within, 1 breached and stopped, 2 breached still open, 3 pending, 4 not started."""
        found = self.codes_by_window.get(key)
        if found is None:
            over = self.elapsed_us > w
            found = np.where(over, np.where(self.stopped, 1, 2), np.where(self.stopped, 0, 3)).astype(np.int8)
            found[~self.started] = 4
            self.codes_by_window[key] = found
        return found


def _clock(
    frames: Frames,
    calendars: Calendars,
    start_pos: IntArray,
    stop_pos: IntArray,
    *,
    start_us: IntArray | None = None,
) -> _Clock:
    """Clocks from the events at ``start_pos`` to those at ``stop_pos`` (-1: none), one per handoff."""
    started = start_pos >= 0
    start_us = frames.at_of(start_pos) if start_us is None else start_us
    stop_us = frames.at_of(stop_pos)
    now = frames.now_us
    begin = np.where(started, start_us, now)  # a clock not started has spent nothing
    end = np.maximum(np.minimum(stop_us, now), begin)
    elapsed = _business(frames, calendars, begin, end, how="elapsed")
    if frames.pause_kinds:  # paused time is left out (DESIGN §5); without pause kinds there is none
        elapsed -= frames.paused_between(calendars, begin, end)
    return _Clock(start_us, stop_us, elapsed, started, started & (stop_us != MAX_US))


def _clock_tally(
    frames: Frames,
    *,
    over: bool,
    clock: _Clock,
    calendars: Calendars,
    rows: IntArray,
    dups: IntArray,
    window: Window,
    headline: Headline,
    include_not_started: bool = False,
    extra_figures: Mapping[str, Decimal | int | None] | None = None,
) -> Tally:
    key, w = clock.windows(frames, calendars, window)
    # one gather of the detailed codes gives the buckets, the stopped clocks and the open breaches
    detail = clock.detail(key, w)[rows]
    groups = _Groups(frames.h_lead, rows, detail, 5)
    counts = groups.counts
    lead = frames.h_lead
    evidence: dict[str, _Rows] = {
        "counted": functools.partial(groups.part, 0),
        "breached": lambda: lead[rows[(detail == 1) | (detail == 2)]],  # in time order
        "pending": functools.partial(groups.part, 3),
        "not_started": functools.partial(groups.part, 4),
    }
    n_within, n_breached = int(counts[0]), int(counts[1] + counts[2])
    sample = n_within + n_breached
    stopped_elapsed = clock.elapsed_us[rows[detail <= 1]]
    median, p90 = _median_p90(stopped_elapsed)
    percent = _percent(n_within, sample)
    unit: Unit
    if headline == "percent_within":
        actual, unit, lower = percent, "percent", False
    else:
        actual, unit, lower = _seconds(median if headline == "median" else p90), "duration", True
    if not include_not_started:
        del evidence["not_started"]
    evidence["excluded_duplicate"] = dups
    figures: dict[str, Decimal | int | None] = {
        "percent_within": percent,
        "median_seconds": _seconds(median),
        "p90_seconds": _seconds(p90),
        "stopped": int(stopped_elapsed.shape[0]),
        "breached": n_breached,
        "breached_open": int(counts[2]),
    }
    if extra_figures:
        figures.update(extra_figures)
    # what can still change: a breach is final (elapsed business time only grows); after the period,
    # clocks still running can end either way — and every open clock enters a median or P90 when it stops
    n_pending = int(counts[3])
    failed: int | None = None
    bounds: tuple[Decimal | None, Decimal | None] | None = None
    if unit == "percent":
        failed = n_breached
        if over:
            bounds = share_bounds(n_within, n_breached, n_pending)
    elif over and n_pending + int(counts[2]):
        running = clock.elapsed_us[rows[(detail == 2) | (detail == 3)]]  # at least this, when they stop
        best = _median_p90(np.concatenate([stopped_elapsed, running]))
        bounds = (_seconds(best[0] if headline == "median" else best[1]), None)
    return Tally(
        actual, sample, evidence, figures, unit=unit, lower_is_better=lower, failed=failed, open_bounds=bounds
    )


def _clocked(
    commitment: Commitment, inputs: MetricInputs, starts: tuple[str, ...], default: str
) -> dict[str, Any] | None:
    """A clocked commitment's window and calendars, and its clock start when the metric takes one
    (``starts``: the ones it knows; any other is ``default``)."""
    if commitment.clock is None or inputs.window is None or inputs.calendars is None:
        return None
    found: dict[str, Any] = {"window": inputs.window, "calendars": inputs.calendars()}
    if starts:
        found["clock_start"] = commitment.clock.start if commitment.clock.start in starts else default
    return found


def _headline(inputs: MetricInputs) -> Headline:
    """A duration target measures the median; any other the share within the window."""
    return "median" if inputs.unit == "duration" else "percent_within"


def _decision_arguments(commitment: Commitment, inputs: MetricInputs) -> dict[str, Any] | None:
    found = _clocked(commitment, inputs, (), "")
    return None if found is None else {**found, "headline": _headline(inputs)}


@metric("decision_latency", unit="percent", kind="decision", arguments=_decision_arguments)
def decision_latency(
    scope: Scope, *, window: Window, calendars: Calendars, headline: Headline = "percent_within"
) -> Tally:
    """Handoff → first accept/reject in business time: % within ``window``, median, P90.

    A decision later than the window, or no decision while the window has run out by ``now``, is a
    breach (``breached``; no decision within the SLA is a breach). Undecided leads still inside the
    window are ``pending``, outside the sample. Median and P90 are over decided leads.
    """
    frames = scope.frames
    clock = frames.cached(
        "decision",
        calendars,
        lambda: _clock(frames, calendars, frames.h_pos, _decisions(frames), start_us=frames.h_at),
    )
    rows, dups = scope.handoffs()
    return _clock_tally(
        frames,
        over=scope.over,
        clock=clock,
        calendars=calendars,
        rows=rows,
        dups=dups,
        window=window,
        headline=headline,
    )


# --- speed to lead ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Speed:
    from_handoff: _Clock
    from_assigned: _Clock
    routing: _Clock


def _speed(frames: Frames, calendars: Calendars) -> _Speed:
    human = frames.episode_positions((frames.ev_kind == EventKind.CONTACT_ATTEMPT) & frames.ev_human)
    assigned = frames.first_in_episode(frames.ev_kind == EventKind.ASSIGNED)
    first_human = frames.first_of(human)
    assigned_at = assigned[frames.ep[human]]
    first_after_assigned = frames.first_of(human[(assigned_at >= 0) & (human > assigned_at)])
    return _Speed(
        from_handoff=_clock(frames, calendars, frames.h_pos, first_human, start_us=frames.h_at),
        from_assigned=_clock(frames, calendars, assigned, first_after_assigned),
        routing=_clock(
            frames, calendars, np.where(assigned >= 0, frames.h_pos, -1), assigned, start_us=frames.h_at
        ),
    )


def _speed_arguments(commitment: Commitment, inputs: MetricInputs) -> dict[str, Any] | None:
    found = _clocked(commitment, inputs, ("handed_over", "assigned"), "handed_over")
    return None if found is None else {**found, "headline": _headline(inputs)}


@metric("speed_to_lead", unit="percent", kind="first_attempt", arguments=_speed_arguments)
def speed_to_lead(
    scope: Scope,
    *,
    window: Window,
    calendars: Calendars,
    clock_start: Literal["handed_over", "assigned"] = "handed_over",
    headline: Headline = "percent_within",
) -> Tally:
    """Clock start (handoff or first assignment) → first **human** contact attempt, in business time.

    Automated attempts never count. No attempt while the window has run out by ``now`` is a breach.
    With ``clock_start="assigned"`` a lead not yet assigned is ``not_started`` (outside the sample).
    Routing delay (handoff → assigned) and rep delay (assigned → first human attempt) are reported
    apart in ``figures`` (``routing_*``, ``rep_*``, nearest-rank seconds over stopped clocks).
    """
    frames = scope.frames
    speed = frames.cached("speed", calendars, lambda: _speed(frames, calendars))
    rows, dups = scope.handoffs()
    clock = speed.from_handoff if clock_start == "handed_over" else speed.from_assigned

    def delays() -> dict[str, Decimal | int | None]:
        extra: dict[str, Decimal | int | None] = {}
        for name, part in (("routing", speed.routing), ("rep", speed.from_assigned)):
            values = part.elapsed_us[rows][part.stopped[rows]]
            part_median, part_p90 = _median_p90(values)
            extra[f"{name}_median_seconds"] = _seconds(part_median)
            extra[f"{name}_p90_seconds"] = _seconds(part_p90)
            extra[f"{name}_stopped"] = int(values.shape[0])
        return extra

    extra = frames.recall(("delays", id(calendars), scope.start, scope.end, scope.subject), delays)
    return _clock_tally(
        frames,
        over=scope.over,
        clock=clock,
        calendars=calendars,
        rows=rows,
        dups=dups,
        window=window,
        headline=headline,
        include_not_started=clock_start == "assigned",
        extra_figures=extra,
    )


# --- attempts -----------------------------------------------------------------------------------------


_ATTEMPTS = ("counted", "breached", "pending", "not_worked", "not_started")


@dataclass(frozen=True, slots=True)
class _Attempts:
    started: BoolArray
    closed: BoolArray
    in_window: IntArray
    worked: BoolArray
    codes_by_count: dict[int, npt.NDArray[np.int8]] = field(default_factory=dict)

    def codes(self, attempts: int) -> npt.NDArray[np.int8]:
        """Per handoff, the index of its bucket in ``_ATTEMPTS`` for ``attempts`` required attempts."""
        if attempts not in self.codes_by_count:
            enough = self.worked & (self.in_window >= attempts)
            codes = np.where(enough, 0, np.where(self.closed, 1, 2)).astype(np.int8)
            codes[~self.worked] = 3
            codes[~self.started] = 4
            self.codes_by_count[attempts] = codes
        return self.codes_by_count[attempts]


def _attempts(frames: Frames, calendars: Calendars, clock_start: str, window: Window) -> _Attempts:
    if clock_start == "handed_over":
        start_pos = frames.h_pos
    else:
        kind = EventKind.ASSIGNED if clock_start == "assigned" else EventKind.ACCEPTED
        start_pos = frames.first_in_episode(frames.ev_kind == kind)
    started = start_pos >= 0
    start_us = frames.h_at if clock_start == "handed_over" else frames.at_of(start_pos)
    # elapsed(start, t) <= window  <=>  t < add(start, window + 1µs): the cutoff keeps a call made
    # after a deadline that fell on a close (no business time spent since) within the window.
    begin_us = np.where(started, start_us, frames.now_us)
    _key, fixed, days = _window_key(window)
    if fixed is not None:
        after = np.full(frames.n_handoffs, fixed + 1, dtype=np.int64)
    else:
        assert days is not None
        after = _day_windows(frames, calendars, begin_us, days) + 1
    cutoff = np.where(started, _business(frames, calendars, begin_us, after, how="add"), MAX_US)
    if frames.pause_kinds:  # the cutoff moves on by the pauses that begin before it
        cutoff = np.where(started, frames.pause_extended(calendars, begin_us, after, cutoff), MAX_US)
    human = frames.episode_positions((frames.ev_kind == EventKind.CONTACT_ATTEMPT) & frames.ev_human)
    episode = frames.ep[human]
    begin = start_pos[episode]
    human, episode = human[(begin >= 0) & (human > begin)], episode[(begin >= 0) & (human > begin)]
    worked = frames.count_of(human) > 0
    in_window = frames.count_of(human[frames.ev_at[human] < cutoff[episode]])
    return _Attempts(started, cutoff <= frames.now_us, in_window, worked)


def _attempts_arguments(commitment: Commitment, inputs: MetricInputs) -> dict[str, Any] | None:
    found = _clocked(commitment, inputs, ("handed_over", "assigned", "accepted"), "handed_over")
    if found is None or commitment.clock is None:
        return None
    return {**found, "attempts": commitment.clock.attempts or 1}


@metric("attempts_within", unit="percent", kind="attempts", arguments=_attempts_arguments)
def attempts_within(
    scope: Scope,
    *,
    window: Window,
    attempts: int,
    calendars: Calendars,
    clock_start: Literal["handed_over", "assigned", "accepted"] = "handed_over",
) -> Tally:
    """Leads with at least ``attempts`` human attempts within ``window`` ÷ leads worked, in percent.

    *Worked* = at least one human attempt after the clock start in the episode. A worked lead short
    of attempts is ``breached`` once its window is over, ``pending`` before; ``not_worked`` and
    ``not_started`` leads are outside the sample.
    """
    if attempts < 1:
        raise ValueError(f"attempts {attempts}: must be at least 1")
    frames = scope.frames
    key = _window_key(window)[0]
    table = frames.cached(
        ("attempts", clock_start, key),
        calendars,
        lambda: _attempts(frames, calendars, clock_start, window),
    )
    rows, dups = scope.handoffs()
    codes = table.codes(attempts)[rows]
    evidence, counts = _split(frames, rows, codes, _ATTEMPTS)
    evidence["excluded_duplicate"] = dups
    n_ok, n_short = int(counts[0]), int(counts[1])
    figures = {"worked": int(counts[0] + counts[1] + counts[2])}
    # short of attempts when the window is over is final; a pending lead may still get its attempts
    bounds = share_bounds(n_ok, n_short, int(counts[2])) if scope.over else None
    return Tally(
        _percent(n_ok, n_ok + n_short), n_ok + n_short, evidence, figures, failed=n_short, open_bounds=bounds
    )


# --- handoff and feedback completeness ------------------------------------------------------------------


def _handoff_arguments(commitment: Commitment, inputs: MetricInputs) -> dict[str, Any]:
    return {"fields": [f.field for f in commitment.fields]}


@metric("handoff_completeness", unit="percent", kind="handoff", arguments=_handoff_arguments)
def handoff_completeness(scope: Scope, *, fields: Sequence[str] | None = None) -> Tally:
    """Leads handed over in the period with every required field ÷ leads handed over, in percent.

    ``fields`` defaults to every contract field of the lead frame; per field, ``missing_field:<name>``
    evidence and a ``missing:<name>`` count in ``figures`` show which fields are most often missing.
    """
    frames = scope.frames
    names = frames.leads.field_names if fields is None else tuple(fields)
    unknown = [name for name in names if name not in frames.leads.field_names]
    if unknown:
        raise ValueError(f"handoff fields {unknown}: not in the lead frame's contract fields")
    columns = [frames.leads.field_names.index(name) for name in names]
    if len(names) > 63:
        raise ValueError(f"handoff fields: {len(names)} fields, at most 63 are supported")
    rows, dups = scope.handoffs()

    def build() -> npt.NDArray[np.uint64]:
        """Per handoff, bit ``j`` set when field ``names[j]`` was missing."""
        present = frames.leads.fields_present
        per_lead = np.zeros(present.shape[0], dtype=np.uint64)
        for j, column in enumerate(columns):
            per_lead |= (~present[:, column]).astype(np.uint64) << np.uint64(j)
        bits: npt.NDArray[np.uint64] = per_lead[frames.h_lead]
        return bits

    bits = frames.cached(("handoff", names), None, build)[rows]
    complete = bits == 0
    lead = frames.h_lead
    evidence: dict[str, _Rows] = {
        "counted": functools.partial(lambda c: lead[rows[c]], complete),
        "excluded_duplicate": dups,
    }
    figures: dict[str, Decimal | int | None] = {}
    for j, name in enumerate(names):
        gone = (bits & np.uint64(1 << j)) != 0
        evidence[f"missing_field:{name}"] = functools.partial(lambda g: lead[rows[g]], gone)
        figures[f"missing:{name}"] = int(np.count_nonzero(gone))
    n = int(rows.shape[0])
    n_complete = int(np.count_nonzero(complete))
    # what a lead lacked at its handoff it lacked for good
    return Tally(_percent(n_complete, n), n, evidence, figures, failed=n - n_complete)


_CLOSING = (EventKind.REJECTED, EventKind.LOST, EventKind.WON)
_FEEDBACK_CLOCK = ("counted", "late_reason", "missing_reason", "pending", "not_started")


def _valid_reason(frames: Frames, valid_key: tuple[int, ...] | None) -> BoolArray:
    reason = frames.ev_reason
    if valid_key is None:
        ok: BoolArray = reason >= 0
        return ok
    if valid_key and valid_key == tuple(range(valid_key[0], valid_key[-1] + 1)):  # the usual 0..n-1
        ok = reason >= valid_key[0]
        ok &= reason <= valid_key[-1]
        return ok
    return np.isin(reason, np.asarray(valid_key, dtype=np.int32))


def _kind_mask(frames: Frames, kinds: Sequence[int]) -> BoolArray:
    """Where the event's kind is one of ``kinds``: a comparison per kind for a few, else one table
    lookup per event (``np.isin`` sorts)."""
    if all(-(1 << 15) <= int(k) < (1 << 15) for k in kinds):  # else: wrapped to 16 bits, as below
        return kind_mask(frames.ev_kind, kinds)
    table = np.zeros(1 << 16, dtype=np.bool_)
    table[np.asarray(kinds, dtype=np.int64) & 0xFFFF] = True
    mask: BoolArray = table[frames.ev_kind.astype(np.int16, copy=False).view(np.uint16)]
    return mask


def _feedback_clock(
    frames: Frames,
    calendars: Calendars,
    *,
    clock_start: str,
    stop_kinds: tuple[int, ...],
    valid_key: tuple[int, ...] | None,
) -> _Clock:
    """Per handoff: clock start → first later event of a stop kind with a valid reason, pauses left out."""
    if clock_start == "handed_over":
        start_pos = frames.h_pos
    else:
        kind = EventKind.ASSIGNED if clock_start == "assigned" else EventKind.ACCEPTED
        start_pos = frames.first_in_episode(frames.ev_kind == kind)
    given = _kind_mask(frames, stop_kinds) & _valid_reason(frames, valid_key)
    pos = frames.episode_positions(given)
    begin_of = start_pos[frames.ep[pos]]
    stop_pos = frames.first_of(pos[(begin_of >= 0) & (pos > begin_of)])
    started = start_pos >= 0
    start_us = frames.h_at if clock_start == "handed_over" else frames.at_of(start_pos)
    stop_us = frames.at_of(stop_pos)
    begin = np.where(started, start_us, frames.now_us)
    end = np.maximum(np.minimum(stop_us, frames.now_us), begin)
    elapsed = _business(frames, calendars, begin, end, how="elapsed")
    if frames.pause_kinds:  # paused time is left out (DESIGN §5); without pause kinds there is none
        elapsed -= frames.paused_between(calendars, begin, end)
    return _Clock(start_us, stop_us, elapsed, started, started & (stop_us != MAX_US))


def _feedback_arguments(commitment: Commitment, inputs: MetricInputs) -> dict[str, Any] | None:
    found: dict[str, Any] = {"valid_reasons": range(inputs.reason_codes)}
    if commitment.clock is not None:  # a reason within the clock's window (pending while it runs)
        within = _clocked(commitment, inputs, ("handed_over", "assigned", "accepted"), "accepted")
        if within is None:
            return None
        found.update(within)
    return found


@metric(
    "feedback_completeness",
    unit="percent",
    kind="feedback",
    arguments=_feedback_arguments,
    # without a clock it counts the period's closing events, whenever the lead was handed over
    events=lambda commitment: () if commitment.clock is not None else ("rejected", "lost", "won"),
)
def feedback_completeness(
    scope: Scope,
    *,
    closing: tuple[EventKind, ...] = _CLOSING,
    valid_reasons: Sequence[int] | None = None,
    window: Window | None = None,
    calendars: Calendars | None = None,
    clock_start: Literal["handed_over", "assigned", "accepted"] = "accepted",
    stop: tuple[EventKind, ...] = (EventKind.FEEDBACK,),
) -> Tally:
    """Leads with a valid reason code ÷ leads that owe one, in percent.

    A reason is valid when its code is in ``valid_reasons`` (default: any code ``>= 0``).

    **Without a window**: the leads are those closed or rejected in ``[start, end)`` (through their
    last ``closing`` event in the period); the reason is on that event or a later ``feedback`` event
    (by ``now``). Leads without one are ``missing_reason``.

    **With a window** (the commitment's clock, e.g. ``15bd`` from ``accepted``, stopped by
    ``feedback``): the leads are the period's handoffs (the cohort, as for the other clocks); the
    clock runs from the first ``clock_start`` event of the episode to the first later event of a
    ``stop`` or ``closing`` kind carrying a valid reason, in business time of the sales owner's
    calendar (``calendars``), with the business time inside the frames' pauses left out (as for
    every clock: ``Frames(pause_kinds=…)``). Buckets: ``counted`` (a valid reason within the
    window), ``late_reason`` (after it), ``missing_reason`` (none and the window is over),
    ``pending`` (none yet, window still running: not a failure, outside the sample),
    ``not_started`` (no ``clock_start`` event, e.g. a rejected lead for a clock from acceptance).
    """
    frames = scope.frames
    kinds = tuple(sorted(int(k) for k in closing))
    valid_key = None if valid_reasons is None else tuple(sorted(int(r) for r in valid_reasons))
    if window is not None:
        if calendars is None:
            raise ValueError("feedback completeness with a window: calendars are required")
        cals = calendars
        stop_kinds = tuple(sorted({int(k) for k in (*stop, *closing)}))
        clock = frames.cached(
            ("feedback clock", clock_start, stop_kinds, valid_key),
            cals,
            lambda: _feedback_clock(
                frames, cals, clock_start=clock_start, stop_kinds=stop_kinds, valid_key=valid_key
            ),
        )
        rows, dups = scope.handoffs()
        key, w = clock.windows(frames, cals, window)
        # within; breached with a (late) reason; breached without one; pending; not started
        evidence, counts = _split(frames, rows, clock.detail(key, w)[rows], _FEEDBACK_CLOCK)
        evidence["excluded_duplicate"] = dups
        n_ok = int(counts[0])
        sample = n_ok + int(counts[1]) + int(counts[2])
        figures = {
            "late_reason": int(counts[1]),
            "missing_reason": int(counts[2]),
            "pending": int(counts[3]),
            "not_started": int(counts[4]),
        }
        # a reason after the window is late for good; one missing when the window is over can only be late
        failed = int(counts[1]) + int(counts[2])
        bounds = share_bounds(n_ok, failed, int(counts[3])) if scope.over else None
        return Tally(_percent(n_ok, sample), sample, evidence, figures, failed=failed, open_bounds=bounds)

    def build() -> BoolArray:
        pos, _ = frames.event_index(kinds, last_per_period=True)
        ok = _valid_reason(frames, valid_key)
        later = frames.later_in_lead(pos, ok & (frames.ev_kind == EventKind.FEEDBACK))
        valid: BoolArray = ok[pos] | later
        return valid

    valid_all = frames.cached(("feedback", kinds, valid_key), None, build)
    _pos, index = frames.event_index(kinds, last_per_period=True)
    rows, dups = _split_duplicates(frames, index.select(scope.subject, *scope.bounds), index.lead)
    valid = valid_all[rows]
    n = int(rows.shape[0])
    lead = index.lead
    buckets: dict[str, _Rows] = {
        "counted": lambda: lead[rows[valid]],
        "missing_reason": lambda: lead[rows[~valid]],
        "excluded_duplicate": dups,
    }
    return Tally(_percent(int(np.count_nonzero(valid)), n), n, buckets, {"closed_or_rejected": n})


# --- conversion and money ---------------------------------------------------------------------------------

Stage = Literal["accepted", "qualified", "opportunity", "won"]
#: A stage is reached by an event of that stage or of any later one (the waterfall only moves forward:
#: a lead qualified without an explicit acceptance was accepted).
_STAGES: dict[str, tuple[int, ...]] = {
    "accepted": (EventKind.ACCEPTED, EventKind.QUALIFIED, EventKind.OPPORTUNITY, EventKind.WON),
    "qualified": (EventKind.QUALIFIED, EventKind.OPPORTUNITY, EventKind.WON),
    "opportunity": (EventKind.OPPORTUNITY, EventKind.WON),
    "won": (EventKind.WON,),
}


def _conversion_arguments(commitment: Commitment, inputs: MetricInputs) -> dict[str, Any] | None:
    return None if commitment.outcome is None else {"stage": commitment.outcome}


@metric("conversion", unit="percent", kind="conversion", arguments=_conversion_arguments)
def conversion(scope: Scope, *, stage: Stage) -> Tally:
    """Share of the period's MQL cohort (handed over in ``[start, end)``) reaching ``stage`` by ``now``.

    Stages (DOMAIN's waterfall): ``accepted`` (SAL), ``qualified`` (SQL), ``opportunity``, ``won``.
    Reaching is any later event of the lead at that stage or beyond (``qualified`` also counts
    ``opportunity`` and ``won``: stages only move forward). The cohort is the period the lead became
    MQL, not the period of the stage event. Leads not reaching it: ``not_converted``.
    """
    if stage not in _STAGES:
        raise ValueError(f"conversion stage {stage!r}: must be one of {', '.join(_STAGES)}")
    frames = scope.frames
    kinds = _STAGES[stage]

    def build() -> BoolArray:
        return frames.later_in_lead_of_handoffs(_kind_mask(frames, kinds))

    reached_all = frames.cached(("conversion", stage), None, build)
    rows, dups = scope.handoffs()
    reached = reached_all[rows]
    n = int(rows.shape[0])
    lead = frames.h_lead
    evidence: dict[str, _Rows] = {  # looked up when read: most figures are never drilled into
        "counted": lambda: lead[rows[reached]],
        "not_converted": lambda: lead[rows[~reached]],
        "excluded_duplicate": dups,
    }
    return Tally(_percent(int(np.count_nonzero(reached)), n), n, evidence, {"cohort": n})


def _amount(scope: Scope, kind: EventKind) -> Tally:
    """The sum of each lead's last ``kind`` event's amount in the period, exact in cents → Decimal."""
    frames = scope.frames
    pos, index = frames.event_index((int(kind),), last_per_period=True)
    rows, dups = _split_duplicates(frames, index.select(scope.subject, *scope.bounds), index.lead)
    cents = int(frames.ev_amount[pos[rows]].sum(dtype=np.int64))
    lead = index.lead
    evidence: dict[str, _Rows] = {"counted": lambda: lead[rows], "excluded_duplicate": dups}
    return Tally(Decimal(cents).scaleb(-2), int(rows.shape[0]), evidence, {"cents": cents})


@metric("pipeline_amount", unit="amount", kind="pipeline", events=("opportunity",))
def pipeline_amount(scope: Scope) -> Tally:
    """Sum of opportunity amounts in the period (each lead's last ``opportunity`` event), exact.

    >>> # actual is Decimal cents / 100, e.g. Decimal('1234.56')
    """
    return _amount(scope, EventKind.OPPORTUNITY)


@metric("won_amount", unit="amount", kind="revenue", events=("won",))
def won_amount(scope: Scope) -> Tally:
    """Sum of won amounts in the period (each lead's last ``won`` event), exact in cents → Decimal."""
    return _amount(scope, EventKind.WON)
