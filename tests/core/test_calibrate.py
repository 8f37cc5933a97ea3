"""Calibration: lead goal backwards from revenue; a target's chance from history (normal model)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from statistics import NormalDist

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadpact.core.calibrate import (
    CalibrationError,
    HistoryFit,
    chance_to_meet,
    fit_history,
    lead_goal,
    propose_target,
)


class TestLeadGoal:
    def test_domain_example(self):
        goal = lead_goal(
            revenue=Decimal("200000"),
            marketing_share=Decimal("0.60"),
            average_deal=Decimal("4000"),
            lead_to_customer=Decimal("0.03"),
        )
        assert goal.customers == 30
        assert goal.exact == 1000
        assert goal.value == Decimal("1000")
        assert goal.leads == 1000

    def test_non_terminating_quotient_and_whole_leads_round_up(self):
        goal = lead_goal(
            revenue=100000,
            marketing_share=Decimal("0.5"),
            average_deal=3000,
            lead_to_customer=Decimal("0.07"),
        )
        assert goal.exact == Fraction(5000000, 21000)  # 238.095238…
        assert goal.value == Decimal("238.095238")
        assert goal.leads == 239
        exact = lead_goal(revenue=1000, marketing_share=1, average_deal=8, lead_to_customer=Decimal("0.5"))
        assert exact.value == Decimal("250")
        assert lead_goal(revenue=10, marketing_share=1, average_deal=4, lead_to_customer=1).value == Decimal(
            "2.5"
        )

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"average_deal": 0}, "average_deal must be more than 0"),
            ({"lead_to_customer": 0}, "lead_to_customer must be above 0"),
            ({"lead_to_customer": Decimal("1.5")}, "lead_to_customer must be above 0 and at most 1"),
            ({"marketing_share": Decimal("60")}, "marketing_share must be between 0 and 1"),
            ({"revenue": -1}, "revenue must be zero or more"),
        ],
    )
    def test_bad_inputs(self, kwargs, message):
        args = {
            "revenue": 200000,
            "marketing_share": Decimal("0.6"),
            "average_deal": 4000,
            "lead_to_customer": Decimal("0.03"),
        }
        with pytest.raises(CalibrationError, match=message):
            lead_goal(**(args | kwargs))


class TestHistory:
    def test_mean_and_sample_sd(self):
        assert fit_history([100, 120, 140]) == HistoryFit(3, 120.0, 20.0)

    def test_chance_under_the_normal_model(self):
        fit = HistoryFit(12, 120.0, 15.0)
        assert fit.chance(120) == pytest.approx(0.5)
        assert fit.chance(150) == pytest.approx(1 - NormalDist().cdf(2))  # about 2.3%
        assert fit.chance(180) == pytest.approx(1 - NormalDist().cdf(4))  # about 0.003%
        assert chance_to_meet([100, 120, 140], 100) == pytest.approx(NormalDist().cdf(1))

    def test_summary_in_words(self):
        fit = HistoryFit(12, 120.0, 15.0)
        assert fit.summary(150) == "delivered 120 ± 15 a month; 150 has a chance of about 2.3%"
        assert fit.summary(180) == "delivered 120 ± 15 a month; 180 has a chance of about 0.0032%"
        assert fit.summary(120, "nl") == "leverde 120 ± 15 per maand; 120 heeft ongeveer 50% kans"
        assert fit.summary(150, "nl") == "leverde 120 ± 15 per maand; 150 heeft ongeveer 2,3% kans"

    def test_no_spread(self):
        fit = fit_history([50, 50, 50])
        assert (fit.chance(50), fit.chance(51)) == (1.0, 0.0)
        assert propose_target([50, 50], chance=0.9) == 50

    def test_propose(self):
        assert propose_target([100, 120, 140], chance=0.8) == 103
        assert propose_target([100, 120, 140]) == 120
        with pytest.raises(CalibrationError, match="chance must be between 0 and 1"):
            propose_target([1, 2], chance=1)

    def test_needs_two_actuals(self):
        with pytest.raises(CalibrationError, match="at least 2 actuals"):
            fit_history([120])


@settings(max_examples=200)
@given(
    st.lists(st.integers(min_value=0, max_value=1000), min_size=2, max_size=24),
    st.floats(min_value=0.01, max_value=0.99),
)
def test_a_proposed_target_is_met_at_least_as_often_as_asked(actuals, chance):
    target = propose_target(actuals, chance=chance)
    assert chance_to_meet(actuals, target) >= chance - 1e-9
    assert chance_to_meet(actuals, target + 1) <= chance_to_meet(actuals, target)
