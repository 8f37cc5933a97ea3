"""person_calendar: the team's calendar narrowed by own hours, leave and start date."""

from __future__ import annotations

import datetime as dt

import pytest

from leadpact.organization.selectors import person_calendar, team_people
from leadpact.organization.services import leave_add, person_update
from tests.organization.factories import make_organization, make_person, make_team

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def sales():
    return make_team(make_organization(), "sales")


def test_a_full_timer_has_the_team_calendar(sales):
    person = make_person(sales, "Sam Seller", start_date=dt.date(2026, 1, 1))
    calendar = person_calendar(person)
    assert calendar.business_time_on(dt.date(2026, 3, 2)) == 8 * HOUR  # a Monday
    assert calendar.business_time_on(dt.date(2026, 4, 27)) == 0 * HOUR  # King's Day (NL holiday)


def test_own_hours_leave_and_start_date_narrow_it(sales):
    person = make_person(
        sales, "Pat Parttime", start_date=dt.date(2026, 2, 2), hours={"mon-wed": ["09:00-13:00"]}
    )
    leave_add(person=person, first_day=dt.date(2026, 3, 9), end_day=dt.date(2026, 3, 11), actor="hr")
    calendar = person_calendar(person)
    assert calendar.business_time_on(dt.date(2026, 1, 26)) == 0 * HOUR  # before the start date
    assert calendar.business_time_on(dt.date(2026, 3, 2)) == 4 * HOUR  # Monday, own hours
    assert calendar.business_time_on(dt.date(2026, 3, 5)) == 0 * HOUR  # Thursday: not a working day
    assert calendar.business_time_on(dt.date(2026, 3, 9)) == 0 * HOUR  # leave
    assert calendar.business_time_on(dt.date(2026, 3, 10)) == 0 * HOUR  # leave
    assert calendar.business_time_on(dt.date(2026, 3, 11)) == 4 * HOUR  # back: the end day is exclusive


def test_no_business_time_from_the_end_date_on(sales):
    person = make_person(sales, "Lea Leaving", start_date=dt.date(2025, 1, 1))
    person = person_update(person=person, end_date=dt.date(2026, 3, 3), actor="hr")
    calendar = person_calendar(person)
    assert calendar.business_time_on(dt.date(2026, 3, 2)) == 8 * HOUR
    assert calendar.business_time_on(dt.date(2026, 3, 3)) == 0 * HOUR
    assert calendar.business_days(dt.date(2026, 3, 1), dt.date(2026, 12, 31)) == 1


def test_a_change_of_hours_shows_in_the_calendar(sales):
    person = make_person(sales, "Sam Seller", start_date=dt.date(2026, 1, 1))
    person = person_update(person=person, hours={"mon-fri": ["09:00-12:00"]}, actor="hr")
    assert person_calendar(person).business_time_on(dt.date(2026, 3, 2)) == 3 * HOUR


def test_team_people_on_a_day(sales):
    early = make_person(sales, "Early Bird", start_date=dt.date(2025, 1, 1))
    late = make_person(sales, "Late Comer", start_date=dt.date(2026, 6, 1))
    person_update(person=early, end_date=dt.date(2026, 3, 1), actor="hr")
    assert list(team_people(sales, on=dt.date(2026, 2, 28))) == [early]
    assert list(team_people(sales, on=dt.date(2026, 3, 1))) == []
    assert list(team_people(sales, on=dt.date(2026, 6, 1))) == [late]
    assert set(team_people(sales)) == {early, late}
