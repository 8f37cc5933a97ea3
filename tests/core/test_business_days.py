"""Windows in business days (``1bd``, ``10bd``): the calendar's ``add_business_days`` and the clocks on it.

A sales lead reads "within 1 business day" of a handoff at Tuesday 15:00 as Wednesday 15:00: the same
business time of day on the next business day, clipped to the close of a shorter day. Checked against a
slow walk over the calendar's dates and windows, spelled out below.
"""

from __future__ import annotations

import doctest
import importlib
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadpact.core.calendar import BusinessCalendar, NoBusinessTimeError
from leadpact.core.clocks import ClockState, clock_for_lead
from leadpact.core.durations import BusinessDuration
from tests.core.test_clocks import THRESHOLDS, active_time, clock_cases, evaluate_many

AMS = ZoneInfo("Europe/Amsterdam")
OFFICE = BusinessCalendar.from_spec(
    {"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}, "holidays": {"country": "NL"}}
)
# lunch break, half day on Wednesday 4 March, Dutch holidays, DST on 29 March and 25 October
AMSTERDAM = BusinessCalendar.from_spec(
    {
        "timezone": "Europe/Amsterdam",
        "hours": {"mon-fri": ["09:00-12:30", "13:00-17:30"]},
        "holidays": {"country": "NL"},
        "open": {"2026-03-04": ["09:00-13:00"], "2026-03-07": ["10:00-12:00"]},
        "closed": ["2026-03-12"],
    }
)
# a part-timer: own hours, and leave
PART_TIME = AMSTERDAM.narrowed(
    hours={"mon": ["09:00-12:30"], "tue-thu": ["13:00-17:30"]},
    leave=[(date(2026, 3, 16), date(2026, 3, 18))],
)
CALENDARS = [OFFICE, AMSTERDAM, PART_TIME]
US = timedelta(microseconds=1)


def dt64(moment: datetime) -> np.datetime64:
    return np.datetime64(moment.astimezone(UTC).replace(tzinfo=None), "us")


# --- the reference walk ------------------------------------------------------------------------------


def reference(calendar: BusinessCalendar, start: datetime, days: int) -> datetime:
    """Walk dates and windows: the start's business day and time of day, then ``days`` business days on."""
    local = start.astimezone(calendar.timezone).date() - timedelta(days=1)
    day, offset = None, timedelta(0)
    while day is None:  # the first date, from the day before (a window may run past midnight UTC)
        windows = calendar.windows_on(local)
        spent = sum((max(timedelta(0), min(b, start) - a) for a, b in windows), timedelta(0))
        if spent < calendar.business_time_on(local) and start < windows[-1][1]:
            day, offset = local, spent
        local += timedelta(days=1)
    business_days = [day]
    while len(business_days) <= days:
        local = business_days[-1] + timedelta(days=1)
        while not calendar.is_business_day(local):
            local += timedelta(days=1)
        business_days.append(local)
    if offset == timedelta(0):  # the earliest instant: the close of the business day before
        return calendar.windows_on(business_days[days - 1])[-1][1]
    remaining = min(offset, calendar.business_time_on(business_days[days]))
    for a, b in calendar.windows_on(business_days[days]):
        if remaining <= b - a:
            return a + remaining
        remaining -= b - a
    raise AssertionError("unreachable")


starts = st.integers(min_value=0, max_value=60 * 24 * 60).map(
    lambda m: datetime(2026, 2, 25, tzinfo=UTC) + timedelta(minutes=m, microseconds=m % 7)
)


@settings(max_examples=300, deadline=None)
@given(start=starts, days=st.integers(min_value=1, max_value=15), calendar=st.sampled_from(CALENDARS))
def test_add_business_days_equals_the_walk_and_the_vectorised_path(start, days, calendar):
    due = calendar.add_business_days(start, days)
    assert due == reference(calendar, start, days)
    assert due > start  # never before the start (nor at it)
    many = calendar.add_business_days_many(np.array([dt64(start)]), np.array([days]))
    assert many[0] == dt64(due)
    # the earliest instant: a microsecond earlier the window has not yet elapsed
    window = calendar.elapsed(start, due)
    assert calendar.business_days_span_many(np.array([dt64(start)]), days)[0] == np.timedelta64(window, "us")
    assert calendar.elapsed(start, due - US) < window
    # monotone in N, and the window grows by at least a business day's share
    later = calendar.add_business_days(start, days + 1)
    assert later > due and calendar.elapsed(start, later) > window
    # the deadline never lies on a date without business time (weekend, holiday, closed, leave)
    local = due.astimezone(calendar.timezone)
    on = local.date() if local.timetz().replace(tzinfo=None) != datetime.min.time() else None
    if on is not None:
        assert calendar.is_business_day(on) or any(b == due for _, b in calendar.windows_on(on))


@settings(max_examples=50, deadline=None)
@given(moments=st.lists(starts, min_size=1, max_size=30), days=st.integers(min_value=1, max_value=12))
def test_the_vectorised_path_equals_the_scalar_one_for_many_starts(moments, days):
    for calendar in CALENDARS:
        got = calendar.add_business_days_many(np.array([dt64(m) for m in moments]), days)
        assert got.tolist() == [dt64(calendar.add_business_days(m, days)).item() for m in moments]
        spans = calendar.business_days_span_many(np.array([dt64(m) for m in moments]), days)
        assert spans.tolist() == [calendar.elapsed(m, calendar.add_business_days(m, days)) for m in moments]


class TestScenarios:
    def test_tuesday_1500_within_one_business_day_is_wednesday_1500(self):
        tuesday = datetime(2026, 3, 3, 15, tzinfo=UTC)
        assert OFFICE.add_business_days(tuesday, 1) == datetime(2026, 3, 4, 15, tzinfo=UTC)
        assert OFFICE.elapsed(tuesday, OFFICE.add_business_days(tuesday, 1)) == timedelta(hours=8)
        assert OFFICE.add_business_days(tuesday, 10) == datetime(2026, 3, 17, 15, tzinfo=UTC)

    def test_friday_goes_to_monday_and_easter_is_skipped(self):
        friday = datetime(2026, 3, 6, 15, tzinfo=UTC)
        assert OFFICE.add_business_days(friday, 1) == datetime(2026, 3, 9, 15, tzinfo=UTC)
        # Thursday 2 April 2026: Good Friday and Easter Monday are Dutch holidays
        thursday = datetime(2026, 4, 2, 15, tzinfo=UTC)
        assert OFFICE.add_business_days(thursday, 1) == datetime(2026, 4, 7, 15, tzinfo=UTC)

    def test_after_the_close_or_at_the_weekend_the_day_starts_at_the_next_opening(self):
        for moment in (datetime(2026, 3, 3, 17, tzinfo=UTC), datetime(2026, 3, 3, 22, tzinfo=UTC)):
            # Wednesday's whole day: due at its close
            assert OFFICE.add_business_days(moment, 1) == datetime(2026, 3, 4, 17, tzinfo=UTC)
        saturday = datetime(2026, 3, 7, 11, tzinfo=UTC)
        assert OFFICE.add_business_days(saturday, 1) == datetime(2026, 3, 9, 17, tzinfo=UTC)
        assert OFFICE.add_business_days(saturday, 2) == datetime(2026, 3, 10, 17, tzinfo=UTC)

    def test_a_shorter_day_clips_to_its_close_and_a_lunch_break_is_not_business_time(self):
        tuesday = datetime(2026, 3, 3, 15, tzinfo=AMS)  # 5.5 business hours into the day
        # Wednesday 4 March is a half day 09:00–13:00: its close
        assert AMSTERDAM.add_business_days(tuesday, 1) == datetime(2026, 3, 4, 13, tzinfo=AMS)
        assert AMSTERDAM.elapsed(tuesday, datetime(2026, 3, 4, 13, tzinfo=AMS)) == timedelta(hours=6.5)
        assert AMSTERDAM.add_business_days(tuesday, 2) == datetime(2026, 3, 5, 15, tzinfo=AMS)
        # 12:30 is 3.5 hours in: the earliest instant is the start of the lunch break, not 13:00
        monday = datetime(2026, 3, 2, 12, 45, tzinfo=AMS)
        assert AMSTERDAM.add_business_days(monday, 1) == datetime(2026, 3, 3, 12, 30, tzinfo=AMS)

    def test_a_part_timer_keeps_their_business_time_of_day_across_their_own_hours(self):
        monday = datetime(2026, 3, 9, 11, tzinfo=AMS)  # 2 hours into Monday 09:00–12:30
        # Tuesday works 13:00–17:30: 2 hours in is 15:00
        assert PART_TIME.add_business_days(monday, 1) == datetime(2026, 3, 10, 15, tzinfo=AMS)
        # leave 16–17 March: Monday 16 is skipped too, Wednesday 18 is the next day
        friday = datetime(2026, 3, 12, 15, tzinfo=AMS)  # closed date: starts at the next day
        assert PART_TIME.add_business_days(friday, 1) == datetime(2026, 3, 18, 17, 30, tzinfo=AMS)

    def test_dst_days_count_their_real_hours(self):
        friday = datetime(2026, 3, 27, 10, tzinfo=AMS)  # clocks go forward on Sunday 29 March
        monday = AMSTERDAM.add_business_days(friday, 1)
        assert monday == datetime(2026, 3, 30, 10, tzinfo=AMS)
        assert AMSTERDAM.elapsed(friday, monday) == timedelta(hours=8)

    def test_bad_days_and_a_calendar_closed_for_good_are_refused(self):
        with pytest.raises(ValueError, match="at least 1"):
            OFFICE.add_business_days(datetime(2026, 3, 3, tzinfo=UTC), 0)
        with pytest.raises(TypeError, match="whole number"):
            OFFICE.add_business_days(datetime(2026, 3, 3, tzinfo=UTC), 1.5)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="at least 1"):
            OFFICE.add_business_days_many(np.array([dt64(datetime(2026, 3, 3, tzinfo=UTC))]), 0)
        left = OFFICE.narrowed(leave=[(date(2026, 3, 10), date(9999, 1, 1))])
        with pytest.raises(NoBusinessTimeError):
            left.add_business_days(datetime(2026, 3, 9, 10, tzinfo=UTC), 2)

    def test_nat_stays_nat(self):
        got = OFFICE.add_business_days_many(
            np.array(["NaT", "2026-03-03T15:00"], dtype="datetime64[us]"), np.array([1, 1])
        )
        assert np.isnat(got[0]) and got[1] == np.datetime64("2026-03-04T15:00", "us")
        spans = OFFICE.business_days_span_many(
            np.array(["NaT", "2026-03-03T15:00"], dtype="datetime64[us]"), 1
        )
        assert np.isnat(spans[0]) and spans[1] == np.timedelta64(8 * 3600 * 10**6, "us")


