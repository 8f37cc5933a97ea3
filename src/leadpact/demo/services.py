"""The demo organisation, loaded by ``leadpact demo`` (and so by ``leadpact start``): teams, people with
leave, and the template agreement signed by both leads and active from 1 January 2026.

Everything goes through the same services a person's actions do (so the audit trail is real), and
loading twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from leadpact.agreements.models import AgreementVersion, Status
from leadpact.agreements.services import (
    agreement_import,
    agreement_version_activate,
    agreement_version_propose,
    agreement_version_sign,
)
from leadpact.core.agreement import agreement_template
from leadpact.demo import demo_organisation
from leadpact.organization.models import Membership, Organization, Person, Team
from leadpact.organization.services import (
    leave_add,
    membership_grant,
    organization_create,
    person_create,
    team_create,
)

__all__ = ["demo_load", "demo_reset"]

ACTOR = "demo"
# The demo agreement was proposed and signed in December 2025, so it is in force from 1 January 2026.
SIGNED_AT = dt.datetime(2025, 12, 15, 10, 30, tzinfo=dt.UTC)
#: the tables a load of leads fills (their statistics are refreshed after it)
LEAD_TABLES = ("leads_lead", "leads_leadsource", "leads_leadevent", "leads_leadstate", "leads_handoffcheck")
KINDS = {"marketing": Team.Kind.MARKETING, "sales": Team.Kind.SALES, "sdr": Team.Kind.SDR}


def _date(value: Any, years: int = 0) -> dt.date:
    """A date of organisation.yaml, moved by whole ``years`` (29 February becomes the 28th)."""
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    if not years:
        return day
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _user_for(person: dict[str, Any]) -> Any:
    """Leads sign the agreement, so they have a login (no usable password until an admin sets one)."""
    user_model = get_user_model()
    username = str(person["email"]).split("@")[0]
    user, created = user_model.objects.get_or_create(
        username=username, defaults={"email": person["email"], "first_name": person["name"]}
    )
    if created:
        user.set_unusable_password()
        user.save()
    return user


@transaction.atomic
def _organisation(years: int = 0) -> tuple[Organization, int]:
    """The organisation, its teams and people; their dates moved by ``years`` (the demo moves with today)."""
    data = demo_organisation()
    info = data["organisation"]
    org = Organization.objects.filter(key=info["slug"]).first()
    if org is None:
        org = organization_create(key=info["slug"], name=info["name"], actor=ACTOR)
    made = 0
    for team_data in data["teams"]:
        team = Team.objects.filter(organization=org, key=team_data["key"]).first()
        if team is None:
            team = team_create(
                organization=org,
                key=team_data["key"],
                name=team_data["name"],
                kind=KINDS.get(team_data["key"], Team.Kind.OTHER),
                calendar=team_data["calendar"],
                actor=ACTOR,
            )
        for p in team_data["people"]:
            if Person.objects.filter(team=team, email=p["email"]).exists():
                continue
            user = _user_for(p) if p.get("role") == "lead" else None
            if user is not None:
                membership_grant(user=user, organization=org, role=Membership.Role.MEMBER, actor=ACTOR)
            person = person_create(
                team=team,
                name=p["name"],
                email=p["email"],
                role=p.get("role", "member"),
                fte=Decimal(str(p.get("fte", 1))),
                start_date=_date(p["start"], years),
                end_date=_date(p["end"], years) if p.get("end") else None,
                hours=p.get("hours"),
                user=user,
                actor=ACTOR,
            )
            for first, end in p.get("leave") or []:
                leave_add(
                    person=person, first_day=_date(first, years), end_day=_date(end, years), actor=ACTOR
                )
            made += 1
    return org, made


@transaction.atomic
def _agreement(org: Organization) -> AgreementVersion:
    """Version 1: the template, signed in December 2025 and in force from 1 January 2026."""
    version = AgreementVersion.objects.filter(
        agreement__organization=org, number=1
    ).first() or agreement_import(organization=org, yaml_text=agreement_template("en"), actor=ACTOR)
    if version.status == Status.DRAFT:
        version = agreement_version_propose(version=version, actor=ACTOR, now=SIGNED_AT)
    if version.status == Status.PROPOSED:
        for team in version.parties.all():
            lead = Person.objects.filter(team=team, role=Person.Role.LEAD).order_by("pk").first()
            if lead is None or lead.user is None:
                raise RuntimeError(f"demo: party {team.key} has no lead with a login to sign")
            agreement_version_sign(
                version=version,
                signer=lead,
                actor=lead.user,
                content_hash=version.content_hash,
                now=SIGNED_AT,
            )
        version.refresh_from_db()
    if version.status == Status.SIGNED:
        version = agreement_version_activate(version=version, now=timezone.now(), actor=ACTOR)
    return version


def _analyze(*tables: str) -> None:
    """PostgreSQL: refresh the planner's statistics of the tables a bulk load filled. Without them (a
    server whose autovacuum has not come round yet, or is off) it takes a million-row table for a few
    rows: the API's newest leads were a scan and sort of every lead (0.4 s at 100,000 leads)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(connection.ops.quote_name(t) for t in tables)}")


