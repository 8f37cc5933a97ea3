"""Frozen periods: close a period's figures, show later changes as a restatement, accept it.

A closed period never moves silently: :func:`measure` returns the stored figures; when a
recomputation differs (a late event, a calendar edit, a dispute decided later) a pending
:class:`Restatement` holds the difference until a lead of a party accepts it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.db import IntegrityError, transaction

from leadpact.agreements.models import AgreementVersion
from leadpact.audit.services import audit_record
from leadpact.core.periods import Period
from leadpact.errors import ApplicationError
from leadpact.measurement.measure import MeasureResult, measure_periods, result_data, result_from_data
from leadpact.measurement.models import ClosedMeasurement, ClosedPeriod, Restatement
from leadpact.organization.models import Person

__all__ = ["closed_results", "period_close", "restatement_accept"]

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


def closed_results(
    *,
    version: AgreementVersion,
    period: Period,
    fresh: list[MeasureResult],
    now: dt.datetime,
    narrowed: bool = False,
) -> list[MeasureResult]:
    """The stored figures of a closed period (``fresh`` when open), with a restatement if they differ."""
    closed = ClosedPeriod.objects.filter(agreement_version=version, period=str(period)).first()
    if closed is None:
        return fresh
    stored = {_key(m.data): m.data for m in closed.measurements.all()}
    new = {_key(d): d for d in (result_data(r) for r in fresh)}
    if narrowed:
        # one team or person: the stored figures of those subjects, and the restatement a full
        # measurement left pending (a part is never compared on its own)
        pending = closed.restatements.filter(status=Restatement.Status.PENDING).order_by("-id").first()
        rid = None if pending is None else pending.pk
        return [
            result_from_data(stored[k], closed=True, restatement_id=rid) for k in sorted(new) if k in stored
        ]
    diff = _differences(stored, new)
    restatement: Restatement | None = None
    if diff:
        fingerprint = hashlib.sha256(json.dumps(diff, sort_keys=True, default=str).encode()).hexdigest()
        restatement = Restatement.objects.filter(closed_period=closed, fingerprint=fingerprint).first()
        if restatement is None:
            try:
                with transaction.atomic():
                    Restatement.objects.filter(
                        closed_period=closed, status=Restatement.Status.PENDING
                    ).update(status=Restatement.Status.SUPERSEDED)
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
        if restatement.status != Restatement.Status.PENDING:
            restatement = None
    rid = None if restatement is None else restatement.pk
    return [result_from_data(d, closed=True, restatement_id=rid) for _, d in sorted(stored.items())]


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