# --- clocks with a window in business days -----------------------------------------------------------

BD = BusinessDuration.parse


class TestClocks:
    def test_a_one_business_day_clock_is_due_the_next_day_at_the_same_time(self):
        tuesday = datetime(2026, 3, 3, 15, tzinfo=UTC)
        clock = clock_for_lead(
            started_at=tuesday,
            stopped_at=None,
            pauses=(),
            window=BD("1bd"),
            thresholds=THRESHOLDS,
            calendar=OFFICE,
            now=tuesday + timedelta(hours=23),  # 7 of 8 business hours spent
        )
        assert clock.due_at == datetime(2026, 3, 4, 15, tzinfo=UTC)
        assert clock.window == timedelta(hours=8) and clock.state is ClockState.AT_RISK
        # a pause of two business hours moves it by two business hours
        paused = clock_for_lead(
            started_at=tuesday,
            stopped_at=None,
            pauses=[(datetime(2026, 3, 4, 9, tzinfo=UTC), datetime(2026, 3, 4, 11, tzinfo=UTC))],
            window=BD("1bd"),
            thresholds=THRESHOLDS,
            calendar=OFFICE,
            now=datetime(2026, 3, 4, 12, tzinfo=UTC),  # pauses are known once they happened
        )
        assert paused.due_at == datetime(2026, 3, 4, 17, tzinfo=UTC)

    def test_a_reply_after_a_deadline_at_close_is_on_time(self):
        evening = datetime(2026, 3, 3, 20, tzinfo=UTC)
        clock = clock_for_lead(
            started_at=evening,
            stopped_at=datetime(2026, 3, 4, 18, tzinfo=UTC),  # after Wednesday's 17:00 close
            pauses=(),
            window=BD("1bd"),
            thresholds=THRESHOLDS,
            calendar=OFFICE,
            now=datetime(2026, 3, 5, tzinfo=UTC),
        )
        assert clock.due_at == datetime(2026, 3, 4, 17, tzinfo=UTC) and clock.state is ClockState.MET


