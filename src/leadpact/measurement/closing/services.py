"""Writes of closed periods: close a period's figures, record later changes as a restatement, accept it.

A closed period never moves silently: the scorecard returns the stored figures; when a recomputation
differs (a late event, a calendar edit, a dispute decided later) the difference is shown
(:func:`~leadpact.measurement.closing.selectors.closed_view`, computed on the fly, writing nothing) and,
by an explicit action (:func:`restatement_record`: ``leadpact close_period --restate`` or the scorecard's
button), kept as a pending :class:`Restatement` until a lead of a party accepts it.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from leadpact.agreements.models import AgreementVersion
from leadpact.audit.services import Actor, audit_record
from leadpact.core.periods import Period
from leadpact.errors import ApplicationError
from leadpact.measurement.closing.models import ClosedMeasurement, ClosedPeriod, Restatement
from leadpact.measurement.closing.selectors import figure_key, figures_differences, figures_fingerprint
from leadpact.measurement.scorecard.compute import measure_fresh
from leadpact.measurement.scorecard.results import result_data
from leadpact.organization.models import Person

__all__ = [
    "period_close",
    "restatement_accept",
    "restatement_decline",
    "restatement_record",
    "restatements_record_due",
]


def _party_lead(version: AgreementVersion, person: Person, what: str) -> None:
    parties = set(version.parties.values_list("pk", flat=True))
    if not (person.is_lead and person.team_id in parties):
        raise ApplicationError(
            f"{what}.not_party_lead", f"{what}: {person.name} is not the lead of a party of this agreement"
        )


@transaction.atomic
def period_close(
    *, version: AgreementVersion, period: Period | str, actor: Person, now: dt.datetime
) -> ClosedPeriod:
    """Store every figure of ``period`` with its evidence; from now on the period keeps these numbers."""
    _party_lead(version, actor, "period close")
    name = str(period if isinstance(period, Period) else Period.parse(period))
    if ClosedPeriod.objects.filter(agreement_version=version, period=name).exists():
        raise ApplicationError(
            "period_close.closed", f"period {name} of version {version.number} is closed already"
        )
    results = measure_fresh(version=version, periods=[name], now=now)[name]
    closed = ClosedPeriod.objects.create(
        agreement_version=version, period=name, closed_at=now, closed_by=actor, measured_at=now
    )
    ClosedMeasurement.objects.bulk_create(
        ClosedMeasurement(
            closed_period=closed, commitment_key=r.commitment_key, subject=r.subject, data=result_data(r)
        )
        for r in results
    )
    audit_record(
        actor=actor.user or f"person:{actor.pk}",
        action="period.close",
        obj=closed,
        at=now,
        after={"period": name, "version": version.number, "figures": len(results)},
        organization=version.agreement.organization,
        agreement=version.agreement,
    )
    return closed


def restatement_record(
    *, version: AgreementVersion, period: Period | str, now: dt.datetime, actor: Actor = "system"
) -> Restatement | None:
    """Recompute a closed period and keep a difference as a pending restatement (the explicit action).

    ``None`` when the period is not closed or nothing differs. The same difference is one
    restatement (recording it again returns it); a new difference supersedes a pending one. A
    difference already accepted, declined or superseded is not recorded again. A new restatement is
    audited with ``actor`` (the party lead who pressed the button, or ``"system"`` for the worker).
    """
    name = str(period if isinstance(period, Period) else Period.parse(period))
    closed = ClosedPeriod.objects.filter(agreement_version=version, period=name).first()
    if closed is None:
        return None
    fresh = measure_fresh(version=version, periods=[name], now=now)[name]
    stored = {figure_key(m.data): m.data for m in closed.measurements.all()}
    new = {figure_key(d): d for d in (result_data(r) for r in fresh)}
    diff = figures_differences(stored, new)
    if not diff:
        return None
    fingerprint = figures_fingerprint(diff)
    restatement = Restatement.objects.filter(closed_period=closed, fingerprint=fingerprint).first()
    if restatement is None:
        try:
            with transaction.atomic():
                Restatement.objects.filter(closed_period=closed, status=Restatement.Status.PENDING).update(
                    status=Restatement.Status.SUPERSEDED
                )
                restatement = Restatement.objects.create(
                    closed_period=closed,
                    created_at=now,
                    measured_at=now,
                    differences=diff,
                    figures=new,
                    fingerprint=fingerprint,
                )
                audit_record(
                    actor=actor,
                    action="restatement.record",
                    obj=restatement,
                    at=now,
                    after={"period": name, "version": version.number, "differences": len(diff)},
                    organization=version.agreement.organization,
                    agreement=version.agreement,
                )
        except IntegrityError:
            restatement = Restatement.objects.get(closed_period=closed, fingerprint=fingerprint)
    return restatement if restatement.status == Restatement.Status.PENDING else None


def restatements_record_due(*, now: dt.datetime) -> list[Restatement]:
    """Record a pending restatement for every closed period whose figures moved (``leadpact worker``).

    So late data reaches a party lead without anyone opening the page: one pending restatement per
    closed period at most (the same difference is not recorded twice; a newer one supersedes it).
    """
    pending: list[Restatement] = []
    closed = ClosedPeriod.objects.select_related("agreement_version").order_by("period", "pk")
    for item in closed:
        version = item.agreement_version
        if version.status not in (AgreementVersion.Status.ACTIVE, AgreementVersion.Status.SUPERSEDED):
            continue
        restatement = restatement_record(version=version, period=item.period, now=now)
        if restatement is not None:
            pending.append(restatement)
    return pending


@transaction.atomic
def restatement_accept(*, restatement: Restatement, person: Person, now: dt.datetime) -> ClosedPeriod:
    """A party lead accepts the recomputed figures: they become the closed period's figures; audited."""
    restatement = (
        Restatement.objects.select_for_update()
        .select_related("closed_period__agreement_version__agreement__organization")
        .get(pk=restatement.pk)
    )
    closed = restatement.closed_period
    version = closed.agreement_version
    _party_lead(version, person, "restatement accept")
    if restatement.status != Restatement.Status.PENDING:
        raise ApplicationError(
            "restatement.not_pending", f"restatement {restatement.pk} is {restatement.status}, not pending"
        )
    before = {figure_key(m.data): m.data for m in closed.measurements.all()}
    closed.measurements.all().delete()
    ClosedMeasurement.objects.bulk_create(
        ClosedMeasurement(closed_period=closed, commitment_key=d["commitment"], subject=d["subject"], data=d)
        for d in restatement.figures.values()
    )
    closed.measured_at = restatement.measured_at
    closed.save(update_fields=["measured_at"])
    restatement.status = Restatement.Status.ACCEPTED
    restatement.accepted_by = person
    restatement.accepted_at = now
    restatement.save(update_fields=["status", "accepted_by", "accepted_at"])
    audit_record(
        actor=person.user or f"person:{person.pk}",
        action="restatement.accept",
        obj=restatement,
        at=now,
        before={"figures": len(before)},
        after={"differences": restatement.differences},
        organization=version.agreement.organization,
        agreement=version.agreement,
    )
    return closed


