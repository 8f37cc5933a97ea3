"""The window of a commitment's clock and the calendar a person's clocks run in (shared by the scorecard,
the clock pass and the alerts' delivery time)."""

from __future__ import annotations

import datetime as dt

from leadpact.core.agreement import Commitment
from leadpact.core.calendar import BusinessCalendar
from leadpact.core.durations import BusinessDuration
from leadpact.organization.models import Person
from leadpact.organization.selectors import team_calendar

__all__ = ["business_window", "clock_calendar"]


def business_window(commitment: Commitment) -> dt.timedelta | BusinessDuration:
    """The clock window: business minutes as a timedelta; ``Nbd`` as it is — each lead's own window,
    from its start to the same business time of day N business days on (:mod:`leadpact.core.clocks`)."""
    assert commitment.clock is not None
    window = commitment.clock.window
    if window.minutes is not None:
        return dt.timedelta(minutes=window.minutes)
    return window


def clock_calendar(person: Person) -> BusinessCalendar:
    """The calendar a person's SLA clocks run in: their hours and leave, from their start date.

    Unlike :func:`~leadpact.organization.selectors.person_calendar` it stays open after the person's end
    date (their leads' clocks keep running in their hours until someone else takes the lead; a calendar
    that never opens again would have no deadline at all).
    """
    leave = [(item.first_day, item.end_day) for item in person.leave.all()]
    return team_calendar(person.team).narrowed(
        hours=person.hours, leave=sorted(leave), start=person.start_date
    )