def demo_load(
    *,
    with_leads: bool = True,
    now: dt.datetime | None = None,
    leads: int | None = None,
    progress: Callable[[int], None] | None = None,
    stage: Callable[[str], None] | None = None,
) -> str:
    """Load the demo data idempotently and return a one-line summary.

    ``with_leads`` adds the year of lead traffic up to ``now`` (about 13,000 leads; ``leads`` scales it
    to about that many, ``progress`` is told of each stored batch, ``stage`` of each part after the leads
    begins: ``history``, ``clocks``, ``reviews``), the history (an earlier and a proposed agreement
    version, disputes, closed months, a restatement, the review series with their held reviews and the
    next one, two imports of a HubSpot file, the mail the worker sent — in the outbox), the clocks, and a
    login for every role (:mod:`leadpact.demo.logins`: a password hash each). Tests that only need the
    organisation and its agreement in force leave it out: that part takes about a second.
    """
    from leadpact.demo._history import demo_history_load, demo_versions_load
    from leadpact.demo._imports import demo_imports_load
    from leadpact.demo._leads import demo_leads_load, demo_year_shift
    from leadpact.demo._outbox import demo_mail_load
    from leadpact.demo.logins import demo_logins_ensure
    from leadpact.demo.reviews import demo_reviews_load
    from leadpact.leads.models import Lead
    from leadpact.measurement.clocks.services import clocks_update

    now = now or timezone.now()
    org, made = _organisation(demo_year_shift(now))
    version = _agreement(org)
    new_leads = 0
    if with_leads:
        demo_logins_ensure(organization=org, actor=ACTOR)
        demo_versions_load(org, version, now=now)
        new_leads = demo_leads_load(org, now=now, leads=leads, progress=progress)
        announce = stage or (lambda part: None)
        if new_leads:
            _analyze(*LEAD_TABLES)
        announce("history")
        demo_history_load(org, now=now)
        announce("clocks")
        clocks_update(now=now, organization=org)
        if new_leads:
            _analyze("measurement_leadclock")
        announce("reviews")
        demo_reviews_load(org, now=now)
        new_leads += demo_imports_load(org, now=now)
        demo_mail_load(org, now=now)
        version = AgreementVersion.objects.get(agreement__organization=org, status=Status.ACTIVE)
    people = Person.objects.filter(team__organization=org).count()
    leads_count = Lead.objects.filter(organization=org).count()
    return (
        f"demo: {org.name}: {org.teams.count()} teams, {people} people ({made} new); "
        f"agreement {version.agreement.key} v{version.number} {version.status}; "
        f"{leads_count} leads ({new_leads} new)"
    )


def demo_reset() -> None:
    """Empty the database for a fresh demo: refused when it holds an organisation besides the demo's."""
    from django.core.management import call_command

    from leadpact.errors import ApplicationError

    slug = demo_organisation()["organisation"]["slug"]
    others = Organization.objects.exclude(key=slug).values_list("key", flat=True)
    if others:
        raise ApplicationError(
            "demo.reset_refused",
            f"demo --reset empties the whole database, and it holds other organisations too "
            f"({', '.join(others)}); use a data folder of its own for the demo (LEADPACT_DATA_DIR)",
        )
    call_command("flush", interactive=False, verbosity=0)