@transaction.atomic
def restatement_decline(
    *, restatement: Restatement, person: Person, note: str = "", now: dt.datetime
) -> Restatement:
    """A party lead declines the recomputed figures: the closed period keeps its stored figures, and the
    same difference is not recorded again (a new difference makes a new restatement); audited."""
    restatement = (
        Restatement.objects.select_for_update()
        .select_related("closed_period__agreement_version__agreement__organization")
        .get(pk=restatement.pk)
    )
    version = restatement.closed_period.agreement_version
    _party_lead(version, person, "restatement decline")
    if restatement.status != Restatement.Status.PENDING:
        raise ApplicationError(
            "restatement.not_pending", f"restatement {restatement.pk} is {restatement.status}, not pending"
        )
    restatement.status = Restatement.Status.DECLINED
    restatement.accepted_by = person
    restatement.accepted_at = now
    restatement.note = note.strip()
    restatement.save(update_fields=["status", "accepted_by", "accepted_at", "note"])
    audit_record(
        actor=person.user or f"person:{person.pk}",
        action="restatement.decline",
        obj=restatement,
        at=now,
        before={"status": "pending"},
        after={"status": "declined", "note": restatement.note, "differences": len(restatement.differences)},
        organization=version.agreement.organization,
        agreement=version.agreement,
    )
    return restatement
