"""Periods and date ranges: days, ISO weeks, months and quarters as half-open ``[start, end)`` date ranges.

A :class:`Period` is a named calendar period (``2026-10``, ``2026-W41``, ``2026-Q4``, ``2026-10-07``);
a :class:`DateRange` is any half-open range of dates (a partial month, a stretch of leave, the piece of
a week that falls inside a month). Both are immutable values; all bounds are half-open.

>>> p = Period.parse("2026-Q4")
>>> p.start, p.end
(datetime.date(2026, 10, 1), datetime.date(2027, 1, 1))
>>> [str(piece) for piece in split(Period.parse("2026-10"), "week")][:2]
['[2026-10-01, 2026-10-05)', '[2026-10-05, 2026-10-12)']
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, get_args

__all__ = [
    "PERIOD_KINDS",
    "DateRange",
    "Period",
    "PeriodError",
    "PeriodKind",
    "add_months",
    "periods",
    "split",
]

PeriodKind = Literal["day", "week", "month", "quarter"]
PERIOD_KINDS: tuple[PeriodKind, ...] = get_args(PeriodKind)

_DAY = timedelta(days=1)
_PATTERNS: tuple[tuple[PeriodKind, re.Pattern[str]], ...] = (
    ("day", re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})")),
    ("week", re.compile(r"(?P<year>\d{4})-W(?P<week>\d{2})")),
    ("month", re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})")),
    ("quarter", re.compile(r"(?P<year>\d{4})-Q(?P<quarter>[1-4])")),
)


class PeriodError(ValueError):
    """A period or date range that cannot exist (bad text, end before start, unknown kind)."""


def add_months(d: date, months: int) -> date:
    """The same day ``months`` later (or earlier), clipped to the month's last day.

    >>> add_months(date(2026, 1, 31), 1)
    datetime.date(2026, 2, 28)
    """
    index = d.year * 12 + d.month - 1 + months
    year, month0 = divmod(index, 12)
    first_next = date(year + (month0 + 1) // 12, (month0 + 1) % 12 + 1, 1)
    last_day = (first_next - _DAY).day
    return date(year, month0 + 1, min(d.day, last_day))


@dataclass(frozen=True, slots=True, order=True)
class DateRange:
    """A half-open range of dates ``[start, end)``; empty when ``start == end``.

    >>> DateRange(date(2026, 7, 20), date(2026, 8, 10)).days
    21
    """

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError(f"date range: end {self.end} is before start {self.start}")

    @property
    def days(self) -> int:
        """Number of calendar days in the range."""
        return (self.end - self.start).days

    @property
    def last(self) -> date:
        """The last date inside the range (``end - 1 day``); only for non-empty ranges."""
        if not self.days:
            raise PeriodError(f"date range {self}: empty, it has no last date")
        return self.end - _DAY

    def __bool__(self) -> bool:
        return self.end > self.start

    def __contains__(self, d: object) -> bool:
        return isinstance(d, date) and self.start <= d < self.end

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"

    def dates(self) -> Iterator[date]:
        """Every date in the range, in order."""
        d = self.start
        while d < self.end:
            yield d
            d += _DAY

    def intersection(self, other: DateRange | Period) -> DateRange:
        """The overlap of two ranges; an empty range at ``max(start)`` when they do not overlap."""
        start = max(self.start, other.start)
        end = min(self.end, other.end)
        return DateRange(start, max(start, end))


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A calendar period: a day, an ISO week (Monday first), a month or a quarter; ``[start, end)``.

    >>> Period.parse("2026-W41")
    Period(kind='week', start=datetime.date(2026, 10, 5), end=datetime.date(2026, 10, 12))
    >>> str(Period.containing("month", date(2026, 10, 7)))
    '2026-10'
    """

    kind: PeriodKind
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.kind not in PERIOD_KINDS:
            raise PeriodError(f"period: kind {self.kind!r} is not one of {', '.join(PERIOD_KINDS)}")
        if Period.containing(self.kind, self.start).start != self.start or self._next_start() != self.end:
            raise PeriodError(f"period: [{self.start}, {self.end}) is not a whole {self.kind}")

    def _next_start(self) -> date:
        if self.kind == "day":
            return self.start + _DAY
        if self.kind == "week":
            return self.start + 7 * _DAY
        return add_months(self.start, 1 if self.kind == "month" else 3)

    @staticmethod
    def containing(kind: PeriodKind, d: date) -> Period:
        """The period of ``kind`` that contains date ``d``."""
        if kind == "day":
            start, end = d, d + _DAY
        elif kind == "week":
            start = d - timedelta(days=d.weekday())
            end = start + 7 * _DAY
        elif kind == "month":
            start = d.replace(day=1)
            end = add_months(start, 1)
        elif kind == "quarter":
            start = date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
            end = add_months(start, 3)
        else:
            raise PeriodError(f"period: kind {kind!r} is not one of {', '.join(PERIOD_KINDS)}")
        period = Period.__new__(Period)
        object.__setattr__(period, "kind", kind)
        object.__setattr__(period, "start", start)
        object.__setattr__(period, "end", end)
        return period

    @staticmethod
    def parse(text: str) -> Period:
        """Parse ``2026-10-07`` (day), ``2026-W41`` (ISO week), ``2026-10`` (month) or ``2026-Q4``.

        >>> Period.parse("2026-02").end
        datetime.date(2026, 3, 1)
        """
        for kind, pattern in _PATTERNS:
            match = pattern.fullmatch(text.strip())
            if match is None:
                continue
            parts = {k: int(v) for k, v in match.groupdict().items()}
            try:
                if kind == "day":
                    anchor = date(parts["year"], parts["month"], parts["day"])
                elif kind == "week":
                    anchor = date.fromisocalendar(parts["year"], parts["week"], 1)
                elif kind == "month":
                    anchor = date(parts["year"], parts["month"], 1)
                else:
                    anchor = date(parts["year"], 3 * parts["quarter"] - 2, 1)
            except ValueError as exc:
                raise PeriodError(f"period {text!r}: {exc}") from None
            return Period.containing(kind, anchor)
        raise PeriodError(
            f"period {text!r}: not a day (2026-10-07), week (2026-W41), month (2026-10) or quarter (2026-Q4)"
        )

    def format(self) -> str:
        """The canonical text form, the inverse of :meth:`parse`."""
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year:04d}-W{week:02d}"
        if self.kind == "month":
            return f"{self.start.year:04d}-{self.start.month:02d}"
        return f"{self.start.year:04d}-Q{(self.start.month - 1) // 3 + 1}"

    def __str__(self) -> str:
        return self.format()

    @property
    def range(self) -> DateRange:
        """The period as a plain date range."""
        return DateRange(self.start, self.end)

    @property
    def days(self) -> int:
        """Number of calendar days in the period."""
        return (self.end - self.start).days

    def next(self) -> Period:
        """The period of the same kind that starts where this one ends."""
        return Period.containing(self.kind, self.end)

    def previous(self) -> Period:
        """The period of the same kind that ends where this one starts."""
        return Period.containing(self.kind, self.start - _DAY)

    def __contains__(self, d: object) -> bool:
        return isinstance(d, date) and self.start <= d < self.end


def periods(kind: PeriodKind, within: DateRange | Period) -> Iterator[Period]:
    """Every period of ``kind`` that overlaps ``within``, in order (the first and last may stick out).

    >>> [str(p) for p in periods("month", DateRange(date(2026, 1, 15), date(2026, 3, 2)))]
    ['2026-01', '2026-02', '2026-03']
    """
    if within.end <= within.start:
        return
    period = Period.containing(kind, within.start)
    while period.start < within.end:
        yield period
        period = period.next()


def split(outer: DateRange | Period, kind: PeriodKind) -> list[DateRange]:
    """Cut ``outer`` at the edges of the periods of ``kind``; the pieces cover ``outer`` exactly.

    A month split by weeks gives the partial first week, the whole weeks and the partial last week.

    >>> [p.days for p in split(Period.parse("2026-02"), "week")]
    [1, 7, 7, 7, 6]
    """
    return [p.range.intersection(outer) for p in periods(kind, outer)]
