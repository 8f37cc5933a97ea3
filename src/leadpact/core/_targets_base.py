"""Shared pieces of the target arithmetic: the calendar protocol, basis days, exact conversion, rounding."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import Literal, Protocol

from leadpact.core.periods import DateRange

Basis = Literal["business_days", "calendar_days"]
Unit = Literal["count", "amount"]
Number = int | Fraction | Decimal

CENT = Fraction(1, 100)


class CalendarLike(Protocol):
    """What the target arithmetic needs of :class:`leadpact.core.calendar.BusinessCalendar`."""

    @property
    def timezone(self) -> tzinfo: ...

    def is_business_day(self, d: date, /) -> bool: ...

    def business_dates(self, first: date, last: date, /) -> Sequence[date]: ...

    def business_days(self, first: date, last: date, /) -> int: ...

    def business_time_on(self, d: date, /) -> timedelta: ...

    def elapsed(self, start: datetime, end: datetime, /) -> timedelta: ...

    def holidays_between(self, first: date, last: date, /) -> Sequence[tuple[date, str]]: ...

    def narrowed(self, *, hours: Mapping[str, Sequence[str]]) -> CalendarLike: ...


def basis_dates(calendar: CalendarLike, basis: Basis, window: DateRange) -> list[date]:
    """The basis days inside ``window``: every date (calendar days) or the calendar's business days."""
    if not window:
        return []
    if basis == "calendar_days":
        return list(window.dates())
    return list(calendar.business_dates(window.start, window.last))


def basis_day_count(calendar: CalendarLike, basis: Basis, window: DateRange) -> int:
    """How many basis days ``window`` holds."""
    if not window:
        return 0
    if basis == "calendar_days":
        return window.days
    return calendar.business_days(window.start, window.last)


def exact(value: Number | float | str, *, what: str) -> Fraction:
    """A number as an exact fraction; floats and strings are read by their decimal text (0.1 is 1/10)."""
    if isinstance(value, bool):
        raise TypeError(f"{what}: a boolean is not a number")
    if isinstance(value, Fraction | int):
        return Fraction(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{what}: {value} is not a finite number")
        return Fraction(value)
    if isinstance(value, float | str):
        try:
            dec = Decimal(repr(value) if isinstance(value, float) else value.strip())
        except ArithmeticError:
            raise ValueError(f"{what}: {value!r} is not a number") from None
        if not dec.is_finite():
            raise ValueError(f"{what}: {value!r} is not a finite number")
        return Fraction(dec)
    raise TypeError(f"{what}: {type(value).__name__} is not a number")


def round_half_even(value: Fraction) -> int:
    """The nearest integer, ties to the even one (banker's rounding), computed exactly.

    >>> round_half_even(Fraction(5, 2)), round_half_even(Fraction(7, 2)), round_half_even(Fraction(-5, 2))
    (2, 4, -2)
    """
    return round(value)  # Fraction.__round__ rounds half to even, exactly


def to_cents(value: Fraction) -> Decimal:
    """An exact amount as Decimal euros and cents, rounded half to even at the cent.

    >>> to_cents(Fraction(1, 8))
    Decimal('0.12')
    """
    cents = round_half_even(value * 100)
    return Decimal(cents).scaleb(-2)


def unit_step(unit: Unit) -> Fraction:
    """The smallest whole step of a unit: one lead for counts, one cent for amounts."""
    return Fraction(1) if unit == "count" else CENT


def to_unit(value: Fraction, unit: Unit) -> int | Decimal:
    """An exact value at the edge: counts half-even to an integer, amounts half-even to the cent."""
    return round_half_even(value) if unit == "count" else to_cents(value)
