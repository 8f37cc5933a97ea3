"""Statuses that say the truth: each status at its edges, and the arithmetic behind them exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadpact.core._metrics_registry import share_bounds
from leadpact.core._metrics_status import standing
from leadpact.core.calendar import BusinessCalendar
from leadpact.core.metrics import (
    Calendars,
    EventFrame,
    EventKind,
    Frames,
    LeadFrame,
    StatusRules,
    Subject,
    decision_latency,
    handoff_completeness,
)

RULES = StatusRules(min_sample=20, on_track=Decimal("0.95"), behind=Decimal("0.8"))
D = Decimal


def count(actual, target, expected, *, over=False, rules=RULES):
    return standing(
        actual=D(actual),
        target=D(target),
        expected=None if expected is None else D(expected),
        unit="count",
        lower_is_better=False,
        sample=int(actual),
        period_over=over,
        rules=rules,
    )


def percent(actual, target, *, sample=40, failed=None, over=False, bounds=None):
    return standing(
        actual=None if actual is None else D(actual),
        target=D(target),
        expected=None,
        unit="percent",
        lower_is_better=False,
        sample=sample,
        period_over=over,
        rules=RULES,
        failed=failed,
        open_bounds=bounds,
    )


class TestCounts:
    @pytest.mark.parametrize(
        ("actual", "expected", "status"),
        [
            (95, 100, "on_track"),  # pace exactly on the on-track threshold
            (94, 100, "behind"),  # just below it
            (80, 100, "behind"),  # exactly on the behind threshold
            (79, 100, "at_risk"),  # just below it
            (0, 0, "on_track"),  # nothing expected yet: nothing missed
        ],
    )
    def test_pace_grades_at_their_thresholds(self, actual, expected, status):
        got, pace = count(actual, 1000, expected)
        assert got == status
        assert pace == (None if expected == 0 else D(actual) / D(expected))

    def test_met_as_soon_as_the_target_is_reached_and_decided_at_the_end(self):
        assert count(1000, 1000, 1)[0] == "met"
        assert count(999, 1000, 999)[0] == "on_track"
        assert count(1000, 1000, 1000, over=True)[0] == "met"
        assert count(999, 1000, 1000, over=True)[0] == "breached"

    def test_a_count_is_never_out_of_reach_before_the_end(self):
        # more leads can always come: far behind is at risk, not decided
        assert count(0, 1000, 999)[0] == "at_risk"


class TestPercentages:
    def test_a_final_failure_puts_100_percent_out_of_reach(self):
        assert percent(D(953) / 10, 100, failed=2)[0] == "cannot_be_met"
        assert percent(100, 100, failed=0)[0] == "on_track"  # none failed: still reachable
        assert percent(94, 100, failed=None)[0] == "behind"  # failures that may still turn: not decided
        assert percent(D(953) / 10, D("99.99"), failed=2)[0] == "on_track"  # more good leads can lift it

    def test_out_of_reach_says_so_even_below_the_minimum_sample(self):
        assert percent(D(50), 100, sample=2, failed=1)[0] == "cannot_be_met"
        assert percent(D(50), 100, sample=2, failed=0)[0] == "not_enough_data"

    def test_after_the_end_it_is_breached_or_met(self):
        assert percent(D(953) / 10, 100, failed=2, over=True)[0] == "breached"
        assert percent(100, 100, failed=0, over=True)[0] == "met"
        assert percent(None, 100, sample=0)[0] == "not_enough_data"

    def test_undecided_leads_after_the_end_keep_a_figure_open_until_they_cannot_change_it(self):
        # 18 within, 2 breached, 5 still running: 72%..92% still possible against 90%
        bounds = share_bounds(18, 2, 5)
        assert bounds == (D(92), D(72))
        assert percent(90, 90, sample=20, over=True, bounds=bounds)[0] == "on_track"
        assert percent(85, 90, sample=20, over=True, bounds=bounds)[0] == "behind"
        assert percent(85, 95, sample=20, over=True, bounds=bounds)[0] == "breached"  # 92 < 95 at best
        assert percent(95, 70, sample=20, over=True, bounds=bounds)[0] == "met"  # 72 >= 70 at worst
        assert share_bounds(18, 2, 0) is None  # nothing undecided: final as it stands


class TestDurations:
    def duration(self, actual, target, *, over=False, bounds=None):
        return standing(
            actual=D(actual),
            target=D(target),
            expected=None,
            unit="duration",
            lower_is_better=True,
            sample=30,
            period_over=over,
            rules=RULES,
            open_bounds=bounds,
        )

    def test_lower_is_better_grades_target_over_actual(self):
        assert self.duration(600, 600) == ("on_track", D(1))
        assert self.duration(750, 600) == ("behind", D("0.8"))
        assert self.duration(751, 600)[0] == "at_risk"
        assert self.duration(601, 600, over=True)[0] == "breached"

    def test_breaches_of_a_closed_cohort_decide_a_median_before_every_clock_stopped(self):
        # best case (every running clock stopping now) already above the target: breached, not "open"
        assert self.duration(500, 600, over=True, bounds=(D(700), None))[0] == "breached"
        assert self.duration(500, 600, over=True, bounds=(D(550), None))[0] == "on_track"


def test_the_on_track_edge_for_a_duration():
    # 600/631 = 0.9508… is on track; 600/632 = 0.9493… is behind
    assert TestDurations().duration(631, 600)[0] == "on_track"
    assert TestDurations().duration(632, 600)[0] == "behind"


@settings(max_examples=300, deadline=None)
@given(
    actual=st.integers(0, 10**9),
    target=st.integers(1, 10**9),
    expected=st.fractions(min_value=0, max_value=10**9, max_denominator=10**6),
)
def test_count_status_follows_the_exact_pace(actual, target, expected):
    exp = D(expected.numerator) / D(expected.denominator)
    status, pace = count(actual, target, exp, rules=StatusRules(min_sample=0))
    if actual >= target:
        assert status == "met"
        return
    if exp == 0:
        assert (status, pace) == ("on_track", None)
        return
    exact = Fraction(actual) / Fraction(exp)
    assert abs(Fraction(pace) - exact) <= exact * Fraction(1, 10**27)  # 28 significant digits
    want = "on_track" if exact >= Fraction(19, 20) else "behind" if exact >= Fraction(4, 5) else "at_risk"
    if abs(exact - Fraction(19, 20)) > Fraction(1, 10**20) and abs(exact - Fraction(4, 5)) > Fraction(
        1, 10**20
    ):
        assert status == want


@settings(max_examples=300, deadline=None)
@given(ok=st.integers(0, 10**6), failed=st.integers(0, 10**6), undecided=st.integers(1, 10**6))
def test_share_bounds_are_exact_and_hold_the_current_share(ok, failed, undecided):
    best, worst = share_bounds(ok, failed, undecided)
    total = ok + failed + undecided
    assert abs(Fraction(best) - Fraction(100 * (ok + undecided), total)) < Fraction(1, 10**20)
    assert abs(Fraction(worst) - Fraction(100 * ok, total)) < Fraction(1, 10**20)
    if ok + failed:
        now = Fraction(100 * ok, ok + failed)
        assert Fraction(worst) <= now + Fraction(1, 10**20) and now <= Fraction(best) + Fraction(1, 10**20)


# --- on the engine ----------------------------------------------------------------------------------

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday
MARCH = {"start": datetime(2026, 3, 1, tzinfo=UTC), "end": datetime(2026, 4, 1, tzinfo=UTC)}
CAL = BusinessCalendar.from_spec({"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}})
SALES = Subject.team("sales", [1])


def test_a_100_percent_handoff_target_is_out_of_reach_on_the_3rd_once_one_lead_lacked_data():
    rows = [(i, EventKind.HANDED_OVER, T0 + timedelta(minutes=i)) for i in range(43)]
    leads = LeadFrame.from_rows(
        [
            {"lead_id": 100 + i, "sales_owner": 1, "missing": {"email"} if i in (3, 7) else set()}
            for i in range(43)
        ],
        field_names=("email",),
    )
    f = Frames(EventFrame.from_rows(rows), leads, now=datetime(2026, 3, 3, 12, tzinfo=UTC))
    m = handoff_completeness(f, target=100, subject=SALES, **MARCH)
    assert m.actual == D(4100) / 43  # 95.3…%
    assert (m.status, m.pace) == ("cannot_be_met", m.attainment)
    assert handoff_completeness(f, target=95, subject=SALES, **MARCH).status == "on_track"


def test_clocks_still_running_after_the_end_leave_the_figure_open():
    # 21 leads handed over on 31 March 16:00; 20 decided within the hour, one still undecided on 1 April
    t = datetime(2026, 3, 31, 16, tzinfo=UTC)
    rows = [(i, EventKind.HANDED_OVER, t) for i in range(21)]
    rows += [(i, EventKind.ACCEPTED, t + timedelta(minutes=10)) for i in range(20)]
    leads = LeadFrame.from_rows([{"lead_id": 100 + i, "sales_owner": 1} for i in range(21)])
    args = {"subject": SALES, "window": timedelta(hours=8), "calendars": Calendars(CAL, {}), **MARCH}
    early = Frames(EventFrame.from_rows(rows), leads, now=datetime(2026, 4, 1, 10, tzinfo=UTC))
    m = decision_latency(early, target=100, **args)
    assert (m.actual, m.sample_size, m.figures["breached"]) == (100, 20, 0)
    assert m.status == "on_track"  # not "met": the 20th can still breach
    late = Frames(EventFrame.from_rows(rows), leads, now=datetime(2026, 4, 2, 10, tzinfo=UTC))
    assert decision_latency(late, target=100, **args).status == "breached"  # it did
    assert decision_latency(late, target=95, **args).status == "met"  # 20 of 21 within


def test_the_docstring_examples_hold():
    import doctest

    import leadpact.core._metrics_status as module

    assert doctest.testmod(module).failed == 0
