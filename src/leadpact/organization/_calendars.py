"""The bridge to :mod:`leadpact.core.calendar`: calendar errors become field errors."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from leadpact.core.calendar import BusinessCalendar, CalendarError


def calendar_from_spec(spec: Any, *, field: str) -> BusinessCalendar:
    """The calendar the spec describes, or a ValidationError on ``field`` saying why not."""
    try:
        return BusinessCalendar.from_spec(spec)
    except (CalendarError, TypeError, KeyError, ValueError) as error:
        raise ValidationError({field: f"invalid calendar: {error}"}) from error


def hours_check(team_spec: Any, hours: Any, *, field: str) -> None:
    """Raise a ValidationError on ``field`` if ``hours`` cannot narrow the team calendar."""
    try:
        calendar = BusinessCalendar.from_spec(team_spec)
    except (CalendarError, TypeError, KeyError, ValueError):
        return  # the team's own calendar is reported on the team
    try:
        calendar.narrowed(hours=hours)
    except (CalendarError, TypeError, KeyError, ValueError) as error:
        raise ValidationError({field: f"invalid weekly hours: {error}"}) from error
