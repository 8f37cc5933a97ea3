"""Business calendars: business time exact to the microsecond, scalar and vectorised.

A calendar is a time zone, weekly wall-clock windows (several a day), public holidays from the
``holidays`` package, extra closed dates and extra open dates; a person's calendar narrows a team's
by their own weekly hours, leave and start date. Built from the plain spec agreements use in YAML::

    timezone: Europe/Amsterdam            # any IANA zone
    hours:                                # mon..sun or ranges like mon-fri; several windows a day
      mon-fri: ["09:00-12:30", "13:00-17:30"]
    holidays: {country: NL}               # optional: subdivision, categories, language
    closed: ["2026-12-24", "2026-12-28..2026-12-31"]   # dates or inclusive ranges
    open: {"2026-12-27": ["10:00-14:00"]}              # other hours on a date
    within: {mon-thu: ["09:00-17:00"]}    # narrowing: a person's weekly hours (intersection)
    leave: ["2026-07-01..2026-07-14"]     # narrowing: closed entirely, inclusive ranges
    start: "2026-03-01"                   # narrowing: closed before this date

How a date's windows are found, in order: an ``open`` entry replaces the weekly hours (even on a
public holiday); otherwise a ``closed`` date or a public holiday has none; otherwise the weekly
hours apply. Then ``within`` intersects, and ``leave`` and ``start`` close.

Time rules (DESIGN.md §5): intervals are half-open ``[start, end)``; a deadline that lands on a
closing time is that closing time; zero elapsed is zero. Windows are wall-clock times; business time
is real elapsed time, so a 00:00–24:00 window holds 23 hours on the day clocks go forward and 25 on
the day they go back. A wall time that does not exist (the hour skipped when clocks go forward)
means the instant the clocks jump (so 02:00–03:00 on that day in Amsterdam is empty); an ambiguous
wall time (the hour repeated when clocks go back) means its first occurrence (``fold=0``).

>>> from datetime import datetime, timedelta
>>> from zoneinfo import ZoneInfo
>>> cal = BusinessCalendar.from_spec({"timezone": "Europe/Amsterdam", "hours": {"mon-fri": ["09:00-17:00"]}})
>>> friday = datetime(2026, 3, 6, 16, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))
>>> cal.add(friday, timedelta(hours=1)).isoformat()
'2026-03-09T09:30:00+01:00'
>>> cal.elapsed(friday, cal.add(friday, timedelta(hours=1)))
datetime.timedelta(seconds=3600)
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Final, final
from zoneinfo import ZoneInfo

import holidays as holidays_lib
import numpy as np
import numpy.typing as npt

from leadpact.core._calendar_spec import (
    CalendarError,
    CalendarSpec,
    DateRange,
    Window,
    in_ranges,
    intersect_weeks,
    intersect_windows,
    merge_ranges,
    parse_spec,
    parse_week,
    spec_to_plain,
    week_to_plain,
)
from leadpact.core._calendar_table import (
    EPOCH,
    ONE_US,
    Int64Array,
    Table,
    build_table,
    wall_to_us,
    windows_us,
)

__all__ = [
    "BusinessCalendar",
    "CalendarError",
    "CalendarRangeError",
    "NaiveDatetimeError",
    "NoBusinessTimeError",
]

_FIRST_DAY: Final = date(1, 1, 8)
_END_DAY: Final = date(9999, 12, 24)
#: A closed range ending on or after this date is taken as closed for good (e.g. leave after leaving).
_FOREVER: Final = date(9998, 1, 1)
_NAT: Final = np.iinfo(np.int64).min
_FINE_UNITS: Final = frozenset({"ns", "ps", "fs", "as"})
_NEAR_DAYS: Final = 3 * 366  # a request this close to a table (or within its span) extends it
_TABLES_KEPT: Final = 4


class NaiveDatetimeError(ValueError):
    """A datetime without a time zone was given; leadpact never guesses one."""


class NoBusinessTimeError(ValueError):
    """The calendar has no business time left in the direction asked (e.g. no weekly hours at all)."""


class CalendarRangeError(ValueError):
    """An instant too close to the ends of the datetime range (years 1 and 9999)."""


class _State:
    """What equal calendars share: the lazily grown table and the holiday entity."""

    __slots__ = ("day_levels", "holiday_entity", "holiday_years", "lock", "tables")

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tables: list[Table] = []  # most recently built first
        # per table (by its first and end date): B at the start and end of each business day
        self.day_levels: dict[tuple[date, date], tuple[Int64Array, Int64Array, list[int]]] = {}
        self.holiday_entity: holidays_lib.HolidayBase | None = None
        self.holiday_years: dict[int, dict[date, str]] = {}  # year -> its holidays by date


@lru_cache(maxsize=256)
def _shared_state(spec: CalendarSpec) -> _State:
    return _State()


def _to_us(moment: datetime, name: str) -> int:
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.utcoffset() is None:
        raise NaiveDatetimeError(f"{name} {moment.isoformat()} is naive; pass an aware datetime")
    return (moment - EPOCH) // ONE_US


def _utc_date(us: int) -> date:
    try:
        return (EPOCH + timedelta(microseconds=us)).date()
    except OverflowError:
        raise CalendarRangeError(f"instant {us} µs after 1970 is outside years 1 to 9999") from None


def _as_instants(values: npt.ArrayLike, name: str) -> Int64Array:
    array = np.asarray(values)
    if array.dtype.kind != "M":
        raise TypeError(f"{name} must be a datetime64 array of UTC instants, got {array.dtype}")
    if np.datetime_data(array.dtype)[0] in _FINE_UNITS:
        raise ValueError(
            f"{name} has unit {array.dtype}; convert to datetime64[us] (finer units would be cut)"
        )
    return array.astype("datetime64[us]", copy=False).view(np.int64)


def _as_durations(values: npt.ArrayLike, name: str) -> Int64Array:
    array = np.asarray(values)
    if array.dtype.kind != "m":
        raise TypeError(f"{name} must be a timedelta64 array, got {array.dtype}")
    if np.datetime_data(array.dtype)[0] in _FINE_UNITS:
        raise ValueError(
            f"{name} has unit {array.dtype}; convert to timedelta64[us] (finer units would be cut)"
        )
    return array.astype("timedelta64[us]", copy=False).view(np.int64)


def _year_floor(day: date) -> date:
    return max(_FIRST_DAY, date(day.year, 1, 1))


def _year_ceiling(day: date) -> date:
    return _END_DAY if day.year >= _END_DAY.year else date(day.year + 1, 1, 1)


@final
class BusinessCalendar:
    """An immutable business calendar; equal (and hashing equal) when their canonical specs are equal.

    Build one with :meth:`from_spec`. Every method takes aware datetimes (any zone) and returns
    datetimes in the calendar's zone; a naive datetime raises :class:`NaiveDatetimeError`.
    """

    __slots__ = ("_closed_from", "_horizon", "_spec", "_state", "_weekly", "_zone")

    _spec: CalendarSpec
    _zone: ZoneInfo
    _state: _State
    _weekly: tuple[tuple[Window, ...], ...]
    _horizon: tuple[date, date] | None
    _closed_from: date | None

    def __init__(self, spec: CalendarSpec) -> None:
        """Use :meth:`from_spec`; this takes the already normalised spec."""
        weekly = spec.hours if spec.within is None else intersect_weeks(spec.hours, spec.within)
        overrides = [*spec.closed, *((day, day) for day, _ in spec.open), *spec.leave]
        horizon = (min(r[0] for r in overrides), max(r[1] for r in overrides)) if overrides else None
        # a closed or leave range that runs to the end of time (a person who left): nothing opens after it
        closed_from = min((r[0] for r in (*spec.closed, *spec.leave) if r[1] >= _FOREVER), default=None)
        for name, value in (
            ("_spec", spec),
            ("_zone", ZoneInfo(spec.timezone)),
            ("_state", _shared_state(spec)),
            ("_weekly", weekly),
            ("_horizon", horizon),
            ("_closed_from", closed_from),
        ):
            object.__setattr__(self, name, value)

    # ------------------------------------------------------------ construction and identity

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> BusinessCalendar:
        """A calendar from its plain spec; a bad spec raises :class:`CalendarError` naming the key.

        >>> BusinessCalendar.from_spec({"timezone": "Mars/Olympus", "hours": {}})
        Traceback (most recent call last):
        ...
        leadpact.core._calendar_spec.CalendarError: calendar timezone: unknown time zone 'Mars/Olympus'
        """
        return cls(parse_spec(spec))

    def to_spec(self) -> dict[str, object]:
        """The canonical plain spec: fixed key order, normalised strings; ``from_spec`` of it is equal.

        Weekdays with equal windows are grouped into ranges (``mon-fri``), closed days left out,
        touching windows and dates merged, optional keys present only when set.

        >>> spec = {"hours": {"tue": ["13:00-17:00", "09:00-12:00"], "mon": ["09:00-12:00", "13:00-17:00"]},
        ...         "timezone": "UTC", "closed": ["2026-01-02", "2026-01-01"]}
        >>> plain = BusinessCalendar.from_spec(spec).to_spec()
        >>> plain["hours"], plain["closed"]
        ({'mon-tue': ['09:00-12:00', '13:00-17:00']}, ['2026-01-01..2026-01-02'])
        """
        return spec_to_plain(self._spec)

    @property
    def spec(self) -> dict[str, object]:
        """The canonical plain spec (a fresh copy), as :meth:`to_spec`."""
        return spec_to_plain(self._spec)

    @property
    def timezone(self) -> ZoneInfo:
        """The calendar's zone; windows are wall-clock times in it."""
        return self._zone

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BusinessCalendar):
            return NotImplemented
        return self._spec == other._spec

    def __hash__(self) -> int:
        return hash(self._spec)

    def __repr__(self) -> str:
        return f"BusinessCalendar.from_spec({self.to_spec()!r})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"BusinessCalendar is immutable; cannot set {name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"BusinessCalendar is immutable; cannot delete {name}")

    def __reduce__(self) -> tuple[object, tuple[dict[str, object]]]:
        return (BusinessCalendar.from_spec, (self.to_spec(),))

    def narrowed(
        self,
        *,
        hours: Mapping[str, Any] | None = None,
        leave: Sequence[tuple[date, date]] = (),
        start: date | None = None,
    ) -> BusinessCalendar:
        """A person's calendar: this one narrowed by their weekly ``hours``, ``leave`` and ``start``.

        ``hours`` uses the spec's ``hours`` syntax and intersects every date's windows (it lands in
        the spec as ``within``; errors name ``within.<day>``); ``leave`` periods are half-open date
        ranges ``[first, end)`` closed entirely (in the spec: inclusive ``leave`` ranges); ``start``
        closes every date before it. Narrowing twice narrows further.

        >>> team = BusinessCalendar.from_spec({"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}})
        >>> summer = (date(2026, 7, 1), date(2026, 7, 15))
        >>> person = team.narrowed(hours={"mon-wed": ["08:00-13:00"]}, leave=[summer])
        >>> person.to_spec()["within"], person.to_spec()["leave"]
        ({'mon-wed': ['08:00-13:00']}, ['2026-07-01..2026-07-14'])
        >>> person.business_time_on(date(2026, 6, 29))
        datetime.timedelta(seconds=14400)
        """
        plain = self.to_spec()
        if hours is not None:
            week = parse_week(hours, "within")
            if self._spec.within is not None:
                week = intersect_weeks(self._spec.within, week)
            plain["within"] = week_to_plain(week)
        ranges: list[DateRange] = list(self._spec.leave)
        for i, period in enumerate(leave):
            if not isinstance(period, Sequence) or len(period) != 2:
                raise CalendarError(f"leave[{i}]", f"expected a (first, end) pair of dates, got {period!r}")
            first, end = period
            for value in (first, end):
                if not isinstance(value, date) or isinstance(value, datetime):
                    raise CalendarError(f"leave[{i}]", f"expected dates, got {value!r}")
            if end < first:
                raise CalendarError(
                    f"leave[{i}]", f"leave {first.isoformat()}..{end.isoformat()} ends before it starts"
                )
            if end > first:
                ranges.append((first, end - timedelta(days=1)))
        if ranges:
            plain["leave"] = [
                a.isoformat() if a == b else f"{a.isoformat()}..{b.isoformat()}"
                for a, b in merge_ranges(ranges)
            ]
        if start is not None:
            if not isinstance(start, date) or isinstance(start, datetime):
                raise CalendarError("start", f"expected a date, got {start!r}")
            current = self._spec.start
            plain["start"] = (start if current is None else max(start, current)).isoformat()
        return BusinessCalendar.from_spec(plain)

    # ------------------------------------------------------------ dates

    def _holidays(self) -> holidays_lib.HolidayBase | None:
        source = self._spec.holidays
        if source is None:
            return None
        state = self._state
        if state.holiday_entity is None:
            with state.lock:
                if state.holiday_entity is None:
                    probe = holidays_lib.country_holidays(source.country, years=[])
                    language = source.language
                    if language is None:  # names independent of the machine's locale
                        supported = probe.supported_languages or ()
                        language = "en_US" if "en_US" in supported else probe.default_language
                    state.holiday_entity = holidays_lib.country_holidays(
                        source.country,
                        subdiv=source.subdivision,
                        categories=source.categories,
                        language=language,
                        years=[],
                    )
        return state.holiday_entity

    def _holiday_name(self, day: date) -> str | None:
        if self._spec.holidays is None:
            return None
        names = self._state.holiday_years.get(day.year)
        if names is None:
            entity = self._holidays()
            assert entity is not None
            with self._state.lock:
                entity.get(date(day.year, 1, 1))  # makes the package compute the whole year
                names = {d: str(n) for d, n in entity.items() if d.year == day.year}
            self._state.holiday_years[day.year] = names
        return names.get(day)

    def _opened(self, day: date) -> tuple[Window, ...] | None:
        for opened_day, windows in self._spec.open:
            if opened_day == day:
                return windows
        return None

    def _minutes_on(self, day: date) -> tuple[Window, ...]:
        spec = self._spec
        if spec.start is not None and day < spec.start:
            return ()
        if spec.leave and in_ranges(spec.leave, day):
            return ()
        windows = self._opened(day) if spec.open else None
        if windows is None:
            if (spec.closed and in_ranges(spec.closed, day)) or self._holiday_name(day) is not None:
                return ()
            windows = spec.hours[day.weekday()]
        if spec.within is not None:
            windows = intersect_windows(windows, spec.within[day.weekday()])
        return windows

    def _windows_us(self, day: date) -> list[tuple[int, int]]:
        return windows_us(self._zone, day, day + timedelta(days=1), self._minutes_on)

    def _from_us(self, us: int) -> datetime:
        return (EPOCH + timedelta(microseconds=us)).astimezone(self._zone)

    def windows_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open windows ``[opens, closes)`` of a local date, after holidays and overrides.

        >>> spec = {"timezone": "UTC", "hours": {"mon": ["09:00-12:00", "13:00-17:00"]}}
        >>> cal = BusinessCalendar.from_spec(spec)
        >>> [(a.strftime("%H:%M"), b.strftime("%H:%M")) for a, b in cal.windows_on(date(2026, 3, 2))]
        [('09:00', '12:00'), ('13:00', '17:00')]
        """
        return [(self._from_us(a), self._from_us(b)) for a, b in self._windows_us(day)]

    def business_time_on(self, day: date) -> timedelta:
        """The business time of one local date (real elapsed time, so DST days count true hours)."""
        return timedelta(microseconds=sum(b - a for a, b in self._windows_us(day)))

    def is_business_day(self, day: date) -> bool:
        """Whether a local date has any business time."""
        return bool(self._windows_us(day))

    def business_dates(self, first: date, last: date) -> list[date]:
        """The dates in ``[first, last]`` (both included) with any business time; ``[]`` if last < first."""
        return [
            day
            for day in (date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1))
            if self._windows_us(day)
        ]

    def business_days(self, first: date, last: date) -> int:
        """How many dates in ``[first, last]`` (both included) have any business time; 0 if last < first.

        >>> spec = {"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}, "holidays": {"country": "NL"}}
        >>> cal = BusinessCalendar.from_spec(spec)
        >>> cal.business_days(date(2026, 4, 1), date(2026, 4, 30))  # Good Friday, Easter Monday, King's Day
        19
        """
        return len(self.business_dates(first, last))

    def holidays_between(self, first: date, last: date) -> list[tuple[date, str]]:
        """Public holidays in ``[first, last]`` that close the calendar, with the package's names.

        A holiday counts when the date would otherwise have business hours (weekly ``hours``,
        narrowed by ``within``) and no ``open`` entry keeps it open.

        >>> spec = {"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}, "holidays": {"country": "NL"}}
        >>> cal = BusinessCalendar.from_spec(spec)
        >>> [name for _, name in cal.holidays_between(date(2026, 4, 1), date(2026, 4, 30))]
        ['Good Friday', 'Easter Monday', "King's Day"]
        """
        if self._holidays() is None:
            return []
        out: list[tuple[date, str]] = []
        for ordinal in range(first.toordinal(), last.toordinal() + 1):
            day = date.fromordinal(ordinal)
            name = self._holiday_name(day)
            if name is not None and self._weekly[day.weekday()] and self._opened(day) is None:
                out.append((day, name))
        return out

    # ------------------------------------------------------------ the table

    def _table(self, first: date, end: date) -> Table:
        """A table holding at least the local dates ``[first, end)``.

        Tables are contiguous; a few are kept per calendar so that a lone far-off instant (say the
        year 2400) gets its own small table instead of stretching the current one across centuries.
        """
        state = self._state
        for table in state.tables:
            if table.first <= first and end <= table.end:
                return table
        with state.lock:
            for table in state.tables:
                if table.first <= first and end <= table.end:
                    return table
            lo, hi = _year_floor(first), _year_ceiling(end)
            near = None
            for table in state.tables:
                reach = timedelta(days=max(_NEAR_DAYS, (table.end - table.first).days))
                if table.first - reach <= hi and lo <= table.end + reach:
                    near = table
                    break
            if near is not None:
                lo, hi = min(lo, near.first), max(hi, near.end)
            table = build_table(lo, hi, self._zone, self._minutes_on, near)
            kept = [t for t in state.tables if t is not near and not (lo <= t.first and t.end <= hi)]
            state.tables = [table, *kept][:_TABLES_KEPT]
            return table

    def _covering(self, low_us: int, high_us: int) -> Table:
        first, end = _utc_date(low_us), _utc_date(high_us)
        if first < _FIRST_DAY + timedelta(days=2) or end > _END_DAY - timedelta(days=3):
            raise CalendarRangeError("instant too close to the ends of years 1 to 9999")
        first, end = first - timedelta(days=2), end + timedelta(days=3)
        return self._table(first, end)

    def _grow_forward(self, table: Table) -> Table:
        if table.end >= _END_DAY:
            raise NoBusinessTimeError("no business time left before the year 9999")
        if self._closed_from is not None and table.end > self._closed_from:
            raise NoBusinessTimeError(
                f"the calendar has no business time from {self._closed_from.isoformat()} on"
            )
        if not any(self._weekly) and (self._horizon is None or table.end > self._horizon[1]):
            raise NoBusinessTimeError(
                "the calendar has no business time after this instant (no weekly hours)"
            )
        span = max(366, (table.end - table.first).days)
        return self._table(table.first, min(_END_DAY, table.end + timedelta(days=span)))

    def _grow_backward(self, table: Table) -> Table:
        spec = self._spec
        if table.first <= _FIRST_DAY:
            raise NoBusinessTimeError("no business time left after the year 1")
        if spec.start is not None and table.first <= spec.start:
            raise NoBusinessTimeError(
                f"the calendar has no business time before its start {spec.start.isoformat()}"
            )
        if not any(self._weekly) and (self._horizon is None or table.first <= self._horizon[0]):
            raise NoBusinessTimeError(
                "the calendar has no business time before this instant (no weekly hours)"
            )
        span = max(366, (table.end - table.first).days)
        first = table.first - timedelta(days=span)
        return self._table(_FIRST_DAY if first < _FIRST_DAY else first, table.end)

    # ------------------------------------------------------------ scalar arithmetic

    def is_open(self, moment: datetime) -> bool:
        """Whether ``moment`` lies inside a window (opening included, closing excluded)."""
        us = _to_us(moment, "moment")
        return self._covering(us, us).is_open(us)

    def next_open(self, moment: datetime) -> datetime:
        """``moment`` itself if open, else the next opening; in the calendar's zone."""
        us = _to_us(moment, "moment")
        table = self._covering(us, us)
        while (found := table.next_open(us)) is None:
            table = self._grow_forward(table)
        return self._from_us(found)

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time inside ``[start, end)``; negative when ``end`` is before ``start``.

        >>> from zoneinfo import ZoneInfo
        >>> cal = BusinessCalendar.from_spec({"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}})
        >>> utc = ZoneInfo("UTC")
        >>> cal.elapsed(datetime(2026, 3, 6, 16, 0, tzinfo=utc), datetime(2026, 3, 9, 10, 0, tzinfo=utc))
        datetime.timedelta(seconds=7200)
        """
        a, b = _to_us(start, "start"), _to_us(end, "end")
        table = self._covering(min(a, b), max(a, b))
        return timedelta(microseconds=table.level_at(b) - table.level_at(a))

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The deadline: the earliest instant at which ``duration`` of business time has elapsed since start.

        A deadline landing on a closing time is that closing time; ``add(start, 0)`` is ``start``.
        A negative duration goes backwards: the latest instant ``t`` with ``elapsed(t, start) ==
        -duration`` (so it lands on an opening rather than the previous closing). Returned in the
        calendar's zone.

        >>> from zoneinfo import ZoneInfo
        >>> cal = BusinessCalendar.from_spec({"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}})
        >>> monday = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("UTC"))
        >>> cal.add(monday, timedelta(hours=8)).isoformat()
        '2026-03-02T17:00:00+00:00'
        >>> cal.add(monday, timedelta(hours=-1)).isoformat()
        '2026-02-27T16:00:00+00:00'
        """
        if not isinstance(duration, timedelta):
            raise TypeError(f"duration must be a timedelta, got {type(duration).__name__}")
        us = _to_us(start, "start")
        amount = duration // ONE_US
        if amount == 0:
            return start.astimezone(self._zone)
        table = self._covering(us, us)
        while True:
            target = table.level_at(us) + amount
            if amount > 0 and target > table.total:
                table = self._grow_forward(table)
            elif amount < 0 and target < 0:
                table = self._grow_backward(table)
            else:
                break
        return self._from_us(table.forward(target) if amount > 0 else table.backward(target))

    # ------------------------------------------------------------ business days

    def _day_levels(self, table: Table) -> tuple[Int64Array, Int64Array, list[int]]:
        """``B`` at the start and at the end of every business day of the table, in order.

        A business day is a local date with business time; ``B`` at its start is ``B`` at its local
        midnight. Consecutive business days touch in business time (``starts[j + 1] == ends[j]``):
        the dates between them hold none.
        """
        key = (table.first, table.end)
        found = self._state.day_levels.get(key)
        if found is None:
            n = (table.end - table.first).days
            midnights = np.fromiter(
                (
                    wall_to_us(self._zone, datetime.combine(table.first + timedelta(days=k), time()))
                    for k in range(n + 1)
                ),
                dtype=np.int64,
                count=n + 1,
            )
            levels = np.array([table.level_at(int(t)) for t in midnights.tolist()], dtype=np.int64)
            busy = levels[1:] > levels[:-1]
            starts, ends = levels[:-1][busy], levels[1:][busy]
            found = (starts, ends, starts.tolist())
            with self._state.lock:
                if len(self._state.day_levels) >= 4 * _TABLES_KEPT:
                    self._state.day_levels.clear()
                self._state.day_levels[key] = found
        return found

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """The deadline of ``days`` business days: the same business time of day, ``days`` business days on.

        ``start``'s business day is the business day whose business time it is in, or, outside
        business hours, the next one (a moment at a close, in the evening or at the weekend is at
        the start of the next business day). Its *business time of day* is the business time of
        that day before ``start``. The deadline is the earliest instant at which the same business
        time of day has passed on the ``days``-th following business day, or that day's close when
        the day is shorter (a half day, a person's own hours). Dates without business time
        (weekends, holidays, closed dates, leave) are skipped. On equal days this is ``days`` ×
        the day's business time; ``elapsed(start, deadline)`` is the window in any case.

        >>> from zoneinfo import ZoneInfo
        >>> half_day = {"2026-03-04": ["09:00-13:00"]}
        >>> spec = {"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}, "open": half_day}
        >>> cal = BusinessCalendar.from_spec(spec)
        >>> tuesday = datetime(2026, 3, 3, 15, 0, tzinfo=ZoneInfo("UTC"))
        >>> cal.add_business_days(tuesday, 2).isoformat()  # Thursday 15:00
        '2026-03-05T15:00:00+00:00'
        >>> cal.add_business_days(tuesday, 1).isoformat()  # Wednesday is a half day: its close
        '2026-03-04T13:00:00+00:00'
        >>> cal.add_business_days(datetime(2026, 3, 3, 20, 0, tzinfo=ZoneInfo("UTC")), 1).isoformat()
        '2026-03-04T13:00:00+00:00'
        """
        if isinstance(days, bool) or not isinstance(days, int):
            raise TypeError(f"days must be a whole number, got {type(days).__name__}")
        if days < 1:
            raise ValueError(f"days {days}: must be at least 1")
        us = _to_us(start, "start")
        table = self._covering(us, us)
        while True:
            starts, ends, starts_list = self._day_levels(table)
            level = table.level_at(us)
            j = bisect_right(starts_list, level) - 1
            if j >= 0 and j + days < len(starts_list) and level < int(ends[j]):
                break
            table = self._grow_forward(table)
        day_start, day_end = int(starts[j + days]), int(ends[j + days])
        target = day_start + min(level - int(starts[j]), day_end - day_start)
        return self._from_us(table.forward(target))

    # ------------------------------------------------------------ vectorised arithmetic

    def elapsed_many(self, starts: npt.ArrayLike, ends: npt.ArrayLike) -> npt.NDArray[np.timedelta64]:
        """``elapsed`` over arrays of UTC instants (``datetime64[us]``), as ``timedelta64[us]``.

        Broadcasts like numpy; ``NaT`` in either gives ``NaT``. Equal to :meth:`elapsed` to the µs.
        """
        a, b = np.broadcast_arrays(_as_instants(starts, "starts"), _as_instants(ends, "ends"))
        shape = a.shape
        a, b = a.ravel(), b.ravel()
        missing = (a == _NAT) | (b == _NAT)
        has_missing = bool(missing.any())
        if has_missing:
            a, b = a[~missing], b[~missing]
        out = np.empty(len(a), dtype=np.int64)
        if len(a):
            table = self._covering(int(min(a.min(), b.min())), int(max(a.max(), b.max())))
            out = table.levels_at(b)  # a fresh array: subtract in place, no third one
            out -= table.levels_at(a)
        return self._finish(out, missing if has_missing else None, shape).view("timedelta64[us]")

    def add_many(self, starts: npt.ArrayLike, durations: npt.ArrayLike) -> npt.NDArray[np.datetime64]:
        """``add`` over arrays: UTC instants (``datetime64[us]``) plus ``timedelta64`` durations.

        Returns UTC ``datetime64[us]``; broadcasts like numpy; ``NaT`` in either gives ``NaT``.
        Equal to :meth:`add` to the µs, negative durations included.
        """
        s, d = np.broadcast_arrays(_as_instants(starts, "starts"), _as_durations(durations, "durations"))
        shape = s.shape
        s, d = s.ravel(), d.ravel()
        missing = (s == _NAT) | (d == _NAT)
        has_missing = bool(missing.any())
        if has_missing:
            s, d = s[~missing], d[~missing]
        out = s.copy()
        if len(s):
            out = self._deadlines(s, d)
        return self._finish(out, missing if has_missing else None, shape).view("datetime64[us]")

    def _business_day_targets(
        self, starts: npt.ArrayLike, days: npt.ArrayLike
    ) -> tuple[Table | None, Int64Array, Int64Array, npt.NDArray[np.bool_] | None, tuple[int, ...]]:
        """For :meth:`add_business_days_many`: the table, ``B(start)``, the deadline's ``B``, NaT rows."""
        day_array = np.asarray(days)
        if day_array.dtype.kind not in "iu":
            raise TypeError(f"days must be an integer array, got {day_array.dtype}")
        s, n = np.broadcast_arrays(_as_instants(starts, "starts"), day_array.astype(np.int64))
        shape = s.shape
        s, n = s.ravel(), n.ravel()
        if n.shape[0] and int(n.min()) < 1:
            raise ValueError(f"days {int(n.min())}: must be at least 1")
        missing = s == _NAT
        has_missing = bool(missing.any())
        if has_missing:
            s, n = s[~missing], n[~missing]
        if not len(s):
            return None, s, s, missing if has_missing else None, shape
        table = self._covering(int(s.min()), int(s.max()))
        while True:
            day_starts, day_ends, _ = self._day_levels(table)
            level = table.levels_at(s)
            j = np.searchsorted(day_starts, level, side="right") - 1
            # j + n inside the table implies level < day_ends[j] (== day_starts[j + 1]): the start's
            # business day is complete in the table
            if int(j.min()) >= 0 and int((j + n).max()) < day_starts.shape[0]:
                break
            table = self._grow_forward(table)
        k = j + n
        target = day_ends[k] - day_starts[k]
        level_in_day = level - day_starts[j]
        np.minimum(target, level_in_day, out=target)
        target += day_starts[k]
        return table, level, target, missing if has_missing else None, shape

    def add_business_days_many(
        self, starts: npt.ArrayLike, days: npt.ArrayLike
    ) -> npt.NDArray[np.datetime64]:
        """``add_business_days`` over arrays: UTC instants (``datetime64[us]``) and whole days (>= 1).

        Returns UTC ``datetime64[us]``; broadcasts like numpy; ``NaT`` gives ``NaT``. Equal to
        :meth:`add_business_days` to the µs.
        """
        table, level, target, missing, shape = self._business_day_targets(starts, days)
        out = level if table is None else table.forwards(target)
        return self._finish(out, missing, shape).view("datetime64[us]")

    def business_days_span_many(
        self, starts: npt.ArrayLike, days: npt.ArrayLike
    ) -> npt.NDArray[np.timedelta64]:
        """The business time of a ``days`` window from each start: ``elapsed(start, add_business_days(…))``.

        As ``timedelta64[us]``, equal to that to the µs, in one pass (the deadline's business level
        minus the start's).
        """
        table, level, target, missing, shape = self._business_day_targets(starts, days)
        out = level if table is None else target - level
        return self._finish(out, missing, shape).view("timedelta64[us]")

    def _deadlines(self, s: Int64Array, d: Int64Array) -> Int64Array:
        table = self._covering(int(s.min()), int(s.max()))
        d_min, d_max = int(d.min()), int(d.max())
        while True:
            target = table.levels_at(s)
            target += d
            if d_min > 0:  # the common case: all forwards, no masks
                if int(target.max()) <= table.total:
                    return table.forwards(target)
                table = self._grow_forward(table)
            elif d_max > 0 and int(target.max(initial=0, where=d > 0)) > table.total:
                table = self._grow_forward(table)
            elif d_min < 0 and int(target.min(initial=0, where=d < 0)) < 0:
                table = self._grow_backward(table)
            else:
                break
        out = s.copy()
        ahead, behind = d > 0, d < 0
        out[ahead] = table.forwards(target[ahead])
        out[behind] = table.backwards(target[behind])
        return out

    @staticmethod
    def _finish(
        values: Int64Array, missing: npt.NDArray[np.bool_] | None, shape: tuple[int, ...]
    ) -> Int64Array:
        if missing is not None:
            full = np.full(len(missing), _NAT, dtype=np.int64)
            full[~missing] = values
            values = full
        return values.reshape(shape)
