"""Clock windows as business microseconds: a fixed amount, or ``N`` business days from each clock's start.

Private module behind :mod:`leadpact.core.clocks` and :mod:`leadpact.core.metrics`. A window in
business days (``10bd``) has no fixed length: it is ``elapsed(start, add_business_days(start, N))``
in the clock's calendar (see :meth:`leadpact.core.calendar.BusinessCalendar.add_business_days`), so
each clock gets its own window and a breach is still elapsed business time > window.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from leadpact.core._metrics_frames import BusinessCalendarLike, DatetimeArray, TimedeltaArray
from leadpact.core.durations import BusinessDuration

__all__ = ["BusinessDaysCalendar", "Window", "window_days", "window_fixed_us", "windows_us"]

IntArray = npt.NDArray[np.int64]
Window = timedelta | BusinessDuration
_ONE_US = timedelta(microseconds=1)


@runtime_checkable
class BusinessDaysCalendar(Protocol):
    """A calendar that can add whole business days (windows such as ``10bd`` need it)."""

    def add_business_days_many(self, starts: DatetimeArray, days: npt.ArrayLike) -> DatetimeArray: ...

    def business_days_span_many(self, starts: DatetimeArray, days: npt.ArrayLike) -> TimedeltaArray: ...


def window_fixed_us(window: Window) -> int | None:
    """The window in business µs, or ``None`` for a window in business days; refuses ``<= 0``."""
    if isinstance(window, BusinessDuration):
        seconds = window.seconds
        return None if seconds is None else seconds * 1_000_000
    if not isinstance(window, timedelta):
        raise TypeError(f"window {window!r}: must be a timedelta or a BusinessDuration")
    us = window // _ONE_US
    if us <= 0:
        raise ValueError(f"window {window}: must be positive")
    return int(us)


def window_days(window: Window) -> int | None:
    """Whole business days of a ``Nbd`` window, else ``None``."""
    return window.business_days if isinstance(window, BusinessDuration) else None


def windows_us(calendar: BusinessCalendarLike, starts_us: IntArray, window: Window) -> IntArray:
    """Per clock start (µs since the epoch, UTC), the window in business µs in ``calendar``."""
    fixed = window_fixed_us(window)
    if fixed is not None:
        return np.full(starts_us.shape[0], fixed, dtype=np.int64)
    days = window_days(window)
    assert days is not None
    if not isinstance(calendar, BusinessDaysCalendar):
        raise TypeError(f"window {window}: the calendar {type(calendar).__name__} cannot add business days")
    spent = calendar.business_days_span_many(starts_us.view("datetime64[us]"), np.int64(days))
    out: IntArray = np.asarray(spent).astype("timedelta64[us]").view(np.int64)
    return out
