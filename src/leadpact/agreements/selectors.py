"""Reads for agreements: which version is in force when, the latest version, pending signatures."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.db.models import Q, QuerySet

from leadpact.agreements.models import Agreement, AgreementVersion, Commitment, DefinitionVersion
from leadpact.organization.models import Organization, Team

__all__ = [
    "agreement_active_version",
    "agreement_definitions_at",
    "agreement_get",
    "agreement_latest_version",
    "agreement_version_at",
    "agreement_version_get",
    "agreement_versions",
    "version_commitments",
    "version_definitions",
    "version_effective_start",
    "version_effective_until",
    "version_parties_pending",
]

Status = AgreementVersion.Status


def _midnight(day: dt.date, organization: Organization) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=zoneinfo.ZoneInfo(organization.timezone))


def version_effective_start(version: AgreementVersion) -> dt.datetime:
    """Midnight at the start of ``effective_from`` in the organisation's time zone."""
    return _midnight(version.effective_from, version.agreement.organization)


def version_effective_until(version: AgreementVersion) -> dt.datetime | None:
    """Midnight at the start of ``effective_until`` (exclusive), or None when open-ended."""
    if version.effective_until is None:
        return None
    return _midnight(version.effective_until, version.agreement.organization)


def agreement_get(*, organization: Organization, key: str) -> Agreement:
    """The organisation's agreement with this key (``Agreement.DoesNotExist`` if none)."""
    return Agreement.objects.get(organization=organization, key=key)


def agreement_versions(agreement: Agreement) -> QuerySet[AgreementVersion]:
    """All versions, newest first."""
    return agreement.versions.order_by("-number")


def agreement_version_get(*, agreement: Agreement, number: int) -> AgreementVersion:
    """Version ``number`` of the agreement."""
    return agreement.versions.select_related("agreement__organization").get(number=number)


def agreement_latest_version(agreement: Agreement) -> AgreementVersion | None:
    """The highest-numbered version, whatever its status."""
    return agreement.versions.order_by("-number").first()


def agreement_active_version(agreement: Agreement) -> AgreementVersion | None:
    """The version with status ``active`` (at most one, by a database constraint)."""
    return agreement.versions.filter(status=Status.ACTIVE).first()


def agreement_version_at(*, agreement: Agreement, instant: dt.datetime) -> AgreementVersion | None:
    """The version in force at ``instant``: activated at or before it, not superseded or ended by then.

    In force is half-open: ``[activated_at, superseded_at)``, and never at or after ``effective_until``.
    """
    if instant.tzinfo is None:
        raise ValueError("agreement_version_at: instant must be an aware datetime")
    version = (
        agreement.versions.select_related("agreement__organization")
        .filter(status__in=[Status.ACTIVE, Status.SUPERSEDED], activated_at__lte=instant)
        .filter(Q(superseded_at__isnull=True) | Q(superseded_at__gt=instant))
        .order_by("-activated_at")
        .first()
    )
    if version is None:
        return None
    until = version_effective_until(version)
    if until is not None and instant >= until:
        return None
    return version


def version_parties_pending(version: AgreementVersion) -> QuerySet[Team]:
    """The parties whose lead has not signed the version yet."""
    return version.parties.exclude(pk__in=version.signatures.values("party")).order_by("key")


def version_definitions(version: AgreementVersion) -> QuerySet[DefinitionVersion]:
    """The exact definition versions the agreement version contains."""
    return version.definitions.order_by("key")


def version_commitments(version: AgreementVersion) -> QuerySet[Commitment]:
    """The version's commitments with their owner, beneficiary and covered definition."""
    return version.commitments.select_related("owner", "beneficiary", "covers").order_by("key")


def agreement_definitions_at(*, agreement: Agreement, instant: dt.datetime) -> dict[str, DefinitionVersion]:
    """Definition key → the exact definition version in force at ``instant`` (empty if none is)."""
    version = agreement_version_at(agreement=agreement, instant=instant)
    return {} if version is None else {d.key: d for d in version_definitions(version)}
