"""The accountability map: per person, the commitments they own and the ones their work depends on.

Owned: the commitments of their team (with their own target where it splits). Depends on: the
commitments the other parties owe to their team — for a team that is not a party itself (sales
development works the sales side), those owed to the party on its side. The lead flow says who feeds
whom: marketer X's leads are worked by rep Y (pairs of marketing owner → sales owner over the leads
handed over in the period). Everyone in post is on the map, party or not; people leave it on their end
date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from leadpact.agreements.models import AgreementVersion
from leadpact.core.periods import Period
from leadpact.leads.models import Lead, LeadEvent
from leadpact.measurement.periods import period_bounds
from leadpact.measurement.subjects import team_side
from leadpact.measurement.targets.selectors import commitment_targets
from leadpact.organization.models import Person, Team

__all__ = [
    "AccountabilityMap",
    "Flow",
    "Owed",
    "accountability_map",
    "accountability_people",
    "accountability_person_find",
]


@dataclass(frozen=True, slots=True)
class Owed:
    """A commitment with the team that owes it, the team it serves, and this person's target."""

    key: str
    title: str
    kind: str
    owner: Team
    beneficiary: Team
    unit: str
    target: object


@dataclass(frozen=True, slots=True)
class Flow:
    """Leads handed over in the period that went from one person to another."""

    person: Person | None
    leads: int


@dataclass(frozen=True, slots=True)
class AccountabilityMap:
    """What one person owns and depends on in a period."""

    person: Person
    period: Period
    owns: tuple[Owed, ...]
    depends_on: tuple[Owed, ...]
    feeds: tuple[Flow, ...]  # whose clocks this person's leads start
    fed_by: tuple[Flow, ...]  # whose leads start this person's clocks


def _on(version: AgreementVersion, on: dt.date | None) -> dt.date:
    if on is not None:
        return on
    return timezone.now().astimezone(ZoneInfo(version.agreement.organization.timezone)).date()


def _on_the_map(version: AgreementVersion, on: dt.date | None) -> QuerySet[Person]:
    """Everyone of the agreement's organisation who has not left by ``on`` (today in its time zone)."""
    return Person.objects.filter(team__organization=version.agreement.organization).filter(
        Q(end_date__isnull=True) | Q(end_date__gt=_on(version, on))
    )


def accountability_people(*, version: AgreementVersion, on: dt.date | None = None) -> list[Person]:
    """The people on the map on ``on`` (default today), by team and name: every team of the agreement's
    organisation — the parties and the teams that work a side of them, such as sales development — less
    the people whose end date has come."""
    return list(_on_the_map(version, on).select_related("team").order_by("team__key", "name", "pk"))


def accountability_person_find(
    *, version: AgreementVersion, pk: int, on: dt.date | None = None
) -> Person | None:
    """The person ``pk`` if they are on the map on ``on`` (default today), else ``None``."""
    return _on_the_map(version, on).select_related("team").filter(pk=pk).first()


def _flows(
    version: AgreementVersion, period: Period, person: Person, mine: str, other: str
) -> tuple[Flow, ...]:
    start, end = period_bounds(period, version.agreement.organization.timezone)
    handed = LeadEvent.objects.filter(
        organization=version.agreement.organization,
        kind="handed_over",
        occurred_at__gte=start,
        occurred_at__lt=end,
    ).values("lead_id")
    rows = (
        Lead.objects.filter(Q(**{mine: person}), pk__in=handed)
        .values(other)
        .annotate(n=Count("id"))
        .order_by("-n", other)
    )
    people = Person.objects.in_bulk([r[other] for r in rows if r[other] is not None])
    return tuple(Flow(people.get(r[other]) if r[other] is not None else None, int(r["n"])) for r in rows)


def accountability_map(
    *, person: Person, version: AgreementVersion, period: Period, now: dt.datetime | None = None
) -> AccountabilityMap:
    """The commitments ``person`` owns (with targets) and depends on, and the lead flow in ``period``."""
    owns: list[Owed] = []
    depends: list[Owed] = []
    parties = {t.pk: t for t in version.parties.all()}
    teams = {t.key: t for t in Team.objects.filter(organization=version.agreement.organization)}
    # a team that is no party works the side of the parties of its kind of side (SDR: sales')
    served = (
        {person.team_id}
        if person.team_id in parties
        else {pk for pk, t in parties.items() if team_side(t) == team_side(person.team)}
    )
    for ct in commitment_targets(version=version, period=period):
        c = ct.commitment
        beneficiary = teams.get(c.beneficiary)
        if beneficiary is None:
            continue
        mine = next((p.value for p in ct.people if p.person.pk == person.pk), ct.value)
        item = Owed(c.key, c.title, c.kind, ct.team, beneficiary, ct.unit, mine)
        if ct.team.pk == person.team_id:
            owns.append(item)
        elif beneficiary.pk in served:
            depends.append(item)
    feeds: tuple[Flow, ...] = ()
    fed_by: tuple[Flow, ...] = ()
    if team_side(person.team) == "marketing":
        feeds, fed_by = _flows(version, period, person, "marketing_owner", "sales_owner_id"), ()
    else:
        feeds, fed_by = (), _flows(version, period, person, "sales_owner", "marketing_owner_id")
    return AccountabilityMap(person, period, tuple(owns), tuple(depends), feeds, fed_by)
