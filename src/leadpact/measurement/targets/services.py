"""Writes: per-person target overrides, each one audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from leadpact.agreements.models import Agreement
from leadpact.audit.services import Actor, audit_record
from leadpact.core.periods import Period, PeriodError
from leadpact.errors import ApplicationError
from leadpact.measurement.targets.models import TargetOverride
from leadpact.organization.models import Membership, Person

__all__ = ["target_override_allowed", "target_override_remove", "target_override_set"]


def target_override_allowed(actor: Actor, person: Person) -> bool:
    """Whether ``actor`` may set ``person``'s target by hand: the lead of the person's team, an admin of
    the organisation, or the operator (a superuser, or a named system actor such as ``"cli"``)."""
    if isinstance(actor, str):
        return True
    if actor.is_superuser:
        return True
    organization_id = person.team.organization_id
    if Membership.objects.filter(
        user_id=actor.pk, organization_id=organization_id, role=Membership.Role.ADMIN
    ).exists():
        return True
    return (
        Person.objects.filter(user_id=actor.pk, team_id=person.team_id, role=Person.Role.LEAD).exists()
        and Membership.objects.filter(user_id=actor.pk, organization_id=organization_id)
        .exclude(role=Membership.Role.VIEWER)
        .exists()
    )


@transaction.atomic
def target_override_set(
    *,
    agreement: Agreement,
    commitment_key: str,
    period: str,
    person: Person,
    value: Decimal,
    reason: str,
    actor: Actor,
    now: dt.datetime | None = None,
) -> TargetOverride:
    """Set a person's target by hand for one commitment and period; the team shares the rest."""
    try:
        canonical = str(Period.parse(period))
    except PeriodError as error:
        raise ApplicationError("target_override.period", f"period {period!r}: {error}") from error
    if not reason.strip():
        raise ApplicationError(
            "target_override.reason", "an override needs a reason: say why, for the review"
        )
    if value < 0:
        raise ApplicationError("target_override.value", f"target {value} must not be negative")
    if person.team.organization_id != agreement.organization_id:
        raise ApplicationError("target_override.person", f"{person} is not in {agreement.organization}")
    if not target_override_allowed(actor, person):
        raise ApplicationError(
            "target_override.actor",
            f"{actor} may not set {person}'s target: only the lead of {person.team} or an admin may",
        )
    existing = TargetOverride.objects.filter(
        agreement=agreement, commitment_key=commitment_key, period=canonical, person=person
    ).first()
    before = None if existing is None else {"value": str(existing.value), "reason": existing.reason}
    override = existing or TargetOverride(
        agreement=agreement, commitment_key=commitment_key, period=canonical, person=person
    )
    override.value = value
    override.reason = reason.strip()
    override.full_clean()
    override.save()
    audit_record(
        actor=actor,
        action="target.override",
        obj=override,
        at=now or timezone.now(),
        before=before,
        after={
            "commitment": commitment_key,
            "period": canonical,
            "person": person.email,
            "value": str(value),
            "reason": override.reason,
        },
        organization=agreement.organization,
        agreement=agreement,
    )
    return override


@transaction.atomic
def target_override_remove(*, override: TargetOverride, actor: Actor, now: dt.datetime | None = None) -> None:
    """Remove an override: the person's target goes back to the capacity share."""
    if not target_override_allowed(actor, override.person):
        raise ApplicationError(
            "target_override.actor", f"{actor} may not remove {override.person}'s target set by hand"
        )
    before = {
        "commitment": override.commitment_key,
        "period": override.period,
        "person": override.person.email,
        "value": str(override.value),
        "reason": override.reason,
    }
    audit_record(
        actor=actor,
        action="target.override_remove",
        obj=override,
        at=now or timezone.now(),
        before=before,
        after=None,
        organization=override.agreement.organization,
        agreement=override.agreement,
    )
    override.delete()
