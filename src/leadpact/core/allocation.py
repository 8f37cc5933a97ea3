"""Split a team target over the people who own it, by available capacity, so the parts add up exactly.

**Capacity** of a person in a window is counted over the team's basis days in the window, day by day:

* a day before the person's ``start`` or on/after their ``end`` (a leaver's first day gone) counts 0;
* a day inside one of their ``leave`` ranges (half-open ``[first, end)``) counts 0;
* otherwise the day counts ``fte`` — or, when the person has **own working hours**, the person's
  business time that day ÷ the team's business time that day (the schedule *is* the part-time
  factor; ``fte`` is then not applied a second time, so "0.8 FTE, not on Wednesdays" is 0.8, not
  0.64). On a calendar-day basis own hours play no part and ``fte`` applies;
* times the **ramp** factor of the person's month of employment. Month *k* of employment is
  ``[add_months(start, k - 1), add_months(start, k))`` (same day of the month, clipped to the month's
  end); the default ramp is 0, ¼, ½, ¾ for months 1–4 and 1 from month 5 on. People without a start
  date are fully ramped.

**Shares**: person exact share = team target × capacity ÷ team capacity (Fractions; more leave never
raises it). At the edge the team target is rounded (counts half to even to an integer, amounts half to
even to the cent) and the whole units are apportioned by the **largest remainder (Hamilton) method**:
everybody gets the floor of their quota, the units left go one each to the largest remainders; ties go
to the larger capacity, then to the key in alphabetical order. So integer shares always add up to the
rounded team target; each differs from its exact quota by less than one unit. What does *not* hold for
integer shares: monotonicity — more leave for one person can, rarely, leave their whole-unit share
unchanged while the exact share fell, or shift a unit between two others (the Alabama-type paradoxes
of any apportionment method); monotonicity holds for the exact shares.

**Overrides** fix a person's share by hand; the rest of the team target is split over the others by
capacity, so the sum still holds. Every override is returned in the result for the audit log.

>>> apportion(10, {"ann": Fraction(1), "bob": Fraction(1), "cas": Fraction(1)})
{'ann': 4, 'bob': 3, 'cas': 3}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from leadpact.core._targets_base import (
    Basis,
    CalendarLike,
    Number,
    Unit,
    basis_dates,
    exact,
    to_unit,
    unit_step,
)
from leadpact.core.explain import Explanation, Step
from leadpact.core.periods import DateRange, Period, add_months
from leadpact.core.targets import TargetRule, WindowTarget

__all__ = [
    "DEFAULT_RAMP",
    "Allocation",
    "AllocationError",
    "Capacity",
    "Member",
    "Override",
    "Share",
    "TeamSplit",
    "allocate",
    "apportion",
    "capacity",
    "ramp_factor",
    "split_target",
]

_MICRO = timedelta(microseconds=1)
DEFAULT_RAMP: tuple[Fraction, ...] = (
    Fraction(0),
    Fraction(1, 4),
    Fraction(1, 2),
    Fraction(3, 4),
    Fraction(1),
)


class AllocationError(ValueError):
    """A split that cannot add up: overrides above the target, a bad FTE or ramp, an unknown person."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    """A person who owns part of a team target.

    ``end`` is exclusive (the first day the person is gone); ``leave`` ranges are half-open;
    ``hours`` is a weekly schedule in the calendar's format (``{"mon-tue": ["09:00-17:30"]}``).
    """

    key: str
    fte: Fraction = Fraction(1)
    start: date | None = None
    end: date | None = None
    hours: Mapping[str, Sequence[str]] | None = None
    leave: tuple[DateRange, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "fte", exact(self.fte, what=f"member {self.key}: fte"))
        if not 0 <= self.fte <= 1:
            raise AllocationError(f"member {self.key}: fte must be between 0 and 1, got {self.fte}")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise AllocationError(f"member {self.key}: end {self.end} is before start {self.start}")

    @staticmethod
    def from_spec(person: Mapping[str, object], *, key: str | None = None) -> Member:
        """A member from plain data (the demo organisation's ``people`` entries).

        Keys: ``fte``, ``start``, ``end`` (exclusive), ``hours``, ``leave`` (``[first, end)`` pairs),
        ``name``; dates as ``date`` or ISO text. The key defaults to ``email``, then ``name``.

        >>> Member.from_spec({"email": "a@example.com", "leave": [["2026-07-20", "2026-08-10"]]}).leave
        (DateRange(start=datetime.date(2026, 7, 20), end=datetime.date(2026, 8, 10)),)
        """
        who = str(key or person.get("email") or person.get("name") or "")
        if not who:
            raise AllocationError("member: needs a key, an email or a name")
        fte = person.get("fte", 1)
        if fte is None:
            fte = 1
        if not isinstance(fte, int | float | str | Decimal | Fraction) or isinstance(fte, bool):
            raise AllocationError(f"member {who}: fte {fte!r} is not a number")
        hours = person.get("hours")
        if hours is not None and not isinstance(hours, Mapping):
            raise AllocationError(f"member {who}: hours must be a weekly schedule mapping, got {hours!r}")
        leave_raw = person.get("leave") or []
        if not isinstance(leave_raw, list | tuple):
            raise AllocationError(f"member {who}: leave must be a list of [first, end) pairs")
        leave: list[DateRange] = []
        for i, pair in enumerate(leave_raw):
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise AllocationError(f"member {who}: leave[{i}] must be a [first, end) pair, got {pair!r}")
            first_day, end_day = (_date(v, f"member {who}: leave[{i}]") for v in pair)
            if end_day < first_day:
                raise AllocationError(f"member {who}: leave[{i}] ends {end_day} before it starts {first_day}")
            leave.append(DateRange(first_day, end_day))
        start = person.get("start")
        end = person.get("end")
        return Member(
            key=who,
            fte=exact(fte, what=f"member {who}: fte"),
            start=None if start is None else _date(start, f"member {who}: start"),
            end=None if end is None else _date(end, f"member {who}: end"),
            hours=hours,
            leave=tuple(sorted(leave)),
            name=str(person.get("name") or ""),
        )

    @property
    def label(self) -> str:
        """The name if known, else the key."""
        return self.name or self.key


def _date(value: object, what: str) -> date:
    if isinstance(value, datetime):
        raise AllocationError(f"{what}: expected a date, got a datetime {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise AllocationError(f"{what}: {value!r} is not an ISO date") from None
    raise AllocationError(f"{what}: expected a date, got {value!r}")


def ramp_factor(start: date | None, day: date, ramp: Sequence[Fraction] = DEFAULT_RAMP) -> Fraction:
    """The ramp factor on ``day`` for someone who started on ``start`` (1 after the ramp, or no start).

    >>> ramp_factor(date(2026, 1, 31), date(2026, 2, 27)), ramp_factor(date(2026, 1, 31), date(2026, 2, 28))
    (Fraction(0, 1), Fraction(1, 4))
    """
    if start is None or not ramp:
        return Fraction(1)
    for month, factor in enumerate(ramp, 1):
        if day < add_months(start, month):
            return factor
    return Fraction(1)


def _check_ramp(ramp: Sequence[Fraction]) -> tuple[Fraction, ...]:
    out = tuple(exact(r, what="ramp") for r in ramp)
    if any(not 0 <= r <= 1 for r in out):
        raise AllocationError(f"ramp: every factor must be between 0 and 1, got {[str(r) for r in out]}")
    return out


@dataclass(frozen=True, slots=True)
class Capacity:
    """A person's capacity in a window: person-days, with the numbers behind it."""

    member: Member
    window: DateRange
    basis: Basis
    team_days: int
    before_start: int
    after_end: int
    leave_days: int
    available_days: int
    scheduled: Fraction
    value: Fraction
    daily: tuple[tuple[date, Fraction], ...] = field(repr=False)

    def steps(self, ramp: Sequence[Fraction]) -> list[Step]:
        """The explanation steps of this capacity."""
        m = self.member
        steps = [Step("member", {"member": m.label, "fte": m.fte, "basis": self.basis})]
        if self.before_start and m.start is not None:
            steps.append(
                Step("not_yet_started", {"days": self.before_start, "basis": self.basis, "start": m.start})
            )
        if self.after_end and m.end is not None:
            steps.append(Step("left", {"days": self.after_end, "basis": self.basis, "end": m.end}))
        if self.leave_days:
            ranges = tuple(str(r) for r in m.leave if r.intersection(self.window))
            steps.append(Step("leave", {"days": self.leave_days, "basis": self.basis, "ranges": ranges}))
        steps.append(
            Step(
                "member_window",
                {
                    "days": self.team_days,
                    "basis": self.basis,
                    "member": m.label,
                    "available": self.available_days,
                },
            )
        )
        if m.hours is not None and self.basis == "business_days":
            fraction = self.scheduled / self.available_days if self.available_days else Fraction(0)
            steps.append(
                Step(
                    "part_time",
                    {"weighted": self.scheduled, "available": self.available_days, "fraction": fraction},
                )
            )
        elif m.fte != 1:
            steps.append(Step("fte", {"fte": m.fte, "weighted": self.scheduled}))
        if self.value != self.scheduled and m.start is not None:
            steps.append(
                Step(
                    "ramp",
                    {
                        "start": m.start,
                        "ramp": tuple(f"{float(r):.0%}" for r in ramp),
                        "before": self.scheduled,
                        "after": self.value,
                    },
                )
            )
        return steps


def capacity(
    member: Member,
    *,
    calendar: CalendarLike,
    window: DateRange | Period,
    basis: Basis = "business_days",
    ramp: Sequence[Fraction] = DEFAULT_RAMP,
) -> Capacity:
    """A person's capacity (person-days) over the team's basis days in ``window``; rules in the module doc."""
    rng = window.range if isinstance(window, Period) else window
    ramp = _check_ramp(ramp)
    own = (
        calendar.narrowed(hours=member.hours)
        if member.hours is not None and basis == "business_days"
        else None
    )
    before = after = on_leave = available = 0
    scheduled = value = Fraction(0)
    daily: list[tuple[date, Fraction]] = []
    team_days = basis_dates(calendar, basis, rng)
    for d in team_days:
        if member.start is not None and d < member.start:
            before += 1
            continue
        if member.end is not None and d >= member.end:
            after += 1
            continue
        if any(d in r for r in member.leave):
            on_leave += 1
            continue
        available += 1
        if own is None:
            weight = member.fte
        else:
            team_time = calendar.business_time_on(d)
            weight = (
                Fraction(own.business_time_on(d) // _MICRO, team_time // _MICRO) if team_time else Fraction(0)
            )
        scheduled += weight
        weighted = weight * ramp_factor(member.start, d, ramp)
        value += weighted
        if weighted:
            daily.append((d, weighted))
    return Capacity(
        member, rng, basis, len(team_days), before, after, on_leave, available, scheduled, value, tuple(daily)
    )


def apportion(total: int, weights: Mapping[str, Fraction]) -> dict[str, int]:
    """Split ``total`` whole units over ``weights`` by largest remainder (Hamilton), summing to ``total``.

    Ties in the remainder go to the larger weight, then to the key in alphabetical order. With no
    positive weight nothing is apportioned (every share 0).

    >>> apportion(7, {"a": Fraction(1), "b": Fraction(2)})
    {'a': 2, 'b': 5}
    """
    if total < 0:
        raise AllocationError(f"apportion: total must be zero or more, got {total}")
    weight_sum = sum(weights.values(), Fraction(0))
    if any(w < 0 for w in weights.values()):
        raise AllocationError("apportion: weights must be zero or more")
    if not weight_sum:
        return dict.fromkeys(weights, 0)
    quotas = {k: total * w / weight_sum for k, w in weights.items()}
    shares = {k: q.numerator // q.denominator for k, q in quotas.items()}
    left = total - sum(shares.values())
    order = sorted(weights, key=lambda k: (-(quotas[k] - shares[k]), -weights[k], k))
    for k in order[:left]:
        shares[k] += 1
    return shares


@dataclass(frozen=True, slots=True)
class Override:
    """A share set by hand, returned so the caller can log it."""

    key: str
    value: int | Decimal
    exact_before: Fraction


@dataclass(frozen=True, slots=True)
class Share:
    """One person's part of a team target: exact and at the edge."""

    key: str
    weight: Fraction
    exact: Fraction
    value: int | Decimal
    overridden: bool


@dataclass(frozen=True, slots=True)
class Allocation:
    """A team target split over people; ``sum(value) + unallocated == total`` (exactly, in whole units)."""

    unit: Unit
    total_exact: Fraction
    total: int | Decimal
    shares: tuple[Share, ...]
    overrides: tuple[Override, ...]
    unallocated_exact: Fraction
    unallocated: int | Decimal

    def __getitem__(self, key: str) -> Share:
        for share in self.shares:
            if share.key == key:
                return share
        raise KeyError(key)

    def values(self) -> dict[str, int | Decimal]:
        """Each person's share at the edge, by key."""
        return {s.key: s.value for s in self.shares}


def _units(value: Fraction, unit: Unit) -> int:
    return int(value / unit_step(unit))


def _from_units(units: int, unit: Unit) -> int | Decimal:
    return units if unit == "count" else Decimal(units).scaleb(-2)


def allocate(
    total: Number,
    weights: Mapping[str, Fraction],
    *,
    unit: Unit = "count",
    overrides: Mapping[str, Number] | None = None,
) -> Allocation:
    """Split ``total`` over ``weights`` (capacities); exact shares plus whole units by largest remainder.

    >>> a = allocate(Fraction(200, 3), {"ann": Fraction(20), "bob": Fraction(10)}, overrides={"bob": 30})
    >>> a.values(), [o.key for o in a.overrides]
    ({'ann': 37, 'bob': 30}, ['bob'])
    """
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(weights))
    if unknown:
        raise AllocationError(f"allocation: override for {', '.join(unknown)}, who is not on the team")
    total_exact = exact(total, what="allocation total")
    if total_exact < 0:
        raise AllocationError(f"allocation: total must be zero or more, got {total_exact}")
    rounded = to_unit(total_exact, unit)
    total_units = _units(Fraction(rounded), unit)
    fixed: dict[str, Fraction] = {}
    for key, raw in sorted(overrides.items()):
        value = exact(raw, what=f"override for {key}")
        if value < 0 or value % unit_step(unit):
            whole = "count" if unit == "count" else "cent"
            raise AllocationError(f"override for {key}: {raw} must be zero or more and a whole {whole}")
        fixed[key] = value
    fixed_sum = sum(fixed.values(), Fraction(0))
    if fixed_sum > Fraction(rounded):
        raise AllocationError(f"allocation: overrides add up to {fixed_sum}, more than the target {rounded}")
    free = {k: w for k, w in weights.items() if k not in fixed}
    free_weight = sum(free.values(), Fraction(0))
    rest_exact = total_exact - fixed_sum
    rest_units = total_units - _units(fixed_sum, unit)
    units = apportion(rest_units, free)
    weight_sum = sum(weights.values(), Fraction(0))
    shares: list[Share] = []
    override_log: list[Override] = []
    for key in weights:
        w = weights[key]
        if key in fixed:
            before = total_exact * w / weight_sum if weight_sum else Fraction(0)
            override_log.append(Override(key, _from_units(_units(fixed[key], unit), unit), before))
            shares.append(Share(key, w, fixed[key], _from_units(_units(fixed[key], unit), unit), True))
        else:
            share_exact = rest_exact * w / free_weight if free_weight else Fraction(0)
            shares.append(Share(key, w, share_exact, _from_units(units[key], unit), False))
    if free_weight:
        unallocated_exact, unallocated_units = Fraction(0), 0
    else:
        unallocated_exact, unallocated_units = rest_exact, rest_units
    return Allocation(
        unit,
        total_exact,
        rounded,
        tuple(shares),
        tuple(override_log),
        unallocated_exact,
        _from_units(unallocated_units, unit),
    )


@dataclass(frozen=True, slots=True)
class TeamSplit:
    """A team's target for a window and its split over people, each with an explanation."""

    team: WindowTarget
    capacities: tuple[Capacity, ...]
    allocation: Allocation
    ramp: tuple[Fraction, ...]

    def explain(self, key: str) -> Explanation:
        """Why person ``key`` has this target, step by step."""
        cap = next((c for c in self.capacities if c.member.key == key), None)
        if cap is None:
            raise KeyError(key)
        share = self.allocation[key]
        team_capacity = sum((c.value for c in self.capacities), Fraction(0))
        steps = [s for s in self.team.explanation.steps if s.code not in ("rounded",)]
        steps.extend(cap.steps(self.ramp))
        pct = 100 * cap.value / team_capacity if team_capacity else Fraction(0)
        steps.append(Step("capacity", {"capacity": cap.value, "team_capacity": team_capacity, "share": pct}))
        if share.overridden:
            steps.append(Step("override", {"value": share.value}))
        elif team_capacity:
            steps.append(
                Step(
                    "share",
                    {
                        "team_target": self.team.exact,
                        "capacity": cap.value,
                        "team_capacity": team_capacity,
                        "exact": share.exact,
                    },
                )
            )
        else:
            steps.append(Step("no_capacity", {"total": self.allocation.total}))
        steps.append(Step("rounded", {"value": self.allocation.total, "rule": "half_even"}))
        steps.append(
            Step(
                "apportioned",
                {
                    "unit": self.allocation.unit,
                    "total": self.allocation.total,
                    "member": cap.member.label,
                    "value": share.value,
                },
            )
        )
        return Explanation(f"{cap.member.label} ({self.team.explanation.subject})", tuple(steps))

    def values(self) -> dict[str, int | Decimal]:
        """Each person's target at the edge, by key."""
        return self.allocation.values()


def split_target(
    rule: TargetRule,
    window: DateRange | Period,
    members: Sequence[Member],
    *,
    ramp: Sequence[Number | float] = DEFAULT_RAMP,
    overrides: Mapping[str, Number] | None = None,
) -> TeamSplit:
    """The team target of ``window`` under ``rule``, split over ``members`` by capacity.

    Capacity is counted over the rule's active range only (partial periods pro-rate the same way).
    """
    keys = [m.key for m in members]
    if len(set(keys)) != len(keys):
        raise AllocationError(f"split: member keys must be unique, got {keys}")
    ramp_exact = _check_ramp([exact(r, what="ramp") for r in ramp])
    team = rule.target(window)
    inside = rule.active.intersection(team.window)
    caps = tuple(
        capacity(m, calendar=rule.calendar, window=inside, basis=rule.basis, ramp=ramp_exact) for m in members
    )
    allocation = allocate(
        team.exact, {c.member.key: c.value for c in caps}, unit=rule.unit, overrides=overrides
    )
    return TeamSplit(team, caps, allocation, ramp_exact)
