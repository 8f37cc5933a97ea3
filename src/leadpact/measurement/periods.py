"""Periods: which agreement version a period is measured against, the period asked for, and its bounds."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from leadpact.agreements.models import Agreement, AgreementVersion
from leadpact.agreements.selectors import agreement_active_version, agreement_version_at
from leadpact.core.periods import Period, PeriodError
from leadpact.organization.models import Organization

__all__ = ["VersionNotFound", "period_bounds", "period_or_this_month", "version_for_period"]


class VersionNotFound(LookupError):  # noqa: N818 - a lookup that finds nothing, said in words
    """No agreement or no version in force: the message says what to do."""


def _one(queryset: object, what: str, key: str | None, hint: str) -> object:
    items = list(queryset)  # type: ignore[call-overload]
    if key is None and len(items) == 1:
        return items[0]
    if key is None:
        names = ", ".join(getattr(i, "key", str(i)) for i in items) or "none"
        raise VersionNotFound(f"choose the {what} with {hint} (there are: {names})")
    if not items:
        raise VersionNotFound(f"no {what} {key!r}")
    return items[0]


def version_for_period(
    *, organization: str | None, agreement: str | None, period: str | None
) -> AgreementVersion:
    """The version in force at the start of ``period`` (or now), else the active one."""
    orgs = Organization.objects.filter(key=organization) if organization else Organization.objects.all()
    org = _one(orgs, "organisation", organization, "--organization")
    assert isinstance(org, Organization)
    agreements = Agreement.objects.filter(organization=org)
    if agreement:
        agreements = agreements.filter(key=agreement)
    chosen = _one(agreements, "agreement", agreement, "--agreement")
    assert isinstance(chosen, Agreement)
    instant = timezone.now()
    if period:
        try:
            start = Period.parse(period).start
        except PeriodError:
            start = None
        if start is not None:
            instant = dt.datetime.combine(start, dt.time(), tzinfo=ZoneInfo(org.timezone))
    version = agreement_version_at(agreement=chosen, instant=instant) or agreement_active_version(chosen)
    if version is None:
        raise VersionNotFound(
            f"agreement {chosen.key!r} has no version in force: sign and activate one "
            "(leadpact agreement propose/sign/activate)"
        )
    return version


def period_or_this_month(text: str | None, version: AgreementVersion) -> Period:
    """The period ``text`` names (``2026-10``, ``2026-Q4``, ``2026-W41``…), or this month in the
    organisation's time zone; raises :class:`PeriodError` for text that names no period."""
    if text:
        return Period.parse(text)
    today = timezone.now().astimezone(ZoneInfo(version.agreement.organization.timezone)).date()
    return Period.containing("month", today)


def period_bounds(period: Period, tz: str) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)`` of a period as aware instants at local midnight of ``tz``."""
    zone = ZoneInfo(tz)
    return (
        dt.datetime.combine(period.start, dt.time(), tzinfo=zone),
        dt.datetime.combine(period.end, dt.time(), tzinfo=zone),
    )
