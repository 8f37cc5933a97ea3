"""Splitting a team target over people: capacity, ramp, largest remainder, overrides."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadpact.core.allocation import (
    DEFAULT_RAMP,
    AllocationError,
    Member,
    allocate,
    apportion,
    capacity,
    ramp_factor,
    split_target,
)
from leadpact.core.calendar import BusinessCalendar
from leadpact.core.periods import DateRange, Period
from leadpact.core.targets import TargetRule

NL = BusinessCalendar.from_spec(
    {"timezone": "Europe/Amsterdam", "hours": {"mon-fri": ["09:00-17:30"]}, "holidays": {"country": "NL"}}
)
WEEKDAYS = BusinessCalendar.from_spec({"timezone": "Europe/Amsterdam", "hours": {"mon-fri": ["09:00-17:00"]}})
APRIL = Period.parse("2026-04")  # 19 NL business days: Good Friday, Easter Monday, King's Day


class TestApportion:
    def test_largest_remainder_not_rounding_each_share(self):
        # rounding each of three equal thirds of 10 would give 3 + 3 + 3 = 9
        assert apportion(10, {"ann": Fraction(1), "bob": Fraction(1), "cas": Fraction(1)}) == {
            "ann": 4,
            "bob": 3,
            "cas": 3,
        }
        assert apportion(7, {"a": Fraction(1), "b": Fraction(2)}) == {"a": 2, "b": 5}

    def test_ties_go_to_larger_weight_then_key(self):
        # quotas 1.5 and 1.5 → tie on remainder and weight → alphabetical
        assert apportion(3, {"zoe": Fraction(1), "amy": Fraction(1)}) == {"zoe": 1, "amy": 2}
        # quotas 10 × 1/4 = 2.5 and 10 × 3/4 = 7.5 → same remainder, the larger weight wins
        assert apportion(10, {"a": Fraction(1), "b": Fraction(3)}) == {"a": 2, "b": 8}

    def test_no_weight_no_shares(self):
        assert apportion(5, {"a": Fraction(0)}) == {"a": 0}
        assert apportion(5, {}) == {}

    def test_rejects_negative(self):
        with pytest.raises(AllocationError, match="total must be zero or more"):
            apportion(-1, {"a": Fraction(1)})
        with pytest.raises(AllocationError, match="weights must be zero or more"):
            apportion(1, {"a": Fraction(-1)})


class TestAllocate:
    def test_counts_add_up_and_stay_within_one_of_the_quota(self):
        got = allocate(Fraction(22800, 127), {"a": Fraction(19), "b": Fraction(14), "c": Fraction(7, 2)})
        assert got.total == 180
        assert sum(got.values().values()) == 180
        for share in got.shares:
            assert abs(share.value - share.exact) < 1
        assert sum(s.exact for s in got.shares) == Fraction(22800, 127)

    def test_amounts_to_the_cent(self):
        got = allocate(
            Decimal("1000.00"), {"a": Fraction(1), "b": Fraction(1), "c": Fraction(1)}, unit="amount"
        )
        assert got.values() == {"a": Decimal("333.34"), "b": Decimal("333.33"), "c": Decimal("333.33")}
        assert sum(got.values().values()) == Decimal("1000.00")

    def test_overrides_are_kept_and_returned_and_the_rest_is_re_split(self):
        got = allocate(100, {"a": Fraction(1), "b": Fraction(1), "c": Fraction(2)}, overrides={"c": 10})
        assert got.values() == {"a": 45, "b": 45, "c": 10}
        assert [(o.key, o.value, o.exact_before) for o in got.overrides] == [("c", 10, 50)]
        assert got["c"].overridden and not got["a"].overridden
        assert got["a"].exact == 45

    def test_overrides_cannot_exceed_the_target(self):
        with pytest.raises(AllocationError, match="overrides add up to 120, more than the target 100"):
            allocate(100, {"a": Fraction(1), "b": Fraction(1)}, overrides={"a": 60, "b": 60})

    def test_override_for_a_stranger_or_a_fraction(self):
        with pytest.raises(AllocationError, match="override for zed, who is not on the team"):
            allocate(100, {"a": Fraction(1)}, overrides={"zed": 1})
        with pytest.raises(
            AllocationError, match="override for a: 3/2 must be zero or more and a whole count"
        ):
            allocate(100, {"a": Fraction(1), "b": Fraction(1)}, overrides={"a": Fraction(3, 2)})

    def test_nobody_with_capacity_leaves_the_target_unallocated(self):
        got = allocate(50, {"a": Fraction(0), "b": Fraction(0)})
        assert got.values() == {"a": 0, "b": 0}
        assert (got.unallocated, got.unallocated_exact) == (50, 50)

    def test_everybody_overridden_leaves_the_rest_unallocated(self):
        got = allocate(50, {"a": Fraction(1)}, overrides={"a": 20})
        assert got.unallocated == 30


class TestRamp:
    def test_months_of_employment_from_the_start_date(self):
        start = date(2026, 3, 16)
        assert ramp_factor(start, date(2026, 3, 16)) == 0
        assert ramp_factor(start, date(2026, 4, 15)) == 0
        assert ramp_factor(start, date(2026, 4, 16)) == Fraction(1, 4)
        assert ramp_factor(start, date(2026, 6, 16)) == Fraction(3, 4)
        assert ramp_factor(start, date(2026, 7, 15)) == Fraction(3, 4)
        assert ramp_factor(start, date(2026, 7, 16)) == 1
        assert ramp_factor(None, date(2026, 7, 16)) == 1

    def test_month_ends_clip(self):
        assert ramp_factor(date(2026, 1, 31), date(2026, 2, 27)) == 0
        assert ramp_factor(date(2026, 1, 31), date(2026, 2, 28)) == Fraction(1, 4)

    def test_custom_and_invalid_ramps(self):
        assert ramp_factor(date(2026, 1, 1), date(2026, 1, 5), (Fraction(1, 2),)) == Fraction(1, 2)
        assert ramp_factor(date(2026, 1, 1), date(2026, 2, 5), (Fraction(1, 2),)) == 1
        with pytest.raises(AllocationError, match="between 0 and 1"):
            split_target(TargetRule(value=1, calendar=NL), APRIL, [Member(key="a")], ramp=[0, 2])


class TestCapacity:
    def test_full_timer(self):
        cap = capacity(Member(key="a"), calendar=NL, window=APRIL)
        assert (cap.team_days, cap.available_days, cap.value) == (19, 19, 19)

    def test_own_hours_are_the_part_time_factor_not_applied_twice(self):
        no_wednesdays = {"mon-tue": ["09:00-17:30"], "thu-fri": ["09:00-17:30"]}
        cap = capacity(Member(key="a", fte=Fraction(4, 5), hours=no_wednesdays), calendar=NL, window=APRIL)
        # April 2026 has 19 business days, 5 of them Wednesdays: 14 working days at full hours
        assert cap.value == 14
        mornings = capacity(Member(key="b", hours={"mon-fri": ["09:00-13:15"]}), calendar=NL, window=APRIL)
        assert mornings.value == Fraction(19, 2)

    def test_fte_without_hours(self):
        cap = capacity(Member(key="a", fte=Fraction(3, 5)), calendar=NL, window=APRIL)
        assert cap.value == Fraction(57, 5)

    def test_leave_start_and_end(self):
        member = Member(
            key="a",
            start=date(2026, 4, 8),
            end=date(2026, 4, 28),
            leave=(DateRange(date(2026, 4, 20), date(2026, 4, 22)),),
        )
        cap = capacity(member, calendar=NL, window=APRIL, ramp=())
        assert (cap.before_start, cap.after_end, cap.leave_days) == (3, 3, 2)  # 1, 2, 7 April; 28–30; 20–21
        assert cap.available_days == cap.value == 11

    def test_calendar_days_basis_ignores_hours(self):
        member = Member(key="a", fte=Fraction(1, 2), hours={"mon": ["09:00-10:00"]})
        cap = capacity(member, calendar=NL, window=APRIL, basis="calendar_days")
        assert cap.value == 15

    def test_member_from_plain_data(self):
        m = Member.from_spec(
            {
                "name": "Fleur Jansen",
                "email": "fleur@example.com",
                "fte": 0.8,
                "start": date(2023, 2, 1),
                "end": "2026-12-01",
                "hours": {"mon-tue": ["09:00-17:30"]},
                "leave": [["2026-07-06", "2026-07-27"]],
            }
        )
        assert (m.key, m.fte, m.end, m.label) == (
            "fleur@example.com",
            Fraction(4, 5),
            date(2026, 12, 1),
            "Fleur Jansen",
        )
        assert m.leave == (DateRange(date(2026, 7, 6), date(2026, 7, 27)),)

    @pytest.mark.parametrize(
        ("person", "message"),
        [
            ({"email": "a", "fte": 1.5}, "fte must be between 0 and 1"),
            ({"email": "a", "fte": "x"}, "fte: 'x' is not a number"),
            ({"email": "a", "leave": [["2026-07-06"]]}, r"leave\[0\] must be a \[first, end\) pair"),
            ({"email": "a", "leave": [["2026-07-06", "2026-07-01"]]}, r"leave\[0\] ends"),
            ({"email": "a", "start": "soon"}, "start: 'soon' is not an ISO date"),
            ({"email": "a", "start": "2026-05-01", "end": "2026-04-01"}, "end 2026-04-01 is before start"),
            ({}, "needs a key"),
        ],
    )
    def test_bad_member_data(self, person, message):
        with pytest.raises(ValueError, match=message):
            Member.from_spec(person)


class TestSplitTarget:
    def team(self):
        return [
            Member(key="ann", name="Ann"),
            Member(
                key="bob", fte=Fraction(4, 5), hours={"mon-tue": ["09:00-17:30"], "thu-fri": ["09:00-17:30"]}
            ),
            Member(key="cas", start=date(2026, 3, 10)),
            Member(key="dee", leave=(DateRange(date(2026, 4, 1), date(2026, 4, 15)),)),
        ]

    def test_split_adds_up_and_follows_capacity(self):
        split = split_target(TargetRule(value=200, calendar=NL), APRIL, self.team())
        assert split.allocation.total == 180
        assert sum(split.values().values()) == 180
        caps = {c.member.key: c.value for c in split.capacities}
        # cas: 10 March start → month 1 ends 9 April (0%: 5 days), month 2 from 10 April (25%: 14 days)
        assert caps == {"ann": 19, "bob": 14, "cas": Fraction(7, 2), "dee": 11}
        team_capacity = sum(caps.values())
        for key, cap in caps.items():
            assert split.allocation[key].exact == split.team.exact * cap / team_capacity

    def test_explanation_of_a_person(self):
        split = split_target(TargetRule(value=200, calendar=NL), APRIL, self.team())
        why = split.explain("dee")
        assert why.codes == (
            "stated",
            "normalised_average",
            "basis_days",
            "holidays",
            "team_total",
            "member",
            "leave",
            "member_window",
            "capacity",
            "share",
            "rounded",
            "apportioned",
        )
        text = why.render("en")
        assert "8 business days of leave taken out ([2026-04-01, 2026-04-15))" in text
        assert "Good Friday" in text
        assert f"dee gets {split.values()['dee']}" in text
        assert "ramp" in split.explain("cas").codes
        nl = split.explain("bob").render("nl")
        assert "Eigen werktijden: 14 volle dagen over 19 dagen" in nl
        with pytest.raises(KeyError):
            split.explain("zed")

    def test_overrides_in_a_split(self):
        split = split_target(TargetRule(value=200, calendar=NL), APRIL, self.team(), overrides={"cas": 0})
        assert split.values()["cas"] == 0
        assert sum(split.values().values()) == 180
        assert [o.key for o in split.allocation.overrides] == ["cas"]
        assert "override" in split.explain("cas").codes

    def test_partial_agreement_counts_capacity_inside_the_active_range_only(self):
        rule = TargetRule(value=200, calendar=NL, start=date(2026, 4, 16))
        split = split_target(rule, APRIL, self.team())
        caps = {c.member.key: c.value for c in split.capacities}
        assert caps["dee"] == caps["ann"]  # dee's leave is before the agreement starts

    def test_duplicate_keys(self):
        with pytest.raises(AllocationError, match="unique"):
            split_target(TargetRule(value=1, calendar=NL), APRIL, [Member(key="a"), Member(key="a")])


# -- properties -----------------------------------------------------------------------------------

weights = st.dictionaries(
    st.text(alphabet="abcdefgh", min_size=1, max_size=3),
    st.fractions(min_value=0, max_value=40, max_denominator=12),
    min_size=1,
    max_size=12,
)


@settings(max_examples=200)
@given(st.fractions(min_value=0, max_value=100000, max_denominator=1000), weights)
def test_count_allocations_always_sum_to_the_team_target(total, w):
    got = allocate(total, w)
    assert sum(got.values().values()) + got.unallocated == got.total == round(total)
    weight_sum = sum(w.values())
    for share in got.shares:
        quota = round(total) * share.weight / weight_sum if weight_sum else 0
        assert abs(share.value - quota) < 1


@settings(max_examples=200)
@given(st.decimals(min_value=0, max_value=1000000, places=2), weights)
def test_amount_allocations_always_sum_to_the_cent(total, w):
    got = allocate(total, w, unit="amount")
    assert sum(got.values().values(), Decimal(0)) + got.unallocated == got.total == total
    assert all(v == v.quantize(Decimal("0.01")) for v in got.values().values())


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=10000), weights, st.data())
def test_allocations_with_overrides_still_sum(total, w, data):
    keys = sorted(w)
    chosen = data.draw(st.lists(st.sampled_from(keys), unique=True, max_size=len(keys) - 1))
    budget = total
    overrides = {}
    for key in chosen:
        overrides[key] = data.draw(st.integers(min_value=0, max_value=budget))
        budget -= overrides[key]
    got = allocate(total, w, overrides=overrides)
    assert sum(got.values().values()) + got.unallocated == total
    assert {o.key: o.value for o in got.overrides} == overrides


leave_ranges = st.lists(
    st.builds(
        lambda start, days: DateRange(start, start + timedelta(days=days)),
        st.dates(min_value=date(2026, 3, 20), max_value=date(2026, 5, 10)),
        st.integers(min_value=0, max_value=20),
    ),
    max_size=3,
)


@settings(max_examples=150, deadline=None)
@given(leave_ranges, leave_ranges, st.sampled_from(["business_days", "calendar_days"]))
def test_more_leave_never_raises_a_persons_exact_share(leave, extra, basis):
    rule = TargetRule(value=200, calendar=NL, basis=basis)
    others = [
        Member(key="x"),
        Member(key="y", fte=Fraction(1, 2)),
        Member(key="z", leave=(DateRange(date(2026, 4, 6), date(2026, 4, 9)),)),
    ]
    before = split_target(rule, APRIL, [Member(key="p", leave=tuple(leave)), *others])
    after = split_target(rule, APRIL, [Member(key="p", leave=tuple(leave + extra)), *others])
    assert after.team.exact == before.team.exact
    assert after.allocation["p"].exact <= before.allocation["p"].exact
    # integers: still within one lead of the exact share, and never above the exact share rounded up
    assert after.allocation["p"].value <= before.allocation["p"].value + 1


@settings(max_examples=150, deadline=None)
@given(
    st.dates(min_value=date(2025, 11, 1), max_value=date(2026, 4, 30)),
    st.lists(st.fractions(min_value=0, max_value=1, max_denominator=8), min_size=1, max_size=6),
    st.sampled_from(["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]),
)
def test_ramp_never_gives_a_starter_more_than_a_full_colleague_with_the_same_days(start, ramp, month):
    rule = TargetRule(value=200, calendar=NL)
    period = Period.parse(month)
    starter = Member(key="new", start=start)
    colleague = Member(key="old", start=start)  # the same days, but counted as fully ramped
    split = split_target(rule, period, [starter, Member(key="other")], ramp=ramp)
    full = split_target(rule, period, [colleague, Member(key="other")], ramp=())
    assert split.allocation["new"].exact <= full.allocation["old"].exact
    cap_new = capacity(starter, calendar=NL, window=period, ramp=ramp)
    cap_old = capacity(colleague, calendar=NL, window=period, ramp=())
    assert cap_new.value <= cap_old.value
    assert DEFAULT_RAMP[-1] == 1
