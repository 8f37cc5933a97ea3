"""Invite a person: a person in a team (or the one there is with that address), a login for them and
their place in the organisation, in one audited transaction. The e-mail with the set-password link is
the web layer's (``leadpact.web.invitations``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from leadpact.audit.services import Actor, audit_record
from leadpact.errors import ApplicationError
from leadpact.organization.models import Membership, Person, Team
from leadpact.organization.services import membership_grant, person_create, person_update

__all__ = ["person_invite"]


@transaction.atomic
def person_invite(
    *,
    team: Team,
    name: str,
    email: str,
    role: str = Person.Role.MEMBER,
    access: str = Membership.Role.MEMBER,
    fte: Decimal = Decimal("1.00"),
    start_date: dt.date,
    actor: Actor,
    now: dt.datetime | None = None,
) -> tuple[Person, User]:
    """Give ``email`` a login in ``team``'s organisation; returns the person and the user.

    The person with that address in the organisation is used when there is one (else one is added to
    ``team``); the user with that address too (else one is made, without a password: the invitation's
    link sets it). Refused: a person with that address who has another login already.
    """
    moment = timezone.now() if now is None else now
    organization = team.organization
    address = email.strip().lower()
    if not address:
        raise ApplicationError("invite.email", "invite: the e-mail address is empty")
    users = get_user_model().objects
    user = (
        users.filter(email__iexact=address).order_by("pk").first() or users.filter(username=address).first()
    )
    person = Person.objects.filter(team__organization=organization, email__iexact=address).first()
    if person is not None and person.user_id is not None and (user is None or person.user_id != user.pk):
        raise ApplicationError(
            "invite.taken", f"invite {address}: {person.name} has a login already ({person.user})"
        )
    others = Person.objects.filter(user=user) if user is not None else Person.objects.none()
    if person is not None:
        others = others.exclude(pk=person.pk)
    if others.exists():
        raise ApplicationError(
            "invite.user_taken", f"invite {address}: that login belongs to another person already"
        )
    created = user is None
    if user is None:
        user = users.create_user(username=address, email=address, first_name=name.strip()[:150])
        user.set_unusable_password()
        user.save()
    if person is None:
        person = person_create(
            team=team,
            name=name.strip(),
            email=address,
            role=role,
            fte=fte,
            start_date=start_date,
            user=user,
            actor=actor,
            now=moment,
        )
    else:
        person = person_update(person=person, user=user, actor=actor, now=moment)
    membership_grant(user=user, organization=organization, role=access, actor=actor, now=moment)
    audit_record(
        actor=actor,
        action="person.invite",
        obj=person,
        at=moment,
        after={"email": address, "team": team.key, "access": access, "new_login": created},
        organization=organization,
    )
    return person, user