@settings(max_examples=120, deadline=None)
@given(
    cases=st.lists(clock_cases(), min_size=1, max_size=5),
    now=st.integers(min_value=0, max_value=9 * 24 * 60).map(
        lambda m: datetime(2026, 3, 5, tzinfo=UTC) + timedelta(minutes=m)
    ),
    window=st.sampled_from([BD("1bd"), BD("2bd"), BD("10bd")]),
    calendar=st.sampled_from(CALENDARS),
)
def test_business_day_clocks_vectorised_equal_scalar_and_the_rule(cases, now, window, calendar):
    vector = evaluate_many(cases, window=window, calendar=calendar, now=now)  # type: ignore[arg-type]
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
        span = calendar.elapsed(start, calendar.add_business_days(start, window.business_days))
        assert got.window == span
        end = max(start, stop if stop is not None and stop <= now else now)
        # the deadline: the window's active time has elapsed there, and not a microsecond before
        assert active_time(calendar, start, got.due_at, pauses, end) == span
        assert active_time(calendar, start, got.due_at - US, pauses, end) < span
        assert (got.state is ClockState.BREACHED) == (got.elapsed > span)
        if not pauses:
            assert got.due_at == calendar.add_business_days(start, window.business_days)


@pytest.mark.parametrize(
    "name",
    ["leadpact.core.calendar", "leadpact.core.durations", "leadpact.core.clocks", "leadpact.core.metrics"],
)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
