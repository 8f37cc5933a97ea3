"""Parse, check and print the plain calendar spec (the shape agreements use in YAML).

Private to :mod:`leadpact.core.calendar`; the normalised value here is what calendars compare by.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

__all__ = [
    "DAY_NAMES",
    "CalendarError",
    "CalendarSpec",
    "DateRange",
    "HolidaySource",
    "Week",
    "Window",
    "in_ranges",
    "intersect_weeks",
    "intersect_windows",
    "merge_ranges",
    "parse_spec",
    "parse_week",
    "spec_to_plain",
    "week_to_plain",
]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60

Window = tuple[int, int]
"""Minutes after local midnight, ``[start, end)``; ``end`` may be 1440 (24:00)."""
Week = tuple[tuple[Window, ...], ...]
"""Seven entries, Monday first."""
DateRange = tuple[date, date]
"""Inclusive ``(first, last)``."""

_TIME = re.compile(r"(\d{2}):(\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TOP_KEYS = ("timezone", "hours", "holidays", "closed", "open", "within", "leave", "start")
_HOLIDAY_KEYS = ("country", "subdivision", "categories", "language")


class CalendarError(ValueError):
    """A calendar spec that cannot be used: names the key (``hours.mon-fri[1]``) and the reason."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"calendar {key or 'spec'}: {reason}")


@dataclass(frozen=True, slots=True)
class HolidaySource:
    """Public holidays from the ``holidays`` package."""

    country: str
    subdivision: str | None = None
    categories: tuple[str, ...] | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class CalendarSpec:
    """The normalised spec: equal calendars have equal specs."""

    timezone: str
    hours: Week
    holidays: HolidaySource | None = None
    closed: tuple[DateRange, ...] = ()
    open: tuple[tuple[date, tuple[Window, ...]], ...] = ()
    within: Week | None = None
    leave: tuple[DateRange, ...] = ()
    start: date | None = None


# ---------------------------------------------------------------- parsing


def _parse_time(text: str, key: str, *, end: bool) -> int:
    match = _TIME.fullmatch(text.strip())
    if match is not None:
        hour, minute = int(match[1]), int(match[2])
        if hour < 24 and minute < 60:
            return hour * 60 + minute
        if end and hour == 24 and minute == 0:
            return MINUTES_PER_DAY
    raise CalendarError(key, f"bad time {text.strip()!r} (use hh:mm from 00:00 to 23:59, or 24:00 as an end)")


