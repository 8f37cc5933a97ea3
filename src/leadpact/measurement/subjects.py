"""Subjects: who a measurement is about — a team, each of its people — and which side of a lead they own."""

from __future__ import annotations

from typing import Literal

from django.db.models import Prefetch, Q

from leadpact.core.periods import Period
from leadpact.organization.models import Leave, Person, Team

__all__ = ["people_in", "team_side"]


def team_side(team: Team) -> Literal["marketing", "sales"]:
    """Which owner of a lead a team's people are: marketing's or sales' (SDR and others)."""
    return "marketing" if team.kind == Team.Kind.MARKETING else "sales"


def people_in(team: Team, period: Period) -> list[Person]:
    """The team's people in post during some of ``period`` (by name), their leave prefetched in order."""
    return list(
        Person.objects.filter(team=team, start_date__lt=period.end)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=period.start))
        .prefetch_related(Prefetch("leave", queryset=Leave.objects.order_by("first_day")))
        .order_by("name", "pk")
    )
