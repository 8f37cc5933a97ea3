"""Frozen periods: close a period's figures, show later changes as a restatement, accept it.

A closed period never moves silently: :func:`measure` returns the stored figures; when a
recomputation differs (a late event, a calendar edit, a dispute decided later) the difference is
shown (:func:`closed_view`, computed on the fly, writing nothing) and, by an explicit action
(:func:`restatement_record`: ``leadpact close_period --restate`` or the scorecard's button), kept as a
pending :class:`Restatement` until a lead of a party accepts it. Reading a page never writes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from leadpact.agreements.models import AgreementVersion
from leadpact.audit.services import audit_record
from leadpact.core.periods import Period
from leadpact.errors import ApplicationError
from leadpact.measurement.measure import MeasureResult, measure_periods, result_data, result_from_data
from leadpact.measurement.models import ClosedMeasurement, ClosedPeriod, Restatement
from leadpact.organization.models import Person

__all__ = [
    "ClosedView",
    "closed_results",
    "closed_view",
    "period_close",
    "restatement_accept",
    "restatement_record",
]

_COMPARED = ("actual", "target", "status", "sample_size", "evidence")


def _key(data: dict[str, Any]) -> str:
    return f"{data['commitment']}|{data['subject']}"


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
    results = measure_periods(version=version, periods=[name], now=now, closed="recompute")[name]
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


def _differences(stored: dict[str, dict[str, Any]], fresh: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for key in sorted(set(stored) | set(fresh)):
        old, new = stored.get(key), fresh.get(key)
        commitment, _, subject = key.partition("|")
        for name in _COMPARED:
            a = None if old is None else old.get(name)
            b = None if new is None else new.get(name)
            if name == "evidence":
                a = sorted((a or {}).get("counted", []))
                b = sorted((b or {}).get("counted", []))
            if a != b:
                out.append(
                    {
                        "commitment": commitment,
                        "subject": subject,
                        "field": name,
                        "stored": a,
                        "recomputed": b,
                    }
                )
    return out


def _fingerprint(diff: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(diff, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ClosedView:
    """What a page shows of a period: its figures and, when closed, how a recomputation differs.

    ``results`` are the stored figures of a closed period (``fresh`` of an open one);
    ``differences`` (commitment, subject, field, stored, recomputed) are computed now and never
    stored by reading; ``restatement`` is the pending restatement that records exactly these
    differences, if one was recorded (``None``: the difference is not recorded yet).
    """

    results: list[MeasureResult]
    closed: bool = False
    differences: list[dict[str, Any]] = field(default_factory=list)
    restatement: Restatement | None = None


def closed_view(
    *,
    version: AgreementVersion,
    period: Period,
    fresh: list[MeasureResult],
    narrowed: bool = False,
) -> ClosedView:
    """The figures to show for ``period``; reads only.

    A narrowed measurement (one team or person) shows the stored figures of those subjects and the
    latest pending restatement (a part is never compared on its own).
    """
    closed = ClosedPeriod.objects.filter(agreement_version=version, period=str(period)).first()
    if closed is None:
        return ClosedView(fresh)
    stored = {_key(m.data): m.data for m in closed.measurements.all()}
    new = {_key(d): d for d in (result_data(r) for r in fresh)}
    pending = closed.restatements.filter(status=Restatement.Status.PENDING)
    if narrowed:
        restatement = pending.order_by("-id").first()
        rid = None if restatement is None else restatement.pk
        results = [
            result_from_data(stored[k], closed=True, restatement_id=rid) for k in sorted(new) if k in stored
        ]
        return ClosedView(results, closed=True, restatement=restatement)
    diff = _differences(stored, new)
    restatement = pending.filter(fingerprint=_fingerprint(diff)).first() if diff else None
    rid = None if restatement is None else restatement.pk
    results = [result_from_data(d, closed=True, restatement_id=rid) for _, d in sorted(stored.items())]
    return ClosedView(results, closed=True, differences=diff, restatement=restatement)


def closed_results(
    *,
    version: AgreementVersion,
    period: Period,
    fresh: list[MeasureResult],
    now: dt.datetime,
    narrowed: bool = False,
) -> list[MeasureResult]:
    """The stored figures of a closed period (``fresh`` when open); reads only (see :func:`closed_view`)."""
    return closed_view(version=version, period=period, fresh=fresh, narrowed=narrowed).results


def restatement_record(
    *, version: AgreementVersion, period: Period | str, now: dt.datetime
) -> Restatement | None:
    """Recompute a closed period and keep a difference as a pending restatement (the explicit action).

    ``None`` when the period is not closed or nothing differs. The same difference is one
    restatement (recording it again returns it); a new difference supersedes a pending one. A
    difference already accepted or superseded is not recorded again.
    """
    name = str(period if isinstance(period, Period) else Period.parse(period))
    closed = ClosedPeriod.objects.filter(agreement_version=version, period=name).first()
    if closed is None:
        return None
    fresh = measure_periods(version=version, periods=[name], now=now, closed="recompute")[name]
    stored = {_key(m.data): m.data for m in closed.measurements.all()}
    new = {_key(d): d for d in (result_data(r) for r in fresh)}
    diff = _differences(stored, new)
    if not diff:
        return None
    fingerprint = _fingerprint(diff)
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
    before = {_key(m.data): m.data for m in closed.measurements.all()}
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