def _format_time(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _format_window(window: Window) -> str:
    return f"{_format_time(window[0])}-{_format_time(window[1])}"


def _parse_window(value: object, key: str) -> Window:
    if not isinstance(value, str) or value.count("-") != 1:
        raise CalendarError(key, f"expected a window like '09:00-17:30', got {value!r}")
    first, last = value.split("-")
    start = _parse_time(first, key, end=False)
    end = _parse_time(last, key, end=True)
    if end < start:
        raise CalendarError(key, f"window {value.strip()!r} ends before it starts")
    if end == start:
        raise CalendarError(key, f"window {value.strip()!r} is empty")
    return start, end


def _parse_windows(value: object, key: str) -> tuple[Window, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise CalendarError(key, f"expected a list of windows like ['09:00-17:30'], got {value!r}")
    parsed = sorted((_parse_window(item, f"{key}[{i}]"), i) for i, item in enumerate(value))
    merged: list[Window] = []
    for index, ((start, end), position) in enumerate(parsed):
        if merged and start < merged[-1][1]:
            previous = parsed[index - 1][0]
            raise CalendarError(
                f"{key}[{position}]",
                f"windows {_format_window(previous)!r} and {_format_window((start, end))!r} overlap",
            )
        if merged and start == merged[-1][1]:  # touching windows are one window
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


def _parse_day_key(value: object, key: str) -> tuple[int, ...]:
    if not isinstance(value, str):
        raise CalendarError(key, f"unknown weekday key {value!r} (use mon..sun or a range like mon-fri)")
    text = value.strip().lower()
    parts = text.split("-")
    if len(parts) > 2 or any(part not in DAY_NAMES for part in parts):
        raise CalendarError(key, f"unknown weekday key {value!r} (use mon..sun or a range like mon-fri)")
    first, last = DAY_NAMES.index(parts[0]), DAY_NAMES.index(parts[-1])
    if last < first:
        raise CalendarError(key, f"weekday range {value!r} runs backwards (use mon..sun order)")
    return tuple(range(first, last + 1))


def parse_week(value: object, key: str) -> Week:
    if not isinstance(value, Mapping):
        raise CalendarError(key, f"expected a mapping of weekdays to windows, got {value!r}")
    days: list[tuple[Window, ...] | None] = [None] * 7
    given_by: dict[int, str] = {}
    for day_key, windows in value.items():
        path = f"{key}.{day_key}"
        numbers = _parse_day_key(day_key, path)
        for number in numbers:
            if number in given_by:
                raise CalendarError(
                    path, f"day {DAY_NAMES[number]!r} is given twice (also by {given_by[number]!r})"
                )
        parsed = _parse_windows(windows, path)
        for number in numbers:
            given_by[number] = str(day_key)
            days[number] = parsed
    return tuple(day or () for day in days)


def _parse_date(value: object, key: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise CalendarError(key, f"bad date {value!r} (use yyyy-mm-dd)")


def _parse_range(value: object, key: str) -> DateRange:
    if isinstance(value, str) and ".." in value:
        first_text, _, last_text = value.partition("..")
        first, last = _parse_date(first_text, key), _parse_date(last_text, key)
        if last < first:
            raise CalendarError(key, f"date range {value!r} ends before it starts")
        return first, last
    day = _parse_date(value, key)
    return day, day


def merge_ranges(ranges: Sequence[DateRange]) -> tuple[DateRange, ...]:
    """Sort inclusive date ranges and merge the ones that overlap or touch."""
    merged: list[DateRange] = []
    for first, last in sorted(ranges):
        if merged and first.toordinal() <= merged[-1][1].toordinal() + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return tuple(merged)


def _parse_ranges(value: object, key: str) -> tuple[DateRange, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise CalendarError(
            key, f"expected a list of dates or ranges like '2026-07-01..2026-07-14', got {value!r}"
        )
    return merge_ranges([_parse_range(item, f"{key}[{i}]") for i, item in enumerate(value)])


def _parse_zone(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CalendarError("timezone", f"expected an iana zone name like 'Europe/Amsterdam', got {value!r}")
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError("timezone", f"unknown time zone {name!r}") from None
    return name


def _parse_holidays(value: object) -> HolidaySource | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise CalendarError("holidays", f"expected a mapping like {{country: NL}}, got {value!r}")
    for name in value:
        if name not in _HOLIDAY_KEYS:
            raise CalendarError(
                f"holidays.{name}", f"unknown key (expected one of {', '.join(_HOLIDAY_KEYS)})"
            )
    if "country" not in value:
        raise CalendarError("holidays.country", "missing (an iso 3166 country code like 'NL')")
    country = value["country"]
    supported = holidays_lib.list_supported_countries()
    if not isinstance(country, str) or country.strip().upper() not in supported:
        raise CalendarError("holidays.country", f"unknown country {country!r} (not in the holidays package)")
    country = country.strip().upper()
    entity = holidays_lib.country_holidays(country, years=[])
    subdivision = value.get("subdivision")
    if subdivision is not None:
        if not isinstance(subdivision, str) or not subdivision.strip():
            raise CalendarError("holidays.subdivision", f"unknown subdivision {subdivision!r} of {country}")
        subdivision = subdivision.strip()
        try:
            holidays_lib.country_holidays(country, subdiv=subdivision, years=[])
        except NotImplementedError:
            raise CalendarError(
                "holidays.subdivision", f"unknown subdivision {subdivision!r} of {country}"
            ) from None
    categories: tuple[str, ...] | None = None
    raw_categories = value.get("categories")
    if raw_categories is not None:
        if isinstance(raw_categories, str) or not isinstance(raw_categories, Sequence) or not raw_categories:
            raise CalendarError(
                "holidays.categories", f"expected a non-empty list like ['public'], got {raw_categories!r}"
            )
        for i, category in enumerate(raw_categories):
            if not isinstance(category, str) or category not in entity.supported_categories:
                raise CalendarError(
                    f"holidays.categories[{i}]",
                    f"unknown category {category!r} for {country} "
                    f"(one of {', '.join(sorted(entity.supported_categories))})",
                )
        categories = tuple(sorted(set(raw_categories)))
    language = value.get("language")
    if language is not None and (
        not isinstance(language, str) or language not in (entity.supported_languages or ())
    ):
        raise CalendarError(
            "holidays.language",
            f"unsupported language {language!r} for {country} "
            f"(one of {', '.join(entity.supported_languages or ())})",
        )
    return HolidaySource(country=country, subdivision=subdivision, categories=categories, language=language)


def _parse_open(value: object) -> tuple[tuple[date, tuple[Window, ...]], ...]:
    if not isinstance(value, Mapping):
        raise CalendarError("open", f"expected a mapping of dates to windows, got {value!r}")
    days: dict[date, tuple[Window, ...]] = {}
    for raw_day, windows in value.items():
        key = f"open.{raw_day}"
        day = _parse_date(raw_day, key)
        if day in days:
            raise CalendarError(key, f"date {day.isoformat()} is given twice")
        parsed = _parse_windows(windows, key)
        if not parsed:
            raise CalendarError(key, "no windows (list a closed date under 'closed' instead)")
        days[day] = parsed
    return tuple(sorted(days.items()))


def in_ranges(ranges: Sequence[DateRange], day: date) -> bool:
    """Whether ``day`` lies in one of the inclusive ``ranges``."""
    return any(first <= day <= last for first, last in ranges)


def parse_spec(spec: object) -> CalendarSpec:
    """Check a plain spec and return its normalised form; raises :class:`CalendarError`."""
    if not isinstance(spec, Mapping):
        raise CalendarError("", f"expected a mapping, got {type(spec).__name__}")
    for name in spec:
        if name not in _TOP_KEYS:
            raise CalendarError(str(name), f"unknown key (expected one of {', '.join(_TOP_KEYS)})")
    for required in ("timezone", "hours"):
        if required not in spec:
            raise CalendarError(required, "missing")
    data: dict[str, Any] = dict(spec)
    zone = _parse_zone(data["timezone"])
    hours = parse_week(data["hours"], "hours")
    source = _parse_holidays(data.get("holidays"))
    closed = _parse_ranges(data.get("closed", []), "closed")
    opened = _parse_open(data.get("open", {}))
    for day, _ in opened:
        if in_ranges(closed, day):
            raise CalendarError(f"open.{day.isoformat()}", f"date {day.isoformat()} is also closed")
    within = parse_week(data["within"], "within") if data.get("within") is not None else None
    leave = _parse_ranges(data.get("leave", []), "leave")
    start = _parse_date(data["start"], "start") if data.get("start") is not None else None
    return CalendarSpec(
        timezone=zone,
        hours=hours,
        holidays=source,
        closed=closed,
        open=opened,
        within=within,
        leave=leave,
        start=start,
    )


# ---------------------------------------------------------------- printing


def week_to_plain(week: Week) -> dict[str, list[str]]:
    """Group runs of consecutive days with the same windows: ``mon-fri``; closed days are left out."""
    plain: dict[str, list[str]] = {}
    number = 0
    while number < 7:
        last = number
        while last + 1 < 7 and week[last + 1] == week[number]:
            last += 1
        if week[number]:
            name = DAY_NAMES[number] if last == number else f"{DAY_NAMES[number]}-{DAY_NAMES[last]}"
            plain[name] = [_format_window(window) for window in week[number]]
        number = last + 1
    return plain


def _range_to_plain(first: date, last: date) -> str:
    return first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}"


def spec_to_plain(spec: CalendarSpec) -> dict[str, object]:
    """The canonical plain spec: fixed key order, normalised strings, optional keys only when set."""
    plain: dict[str, object] = {"timezone": spec.timezone, "hours": week_to_plain(spec.hours)}
    if spec.holidays is not None:
        source: dict[str, object] = {"country": spec.holidays.country}
        if spec.holidays.subdivision is not None:
            source["subdivision"] = spec.holidays.subdivision
        if spec.holidays.categories is not None:
            source["categories"] = list(spec.holidays.categories)
        if spec.holidays.language is not None:
            source["language"] = spec.holidays.language
        plain["holidays"] = source
    if spec.closed:
        plain["closed"] = [_range_to_plain(*r) for r in spec.closed]
    if spec.open:
        plain["open"] = {day.isoformat(): [_format_window(w) for w in windows] for day, windows in spec.open}
    if spec.within is not None:
        plain["within"] = week_to_plain(spec.within)
    if spec.leave:
        plain["leave"] = [_range_to_plain(*r) for r in spec.leave]
    if spec.start is not None:
        plain["start"] = spec.start.isoformat()
    return plain


# ---------------------------------------------------------------- narrowing


def intersect_windows(left: Sequence[Window], right: Sequence[Window]) -> tuple[Window, ...]:
    """The wall-clock windows present in both ``left`` and ``right``."""
    out: list[Window] = []
    for a_start, a_end in left:
        for b_start, b_end in right:
            start, end = max(a_start, b_start), min(a_end, b_end)
            if start < end:
                out.append((start, end))
    return tuple(sorted(out))


def intersect_weeks(left: Week, right: Week) -> Week:
    """Day-by-day intersection of two weeks."""
    return tuple(intersect_windows(a, b) for a, b in zip(left, right, strict=True))
