"""A review series as iCalendar (RFC 5545): one recurring event with the series' RRULE, and each
occurrence that moved off a closed day as an override of that instance (same UID, ``RECURRENCE-ID`` of
the planned start), so calendar apps show the meeting on the day it really takes place."""

from __future__ import annotations

import datetime as dt

from django.utils import translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vRecur, vText

from leadpact.reviews.models import ReviewSeries
from leadpact.reviews.schedule import series_occurrences, series_zone

__all__ = ["series_ics"]

#: How far ahead the moved instances are written (the recurrence itself has no end).
AHEAD = dt.timedelta(days=400)


def _uid(series: ReviewSeries) -> str:
    return f"review-series-{series.pk}@leadpact"


def _event(series: ReviewSeries, start: dt.datetime, end: dt.datetime, stamp: dt.datetime) -> Event:
    event = Event()
    event.add("uid", _uid(series))
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", series.name)
    event.add("description", f"{series.agreement.title}: {series.name}")
    for person in series.attendees.order_by("name"):
        attendee = vCalAddress(f"mailto:{person.email}")
        attendee.params["cn"] = vText(person.name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee, encode=False)
    return event


def series_ics(series: ReviewSeries, *, now: dt.datetime) -> bytes:
    """The series as an .ics file: the recurring event, and its moved instances up to a year ahead."""
    zone = series_zone(series)
    calendar = Calendar()
    calendar.add("prodid", "-//leadpact//reviews//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", series.name)
    first = dt.datetime.combine(series.starts_on, series.time, tzinfo=zone)
    length = dt.timedelta(minutes=series.duration_minutes)
    stamp = now.astimezone(dt.UTC)
    master = _event(series, first, first + length, stamp)
    master.add("rrule", vRecur.from_ical(series.rrule))
    calendar.add_component(master)
    horizon = (now + AHEAD).date()
    for occurrence in series_occurrences(series, before=horizon):
        if not occurrence.moved:
            continue
        planned = dt.datetime.combine(occurrence.planned, series.time, tzinfo=zone)
        moved = _event(series, occurrence.starts_at, occurrence.ends_at, stamp)
        moved.add("recurrence-id", planned)
        with translation.override(series.language):
            reason = occurrence.reason if occurrence.reason != "closed" else _("a closed day")
            moved["summary"] = vText(
                _("%(name)s (moved from %(day)s: %(reason)s)")
                % {"name": series.name, "day": occurrence.planned.isoformat(), "reason": reason}
            )
        calendar.add_component(moved)
    calendar.add_missing_timezones(first_date=series.starts_on, last_date=horizon + dt.timedelta(days=31))
    return bytes(calendar.to_ical())
