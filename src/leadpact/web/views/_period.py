"""The agreement version and period a page shows: from the query (``?period=…&agreement=…``), within the
current organisation only, with messages in words (never a command-line flag)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from leadpact.agreements.models import Agreement, AgreementVersion
from leadpact.core.periods import Period, PeriodError
from leadpact.measurement.periods import VersionNotFound, period_or_this_month, version_for_period
from leadpact.web.access import AppRequest

__all__ = ["Shown", "shown_version_period"]


@dataclass(frozen=True, slots=True)
class Shown:
    version: AgreementVersion
    period: Period


def shown_version_period(request: AppRequest, context: dict[str, Any]) -> Shown | int:
    """The version and period asked for, or the HTTP status of the message put in ``context["error"]``.

    Fills ``context`` with what the period navigation needs.
    """
    organization = request.access.organization
    wanted = (request.GET.get("period") or "").strip() or None
    context["period_text"] = wanted or ""
    agreements = list(Agreement.objects.filter(organization=organization).order_by("key"))
    if not agreements:
        context["error"] = _("This organisation has no agreement yet.")
        context["empty"] = True
        return 200
    key = (request.GET.get("agreement") or "").strip()
    if key and not any(a.key == key for a in agreements):
        context["error"] = _("This organisation has no agreement %(key)s.") % {"key": key}
        return 404
    if not key:
        key = next(
            (a.key for a in agreements if a.versions.filter(status="active").exists()), agreements[0].key
        )
    context["agreements"] = agreements
    try:
        version = version_for_period(organization=organization.key, agreement=key, period=wanted)
    except VersionNotFound:
        context["error"] = _(
            "No version of this agreement is in force yet: both parties' leads sign it, then it is activated."
        )
        context["empty"] = True
        return 200
    try:
        period = period_or_this_month(wanted, version)
    except PeriodError as error:
        context["error"] = _("Period: %(reason)s") % {"reason": error}
        return 400
    context.update(
        version=version,
        period=period,
        period_text=str(period),
        previous=period.previous(),
        next=period.next(),
    )
    return Shown(version, period)
