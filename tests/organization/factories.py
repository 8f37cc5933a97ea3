"""Small builders for organisation rows, through the services (so every row is audited like in use)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model

from leadpact.organization.models import Organization, Person, Team
from leadpact.organization.services import organization_create, person_create, team_create

NOW = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)
CALENDAR: dict[str, Any] = {
    "timezone": "Europe/Amsterdam",
    "hours": {"mon-fri": ["09:00-17:00"]},
    "holidays": {"country": "NL"},
}


def make_organization(key: str = "acme") -> Organization:
    return organization_create(key=key, name=key.title(), actor="test", now=NOW)


def make_team(organization: Organization, key: str, kind: str | None = None) -> Team:
    return team_create(
        organization=organization,
        key=key,
        name=key.title(),
        kind=kind or (key if key in Team.Kind.values else Team.Kind.OTHER),
        calendar=CALENDAR,
        actor="test",
        now=NOW,
    )


def make_user(username: str) -> Any:
    return get_user_model().objects.create_user(username=username, password=None)  # no hashing: fast


def make_person(
    team: Team,
    name: str,
    *,
    role: str = Person.Role.MEMBER,
    with_user: bool = False,
    fte: Decimal = Decimal("1.00"),
    start_date: dt.date = dt.date(2025, 1, 1),
    hours: dict[str, Any] | None = None,
) -> Person:
    email = f"{name.lower().replace(' ', '.')}@{team.organization.key}.example"
    return person_create(
        team=team,
        name=name,
        email=email,
        role=role,
        fte=fte,
        start_date=start_date,
        hours=hours,
        user=make_user(email) if with_user else None,
        actor="test",
        now=NOW,
    )
