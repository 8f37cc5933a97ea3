"""Organisation services: validated, atomic, audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from leadpact.audit.models import AuditEntry
from leadpact.errors import ApplicationError
from leadpact.organization.models import Leave, Person, Team
from leadpact.organization.services import (
    leave_add,
    leave_remove,
    person_update,
    team_calendar_update,
    team_create,
)
from tests.organization.factories import CALENDAR, NOW, make_organization, make_person, make_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def organization():
    return make_organization()


@pytest.fixture
def sales(organization):
    return make_team(organization, "sales")


class TestTeamCreate:
    def test_stores_the_canonical_calendar_and_audits(self, organization):
        team = team_create(
            organization=organization,
            key="sales",
            name="Sales",
            kind=Team.Kind.SALES,
            calendar={"hours": {"tue": ["09:00-17:00"], "mon": ["09:00-17:00"]}, "timezone": "UTC"},
            actor="test",
            now=NOW,
        )
        assert team.calendar == {"timezone": "UTC", "hours": {"mon-tue": ["09:00-17:00"]}}
        entry = AuditEntry.objects.get(action="team.create")
        assert entry.object_id == str(team.pk) and entry.organization == organization

    def test_a_bad_calendar_is_a_field_error_and_writes_nothing(self, organization):
        teams, entries = Team.objects.count(), AuditEntry.objects.count()
        with pytest.raises(ValidationError) as caught:
            team_create(
                organization=organization,
                key="sales",
                name="Sales",
                calendar={"timezone": "Mars/Olympus", "hours": {}},
                actor="test",
            )
        assert "Mars/Olympus" in caught.value.message_dict["calendar"][0]
        assert (Team.objects.count(), AuditEntry.objects.count()) == (teams, entries)

    def test_full_clean_checks_the_calendar_too(self, sales):
        sales.calendar = {"timezone": "UTC", "hours": {"someday": ["09:00-17:00"]}}
        with pytest.raises(ValidationError) as caught:
            sales.full_clean()
        assert "someday" in caught.value.message_dict["calendar"][0]


class TestTeamCalendarUpdate:
    def test_keeps_before_and_after_in_the_audit_log(self, sales):
        new = {**CALENDAR, "hours": {"mon-thu": ["08:00-16:00"]}}
        team_calendar_update(team=sales, calendar=new, actor="test", now=NOW)
        sales.refresh_from_db()
        assert sales.calendar["hours"] == {"mon-thu": ["08:00-16:00"]}
        entry = AuditEntry.objects.get(action="team.calendar_update")
        assert entry.before == {"calendar": CALENDAR}
        assert entry.after["calendar"]["hours"] == {"mon-thu": ["08:00-16:00"]}

    def test_a_bad_calendar_changes_nothing(self, sales):
        with pytest.raises(ValidationError):
            team_calendar_update(
                team=sales, calendar={"timezone": "UTC", "hours": {"mon": ["17:00-09:00"]}}, actor="t"
            )
        sales.refresh_from_db()
        assert sales.calendar == CALENDAR
        assert not AuditEntry.objects.filter(action="team.calendar_update").exists()


class TestPersonUpdate:
    def test_fte_change_is_audited_with_only_what_changed(self, sales):
        person = make_person(sales, "Sam Seller")
        person_update(person=person, fte=Decimal("0.50"), actor="hr", now=NOW)
        person.refresh_from_db()
        assert person.fte == Decimal("0.50")
        entry = AuditEntry.objects.get(action="person.update")
        assert (entry.before, entry.after, entry.actor_label) == ({"fte": "1.00"}, {"fte": "0.50"}, "hr")

    def test_no_change_writes_no_entry(self, sales):
        person = make_person(sales, "Sam Seller")
        person_update(person=person, fte=Decimal("1.00"), actor="hr")
        assert not AuditEntry.objects.filter(action="person.update").exists()

    @pytest.mark.parametrize("fte", [Decimal("1.01"), Decimal("-0.10")])
    def test_fte_outside_zero_to_one_is_refused(self, sales, fte):
        person = make_person(sales, "Sam Seller")
        with pytest.raises(ValidationError) as caught:
            person_update(person=person, fte=fte, actor="hr")
        assert "fte" in caught.value.message_dict
        person.refresh_from_db()
        assert person.fte == Decimal("1.00")

    def test_the_database_refuses_fte_above_one_too(self, sales):
        person = make_person(sales, "Sam Seller")
        with pytest.raises(IntegrityError), transaction.atomic():
            Person.objects.filter(pk=person.pk).update(fte=Decimal("1.50"))

    def test_own_hours_must_be_valid_calendar_hours(self, sales):
        person = make_person(sales, "Pat Parttime")
        with pytest.raises(ValidationError) as caught:
            person_update(person=person, hours={"funday": ["09:00-13:00"]}, actor="hr")
        assert "funday" in caught.value.message_dict["hours"][0]
        person_update(person=person, hours={"mon-wed": ["09:00-13:00"]}, actor="hr")
        person.refresh_from_db()
        assert person.hours == {"mon-wed": ["09:00-13:00"]}

    def test_end_date_must_follow_start_date(self, sales):
        person = make_person(sales, "Sam Seller", start_date=dt.date(2026, 1, 1))
        with pytest.raises(ValidationError) as caught:
            person_update(person=person, end_date=dt.date(2026, 1, 1), actor="hr")
        assert "end_date" in caught.value.message_dict

    def test_cannot_move_to_a_team_of_another_organisation(self, sales):
        other = make_team(make_organization("other"), "sales")
        person = make_person(sales, "Sam Seller")
        with pytest.raises(ApplicationError) as caught:
            person_update(person=person, team=other, actor="hr")
        assert caught.value.code == "person.other_organization"


class TestLeave:
    def test_add_and_remove_are_audited(self, sales):
        person = make_person(sales, "Sam Seller")
        leave = leave_add(
            person=person,
            first_day=dt.date(2026, 3, 2),
            end_day=dt.date(2026, 3, 7),
            note="ski",
            actor="hr",
            now=NOW,
        )
        added = AuditEntry.objects.get(action="leave.add")
        assert added.after == {
            "person_id": person.pk,
            "first_day": "2026-03-02",
            "end_day": "2026-03-07",
            "note": "ski",
        }
        leave_remove(leave=leave, actor="hr", now=NOW)
        assert not Leave.objects.exists()
        removed = AuditEntry.objects.get(action="leave.remove")
        assert removed.before == added.after and removed.object_id == str(added.object_id)

    def test_end_day_is_exclusive_so_it_must_follow_the_first_day(self, sales):
        person = make_person(sales, "Sam Seller")
        with pytest.raises(ValidationError) as caught:
            leave_add(person=person, first_day=dt.date(2026, 3, 2), end_day=dt.date(2026, 3, 2), actor="hr")
        assert "end_day" in caught.value.message_dict
        assert not Leave.objects.exists()

    def test_overlapping_leave_is_refused_but_touching_leave_is_fine(self, sales):
        person = make_person(sales, "Sam Seller")
        leave_add(person=person, first_day=dt.date(2026, 3, 2), end_day=dt.date(2026, 3, 7), actor="hr")
        with pytest.raises(ApplicationError) as caught:
            leave_add(person=person, first_day=dt.date(2026, 3, 6), end_day=dt.date(2026, 3, 10), actor="hr")
        assert caught.value.code == "leave.overlap"
        leave_add(person=person, first_day=dt.date(2026, 3, 7), end_day=dt.date(2026, 3, 10), actor="hr")
        assert Leave.objects.count() == 2
