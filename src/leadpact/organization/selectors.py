"""Reads for organisations, teams and people."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from leadpact.core.calendar import BusinessCalendar
from leadpact.organization.models import Organization, Person, Team

__all__ = ["organization_teams", "person_calendar", "team_calendar", "team_people"]


def team_calendar(team: Team) -> BusinessCalendar:
    """The team's business calendar."""
    return BusinessCalendar.from_spec(team.calendar)


# The calendar has no "end" yet: from the end date on, the person is treated as on leave for good.
_FOREVER = dt.date(9999, 1, 1)


def person_calendar(person: Person) -> BusinessCalendar:
    """The team's calendar narrowed to the person: own weekly hours, leave, from the start date and
    before the end date (both half-open like everything else: ``[start_date, end_date)``)."""
    leave = [(item.first_day, item.end_day) for item in person.leave.order_by("first_day")]
    if person.end_date is not None:
        leave.append((person.end_date, _FOREVER))
    return team_calendar(person.team).narrowed(hours=person.hours, leave=leave, start=person.start_date)


def team_people(team: Team, *, on: dt.date | None = None) -> QuerySet[Person]:
    """The team's people, or only those in the team on day ``on`` (start ≤ on < end)."""
    people = team.people.order_by("name")
    if on is not None:
        people = people.filter(start_date__lte=on).filter(Q(end_date__isnull=True) | Q(end_date__gt=on))
    return people


def organization_teams(organization: Organization) -> QuerySet[Team]:
    """The organisation's teams by key."""
    return organization.teams.order_by("key")
