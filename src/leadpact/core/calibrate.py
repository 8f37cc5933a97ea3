"""Calibrate targets: derive a lead goal from a revenue goal, and test a target against history.

* **Backwards from revenue** (HubSpot's method, DOMAIN.md): leads = revenue goal × share from
  marketing ÷ average deal size ÷ lead-to-customer rate, computed exactly (Fractions), given as an
  exact Decimal where the quotient terminates and rounded half to even at 6 decimals otherwise; the
  whole-lead goal rounds **up** (fewer leads cannot reach the revenue).
* **From history**: the monthly actuals are summarised by their mean and *sample* standard deviation
  (n − 1), and the chance to meet a target is ``P(actual ≥ target)`` under a **normal model**
  ``N(mean, sd)`` (``statistics.NormalDist``; no continuity correction, so for counts it is the chance
  of reaching the target itself, read as a continuous quantity). Two actuals at least. With no
  spread (sd 0) the chance is 1 at or below the mean and 0 above it.

>>> lead_goal(revenue=Decimal("200000"), marketing_share=Decimal("0.60"),
...           average_deal=Decimal("4000"), lead_to_customer=Decimal("0.03")).leads
1000
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from statistics import NormalDist, mean, stdev

from leadpact.core._targets_base import Number, exact
from leadpact.core.explain import Lang, format_number

__all__ = [
    "CalibrationError",
    "HistoryFit",
    "LeadGoal",
    "chance_to_meet",
    "fit_history",
    "lead_goal",
    "propose_target",
]


class CalibrationError(ValueError):
    """Calibration inputs that cannot give an answer (a zero rate, too little history)."""


@dataclass(frozen=True, slots=True)
class LeadGoal:
    """A lead goal derived backwards from a revenue goal."""

    customers: Fraction
    exact: Fraction
    value: Decimal
    leads: int


def _decimal(value: Fraction, places: int = 6) -> Decimal:
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator == 1:  # a terminating decimal: exact
        digits = 0
        while (value * 10**digits).denominator != 1:
            digits += 1
        return Decimal((value * 10**digits).numerator).scaleb(-digits)
    return Decimal(round(value * 10**places)).scaleb(-places)


def lead_goal(
    *, revenue: Number, marketing_share: Number, average_deal: Number, lead_to_customer: Number
) -> LeadGoal:
    """Leads needed per period: revenue × marketing share ÷ average deal ÷ lead-to-customer rate.

    Shares and rates are fractions (60% is ``Decimal("0.60")``).
    """
    rev = exact(revenue, what="lead goal: revenue")
    share = exact(marketing_share, what="lead goal: marketing_share")
    deal = exact(average_deal, what="lead goal: average_deal")
    rate = exact(lead_to_customer, what="lead goal: lead_to_customer")
    if rev < 0:
        raise CalibrationError(f"lead goal: revenue must be zero or more, got {rev}")
    if not 0 <= share <= 1:
        raise CalibrationError(f"lead goal: marketing_share must be between 0 and 1, got {share}")
    if deal <= 0:
        raise CalibrationError(f"lead goal: average_deal must be more than 0, got {deal}")
    if not 0 < rate <= 1:
        raise CalibrationError(f"lead goal: lead_to_customer must be above 0 and at most 1, got {rate}")
    customers = rev * share / deal
    leads = customers / rate
    return LeadGoal(customers, leads, _decimal(leads), math.ceil(leads))


@dataclass(frozen=True, slots=True)
class HistoryFit:
    """Monthly actuals summarised under a normal model."""

    n: int
    mean: float
    sd: float

    def chance(self, target: Number | float) -> float:
        """``P(actual ≥ target)`` under ``N(mean, sd)``."""
        t = float(target)
        if self.sd == 0:
            return 1.0 if t <= self.mean else 0.0
        return 1.0 - NormalDist(self.mean, self.sd).cdf(t)

    def summary(self, target: Number | float, lang: Lang = "en", *, per: str = "month") -> str:
        """One sentence: "delivered 120 ± 15 a month; 150 has a chance of about 2%".

        >>> HistoryFit(12, 120.0, 15.0).summary(150)
        'delivered 120 ± 15 a month; 150 has a chance of about 2.3%'
        """
        pct = 100 * self.chance(target)
        places = 0 if pct <= 0 else max(0, 1 - math.floor(math.log10(pct)))  # two significant digits
        chance = format_number(Decimal(repr(round(pct, places))), lang, places=places)
        t = format_number(exact(target, what="target"), lang, places=2)
        m = format_number(Decimal(repr(self.mean)), lang, places=0)
        s = format_number(Decimal(repr(self.sd)), lang, places=0)
        if lang == "nl":
            per_nl = {"month": "maand", "week": "week", "quarter": "kwartaal", "day": "dag"}.get(per, per)
            return f"leverde {m} ± {s} per {per_nl}; {t} heeft ongeveer {chance}% kans"
        return f"delivered {m} ± {s} a {per}; {t} has a chance of about {chance}%"


def fit_history(actuals: Sequence[Number | float]) -> HistoryFit:
    """Mean and sample standard deviation of past actuals (at least two).

    >>> fit_history([100, 120, 140])
    HistoryFit(n=3, mean=120.0, sd=20.0)
    """
    values = [float(exact(a, what="history actual")) for a in actuals]
    if len(values) < 2:
        raise CalibrationError(f"history: need at least 2 actuals to measure spread, got {len(values)}")
    return HistoryFit(len(values), mean(values), stdev(values))


def chance_to_meet(actuals: Sequence[Number | float], target: Number | float) -> float:
    """``P(actual ≥ target)`` given past actuals, under the normal model."""
    return fit_history(actuals).chance(target)


def propose_target(actuals: Sequence[Number | float], *, chance: float = 0.5) -> int:
    """The highest whole target that history meets with at least ``chance`` (normal model).

    >>> propose_target([100, 120, 140], chance=0.8)
    103
    """
    if not 0 < chance < 1:
        raise CalibrationError(f"proposal: chance must be between 0 and 1 (exclusive), got {chance}")
    fit = fit_history(actuals)
    if fit.sd == 0:
        return math.floor(fit.mean)
    return math.floor(NormalDist(fit.mean, fit.sd).inv_cdf(1 - chance))
