"""The team page: the people of the organisation's teams (FTE, dates, leave, whether they have a login)
and, for an admin or a team's lead, inviting a person by e-mail."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leadpact.audit.services import actor_from_request
from leadpact.errors import ApplicationError
from leadpact.organization.invitations import person_invite
from leadpact.organization.models import Leave, Membership, Person, Team
from leadpact.web.access import AppRequest, page, require
from leadpact.web.invitations import invitation_send
from leadpact.web.work_forms import InviteForm

__all__ = ["team_invite", "team_page"]


def _manageable(request: AppRequest) -> Any:
    teams = Team.objects.filter(organization=request.access.organization).order_by("name")
    if request.access.is_admin:
        return teams
    return teams.filter(pk__in=[t for t in request.access.led_team_ids if request.access.leads_team(t)])


def _render(request: AppRequest, form: InviteForm | None = None, status: int = 200) -> HttpResponse:
    organization = request.access.organization
    today = timezone.localdate()
    teams = (
        Team.objects.filter(organization=organization)
        .order_by("name")
        .prefetch_related(
            Prefetch(
                "people",
                queryset=Person.objects.select_related("user")
                .prefetch_related(
                    Prefetch("leave", queryset=Leave.objects.filter(end_day__gt=today).order_by("first_day"))
                )
                .order_by("-role", "name"),
            )
        )
    )
    manageable = _manageable(request)
    if form is None and manageable.exists():
        only = list(manageable[:2])
        initial: dict[str, Any] = {"start_date": today, "language": request.LANGUAGE_CODE[:2]}
        if len(only) == 1:  # a team lead invites into their own team
            initial["team"] = only[0].pk
        form = InviteForm(teams=manageable, initial=initial)
    return render(
        request,
        "leadpact/team.html",
        {"teams": teams, "form": form, "today": today},
        status=status,
    )


@page()
def team_page(request: AppRequest) -> HttpResponse:
    return _render(request)


@page("team.manage")
@require_POST
def team_invite(request: AppRequest) -> HttpResponse:
    """Invite a person: a login and a place in the organisation, and an e-mail with a set-password link."""
    # any team of the organisation validates; whether this user may manage it is the matrix's (403)
    form = InviteForm(request.POST, teams=Team.objects.filter(organization=request.access.organization))
    if not form.is_valid():
        return _render(request, form, status=400)
    team = form.cleaned_data["team"]
    require(request, "team.manage", team=team)
    if form.cleaned_data["access"] == Membership.Role.ADMIN and not request.access.is_admin:
        form.add_error("access", _("Only an organisation admin can make someone an admin."))
        return _render(request, form, status=400)
    try:
        with transaction.atomic():
            person, user = person_invite(
                team=team,
                name=form.cleaned_data["name"],
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                access=form.cleaned_data["access"],
                fte=form.cleaned_data["fte"],
                start_date=form.cleaned_data["start_date"],
                actor=actor_from_request(request),
            )
    except ApplicationError as error:
        form.add_error("email", error.message)
        return _render(request, form, status=400)
    inviter = request.access.person.name if request.access.person else request.user.get_username()
    invitation_send(
        request,
        user=user,
        organization=request.access.organization,
        inviter=inviter,
        language=form.cleaned_data["language"],
    )
    messages.success(
        request,
        _("%(name)s is invited: an e-mail with a link to choose a password went to %(email)s.")
        % {"name": person.name, "email": user.email},
    )
    return redirect("team")
