"""SLA clocks: per open lead and running commitment, due at, paused, elapsed, thresholds, state.

Rules (DESIGN §5):

- Elapsed is **business time** in the calendar from the clock's start to its stop (or ``now``),
  minus the business time inside pauses; a stop or pause after ``now`` is not yet known.
- The **window** is business time: a ``timedelta`` (or ``90m``, ``8h``), the same for every clock, or
  whole business days (``BusinessDuration`` ``1bd``, ``10bd``): the business time from the start to the
  same business time of day ``N`` business days on (clipped to a shorter day's close, see
  :meth:`~leadpact.core.calendar.BusinessCalendar.add_business_days`), so each clock has its own
  window (``ClockFrame.window``). Handed over Tuesday 15:00 on a 9–17 calendar, ``1bd`` is due
  Wednesday 15:00; handed over after Tuesday's close or at the weekend, the day starts at the next
  opening (``1bd`` runs to the close of the next business day).
- **Met iff elapsed <= window**; a breach is elapsed > window, never a wall-clock comparison (a
  call at 17:30 after a 17:00 deadline cost no business time and is on time).
- **Deadline**: ``due_at = add(start, window + paused)`` where ``paused`` is the business time of the
  pauses that begin before the window's active time ran out, so that elapsed-minus-paused equals the
  window at ``due_at``. A pause still open at ``now`` counts as if it ended at ``now`` (the deadline
  if the clock resumed now).
- **Pauses** (see :func:`pause_intervals`): an event of a pause kind starts a pause, the lead's next
  event of any other kind (for instance :attr:`EventKind.RESUMED`) ends it. Pauses of one clock must
  not overlap.
- A threshold ``t`` is **crossed** iff elapsed > ``t × window`` (so ``1.0`` crossed = breached).
- **State**, first that applies: stopped → ``met``/``breached``; elapsed > window → ``breached``;
  inside a pause at ``now`` → ``paused``; a threshold below 1 crossed → ``at_risk``; else ``running``.

>>> from leadpact.core.calendar import BusinessCalendar
>>> cal = BusinessCalendar.from_spec({"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}})
>>> friday = datetime(2026, 3, 6, 16, 30, tzinfo=UTC)
>>> clock = clock_for_lead(started_at=friday, stopped_at=None, pauses=(), window=timedelta(hours=1),
...                        thresholds=(0.8, 1.0), calendar=cal, now=friday + timedelta(minutes=20))
>>> clock.due_at.isoformat(), clock.state.label
('2026-03-09T09:30:00+00:00', 'running')
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from leadpact.core._metrics_frames import (
    BusinessCalendarLike,
    DatetimeArray,
    EventFrame,
    TimedeltaArray,
    from_datetime64,
    to_datetime64,
)
from leadpact.core._windows import Window, window_days, window_fixed_us, windows_us

__all__ = [
    "Clock",
    "ClockError",
    "ClockFrame",
    "ClockState",
    "PauseIntervals",
    "Window",
    "clock_for_lead",
    "clocks_evaluate",
    "pause_intervals",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
_NAT = np.iinfo(np.int64).min  # NaT as int64
_ONE_US = timedelta(microseconds=1)


class ClockError(ValueError):
    """Clock inputs that cannot be evaluated (overlapping pauses, bad window or thresholds)."""


class ClockState(enum.IntEnum):
    """State of an SLA clock; ``label`` is the lowercase name used in the API and on pages."""

    RUNNING = 0
    AT_RISK = 1
    PAUSED = 2
    BREACHED = 3
    MET = 4

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class PauseIntervals:
    """Flattened pause intervals ``[start, end)``: ``row`` says which lead (or clock) each belongs to."""

    row: IntArray
    start: DatetimeArray
    end: DatetimeArray  # NaT: still paused


@dataclass(frozen=True, slots=True)
class ClockFrame:
    """Evaluated clocks as columns, one row per clock (``NaT`` where a stop is absent).

    ``crossed[i, j]`` says whether clock ``i`` crossed ``thresholds[j]``; ``level`` counts them;
    ``window`` is each clock's window in business time.
    """

    started_at: DatetimeArray
    stopped_at: DatetimeArray
    due_at: DatetimeArray
    elapsed: TimedeltaArray
    paused: TimedeltaArray
    fraction: npt.NDArray[np.float64]
    thresholds: tuple[float, ...]
    crossed: BoolArray
    level: npt.NDArray[np.int8]
    paused_now: BoolArray
    state: npt.NDArray[np.int8]
    window: TimedeltaArray

    def __len__(self) -> int:
        return int(self.started_at.shape[0])

    def clock(self, i: int) -> Clock:
        """Row ``i`` as a :class:`Clock` value."""
        due = from_datetime64(self.due_at[i])
        start = from_datetime64(self.started_at[i])
        assert due is not None and start is not None
        return Clock(
            started_at=start,
            stopped_at=from_datetime64(self.stopped_at[i]),
            due_at=due,
            elapsed=timedelta(microseconds=int(self.elapsed[i].astype(np.int64))),
            paused=timedelta(microseconds=int(self.paused[i].astype(np.int64))),
            fraction=float(self.fraction[i]),
            crossed=tuple(t for t, hit in zip(self.thresholds, self.crossed[i], strict=True) if hit),
            paused_now=bool(self.paused_now[i]),
            state=ClockState(int(self.state[i])),
            window=timedelta(microseconds=int(self.window[i].astype(np.int64))),
        )


@dataclass(frozen=True, slots=True)
class Clock:
    """One lead's clock, for the lead page (same rules as :func:`clocks_evaluate`)."""

    started_at: datetime
    stopped_at: datetime | None
    due_at: datetime
    elapsed: timedelta
    paused: timedelta
    fraction: float
    crossed: tuple[float, ...]
    paused_now: bool
    state: ClockState
    window: timedelta


