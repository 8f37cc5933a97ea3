"""Targets as rates over basis days: normalisation, growth, seasonality, partial windows, exactness."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadpact.core.calendar import BusinessCalendar
from leadpact.core.periods import DateRange, Period, periods, split
from leadpact.core.targets import (
    Seasonality,
    TargetError,
    TargetRule,
    daily_growth,
    grown_target,
    linear_daily_growth,
)

NL = BusinessCalendar.from_spec(
    {"timezone": "Europe/Amsterdam", "hours": {"mon-fri": ["09:00-17:30"]}, "holidays": {"country": "NL"}}
)
WEEKDAYS = BusinessCalendar.from_spec({"timezone": "Europe/Amsterdam", "hours": {"mon-fri": ["09:00-17:00"]}})
NL_2026 = 254  # business days of NL in 2026: 261 weekdays minus 7 holidays on weekdays

months_2026 = [Period.parse(f"2026-{m:02d}") for m in range(1, 13)]


def month(text: str) -> Period:
    return Period.parse(text)


class TestNormalisation:
    def test_average_period_months_add_up_to_twelve_times_the_value(self):
        for cal in (NL, WEEKDAYS):
            rule = TargetRule(value=200, calendar=cal)
            assert sum(rule.over(m) for m in months_2026) == 2400
        leap = TargetRule(value=200, calendar=NL, basis="calendar_days")
        assert sum(leap.over(m) for m in periods("month", Period.parse("2028-Q1").range)) == Fraction(
            200 * 91 * 12, 366
        )

    def test_average_month_is_the_mean_of_the_calendar_year(self):
        rule = TargetRule(value=200, calendar=NL)
        assert rule.average_basis_days("month", 2026) == Fraction(NL_2026, 12)
        assert rule.average_basis_days("quarter", 2026) == Fraction(NL_2026, 4)
        assert rule.average_basis_days("week", 2026) == Fraction(7 * NL_2026, 365)
        assert rule.average_basis_days("day", 2026) == 1

    def test_a_short_month_gets_less_on_average_period(self):
        rule = TargetRule(value=200, calendar=NL)
        february, july = rule.target(month("2026-02")), rule.target(month("2026-07"))
        assert (february.basis_days, july.basis_days) == (20, 23)
        assert february.exact == Fraction(200 * 20 * 12, NL_2026)
        assert july.exact == Fraction(200 * 23 * 12, NL_2026)
        assert (february.value, july.value) == (189, 217)

    def test_own_period_holds_the_stated_number_every_period(self):
        rule = TargetRule(value=200, calendar=NL, normalisation="own_period")
        assert {rule.over(m) for m in months_2026} == {200}
        quarterly = TargetRule(value=600, calendar=NL, normalisation="own_period", per="quarter")
        assert quarterly.over(month("2026-02")) == Fraction(600 * 20, 21 + 20 + 22)

    def test_per_basis_day_and_per_day_are_the_same_rate(self):
        for per in ("day", "basis_day"):
            rule = TargetRule(value=10, calendar=NL, per=per)
            assert rule.over(Period.parse("2026-W41")) == 50
            assert rule.over(Period.parse("2026-W18")) == 40  # King's Day, Monday 27 April
            assert rule.over(Period.parse("2026-10-10")) == 0  # a Saturday

    def test_weeks_and_quarters_on_average(self):
        weekly = TargetRule(value=70, calendar=NL, per="week")
        year = DateRange(date(2026, 1, 1), date(2027, 1, 1))
        assert weekly.over(year) == Fraction(70 * 365, 7)
        quarterly = TargetRule(value=600, calendar=NL, per="quarter")
        assert sum(quarterly.over(q) for q in periods("quarter", year)) == 2400

    def test_calendar_days_basis(self):
        rule = TargetRule(value=200, calendar=NL, basis="calendar_days")
        assert rule.over(month("2026-02")) == Fraction(200 * 28 * 12, 365)
        assert rule.target(month("2026-02")).basis_days == 28

    def test_amounts_round_to_the_cent_half_even(self):
        rule = TargetRule(value=Decimal("10000.00"), unit="amount", calendar=NL)
        got = rule.target(month("2026-02"))
        assert got.exact == Fraction(10000 * 20 * 12, NL_2026)
        assert got.value == Decimal("9448.82")
        tie = TargetRule(value=Decimal("0.125"), unit="amount", per="basis_day", calendar=WEEKDAYS)
        assert tie.target(Period.parse("2026-10-07")).value == Decimal("0.12")
        assert TargetRule(value=Decimal("0.375"), unit="amount", per="basis_day", calendar=WEEKDAYS).target(
            Period.parse("2026-10-07")
        ).value == Decimal("0.38")

    def test_counts_round_half_even(self):
        rule = TargetRule(value=Fraction(5, 2), per="basis_day", calendar=WEEKDAYS)
        assert rule.target(Period.parse("2026-10-07")).value == 2
        assert (
            TargetRule(value=Fraction(7, 2), per="basis_day", calendar=WEEKDAYS)
            .target(Period.parse("2026-10-07"))
            .value
            == 4
        )


class TestPartialWindows:
    def test_agreement_starting_mid_month_pro_rates(self):
        rule = TargetRule(value=200, calendar=NL, start=date(2026, 3, 16))
        march = rule.target(month("2026-03"))
        assert march.basis_days == 12  # 16–31 March
        assert march.exact == Fraction(200 * 12 * 12, NL_2026)
        assert rule.over(month("2026-02")) == 0
        assert march.explanation.step("inactive").values["days"] == 10

    def test_until_is_exclusive(self):
        rule = TargetRule(value=10, per="basis_day", calendar=WEEKDAYS, until=date(2026, 10, 7))
        assert rule.over(Period.parse("2026-W41")) == 20  # Monday and Tuesday only

    def test_window_outside_the_year_is_nothing(self):
        rule = TargetRule(value=10, per="basis_day", calendar=WEEKDAYS, start=date(2026, 1, 1))
        assert rule.daily(DateRange(date(2025, 12, 1), date(2025, 12, 1))) == []


class TestGrowth:
    def test_seed_daily_growth_figures(self):
        assert round(daily_growth(0.10, 28) * 100, 4) == 0.3410
        assert round(daily_growth(0.10, 31) * 100, 4) == 0.3079
        assert round(linear_daily_growth(0.10, 28) * 100, 4) == 0.3571
        assert round(linear_daily_growth(0.10, 31) * 100, 4) == 0.3226
        # chaining the linear rate overshoots to about +10.5%; the compound one gives exactly +10%
        assert round((1 + linear_daily_growth(0.10, 31)) ** 31, 3) == 1.105
        assert (1 + daily_growth(0.10, 31)) ** 31 == pytest.approx(1.10, rel=1e-12)

    def test_domain_example_january_to_february(self):
        january = TargetRule(value=440, calendar=WEEKDAYS, normalisation="own_period").target(
            month("2026-01")
        )
        assert january.basis_days == 22
        assert january.exact / january.basis_days == 20
        february_days = WEEKDAYS.business_days(date(2026, 2, 1), date(2026, 2, 28))
        assert february_days == 20
        naive = Fraction(440) * Fraction(11, 10)
        assert naive == 484
        assert (naive / february_days) / 20 == Fraction(121, 100)  # +21% a day
        assert grown_target(440, 22, february_days, Fraction(1, 10)) == 440  # 22 a day × 20

    def test_compounds_per_basis_day_anchored_at_the_start(self):
        rule = TargetRule(
            value=Fraction(87, 4), per="basis_day", calendar=WEEKDAYS, growth=0.10, start=date(2026, 1, 1)
        )
        line = rule.daily(DateRange(date(2026, 1, 1), date(2027, 1, 6)))
        rates = [float(r) for _, r in line]
        assert line[0] == (date(2026, 1, 1), Fraction(87, 4))  # the stated value is the rate at the anchor
        factor = 1 + daily_growth(0.10, Fraction(261, 12))
        assert rates[1] / rates[0] == pytest.approx(factor, rel=1e-12)
        first_2027 = next(r for d, r in line if d.year == 2027)
        assert float(first_2027) / rates[0] == pytest.approx(1.1**12, rel=1e-12)  # 12 average months in 2026

    def test_growth_month_over_month_is_about_the_stated_growth(self):
        rule = TargetRule(value=200, calendar=WEEKDAYS, growth=0.05, start=date(2026, 1, 1))
        by_month = [rule.over(m) / rule.target(m).basis_days for m in months_2026]
        ratios = [float(b / a) for a, b in itertools.pairwise(by_month)]
        assert all(1.04 < r < 1.06 for r in ratios)

    def test_growth_needs_an_anchor_and_a_sane_value(self):
        with pytest.raises(TargetError, match="growth needs a start date"):
            TargetRule(value=200, calendar=NL, growth=0.1)
        with pytest.raises(TargetError, match=r"growth -1\.5"):
            TargetRule(value=200, calendar=NL, growth=-1.5, start=date(2026, 1, 1))

    def test_explanation_shows_the_daily_growth(self):
        rule = TargetRule(value=200, calendar=NL, growth=0.05, start=date(2026, 1, 1))
        step = rule.target(month("2026-04")).explanation.step("growth")
        assert step.values["daily_pct"] == pytest.approx(daily_growth(0.05, Fraction(NL_2026, 12)) * 100)
        assert "0.2308% a day" in step.render("en")
        assert "0,2308% per dag" in step.render("nl")


class TestSeasonality:
    def test_shapes_the_year_without_changing_its_total(self):
        season = Seasonality.of(range(1, 13))
        rule = TargetRule(value=200, calendar=NL, seasonality=season)
        assert sum(rule.over(m) for m in months_2026) == 2400
        december = rule.daily(month("2026-12"))[0][1]
        january = rule.daily(month("2026-01"))[0][1]
        assert december / january == 12

    def test_flat_weights_change_nothing(self):
        flat = TargetRule(value=200, calendar=NL, seasonality=Seasonality.of([0.5] * 12))
        plain = TargetRule(value=200, calendar=NL)
        assert [flat.over(m) for m in months_2026] == [plain.over(m) for m in months_2026]

    def test_invalid_weights(self):
        with pytest.raises(TargetError, match="12 monthly weights"):
            Seasonality.of([1] * 11)
        with pytest.raises(TargetError, match="not all zero"):
            Seasonality.of([0] * 12)


class TestExplanation:
    def test_names_holidays_and_renders_in_both_languages(self):
        got = TargetRule(value=200, calendar=NL).target(month("2026-04"))
        assert got.explanation.codes == (
            "stated",
            "normalised_average",
            "basis_days",
            "holidays",
            "team_total",
            "rounded",
        )
        en = got.explanation.render("en")
        assert "Good Friday (2026-04-03)" in en
        assert "King's Day (2026-04-27)" in en
        assert "2026-04-01 – 2026-04-30 has 19 business days." in en
        assert "Rounded to 180 (half to even)." in en
        nl = got.explanation.render("nl")
        assert "telt 19 werkdagen" in nl
        assert "21,17 werkdagen" in nl
        assert "179,53" in nl

    def test_window_without_holidays(self):
        got = TargetRule(value=200, calendar=NL).target(month("2026-03"))
        assert "no_holidays" in got.explanation.codes


class TestSpec:
    def test_from_agreement_target(self):
        rule = TargetRule.from_spec(
            {"value": 200, "unit": "count", "per": "month", "growth": 0.1},
            calendar=NL,
            start=date(2026, 1, 1),
        )
        assert (rule.value, rule.per, rule.growth) == (200, "month", 0.1)
        amount = TargetRule.from_spec({"value": 1000.10, "unit": "amount", "per": "week"}, calendar=NL)
        assert amount.value == Fraction(100010, 100)

    @pytest.mark.parametrize(
        ("target", "message"),
        [
            ({"value": "lots"}, "'lots' is not a number"),
            ({"value": True}, "is not a number"),
            ({"value": 0}, "must be more than 0"),
            ({"value": 10, "unit": "percent"}, "unit 'percent' has no rate"),
            ({"value": 10, "per": "year"}, "per 'year'"),
            ({"value": 10, "growth": "fast"}, "growth 'fast'"),
        ],
    )
    def test_bad_target(self, target, message):
        with pytest.raises(ValueError, match=message):
            TargetRule.from_spec(target, calendar=NL, start=date(2026, 1, 1))

    def test_bad_options(self):
        with pytest.raises(TargetError, match="basis 'hours'"):
            TargetRule(value=1, calendar=NL, basis="hours")  # type: ignore[arg-type]
        with pytest.raises(TargetError, match="until 2025-01-01 is before start"):
            TargetRule(value=1, calendar=NL, start=date(2026, 1, 1), until=date(2025, 1, 1))


# -- properties -----------------------------------------------------------------------------------

rules = st.builds(
    lambda per, normalisation, basis, growth, start_offset, season, value: TargetRule(
        value=value,
        calendar=NL,
        per=per,
        normalisation=normalisation,
        basis=basis,
        growth=growth,
        start=date(2025, 1, 1) + timedelta(days=start_offset),
        seasonality=season,
    ),
    st.sampled_from(["day", "week", "month", "quarter", "basis_day"]),
    st.sampled_from(["average_period", "own_period"]),
    st.sampled_from(["business_days", "calendar_days"]),
    st.one_of(st.none(), st.sampled_from([0.05, 0.10, -0.02])),
    st.integers(min_value=0, max_value=1400),
    st.one_of(
        st.none(),
        st.builds(Seasonality.of, st.lists(st.integers(0, 5), min_size=12, max_size=12).filter(any)),
    ),
    st.fractions(min_value=1, max_value=5000, max_denominator=100),
)
month_in_range = st.builds(
    lambda y, m: Period.parse(f"{y}-{m:02d}"), st.integers(min_value=2025, max_value=2028), st.integers(1, 12)
)


@settings(max_examples=200, deadline=None)
@given(rules, month_in_range)
def test_a_month_is_exactly_the_sum_of_its_weeks(rule, m):
    weeks = split(m, "week")
    assert sum(rule.over(w) for w in weeks) == rule.over(m)


@settings(max_examples=200, deadline=None)
@given(
    rules,
    st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 1)),
    st.integers(min_value=0, max_value=120),
    st.lists(st.integers(min_value=0, max_value=120), max_size=5),
)
def test_pro_rating_does_not_depend_on_how_a_window_is_cut(rule, start, length, cuts):
    window = DateRange(start, start + timedelta(days=length))
    edges = sorted({start + timedelta(days=min(c, length)) for c in cuts} | {window.start, window.end})
    pieces = [DateRange(a, b) for a, b in itertools.pairwise(edges)]
    assert sum(rule.over(p) for p in pieces) == rule.over(window)
    assert rule.over(window) >= 0
