"""Targets as rates over basis days: any window gets ``rate × basis days``, exactly.

A commitment states a target per period (200 MQLs a month) or per basis day (10 a business day).
Internally every target is a **rate per basis day** — business days of the commitment's calendar or
plain calendar days — so a 28-day month, a week with a holiday, a partial month and a person on leave
all get a fair share. The target of any window is the sum of the daily rate over the basis days of
the window that fall inside the agreement's active range ``[start, until)``.

Rules (each a choice written down here so that nobody has to guess):

* **Normalisation** of a per-period target:

  - ``average_period`` (default): by the average period of the *calendar year the day falls in*.
    The average month has ``Y / 12`` basis days, the average quarter ``Y / 4`` and the average week
    ``7 Y / N`` where ``Y`` is the number of basis days in that year and ``N`` its number of
    calendar days (365 or 366). So twelve months of a year add up to exactly 12 × the monthly target;
    a month with fewer basis days than average gets less.
  - ``own_period``: by the period's own basis days; the stated number holds in every period (a
    period without basis days gets nothing).

  ``per: day`` means per basis day (per business day on a business-day basis); normalisation does
  not apply to it.
* **Growth** ``g`` per month compounds per basis day: the daily factor is ``(1 + g) ** (1 / A)``
  where ``A`` is the average number of basis days per month of the year (``Y / 12``). The stated
  value is the rate on the first basis day of the active range (the anchor, the agreement's
  effective start); the rate on a later basis day is ``value × (1 + g) ** e`` with ``e`` the number
  of average months elapsed, counted basis day by basis day from the anchor. **Float enters here
  only**: the growth factor is computed as a float and taken into the exact arithmetic as the exact
  value of that float (``Fraction(float)``), so sums stay exact and reproducible.
* **Seasonality** (optional): twelve weights, normalised per year so that their mean, weighted by
  each month's basis days, is 1 — the year total is unchanged, only its shape.
* **Edges**: exact :class:`~fractions.Fraction` inside; at the edge counts round half to even to an
  integer and amounts half to even to the cent (Decimal). Splits over people use largest remainder
  (see :mod:`leadpact.core.allocation`).

>>> round(daily_growth(0.10, 28) * 100, 4), round(daily_growth(0.10, 31) * 100, 4)
(0.341, 0.3079)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Literal, get_args

from leadpact.core._targets_base import (
    Basis,
    CalendarLike,
    Number,
    Unit,
    basis_dates,
    basis_day_count,
    exact,
    to_unit,
)
from leadpact.core.explain import Explanation, Step
from leadpact.core.periods import DateRange, Period, PeriodKind

__all__ = [
    "Basis",
    "CalendarLike",
    "Normalisation",
    "Per",
    "Seasonality",
    "TargetError",
    "TargetRule",
    "Unit",
    "WindowTarget",
    "daily_growth",
    "grown_target",
    "linear_daily_growth",
]

Normalisation = Literal["average_period", "own_period"]
Per = Literal["day", "week", "month", "quarter", "basis_day"]
_PERS: tuple[Per, ...] = get_args(Per)
_BASES: tuple[Basis, ...] = get_args(Basis)
_NORMALISATIONS: tuple[Normalisation, ...] = get_args(Normalisation)
_UNITS: tuple[Unit, ...] = get_args(Unit)
_OPEN_START = date.min
_OPEN_END = date.max


class TargetError(ValueError):
    """A target that cannot be turned into a rate (bad value, unit, period, growth or seasonality)."""


def daily_growth(monthly: float, basis_days_per_month: float | Fraction) -> float:
    """The compound daily growth that gives ``monthly`` growth over ``basis_days_per_month`` days.

    >>> f"{daily_growth(0.10, 28):.4%} in a 28-day month, {daily_growth(0.10, 31):.4%} in a 31-day month"
    '0.3410% in a 28-day month, 0.3079% in a 31-day month'
    """
    if basis_days_per_month <= 0:
        raise TargetError(f"growth: basis days per month must be positive, got {basis_days_per_month}")
    return float((1.0 + monthly) ** (1.0 / float(basis_days_per_month)) - 1.0)


def linear_daily_growth(monthly: float, basis_days_per_month: float | Fraction) -> float:
    """The naive linear daily growth ``monthly / days`` (overshoots when chained; shown for comparison).

    >>> round(linear_daily_growth(0.10, 28) * 100, 4)
    0.3571
    """
    if basis_days_per_month <= 0:
        raise TargetError(f"growth: basis days per month must be positive, got {basis_days_per_month}")
    return monthly / float(basis_days_per_month)


def grown_target(previous: Number, previous_days: int, days: int, growth: Number | float) -> Fraction:
    """Next period's fair target: last period's daily rate, grown by ``growth``, times this period's days.

    DOMAIN.md's example: January 2026 has 22 weekdays and 440 leads (20 a day); February has 20
    weekdays. At +10% on the daily rate February's fair target is 22 a day × 20 = 440 (a naive
    "+10%" of 484 would demand 24.2 a day, +21%).

    >>> grown_target(440, 22, 20, Fraction(1, 10))
    Fraction(440, 1)
    """
    if previous_days <= 0:
        raise TargetError(f"growth: previous period has {previous_days} basis days")
    rate = exact(previous, what="previous target") / previous_days
    return rate * (1 + exact(growth, what="growth")) * days


@dataclass(frozen=True, slots=True)
class Seasonality:
    """Twelve monthly weights (January first) that shape targets and pacing; scale does not matter.

    >>> Seasonality.of([1] * 11 + [2]).weights[-1]
    Fraction(2, 1)
    """

    weights: tuple[Fraction, ...]

    def __post_init__(self) -> None:
        if len(self.weights) != 12:
            raise TargetError(f"seasonality: expected 12 monthly weights, got {len(self.weights)}")
        if any(w < 0 for w in self.weights) or not any(self.weights):
            raise TargetError("seasonality: weights must be zero or more and not all zero")

    @staticmethod
    def of(weights: Iterable[Number | float | str]) -> Seasonality:
        """Seasonality from any twelve numbers (floats are read by their decimal text)."""
        return Seasonality(tuple(exact(w, what="seasonality weight") for w in weights))

    def factors(self, basis_days_by_month: Sequence[int]) -> tuple[Fraction, ...]:
        """The twelve factors for a year with these basis days per month: mean 1, weighted by days."""
        total = sum(basis_days_by_month)
        weighted = sum(w * n for w, n in zip(self.weights, basis_days_by_month, strict=True))
        if not weighted:
            return tuple(Fraction(0) for _ in self.weights)
        return tuple(w * total / weighted for w in self.weights)


@dataclass(frozen=True, slots=True)
class WindowTarget:
    """The target of one window: exact, at the edge (int or Decimal cents), and its explanation."""

    window: DateRange
    exact: Fraction
    value: int | Decimal
    unit: Unit
    basis_days: int
    explanation: Explanation


@dataclass(slots=True)
class _YearFacts:
    basis_days: int
    month_days: tuple[int, ...]
    season: tuple[Fraction, ...] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetRule:
    """A stated target and how it becomes a rate per basis day on a calendar.

    >>> from leadpact.core.calendar import BusinessCalendar
    >>> spec = {"timezone": "Europe/Amsterdam", "hours": {"mon-fri": ["09:00-17:00"]}}
    >>> nl = BusinessCalendar.from_spec(spec | {"holidays": {"country": "NL"}})
    >>> TargetRule(value=10, per="day", calendar=nl).over(Period.parse("2026-W18"))  # King's Day
    Fraction(40, 1)
    >>> TargetRule(value=200, calendar=nl).target(Period.parse("2026-02")).value  # 20 of 254/12 days
    189
    """

    value: Fraction
    calendar: CalendarLike
    unit: Unit = "count"
    per: Per = "month"
    basis: Basis = "business_days"
    normalisation: Normalisation = "average_period"
    growth: float | None = None
    start: date | None = None
    until: date | None = None
    seasonality: Seasonality | None = None
    subject: str = "team"
    _cache: dict[int, _YearFacts] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", exact(self.value, what="target value"))
        if self.value <= 0:
            raise TargetError(f"target {self.subject}: value must be more than 0, got {self.value}")
        for name, got, allowed in (
            ("unit", self.unit, _UNITS),
            ("per", self.per, _PERS),
            ("basis", self.basis, _BASES),
            ("normalisation", self.normalisation, _NORMALISATIONS),
        ):
            if got not in allowed:
                raise TargetError(f"target {self.subject}: {name} {got!r} is not one of {', '.join(allowed)}")
        if self.growth is not None:
            if not -1 < float(self.growth) < 10:
                raise TargetError(
                    f"target {self.subject}: growth {self.growth} must be above -1 and below 10"
                )
            if self.start is None:
                raise TargetError(f"target {self.subject}: growth needs a start date (the anchor)")
        if self.start is not None and self.until is not None and self.until < self.start:
            raise TargetError(f"target {self.subject}: until {self.until} is before start {self.start}")

    @staticmethod
    def from_spec(
        target: Mapping[str, object],
        *,
        calendar: CalendarLike,
        basis: Basis = "business_days",
        normalisation: Normalisation = "average_period",
        start: date | None = None,
        until: date | None = None,
        seasonality: Seasonality | None = None,
        subject: str = "team",
    ) -> TargetRule:
        """A rule from an agreement's ``target: {value, unit, per, growth}`` mapping."""
        value = target.get("value")
        unit = target.get("unit", "count")
        per = target.get("per", "month")
        growth = target.get("growth")
        if not isinstance(value, int | float | str | Decimal | Fraction) or isinstance(value, bool):
            raise TargetError(f"target {subject}: value {value!r} is not a number")
        if unit not in _UNITS:
            raise TargetError(f"target {subject}: unit {unit!r} has no rate; expected count or amount")
        if per not in _PERS:
            raise TargetError(f"target {subject}: per {per!r} is not one of {', '.join(_PERS)}")
        if growth is not None and (not isinstance(growth, int | float | Decimal) or isinstance(growth, bool)):
            raise TargetError(f"target {subject}: growth {growth!r} is not a number")
        return TargetRule(
            value=exact(value, what=f"target {subject}: value"),
            calendar=calendar,
            unit=unit,
            per=per,
            basis=basis,
            normalisation=normalisation,
            growth=None if growth is None else float(growth),
            start=start,
            until=until,
            seasonality=seasonality,
            subject=subject,
        )

    # -- the rate ------------------------------------------------------------------------------------

    @property
    def active(self) -> DateRange:
        """The range in which the target runs: ``[start, until)``, open where not given."""
        return DateRange(self.start or _OPEN_START, self.until or _OPEN_END)

    def _year(self, year: int) -> _YearFacts:
        facts = self._cache.get(year)
        if facts is None:
            months = tuple(
                basis_day_count(self.calendar, self.basis, Period.parse(f"{year:04d}-{m:02d}").range)
                for m in range(1, 13)
            )
            season = None if self.seasonality is None else self.seasonality.factors(months)
            facts = _YearFacts(sum(months), months, season)
            self._cache[year] = facts
        return facts

    def average_basis_days(self, per: PeriodKind, year: int) -> Fraction:
        """Basis days of the average ``per`` in ``year`` (the ``average_period`` reference).

        >>> from leadpact.core.calendar import BusinessCalendar
        >>> weekdays = BusinessCalendar.from_spec({"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}})
        >>> TargetRule(value=1, calendar=weekdays).average_basis_days("month", 2026)
        Fraction(87, 4)
        """
        y = self._year(year).basis_days
        if per == "day":
            return Fraction(1)
        if per == "month":
            return Fraction(y, 12)
        if per == "quarter":
            return Fraction(y, 4)
        days_in_year = (date(year + 1, 1, 1) - date(year, 1, 1)).days
        return Fraction(7 * y, days_in_year)

    def _base_rate(self, d: date, own: dict[date, int]) -> Fraction:
        if self.per in ("day", "basis_day"):
            return self.value
        kind: PeriodKind = self.per  # type: ignore[assignment]  # narrowed above: week|month|quarter
        if self.normalisation == "average_period":
            average = self.average_basis_days(kind, d.year)
            return self.value / average if average else Fraction(0)
        period = Period.containing(kind, d)
        count = own.get(period.start)
        if count is None:
            count = own[period.start] = basis_day_count(self.calendar, self.basis, period.range)
        return self.value / count if count else Fraction(0)

    def _months_before(self, d: date) -> Fraction:
        """Average months elapsed from the anchor to ``d``, counted in basis days year by year."""
        assert self.start is not None
        months = Fraction(0)
        year = self.start.year
        while year <= d.year:
            first = max(self.start, date(year, 1, 1))
            end = min(d, date(year + 1, 1, 1))
            if first < end:
                facts = self._year(year)
                days = basis_day_count(self.calendar, self.basis, DateRange(first, end))
                months += Fraction(12 * days, facts.basis_days)
            year += 1
        return months

    def daily(self, window: DateRange | Period) -> list[tuple[date, Fraction]]:
        """The exact rate on each basis day of ``window`` inside the active range (other days are 0)."""
        inside = self.active.intersection(window)
        dates = basis_dates(self.calendar, self.basis, inside)
        if not dates:
            return []
        own: dict[date, int] = {}
        out: list[tuple[date, Fraction]] = []
        one_plus_g = 1.0 + self.growth if self.growth is not None else None
        months = self._months_before(dates[0]) if one_plus_g is not None else Fraction(0)
        for d in dates:
            facts = self._year(d.year)
            rate = self._base_rate(d, own)
            if facts.season is not None:
                rate *= facts.season[d.month - 1]
            if one_plus_g is not None:
                rate *= Fraction(one_plus_g ** float(months))
                months += Fraction(12, facts.basis_days)
            out.append((d, rate))
        return out

    def over(self, window: DateRange | Period) -> Fraction:
        """The exact target of any window: the rate summed over its basis days inside the active range."""
        return sum((rate for _, rate in self.daily(window)), Fraction(0))

    # -- at the edge ---------------------------------------------------------------------------------

    def target(self, window: DateRange | Period) -> WindowTarget:
        """The target of ``window`` with its rounding at the edge and its explanation."""
        rng = window.range if isinstance(window, Period) else window
        daily = self.daily(rng)
        total = sum((rate for _, rate in daily), Fraction(0))
        value = to_unit(total, self.unit)
        steps = self._explain(rng, daily, total, value)
        subject = f"{self.subject} {window}"
        return WindowTarget(rng, total, value, self.unit, len(daily), Explanation(subject, tuple(steps)))

    def _explain(
        self, window: DateRange, daily: list[tuple[date, Fraction]], total: Fraction, value: int | Decimal
    ) -> list[Step]:
        steps = [
            Step("stated", {"value": self.value, "unit": self.unit, "per": self.per, "basis": self.basis})
        ]
        rates = [r for _, r in daily]
        year = window.start.year
        if self.per in ("day", "basis_day"):
            steps.append(Step("normalised_day", {"rate": self.value, "basis": self.basis}))
        elif self.normalisation == "average_period":
            kind: PeriodKind = self.per  # type: ignore[assignment]
            average = self.average_basis_days(kind, year)
            rate = self.value / average if average else Fraction(0)
            steps.append(
                Step(
                    "normalised_average",
                    {
                        "per": self.per,
                        "year": str(year),
                        "average": average,
                        "basis": self.basis,
                        "rate": rate,
                    },
                )
            )
        else:
            first_rate = rates[0] if rates else Fraction(0)
            steps.append(
                Step(
                    "normalised_own",
                    {"per": self.per, "basis": self.basis, "value": self.value, "rate": first_rate},
                )
            )
        if window:
            outside = basis_day_count(self.calendar, self.basis, window) - len(daily)
            if outside:
                steps.append(
                    Step(
                        "inactive",
                        {
                            "active_from": self.start.isoformat() if self.start else "open",
                            "active_until": self.until.isoformat() if self.until else "open",
                            "days": outside,
                            "basis": self.basis,
                        },
                    )
                )
            steps.append(
                Step(
                    "basis_days",
                    {"first": window.start, "last": window.last, "days": len(daily), "basis": self.basis},
                )
            )
            if self.basis == "business_days":
                holidays = self.calendar.holidays_between(window.start, window.last)
                names: tuple[str, ...] = tuple(f"{name} ({d.isoformat()})" for d, name in holidays)
                steps.append(Step("holidays", {"names": names}) if names else Step("no_holidays", {}))
        if self.growth is not None and self.start is not None and daily:
            low, high = self._growth_factors(daily)
            average = self.average_basis_days("month", daily[0][0].year)
            steps.append(
                Step(
                    "growth",
                    {
                        "monthly_pct": self.growth * 100,
                        "daily_pct": daily_growth(self.growth, average) * 100,
                        "average": average,
                        "basis": self.basis,
                        "low_factor": low,
                        "high_factor": high,
                        "anchor": self.start,
                    },
                )
            )
        elif rates and min(rates) != max(rates):
            steps.append(Step("rate_varies", {"low": min(rates), "high": max(rates)}))
        if self.seasonality is not None and daily:
            months = sorted({(d.year, d.month) for d, _ in daily})
            factors: tuple[str, ...] = tuple(
                f"{y:04d}-{m:02d} ×{float(self._year(y).season[m - 1]):.3f}"  # type: ignore[index]
                for y, m in months
            )
            steps.append(Step("seasonality", {"factors": factors}))
        steps.append(Step("team_total", {"exact": total}))
        steps.append(Step("rounded", {"value": value, "rule": "half_even"}))
        return steps

    def _growth_factors(self, daily: list[tuple[date, Fraction]]) -> tuple[float, float]:
        assert self.start is not None and self.growth is not None
        first = self._months_before(daily[0][0])
        last = self._months_before(daily[-1][0])
        return (1 + self.growth) ** float(first), (1 + self.growth) ** float(last)