_Ratios = tuple[tuple[int, int], ...]


def _check(window: Window, thresholds: Sequence[float]) -> tuple[tuple[float, ...], _Ratios]:
    """The thresholds as floats and as exact ratios; refuses a bad window or bad thresholds."""
    try:
        window_fixed_us(window)
    except (TypeError, ValueError) as error:
        raise ClockError(f"clock {error}") from None
    ts = tuple(float(t) for t in thresholds)
    if any(t <= 0 for t in ts) or list(ts) != sorted(set(ts)):
        raise ClockError(f"clock thresholds {list(ts)}: must be positive and strictly increasing")
    return ts, tuple(Decimal(repr(t)).as_integer_ratio() for t in ts)


def _limits(ratios: _Ratios, w: int) -> tuple[int, ...]:
    """crossed iff elapsed > t × window; elapsed is whole µs, so compare with floor(t × window)."""
    return tuple((num * w) // den for num, den in ratios)


def _limits_many(ratios: _Ratios, w: IntArray) -> IntArray:
    """``_limits`` per clock, as an ``(n, k)`` array (exact integers, one Python step per distinct window)."""
    distinct, inverse = np.unique(w, return_inverse=True)
    table = np.array([_limits(ratios, x) for x in distinct.tolist()], dtype=np.int64)
    out: IntArray = table.reshape(distinct.shape[0], len(ratios))[inverse.reshape(-1)]
    return out


def _window_scalar(calendar: BusinessCalendarLike, start: datetime, window: Window) -> timedelta:
    fixed = window_fixed_us(window)
    if fixed is not None:
        return timedelta(microseconds=fixed)
    days = window_days(window)
    add_days = getattr(calendar, "add_business_days", None)
    if days is None or add_days is None:
        raise ClockError(f"clock window {window}: the calendar cannot add business days")
    return calendar.elapsed(start, add_days(start, days))


def _state(*, stopped: bool, elapsed: int, w: int, paused_now: bool, early_crossed: bool) -> ClockState:
    if stopped:
        return ClockState.MET if elapsed <= w else ClockState.BREACHED
    if elapsed > w:
        return ClockState.BREACHED
    if paused_now:
        return ClockState.PAUSED
    return ClockState.AT_RISK if early_crossed else ClockState.RUNNING


def _as_us(values: npt.ArrayLike, name: str) -> IntArray:
    array = np.asarray(values)
    if array.dtype.kind != "M":
        raise ClockError(f"clock {name}: dtype {array.dtype}, expected datetime64")
    return np.ascontiguousarray(array.astype("datetime64[us]")).view(np.int64)


def clocks_evaluate(
    *,
    starts: DatetimeArray,
    stops: DatetimeArray,
    pauses: PauseIntervals,
    window: Window,
    thresholds: Sequence[float],
    calendar: BusinessCalendarLike,
    now: datetime,
) -> ClockFrame:
    """Evaluate many clocks at ``now`` in one calendar; ``stops`` is ``NaT`` for open clocks.

    ``pauses.row`` indexes ``starts``. Vectorised: a fixed number of calendar calls, however many clocks.
    """
    ts, ratios = _check(window, thresholds)
    now_us = int(to_datetime64(now).astype(np.int64))
    start = _as_us(starts, "starts")
    stop = _as_us(stops, "stops")
    n = start.shape[0]
    if stop.shape != (n,):
        raise ClockError(f"clock stops: length {stop.shape}, expected {n}")
    fixed = window_fixed_us(window)
    try:
        w: IntArray = windows_us(calendar, start, window) if n else np.zeros(0, dtype=np.int64)
    except TypeError as error:
        raise ClockError(f"clock window {window}: {error}") from None
    stopped = (stop != _NAT) & (stop <= now_us)
    end = np.maximum(np.where(stopped, stop, now_us), start)

    p_row = np.asarray(pauses.row, dtype=np.int64)
    p_start = _as_us(pauses.start, "pause starts")
    p_end_raw = _as_us(pauses.end, "pause ends")
    if not (p_row.shape == p_start.shape == p_end_raw.shape):
        raise ClockError("clock pauses: row, start and end must have equal lengths")
    if p_row.shape[0] and (p_row.min() < 0 or p_row.max() >= n):
        raise ClockError(f"clock pauses: row {int(p_row[(p_row < 0) | (p_row >= n)][0])} is not a clock")
    order = np.lexsort((p_start, p_row))
    p_row, p_start, p_end_raw = p_row[order], p_start[order], p_end_raw[order]
    p_open = p_end_raw == _NAT
    p_end_inf = np.where(p_open, np.iinfo(np.int64).max, p_end_raw)
    if (p_end_inf < p_start).any():
        bad = int(np.flatnonzero(p_end_inf < p_start)[0])
        raise ClockError(f"clock pauses: pause of clock {int(p_row[bad])} ends before it starts")
    same = p_row[1:] == p_row[:-1]
    if (same & (p_start[1:] < p_end_inf[:-1])).any():
        bad = int(p_row[1:][same & (p_start[1:] < p_end_inf[:-1])][0])
        raise ClockError(f"clock pauses: pauses of clock {bad} overlap")

    lo, hi = start[p_row], end[p_row]
    a = np.clip(p_start, lo, hi)
    b = np.clip(np.minimum(p_end_inf, hi), lo, hi)
    both = calendar.elapsed_many(
        np.concatenate([lo, lo, start]).view("datetime64[us]"),
        np.concatenate([a, b, end]).view("datetime64[us]"),
    )
    offsets = np.asarray(both).astype("timedelta64[us]").view(np.int64)
    m = p_row.shape[0]
    off_a, off_b, total = offsets[:m], offsets[m : 2 * m], offsets[2 * m :]
    length = off_b - off_a
    paused = np.zeros(n, dtype=np.int64)
    np.add.at(paused, p_row, length)
    elapsed = total - paused

    # paused business time before pause k of its clock, then the pauses that move the deadline
    running = np.cumsum(length) - length
    first = np.ones(m, dtype=np.bool_)
    first[1:] = ~same
    group_base = np.maximum.accumulate(np.where(first, running, 0)) if m else running
    active_before = off_a - (running - group_base)
    moves = np.zeros(n, dtype=np.int64)
    np.add.at(moves, p_row, np.where(active_before < w[p_row], length, 0))
    due = calendar.add_many(start.view("datetime64[us]"), (w + moves).view("timedelta64[us]"))
    due_us = np.asarray(due).astype("datetime64[us]").view(np.int64)

    inside = (p_start <= now_us) & (now_us < p_end_inf) & ~stopped[p_row]
    paused_now = np.zeros(n, dtype=np.bool_)
    paused_now[p_row[inside]] = True

    if fixed is not None:
        limit_arr = np.asarray(_limits(ratios, fixed), dtype=np.int64).reshape(1, -1)
    else:
        limit_arr = _limits_many(ratios, w)
    crossed = elapsed.reshape(-1, 1) > limit_arr
    early = crossed[:, [j for j, t in enumerate(ts) if t < 1.0]].any(axis=1)
    state = np.full(n, ClockState.RUNNING, dtype=np.int8)
    state[early] = ClockState.AT_RISK
    state[paused_now] = ClockState.PAUSED
    state[elapsed > w] = ClockState.BREACHED
    state[stopped & (elapsed <= w)] = ClockState.MET

    return ClockFrame(
        started_at=start.view("datetime64[us]"),
        stopped_at=np.where(stopped, stop, _NAT).view("datetime64[us]"),
        due_at=due_us.view("datetime64[us]"),
        elapsed=elapsed.view("timedelta64[us]"),
        paused=paused.view("timedelta64[us]"),
        fraction=elapsed / w.astype(np.float64),
        thresholds=ts,
        crossed=crossed,
        level=crossed.sum(axis=1).astype(np.int8),
        paused_now=paused_now,
        state=state,
        window=w.view("timedelta64[us]"),
    )


def _dt_us(moment: datetime) -> int:
    return int(to_datetime64(moment).astype(np.int64))


def clock_for_lead(
    *,
    started_at: datetime,
    stopped_at: datetime | None,
    pauses: Sequence[tuple[datetime, datetime | None]],
    window: Window,
    thresholds: Sequence[float],
    calendar: BusinessCalendarLike,
    now: datetime,
) -> Clock:
    """One clock, evaluated with scalar calendar calls; equal to the row :func:`clocks_evaluate` gives."""
    ts, ratios = _check(window, thresholds)
    span = _window_scalar(calendar, started_at, window)
    w = span // _ONE_US
    limits = _limits(ratios, w)
    start_us, now_us = _dt_us(started_at), _dt_us(now)
    stopped = stopped_at is not None and _dt_us(stopped_at) <= now_us
    end_dt = stopped_at if stopped and stopped_at is not None else now
    if _dt_us(end_dt) < start_us:
        end_dt = started_at

    def clamp(moment: datetime) -> datetime:
        return min(max(moment, started_at), end_dt)

    previous_end: datetime | None = None
    paused = timedelta(0)
    moves = timedelta(0)
    paused_now = False
    for p_start, p_end in sorted(pauses, key=lambda p: _dt_us(p[0])):
        if p_end is not None and p_end < p_start:
            raise ClockError("clock pauses: pause ends before it starts")
        if previous_end is not None and p_start < previous_end:
            raise ClockError("clock pauses: pauses overlap")
        previous_end = datetime.max.replace(tzinfo=UTC) if p_end is None else p_end
        if not stopped and p_start <= now and (p_end is None or now < p_end):
            paused_now = True
        a = clamp(p_start)
        b = clamp(end_dt if p_end is None else p_end)
        length = calendar.elapsed(a, b)
        if calendar.elapsed(started_at, a) - paused < span:
            moves += length
        paused += length
    elapsed = calendar.elapsed(started_at, end_dt) - paused
    e_us = elapsed // _ONE_US
    crossed = tuple(t for t, limit in zip(ts, limits, strict=True) if e_us > limit)
    return Clock(
        started_at=started_at,
        stopped_at=stopped_at if stopped else None,
        due_at=calendar.add(started_at, span + moves).astimezone(UTC),
        elapsed=elapsed,
        paused=paused,
        fraction=e_us / w,
        crossed=crossed,
        paused_now=paused_now,
        state=_state(
            stopped=stopped,
            elapsed=e_us,
            w=w,
            paused_now=paused_now,
            early_crossed=any(t < 1.0 for t in crossed),
        ),
        window=span,
    )


def pause_intervals(
    events: EventFrame,
    *,
    pause_kinds: Sequence[int],
) -> PauseIntervals:
    """Pause intervals from events: a run of pause-kind events starts a pause at its first event;
    the lead's next event of another kind ends it (``NaT`` end: still paused). ``row`` is the lead index.

    Events sort by (lead, time), ties in input order.
    """
    at = events.occurred_at.view(np.int64)
    order = np.lexsort((at, events.lead))
    lead, t = events.lead[order], at[order]
    is_p = np.isin(events.kind[order], np.asarray(list(pause_kinds), dtype=np.int16))
    n = lead.shape[0]
    new_lead = np.ones(n, dtype=np.bool_)
    new_lead[1:] = lead[1:] != lead[:-1]
    prev_p = np.zeros(n, dtype=np.bool_)
    prev_p[1:] = is_p[:-1]
    begins = np.flatnonzero(is_p & (new_lead | ~prev_p))
    # the run's end: the first later position that is not a pause kind or starts another lead
    stops_at = np.flatnonzero(~is_p | new_lead)
    nxt = np.searchsorted(stops_at, begins, "right")
    has_next = nxt < stops_at.shape[0]
    end_pos = np.where(has_next, stops_at[np.minimum(nxt, max(stops_at.shape[0] - 1, 0))], -1)
    ends = np.full(begins.shape[0], _NAT, dtype=np.int64)
    ok = has_next & (end_pos >= 0)
    ok[ok] = lead[end_pos[ok]] == lead[begins[ok]]
    ends[ok] = t[end_pos[ok]]
    return PauseIntervals(
        row=lead[begins].astype(np.int64),
        start=t[begins].view("datetime64[us]"),
        end=ends.view("datetime64[us]"),
    )
