"""Periods: parse/format, containing, iteration, splitting at another period's edges."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadpact.core.periods import PERIOD_KINDS, DateRange, Period, PeriodError, add_months, periods, split

dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
kinds = st.sampled_from(PERIOD_KINDS)


class TestParse:
    @pytest.mark.parametrize(
        ("text", "kind", "start", "end"),
        [
            ("2026-10-07", "day", date(2026, 10, 7), date(2026, 10, 8)),
            ("2026-W41", "week", date(2026, 10, 5), date(2026, 10, 12)),
            ("2026-W01", "week", date(2025, 12, 29), date(2026, 1, 5)),
            ("2026-W53", "week", date(2026, 12, 28), date(2027, 1, 4)),
            ("2026-10", "month", date(2026, 10, 1), date(2026, 11, 1)),
            ("2026-02", "month", date(2026, 2, 1), date(2026, 3, 1)),
            ("2028-02", "month", date(2028, 2, 1), date(2028, 3, 1)),
            ("2026-Q4", "quarter", date(2026, 10, 1), date(2027, 1, 1)),
            ("2026-Q1", "quarter", date(2026, 1, 1), date(2026, 4, 1)),
        ],
    )
    def test_parses_every_kind(self, text, kind, start, end):
        period = Period.parse(text)
        assert (period.kind, period.start, period.end) == (kind, start, end)
        assert period.format() == text == str(period)

    @pytest.mark.parametrize(
        "text", ["2026-13", "2026-W54", "2025-W53", "2026-Q5", "2026-02-30", "october", "", "26-10"]
    )
    def test_rejects_what_cannot_exist(self, text):
        with pytest.raises(PeriodError, match="period"):
            Period.parse(text)

    @given(kinds, dates)
    def test_format_and_parse_are_inverse(self, kind, d):
        period = Period.containing(kind, d)
        assert Period.parse(period.format()) == period


class TestPeriod:
    @given(kinds, dates)
    def test_containing_contains_and_is_contiguous(self, kind, d):
        period = Period.containing(kind, d)
        assert d in period
        assert period.start <= d < period.end
        assert period.next().start == period.end
        assert period.previous().end == period.start
        assert period.previous().next() == period

    def test_week_starts_on_monday(self):
        assert Period.containing("week", date(2026, 10, 11)).start.weekday() == 0

    def test_construction_checks_whole_period(self):
        assert Period("month", date(2026, 2, 1), date(2026, 3, 1)).days == 28
        with pytest.raises(PeriodError, match="not a whole month"):
            Period("month", date(2026, 2, 2), date(2026, 3, 1))
        with pytest.raises(PeriodError, match="kind 'year'"):
            Period("year", date(2026, 1, 1), date(2027, 1, 1))  # type: ignore[arg-type]


class TestDateRange:
    def test_half_open(self):
        leave = DateRange(date(2026, 7, 20), date(2026, 8, 10))
        assert leave.days == 21
        assert date(2026, 7, 20) in leave
        assert date(2026, 8, 10) not in leave
        assert leave.last == date(2026, 8, 9)
        assert len(list(leave.dates())) == 21

    def test_end_before_start_is_an_error(self):
        with pytest.raises(PeriodError, match="before start"):
            DateRange(date(2026, 1, 2), date(2026, 1, 1))

    def test_empty_range(self):
        empty = DateRange(date(2026, 1, 2), date(2026, 1, 2))
        assert not empty
        assert list(empty.dates()) == []
        with pytest.raises(PeriodError, match="empty"):
            _ = empty.last

    def test_intersection(self):
        a = DateRange(date(2026, 1, 1), date(2026, 1, 10))
        assert a.intersection(DateRange(date(2026, 1, 5), date(2026, 2, 1))) == DateRange(
            date(2026, 1, 5), date(2026, 1, 10)
        )
        assert not a.intersection(DateRange(date(2026, 3, 1), date(2026, 3, 2)))


class TestIterateAndSplit:
    def test_periods_overlapping_a_range(self):
        got = [str(p) for p in periods("month", DateRange(date(2026, 1, 15), date(2026, 3, 2)))]
        assert got == ["2026-01", "2026-02", "2026-03"]
        assert list(periods("month", DateRange(date(2026, 3, 1), date(2026, 3, 1)))) == []

    def test_month_split_by_weeks(self):
        pieces = split(Period.parse("2026-03"), "week")
        assert pieces[0] == DateRange(date(2026, 3, 1), date(2026, 3, 2))  # Sunday, the tail of W09
        assert pieces[-1] == DateRange(date(2026, 3, 30), date(2026, 4, 1))
        assert [p.days for p in pieces] == [1, 7, 7, 7, 7, 2]

    @given(kinds, dates, st.integers(min_value=0, max_value=400))
    def test_split_covers_exactly(self, kind, d, length):
        outer = DateRange(d, d + timedelta(days=length))
        pieces = split(outer, kind)
        assert sum(p.days for p in pieces) == outer.days
        if pieces:
            assert pieces[0].start == outer.start
            assert pieces[-1].end == outer.end
        for a, b in itertools.pairwise(pieces):
            assert a.end == b.start
            assert a.days > 0

    @settings(max_examples=300)
    @given(dates, st.integers(min_value=-30, max_value=30))
    def test_add_months_clips_to_month_end(self, d, n):
        got = add_months(d, n)
        assert (got.year * 12 + got.month) - (d.year * 12 + d.month) == n
        assert got.day == d.day or (got.day < d.day and (got + timedelta(days=1)).day == 1)
