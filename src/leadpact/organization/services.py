"""Writes for organisations, teams, people and leave; each one atomic, validated and audited."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any, Final

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from leadpact.audit.services import Actor, audit_record
from leadpact.errors import ApplicationError
from leadpact.organization._calendars import calendar_from_spec
from leadpact.organization.models import Leave, Membership, Organization, Person, Team

__all__ = [
    "UNCHANGED",
    "leave_add",
    "leave_remove",
    "membership_grant",
    "membership_revoke",
    "organization_create",
    "person_create",
    "person_snapshot",
    "person_update",
    "team_calendar_update",
    "team_create",
]


class _Unchanged(enum.Enum):
    UNCHANGED = "unchanged"


UNCHANGED: Final = _Unchanged.UNCHANGED
"""Default of :func:`person_update` arguments: leave the field as it is."""


def _now(now: dt.datetime | None) -> dt.datetime:
    return timezone.now() if now is None else now


def person_snapshot(person: Person) -> dict[str, Any]:
    """The audited fields of a person, as JSON-ready values."""
    return {
        "name": person.name,
        "email": person.email,
        "team": person.team.key,
        "role": person.role,
        "fte": str(person.fte),
        "hours": person.hours,
        "start_date": person.start_date.isoformat(),
        "end_date": person.end_date.isoformat() if person.end_date else None,
        "user_id": person.user_id,
        "crm_ids": dict(person.crm_ids or {}),
    }


def _leave_snapshot(leave: Leave) -> dict[str, Any]:
    return {
        "person_id": leave.person_id,
        "first_day": leave.first_day.isoformat(),
        "end_day": leave.end_day.isoformat(),
        "note": leave.note,
    }


@transaction.atomic
def organization_create(
    *,
    key: str,
    name: str,
    timezone_name: str = "Europe/Amsterdam",
    actor: Actor,
    now: dt.datetime | None = None,
) -> Organization:
    """Create an organisation."""
    organization = Organization(key=key, name=name, timezone=timezone_name)
    organization.full_clean()
    organization.save()
    audit_record(
        actor=actor,
        action="organization.create",
        obj=organization,
        at=_now(now),
        after={"key": key, "name": name, "timezone": timezone_name},
        organization=organization,
    )
    return organization


@transaction.atomic
def team_create(
    *,
    organization: Organization,
    key: str,
    name: str,
    kind: str = Team.Kind.OTHER,
    calendar: dict[str, Any],
    actor: Actor,
    now: dt.datetime | None = None,
) -> Team:
    """Create a team (a party) with its business calendar, validated by the core calendar."""
    calendar = calendar_from_spec(calendar, field="calendar").to_spec()
    team = Team(organization=organization, key=key, name=name, kind=kind, calendar=calendar)
    team.full_clean()
    team.save()
    audit_record(
        actor=actor,
        action="team.create",
        obj=team,
        at=_now(now),
        after={"key": key, "name": name, "kind": kind, "calendar": calendar},
        organization=organization,
    )
    return team


@transaction.atomic
def team_calendar_update(
    *, team: Team, calendar: dict[str, Any], actor: Actor, now: dt.datetime | None = None
) -> Team:
    """Replace a team's calendar spec (stored in canonical form); old and new are kept in the audit log."""
    team = Team.objects.select_for_update().get(pk=team.pk)
    before = team.calendar
    calendar = calendar_from_spec(calendar, field="calendar").to_spec()
    team.calendar = calendar
    team.full_clean()
    team.save(update_fields=["calendar"])
    audit_record(
        actor=actor,
        action="team.calendar_update",
        obj=team,
        at=_now(now),
        before={"calendar": before},
        after={"calendar": calendar},
        organization=team.organization,
    )
    return team


@transaction.atomic
def person_create(
    *,
    team: Team,
    name: str,
    email: str,
    role: str = Person.Role.MEMBER,
    fte: Decimal = Decimal("1.00"),
    start_date: dt.date,
    end_date: dt.date | None = None,
    hours: dict[str, Any] | None = None,
    user: User | None = None,
    actor: Actor,
    now: dt.datetime | None = None,
) -> Person:
    """Add a person to a team."""
    person = Person(
        team=team,
        name=name,
        email=email,
        role=role,
        fte=fte,
        start_date=start_date,
        end_date=end_date,
        hours=hours,
        user=user,
    )
    person.full_clean()
    person.save()
    audit_record(
        actor=actor,
        action="person.create",
        obj=person,
        at=_now(now),
        after=person_snapshot(person),
        organization=team.organization,
    )
    return person


