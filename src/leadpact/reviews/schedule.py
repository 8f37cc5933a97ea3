"""When a series meets: its RFC 5545 recurrence read with dateutil, each occurrence moved off a day the
agreement's parties are closed (a weekend in their hours, a public holiday, an extra closed day) to the
next day every party is open — and saying why.

A review needs both sides in the room, so a day is a meeting day when it is a business day in the
calendar of **every** party of the agreement version in force.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from leadpact.agreements.models import AgreementVersion
from leadpact.agreements.selectors import agreement_active_version, agreement_latest_version
from leadpact.core.calendar import BusinessCalendar
from leadpact.errors import ApplicationError
from leadpact.organization.selectors import team_calendar
from leadpact.reviews.models import ReviewSeries

__all__ = [
    "Occurrence",
    "rrule_check",
    "series_calendars",
    "series_occurrences",
    "series_version",
    "series_zone",
]

#: How far a closed stretch may push a review (a long holiday closing): beyond it the rule is refused.
_MAX_MOVE_DAYS = 31


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One meeting of a series: the day the rule gives, the day it takes place, and why it moved."""

    planned: dt.date
    day: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    reason: str  # the holiday's name, or "closed" (a weekend or closed day); "" when not moved

    @property
    def moved(self) -> bool:
        return self.day != self.planned


def rrule_check(rule: str, *, field: str = "rrule") -> str:
    """The rule, normalised (no ``RRULE:`` prefix, upper case), or an ApplicationError naming the field."""
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    text = text.upper()
    if not text or "DTSTART" in text or "\n" in text:
        raise ApplicationError(
            "review_series.rrule",
            f"recurrence {rule!r}: give one RFC 5545 RRULE such as FREQ=WEEKLY;BYDAY=TU",
            extra={"field": field},
        )
    try:
        parsed = rrulestr(text, dtstart=dt.datetime(2026, 1, 1))  # noqa: DTZ001 - a probe, local by design
    except (ValueError, TypeError) as error:
        raise ApplicationError(
            "review_series.rrule", f"recurrence {rule!r}: {error}", extra={"field": field}
        ) from error
    if not isinstance(parsed, rrule) or parsed._freq > 3:
        raise ApplicationError(
            "review_series.rrule",
            f"recurrence {rule!r}: a review recurs daily, weekly, monthly or yearly",
            extra={"field": field},
        )
    return text


def series_version(series: ReviewSeries) -> AgreementVersion | None:
    """The version whose parties meet: the one in force, else the newest."""
    return agreement_active_version(series.agreement) or agreement_latest_version(series.agreement)


def series_calendars(series: ReviewSeries) -> list[BusinessCalendar]:
    """The business calendars of the parties of the version in force."""
    version = series_version(series)
    if version is None:
        return []
    return [team_calendar(team) for team in version.parties.order_by("key")]


def series_zone(series: ReviewSeries) -> ZoneInfo:
    return ZoneInfo(series.agreement.organization.timezone)


def _closed_reason(calendars: Sequence[BusinessCalendar], day: dt.date) -> str | None:
    """None when every party is open on ``day``; else the holiday's name, or ``closed``."""
    if all(c.is_business_day(day) for c in calendars):
        return None
    for c in calendars:
        found = c.holidays_between(day, day)
        if found:
            return found[0][1]
    return "closed"


def _meeting_day(calendars: Sequence[BusinessCalendar], planned: dt.date) -> tuple[dt.date, str]:
    reason = _closed_reason(calendars, planned)
    if reason is None:
        return planned, ""
    day = planned
    for _step in range(_MAX_MOVE_DAYS):
        day += dt.timedelta(days=1)
        if _closed_reason(calendars, day) is None:
            return day, reason
    raise ApplicationError(
        "review_series.closed",
        f"no day within {_MAX_MOVE_DAYS} days after {planned} on which every party is open",
    )


def series_occurrences(
    series: ReviewSeries,
    *,
    after: dt.date | None = None,
    before: dt.date | None = None,
    calendars: Sequence[BusinessCalendar] | None = None,
) -> Iterator[Occurrence]:
    """The meetings of ``series`` whose day is in ``[after, before)`` (open ends: from the first; no end),
    in order; each moved off a closed day. Two planned days that move onto the same day meet once."""
    zone = series_zone(series)
    calendars = series_calendars(series) if calendars is None else calendars
    start = dt.datetime.combine(series.starts_on, series.time)
    rule = rrulestr(series.rrule, dtstart=start)
    # a planned day up to _MAX_MOVE_DAYS before ``after`` can move into the range
    begin = (
        start
        if after is None
        else max(start, dt.datetime.combine(after, dt.time()) - dt.timedelta(days=_MAX_MOVE_DAYS))
    )
    last_day: dt.date | None = None
    for planned_at in rule.xafter(begin, inc=True) if hasattr(rule, "xafter") else rule:
        if planned_at < begin:
            continue
        planned = planned_at.date()
        if before is not None and planned >= before:
            return
        day, reason = _meeting_day(calendars, planned)
        if day == last_day or (after is not None and day < after):
            continue
        if before is not None and day >= before:
            return
        last_day = day
        starts = dt.datetime.combine(day, series.time, tzinfo=zone)
        yield Occurrence(
            planned=planned,
            day=day,
            starts_at=starts,
            ends_at=starts + dt.timedelta(minutes=series.duration_minutes),
            reason=reason,
        )
