"""Pacing: expected-to-date by business (or wall) time, pace, projection, status."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadpact.core.allocation import Member, split_target
from leadpact.core.calendar import BusinessCalendar
from leadpact.core.pacing import (
    DEFAULT_THRESHOLDS,
    PacingError,
    PacingThresholds,
    member_line,
    pace,
    pace_target,
)
from leadpact.core.periods import Period
from leadpact.core.targets import TargetRule

AMS = ZoneInfo("Europe/Amsterdam")
WEEKDAYS = BusinessCalendar.from_spec({"timezone": "Europe/Amsterdam", "hours": {"mon-fri": ["09:00-17:00"]}})
LUNCH = BusinessCalendar.from_spec(
    {
        "timezone": "Europe/Amsterdam",
        "hours": {"mon-fri": ["09:00-12:00", "13:00-17:00"]},
        "holidays": {"country": "NL"},
    }
)
W41 = Period.parse("2026-W41")  # Monday 5 – Friday 9 October 2026
TEN_A_DAY = TargetRule(value=10, per="basis_day", calendar=WEEKDAYS)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)


class TestExpected:
    def test_partial_business_day_counts_by_its_elapsed_business_hours(self):
        got = pace_target(TEN_A_DAY, W41, now=at(2026, 10, 7, 13, 0), actual=25)
        assert got.total == 50
        assert got.expected == 25  # Monday, Tuesday and half of Wednesday's 8 hours
        assert got.elapsed == Fraction(1, 2)
        assert (got.pace, got.projected, got.status) == (1, 50, "on_track")

    def test_lunch_break_costs_no_business_time(self):
        rule = TargetRule(value=7, per="basis_day", calendar=LUNCH)
        noon, one = (pace_target(rule, W41, now=at(2026, 10, 5, h, 0), actual=0) for h in (12, 13))
        assert noon.expected == one.expected == 3

    def test_utc_now_is_read_in_the_calendar_zone(self):
        got = pace_target(TEN_A_DAY, W41, now=datetime(2026, 10, 7, 11, 0, tzinfo=ZoneInfo("UTC")), actual=25)
        assert got.expected == 25  # 13:00 in Amsterdam

    def test_calendar_days_use_wall_time_and_dst_days_have_23_hours(self):
        rule = TargetRule(value=23, per="day", calendar=WEEKDAYS, basis="calendar_days")
        got = pace_target(rule, Period.parse("2026-03-29"), now=at(2026, 3, 29, 12, 0), actual=0)
        assert got.expected == 11  # 11 real hours of a 23-hour day
        weekend = pace_target(rule, Period.parse("2026-W41"), now=at(2026, 10, 10, 6, 0), actual=0)
        assert weekend.expected == 5 * 23 + Fraction(23 * 6, 24)

    def test_growth_shapes_the_line(self):
        rule = TargetRule(value=10, per="basis_day", calendar=WEEKDAYS, growth=0.5, start=date(2026, 10, 5))
        line = rule.daily(W41)
        got = pace_target(rule, W41, now=at(2026, 10, 7, 9, 0), actual=0)
        assert got.expected == line[0][1] + line[1][1]
        assert got.elapsed < Fraction(2, 5)  # later days weigh more

    def test_after_the_period_everything_is_expected(self):
        got = pace_target(TEN_A_DAY, W41, now=at(2026, 10, 12, 10, 0), actual=45)
        assert (got.expected, got.elapsed, got.projected, got.status) == (50, 1, 45, "behind")


class TestStatus:
    @pytest.mark.parametrize(
        ("actual", "status"),
        [
            (30, "ahead"),
            (Fraction(55, 2), "ahead"),
            (25, "on_track"),
            (Fraction(95, 4), "on_track"),
            (22, "behind"),
            (20, "behind"),
            (19, "at_risk"),
            (0, "at_risk"),
        ],
    )
    def test_thresholds(self, actual, status):
        assert pace_target(TEN_A_DAY, W41, now=at(2026, 10, 7, 13, 0), actual=actual).status == status

    @pytest.mark.parametrize("now", [at(2026, 10, 5, 8, 59), at(2026, 10, 4, 12, 0), at(2026, 10, 5, 9, 0)])
    def test_not_started_before_any_basis_time(self, now):
        got = pace_target(TEN_A_DAY, W41, now=now, actual=3)
        assert (got.status, got.pace, got.projected, got.expected) == ("not_started", None, None, 0)

    def test_empty_line_is_not_started(self):
        got = pace(line=[], calendar=WEEKDAYS, basis="business_days", now=at(2026, 10, 7, 13, 0), actual=0)
        assert got.status == "not_started"

    def test_thresholds_from_agreement_settings(self):
        assert (
            PacingThresholds.from_settings({"ahead": 1.1, "on_track": 0.95, "behind": 0.8})
            == DEFAULT_THRESHOLDS
        )
        strict = PacingThresholds.from_settings({"on_track": 1})
        assert (
            pace_target(TEN_A_DAY, W41, now=at(2026, 10, 7, 13), actual=24, thresholds=strict).status
            == "behind"
        )
        with pytest.raises(PacingError, match="ahead ≥ on_track ≥ behind > 0"):
            PacingThresholds.from_settings({"ahead": 0.9})

    def test_naive_now_and_negative_actual(self):
        with pytest.raises(PacingError, match="must be an aware datetime"):
            pace_target(TEN_A_DAY, W41, now=datetime(2026, 10, 7, 13), actual=1)
        with pytest.raises(PacingError, match="actual must be zero or more"):
            pace_target(TEN_A_DAY, W41, now=at(2026, 10, 7, 13), actual=-1)


class TestMembers:
    def test_a_persons_line_sums_to_their_share_and_paces_on_their_own_hours(self):
        members = [Member(key="full"), Member(key="mornings", hours={"mon-fri": ["09:00-13:00"]})]
        split = split_target(TEN_A_DAY, W41, members)
        line = member_line(split, "mornings")
        assert sum(amount for _, amount in line) == split.allocation["mornings"].exact
        own = WEEKDAYS.narrowed(hours={"mon-fri": ["09:00-13:00"]})
        got = pace(line=line, calendar=own, basis="business_days", now=at(2026, 10, 7, 11, 0), actual=5)
        assert got.expected == split.allocation["mornings"].exact * Fraction(5, 10)  # 2½ of 5 mornings
        with pytest.raises(KeyError):
            member_line(split, "nobody")


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=7 * 24 * 60 - 1), st.integers(min_value=0, max_value=100))
def test_expected_grows_with_time_and_stays_within_the_total(minute, actual):
    now = at(2026, 10, 5) + timedelta(minutes=minute)
    got = pace_target(TEN_A_DAY, W41, now=now, actual=actual)
    later = pace_target(TEN_A_DAY, W41, now=now + timedelta(minutes=30), actual=actual)
    assert 0 <= got.expected <= later.expected <= got.total
    if got.status != "not_started":
        # projected = actual ÷ elapsed basis time × total basis time = actual ÷ elapsed fraction
        assert got.projected == actual / got.elapsed == got.pace * got.total
