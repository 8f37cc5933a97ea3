"""SLA clocks: hand-built scenarios and the vectorised path against the scalar one and against the rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadpact.core.calendar import BusinessCalendar
from leadpact.core.clocks import (
    Clock,
    ClockError,
    ClockState,
    PauseIntervals,
    clock_for_lead,
    clocks_evaluate,
    pause_intervals,
)
from leadpact.core.metrics import EventFrame, EventKind

OFFICE = BusinessCalendar.from_spec({"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}})
AMSTERDAM = BusinessCalendar.from_spec(
    {
        "timezone": "Europe/Amsterdam",
        "hours": {"mon-fri": ["09:00-12:30", "13:00-17:30"]},
        "holidays": {"country": "NL"},
    }
)
HOUR = timedelta(hours=1)
THRESHOLDS = (0.8, 1.0, 1.5)
FRIDAY_1630 = datetime(2026, 3, 6, 16, 30, tzinfo=UTC)
MONDAY_0930 = datetime(2026, 3, 9, 9, 30, tzinfo=UTC)


def dt64(moment: datetime | None) -> np.datetime64:
    if moment is None:
        return np.datetime64("NaT", "us")
    return np.datetime64(moment.astimezone(UTC).replace(tzinfo=None), "us")


def evaluate_many(
    clocks: list[tuple[datetime, datetime | None, list[tuple[datetime, datetime | None]]]],
    *,
    window: timedelta,
    calendar: BusinessCalendar,
    now: datetime,
    thresholds: tuple[float, ...] = THRESHOLDS,
) -> list[Clock]:
    rows = [i for i, (_, _, pauses) in enumerate(clocks) for _ in pauses]
    flat = [p for _, _, pauses in clocks for p in pauses]
    frame = clocks_evaluate(
        starts=np.array([dt64(c[0]) for c in clocks], dtype="datetime64[us]"),
        stops=np.array([dt64(c[1]) for c in clocks], dtype="datetime64[us]"),
        pauses=PauseIntervals(
            row=np.array(rows, dtype=np.int64),
            start=np.array([dt64(p[0]) for p in flat], dtype="datetime64[us]"),
            end=np.array([dt64(p[1]) for p in flat], dtype="datetime64[us]"),
        ),
        window=window,
        thresholds=thresholds,
        calendar=calendar,
        now=now,
    )
    return [frame.clock(i) for i in range(len(frame))]


def both(
    start: datetime,
    stop: datetime | None,
    pauses: list[tuple[datetime, datetime | None]],
    *,
    window: timedelta = HOUR,
    calendar: BusinessCalendar = OFFICE,
    now: datetime,
) -> Clock:
    scalar = clock_for_lead(
        started_at=start,
        stopped_at=stop,
        pauses=pauses,
        window=window,
        thresholds=THRESHOLDS,
        calendar=calendar,
        now=now,
    )
    (vector,) = evaluate_many([(start, stop, pauses)], window=window, calendar=calendar, now=now)
    assert vector == scalar
    return scalar


class TestDeadlineAndBreach:
    def test_friday_1630_with_one_business_hour_is_due_monday_0930(self):
        clock = both(FRIDAY_1630, None, [], now=FRIDAY_1630 + timedelta(minutes=10))
        assert clock.due_at == MONDAY_0930
        assert clock.state is ClockState.RUNNING

    def test_contact_one_second_before_the_deadline_is_met(self):
        clock = both(FRIDAY_1630, MONDAY_0930 - timedelta(seconds=1), [], now=MONDAY_0930 + HOUR)
        assert clock.state is ClockState.MET
        assert clock.elapsed == timedelta(minutes=59, seconds=59)

    def test_contact_exactly_at_the_deadline_is_met(self):
        clock = both(FRIDAY_1630, MONDAY_0930, [], now=MONDAY_0930 + HOUR)
        assert clock.state is ClockState.MET
        assert clock.elapsed == HOUR

    def test_contact_one_microsecond_late_is_breached(self):
        clock = both(FRIDAY_1630, MONDAY_0930 + timedelta(microseconds=1), [], now=MONDAY_0930 + HOUR)
        assert clock.state is ClockState.BREACHED
        assert clock.crossed == (0.8, 1.0)

    def test_a_call_after_a_deadline_that_fell_on_close_cost_no_business_time(self):
        start = datetime(2026, 3, 9, 16, 0, tzinfo=UTC)  # Monday 16:00, due 17:00
        clock = both(start, datetime(2026, 3, 9, 17, 30, tzinfo=UTC), [], now=start + timedelta(days=1))
        assert clock.due_at == datetime(2026, 3, 9, 17, 0, tzinfo=UTC)
        assert clock.state is ClockState.MET

    def test_an_open_clock_past_the_window_is_breached_without_a_stop(self):
        clock = both(FRIDAY_1630, None, [], now=MONDAY_0930 + timedelta(minutes=1))
        assert clock.state is ClockState.BREACHED
        assert clock.stopped_at is None

    def test_a_stop_after_now_is_not_yet_known(self):
        clock = both(FRIDAY_1630, MONDAY_0930, [], now=FRIDAY_1630 + timedelta(minutes=5))
        assert clock.stopped_at is None
        assert clock.state is ClockState.RUNNING

    def test_amsterdam_lunch_break_and_dst_are_business_time_not_wall_time(self):
        ams = ZoneInfo("Europe/Amsterdam")
        start = datetime(2026, 3, 27, 17, 0, tzinfo=ams)  # Friday before the clocks go forward
        clock = both(start, None, [], window=HOUR, calendar=AMSTERDAM, now=start)
        assert clock.due_at == datetime(2026, 3, 30, 9, 30, tzinfo=ams)


class TestPauses:
    def test_a_pause_of_two_business_hours_moves_the_deadline_by_two_business_hours(self):
        start = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # Monday 09:00, 1h window
        pause = (datetime(2026, 3, 9, 9, 15, tzinfo=UTC), datetime(2026, 3, 9, 11, 15, tzinfo=UTC))
        clock = both(start, None, [pause], now=datetime(2026, 3, 9, 11, 30, tzinfo=UTC))
        assert clock.due_at == datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
        assert clock.paused == 2 * HOUR
        assert clock.elapsed == timedelta(minutes=30)

    def test_a_pause_across_a_deadline_at_close_moves_it_into_the_next_day(self):
        start = datetime(2026, 3, 9, 16, 0, tzinfo=UTC)
        pause = (datetime(2026, 3, 9, 16, 30, tzinfo=UTC), datetime(2026, 3, 10, 10, 0, tzinfo=UTC))
        clock = both(start, None, [pause], now=datetime(2026, 3, 10, 10, 0, tzinfo=UTC))
        assert clock.paused == timedelta(hours=1, minutes=30)  # 16:30–17:00 and 09:00–10:00
        assert clock.due_at == datetime(2026, 3, 10, 10, 30, tzinfo=UTC)

    def test_a_pause_over_the_night_costs_no_business_time_and_moves_nothing(self):
        start = datetime(2026, 3, 9, 16, 30, tzinfo=UTC)
        pause = (datetime(2026, 3, 9, 18, 0, tzinfo=UTC), datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
        clock = both(start, None, [pause], now=datetime(2026, 3, 10, 9, 10, tzinfo=UTC))
        assert clock.due_at == datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
        assert clock.paused == timedelta(0)

    def test_an_open_pause_is_paused_and_the_deadline_is_as_if_resumed_now(self):
        start = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
        pause = (datetime(2026, 3, 9, 9, 30, tzinfo=UTC), None)
        clock = both(start, None, [pause], now=datetime(2026, 3, 9, 14, 0, tzinfo=UTC))
        assert clock.state is ClockState.PAUSED
        assert clock.paused_now
        assert clock.paused == timedelta(hours=4, minutes=30)
        assert clock.due_at == datetime(2026, 3, 9, 14, 30, tzinfo=UTC)

    def test_a_pause_after_the_breach_does_not_move_the_deadline(self):
        start = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
        pause = (datetime(2026, 3, 9, 11, 0, tzinfo=UTC), datetime(2026, 3, 9, 12, 0, tzinfo=UTC))
        clock = both(start, None, [pause], now=datetime(2026, 3, 9, 13, 0, tzinfo=UTC))
        assert clock.due_at == datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
        assert clock.state is ClockState.BREACHED
        assert clock.elapsed == 3 * HOUR

    def test_a_pause_starting_exactly_at_the_deadline_does_not_move_it(self):
        start = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
        pause = (datetime(2026, 3, 9, 10, 0, tzinfo=UTC), datetime(2026, 3, 9, 12, 0, tzinfo=UTC))
        clock = both(start, None, [pause], now=datetime(2026, 3, 9, 12, 0, tzinfo=UTC))
        assert clock.due_at == datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
        assert clock.elapsed == HOUR
        assert clock.state is ClockState.AT_RISK

    def test_a_pause_can_push_the_deadline_onto_the_close(self):
        start = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # due 16:00 unpaused; paused 15:30–16:30
        pause = (datetime(2026, 3, 9, 15, 30, tzinfo=UTC), datetime(2026, 3, 9, 16, 30, tzinfo=UTC))
        clock = both(start, None, [pause], now=datetime(2026, 3, 9, 16, 45, tzinfo=UTC))
        assert clock.due_at == datetime(2026, 3, 9, 17, 0, tzinfo=UTC)
        assert clock.elapsed == timedelta(minutes=45)
        assert clock.state is ClockState.RUNNING

    def test_overlapping_pauses_are_refused(self):
        start = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
        pauses: list[tuple[datetime, datetime | None]] = [
            (start, start + HOUR),
            (start + timedelta(minutes=30), start + 2 * HOUR),
        ]
        with pytest.raises(ClockError, match="overlap"):
            evaluate_many([(start, None, pauses)], window=HOUR, calendar=OFFICE, now=start)
        with pytest.raises(ClockError, match="overlap"):
            clock_for_lead(
                started_at=start,
                stopped_at=None,
                pauses=pauses,
                window=HOUR,
                thresholds=THRESHOLDS,
                calendar=OFFICE,
                now=start,
            )


class TestThresholdsAndStates:
    def test_thresholds_are_crossed_in_order_as_time_passes(self):
        start = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
        minutes = [47, 48, 49, 60, 61, 90, 91]
        clocks = [both(start, None, [], now=start + timedelta(minutes=m)) for m in minutes]
        assert [c.crossed for c in clocks] == [
            (),
            (),  # exactly 80%: not yet crossed (crossed iff elapsed > t × window)
            (0.8,),
            (0.8,),
            (0.8, 1.0),
            (0.8, 1.0),
            (0.8, 1.0, 1.5),
        ]
        assert [c.state.label for c in clocks] == [
            "running",
            "running",
            "at_risk",
            "at_risk",
            "breached",
            "breached",
            "breached",
        ]

    def test_bad_window_and_thresholds_are_refused(self):
        with pytest.raises(ClockError, match="window"):
            both(FRIDAY_1630, None, [], window=timedelta(0), now=FRIDAY_1630)
        with pytest.raises(ClockError, match="thresholds"):
            clock_for_lead(
                started_at=FRIDAY_1630,
                stopped_at=None,
                pauses=(),
                window=HOUR,
                thresholds=(1.0, 0.8),
                calendar=OFFICE,
                now=FRIDAY_1630,
            )


class TestPauseIntervals:
    def test_runs_of_pause_events_end_at_the_next_other_event(self):
        wait = EventKind.CUSTOM
        t = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
        events = EventFrame.from_rows(
            [
                (0, EventKind.HANDED_OVER, t),
                (0, wait, t + HOUR),
                (0, wait, t + 2 * HOUR),  # still the same pause
                (0, EventKind.RESUMED, t + 3 * HOUR),
                (0, wait, t + 4 * HOUR),  # open: no later event
                (1, wait, t),
                (1, EventKind.CONTACT_ATTEMPT, t + HOUR, True),  # any other kind ends the pause
                (2, EventKind.CONTACT_ATTEMPT, t),
            ]
        )
        pauses = pause_intervals(events, pause_kinds=[int(wait)])
        assert pauses.row.tolist() == [0, 0, 1]
        assert pauses.start.tolist() == [
            dt64(t + HOUR).item(),
            dt64(t + 4 * HOUR).item(),
            dt64(t).item(),
        ]
        assert np.isnat(pauses.end[1])
        assert pauses.end[[0, 2]].tolist() == [dt64(t + 3 * HOUR).item(), dt64(t + HOUR).item()]


# --- properties ------------------------------------------------------------------------------------------

BASE = datetime(2026, 3, 5, 0, 0, tzinfo=UTC)  # Thursday; spans a weekend
moments = st.integers(min_value=0, max_value=9 * 24 * 60).map(lambda m: BASE + timedelta(minutes=m))


@st.composite
def clock_cases(draw: st.DrawFn) -> tuple[datetime, datetime | None, list[tuple[datetime, datetime | None]]]:
    start = draw(moments)
    stop = draw(st.one_of(st.none(), moments.filter(lambda m: m >= start)))
    cuts = sorted(draw(st.lists(moments, max_size=6, unique=True)))
    pauses: list[tuple[datetime, datetime | None]] = [
        (a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=False)
    ]
    if len(cuts) % 2 and draw(st.booleans()):
        pauses.append((cuts[-1], None))
    return start, stop, pauses


def active_time(
    calendar: BusinessCalendar,
    start: datetime,
    until: datetime,
    pauses: list[tuple[datetime, datetime | None]],
    end: datetime,
) -> timedelta:
    """Business time in [start, until) outside pauses (pauses known up to ``end``): the rule, spelled out."""
    total = calendar.elapsed(start, until)
    for a, b in pauses:
        lo = min(max(a, start), until, end)
        hi = min(max(end if b is None else min(b, end), start), until)
        if hi > lo:
            total -= calendar.elapsed(lo, hi)
    return total


@settings(max_examples=150, deadline=None)
@given(
    cases=st.lists(clock_cases(), min_size=1, max_size=5),
    now=moments,
    window=st.sampled_from([timedelta(minutes=30), HOUR, timedelta(hours=8), timedelta(hours=20)]),
    calendar=st.sampled_from([OFFICE, AMSTERDAM]),
)
def test_vectorised_clocks_equal_the_scalar_clock_and_the_rule(cases, now, window, calendar):
    vector = evaluate_many(cases, window=window, calendar=calendar, now=now)
    for (start, stop, pauses), got in zip(cases, vector, strict=True):
        scalar = clock_for_lead(
            started_at=start,
            stopped_at=stop,
            pauses=pauses,
            window=window,
            thresholds=THRESHOLDS,
            calendar=calendar,
            now=now,
        )
        assert got == scalar
        end = max(start, stop if stop is not None and stop <= now else now)
        assert got.elapsed == active_time(calendar, start, end, pauses, end)
        # the deadline is the earliest instant at which the window's active time has elapsed
        assert active_time(calendar, start, got.due_at, pauses, end) == window
        assert active_time(calendar, start, got.due_at - timedelta(microseconds=1), pauses, end) < window
        assert (got.state is ClockState.BREACHED) == (got.elapsed > window)
        if got.stopped_at is not None:
            assert got.state is (ClockState.MET if got.elapsed <= window else ClockState.BREACHED)
