"""Pacing: where a target should be at any instant inside its period, and whether the actual keeps up.

Expected-to-date is the target line integrated up to ``now``: every basis day before today counts
in full, today counts by the share of the day that has elapsed — **business time** for business-day
targets (``calendar.elapsed`` from local midnight to ``now`` ÷ the day's business time, so 13:00 on a
09:00–17:00 day is half a day) and **wall time** for calendar-day targets (local midnight to ``now``
÷ the length of that local day, which is 23 or 25 hours on DST days). Days after today count 0.

* ``pace = actual ÷ expected``;
* ``projected = actual ÷ elapsed`` with ``elapsed = expected ÷ total`` the share of the target line
  behind us (DOMAIN.md's ``actual ÷ elapsed basis days × total basis days`` when the rate is flat);
  equivalently ``pace × total``;
* status by the agreement's thresholds (``settings.pacing``): ``pace ≥ ahead`` → ``ahead``,
  ``≥ on_track`` → ``on_track``, ``≥ behind`` → ``behind``, else ``at_risk``; while nothing is
  expected yet (before the first basis minute) the status is ``not_started`` and pace and projection
  are ``None`` — never a division by zero. After the period, expected equals the total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Literal

from leadpact.core._targets_base import Basis, CalendarLike, Number, exact
from leadpact.core.allocation import TeamSplit
from leadpact.core.periods import DateRange, Period
from leadpact.core.targets import TargetRule

__all__ = [
    "DEFAULT_THRESHOLDS",
    "Pace",
    "PaceStatus",
    "PacingError",
    "PacingThresholds",
    "member_line",
    "pace",
    "pace_target",
]

PaceStatus = Literal["not_started", "ahead", "on_track", "behind", "at_risk"]
_MICRO = timedelta(microseconds=1)


class PacingError(ValueError):
    """Pacing asked with a naive ``now``, a negative actual or thresholds out of order."""


@dataclass(frozen=True, slots=True)
class PacingThresholds:
    """Pace thresholds: ``ahead > on_track > behind > 0`` (``settings.pacing`` of the agreement)."""

    ahead: Fraction = Fraction(11, 10)
    on_track: Fraction = Fraction(19, 20)
    behind: Fraction = Fraction(4, 5)

    def __post_init__(self) -> None:
        for name in ("ahead", "on_track", "behind"):
            object.__setattr__(self, name, exact(getattr(self, name), what=f"pacing: {name}"))
        if not self.ahead >= self.on_track >= self.behind > 0:
            raise PacingError(
                f"pacing: thresholds must satisfy ahead ≥ on_track ≥ behind > 0, "
                f"got {self.ahead}, {self.on_track}, {self.behind}"
            )

    @staticmethod
    def from_settings(settings: Mapping[str, Number | float]) -> PacingThresholds:
        """From ``settings.pacing`` (``{ahead: 1.1, on_track: 0.95, behind: 0.8}``); missing keys default."""
        default = DEFAULT_THRESHOLDS
        return PacingThresholds(
            exact(settings.get("ahead", default.ahead), what="pacing: ahead"),
            exact(settings.get("on_track", default.on_track), what="pacing: on_track"),
            exact(settings.get("behind", default.behind), what="pacing: behind"),
        )

    def status(self, pace: Fraction) -> PaceStatus:
        """The status of a pace."""
        if pace >= self.ahead:
            return "ahead"
        if pace >= self.on_track:
            return "on_track"
        if pace >= self.behind:
            return "behind"
        return "at_risk"


DEFAULT_THRESHOLDS = PacingThresholds()


@dataclass(frozen=True, slots=True)
class Pace:
    """Where a target stands at ``now``."""

    now: datetime
    total: Fraction
    expected: Fraction
    elapsed: Fraction
    actual: Fraction
    pace: Fraction | None
    projected: Fraction | None
    status: PaceStatus


def _day_share(calendar: CalendarLike, basis: Basis, day: date, now: datetime) -> Fraction:
    zone = calendar.timezone
    midnight = datetime.combine(day, time(0), tzinfo=zone)
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    if basis == "calendar_days":
        # subtract in UTC: Python subtracts same-zone aware datetimes by wall clock (12:00 − 00:00
        # would be 12 hours even on the 23-hour day clocks go forward)
        start, end, at = (moment.astimezone(UTC) for moment in (midnight, next_midnight, now))
        return Fraction((at - start) // _MICRO, (end - start) // _MICRO)
    day_time = calendar.business_time_on(day)
    if not day_time:
        return Fraction(0)
    return Fraction(calendar.elapsed(midnight, now) // _MICRO, day_time // _MICRO)


def pace(
    *,
    line: Sequence[tuple[date, Fraction]],
    calendar: CalendarLike,
    basis: Basis,
    now: datetime,
    actual: Number,
    thresholds: PacingThresholds = DEFAULT_THRESHOLDS,
) -> Pace:
    """Pace against a target line (the exact target of each basis day, as from ``TargetRule.daily``)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise PacingError(f"pacing: now {now.isoformat()} must be an aware datetime")
    got = exact(actual, what="pacing: actual")
    if got < 0:
        raise PacingError(f"pacing: actual must be zero or more, got {got}")
    local_now = now.astimezone(calendar.timezone)
    today = local_now.date()
    total = Fraction(0)
    expected = Fraction(0)
    for day, amount in line:
        total += amount
        if day < today:
            expected += amount
        elif day == today:
            expected += amount * _day_share(calendar, basis, day, local_now)
    if not expected or not total:
        return Pace(now, total, Fraction(0), Fraction(0), got, None, None, "not_started")
    elapsed = expected / total
    ratio = got / expected
    return Pace(now, total, expected, elapsed, got, ratio, got / elapsed, thresholds.status(ratio))


def pace_target(
    rule: TargetRule,
    window: DateRange | Period,
    *,
    now: datetime,
    actual: Number,
    thresholds: PacingThresholds = DEFAULT_THRESHOLDS,
) -> Pace:
    """Pace of a team target in ``window`` (growth and seasonality shape the line).

    The total is the exact target; compare the rounded target only at the edge.
    """
    return pace(
        line=rule.daily(window),
        calendar=rule.calendar,
        basis=rule.basis,
        now=now,
        actual=actual,
        thresholds=thresholds,
    )


def member_line(split: TeamSplit, key: str) -> list[tuple[date, Fraction]]:
    """A person's target line: their share of the team target, spread over their capacity day by day.

    The line sums to the person's exact share; pass it to :func:`pace` with the person's calendar.
    """
    cap = next((c for c in split.capacities if c.member.key == key), None)
    if cap is None:
        raise KeyError(key)
    share = split.allocation[key].exact
    if not cap.value:
        return []
    return [(d, share * w / cap.value) for d, w in cap.daily]