@transaction.atomic
def person_update(
    *,
    person: Person,
    actor: Actor,
    now: dt.datetime | None = None,
    name: str | _Unchanged = UNCHANGED,
    email: str | _Unchanged = UNCHANGED,
    team: Team | _Unchanged = UNCHANGED,
    role: str | _Unchanged = UNCHANGED,
    fte: Decimal | _Unchanged = UNCHANGED,
    hours: dict[str, Any] | _Unchanged | None = UNCHANGED,
    start_date: dt.date | _Unchanged = UNCHANGED,
    end_date: dt.date | _Unchanged | None = UNCHANGED,
    user: User | _Unchanged | None = UNCHANGED,
    crm_ids: dict[str, str] | _Unchanged = UNCHANGED,
) -> Person:
    """Change the given fields of a person (FTE, hours, role, dates, CRM user ids …); the rest stays."""
    person = Person.objects.select_for_update().select_related("team").get(pk=person.pk)
    before = person_snapshot(person)
    organization_id = person.team.organization_id
    changes: dict[str, Any] = {
        "name": name,
        "email": email,
        "team": team,
        "role": role,
        "fte": fte,
        "hours": hours,
        "start_date": start_date,
        "end_date": end_date,
        "user": user,
        "crm_ids": crm_ids,
    }
    changed = [field for field, value in changes.items() if value is not UNCHANGED]
    for field in changed:
        setattr(person, field, changes[field])
    if team is not UNCHANGED and team.organization_id != organization_id:
        raise ApplicationError(
            "person.other_organization",
            f"person {person.pk}: team {team.key} belongs to another organisation",
        )
    person.full_clean()
    person.save()
    after = person_snapshot(person)
    if after != before:
        audit_record(
            actor=actor,
            action="person.update",
            obj=person,
            at=_now(now),
            before={k: v for k, v in before.items() if before[k] != after[k]},
            after={k: v for k, v in after.items() if before[k] != after[k]},
            organization=person.team.organization,
        )
    return person


@transaction.atomic
def leave_add(
    *,
    person: Person,
    first_day: dt.date,
    end_day: dt.date,
    note: str = "",
    actor: Actor,
    now: dt.datetime | None = None,
) -> Leave:
    """Record leave ``[first_day, end_day)``; leave may not overlap the person's other leave."""
    person = Person.objects.select_for_update().select_related("team__organization").get(pk=person.pk)
    leave = Leave(person=person, first_day=first_day, end_day=end_day, note=note)
    leave.full_clean()
    overlap = person.leave.filter(first_day__lt=end_day, end_day__gt=first_day).first()
    if overlap is not None:
        raise ApplicationError(
            "leave.overlap",
            f"leave for {person.name} from {first_day} to {end_day} overlaps leave from "
            f"{overlap.first_day} to {overlap.end_day}; change or remove that one first",
            extra={"overlaps": overlap.pk},
        )
    leave.save()
    audit_record(
        actor=actor,
        action="leave.add",
        obj=leave,
        at=_now(now),
        after=_leave_snapshot(leave),
        organization=person.team.organization,
    )
    return leave


@transaction.atomic
def leave_remove(*, leave: Leave, actor: Actor, now: dt.datetime | None = None) -> None:
    """Remove recorded leave."""
    leave = Leave.objects.select_related("person__team__organization").get(pk=leave.pk)
    before = _leave_snapshot(leave)
    organization = leave.person.team.organization
    audit_record(
        actor=actor,
        action="leave.remove",
        obj=leave,
        at=_now(now),
        before=before,
        organization=organization,
    )
    leave.delete()


@transaction.atomic
def membership_grant(
    *,
    user: User,
    organization: Organization,
    role: str = Membership.Role.MEMBER,
    actor: Actor,
    now: dt.datetime | None = None,
) -> Membership:
    """Give ``user`` a place in ``organization`` with ``role`` (or change their role); audited."""
    membership = Membership.objects.select_for_update().filter(user=user, organization=organization).first()
    before = None if membership is None else {"role": membership.role}
    if membership is None:
        membership = Membership(user=user, organization=organization, role=role)
    elif membership.role == role:
        return membership
    membership.role = role
    membership.full_clean()
    membership.save()
    audit_record(
        actor=actor,
        action="membership.grant" if before is None else "membership.update",
        obj=membership,
        at=_now(now),
        before=before,
        after={"user": user.get_username(), "role": role},
        organization=organization,
    )
    return membership


@transaction.atomic
def membership_revoke(*, membership: Membership, actor: Actor, now: dt.datetime | None = None) -> None:
    """Take a user's place in an organisation away; audited."""
    audit_record(
        actor=actor,
        action="membership.revoke",
        obj=membership,
        at=_now(now),
        before={"user": membership.user.get_username(), "role": membership.role},
        organization=membership.organization,
    )
    membership.delete()
