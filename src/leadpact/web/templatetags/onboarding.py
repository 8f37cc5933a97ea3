"""``{% setup_hints %}``: what an organisation still lacks before its scorecard shows figures, with where
to do it (the scorecard's empty states)."""

from __future__ import annotations

from typing import Any

from django import template

from leadpact.agreements.models import AgreementVersion
from leadpact.leads.models import Lead
from leadpact.organization.models import Person
from leadpact.web.access import current_access

register = template.Library()


@register.inclusion_tag("leadpact/onboarding/_hints.html", takes_context=True)
def setup_hints(context: Any) -> dict[str, Any]:
    request = context.get("request")
    access = current_access(request) if request is not None else None
    if access is None:
        return {"show": False}
    organization = access.organization
    versions = AgreementVersion.objects.filter(agreement__organization=organization)
    teams = organization.teams.count()
    people = Person.objects.filter(team__organization=organization).count()
    active = versions.filter(status="active").exists()
    open_version = versions.filter(status__in=["draft", "proposed", "signed"]).order_by("-number").first()
    leads = Lead.objects.filter(organization=organization).exists()
    return {
        "show": not (teams >= 2 and people and active and leads),
        "teams": teams,
        "people": people,
        "active": active,
        "open_version": open_version,
        "leads": leads,
        "can_setup": access.allows("organization.manage"),
        "can_edit": access.allows("agreement.edit"),
    }
