"""Alerts: who gets which warning (each clock's thresholds, by e-mail and by the team's chat webhook), the
chat webhooks, a test alert, the signed-in person's quiet hours and the last alerts sent.

Everyone of the organisation reads it; an organisation admin changes webhooks and sends tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from leadpact.agreements.models import Agreement
from leadpact.agreements.selectors import agreement_active_version
from leadpact.agreements.services import agreement_version_document
from leadpact.audit.services import actor_from_request
from leadpact.errors import ApplicationError
from leadpact.leads.models import Lead
from leadpact.measurement.alerts.models import Alert, AlertWebhook
from leadpact.measurement.alerts.probe import alert_test_send
from leadpact.measurement.alerts.services import alert_webhook_delete, alert_webhook_save
from leadpact.measurement.clocks.windows import clock_calendar
from leadpact.organization.models import Organization, Person, Team
from leadpact.outbox.selectors import outbox_in_use
from leadpact.web.access import AppRequest, page, require
from leadpact.web.data_forms import AlertTestForm, AlertWebhookForm

__all__ = ["alert_webhook_remove", "alerts", "alerts_test"]


def _share(value: Decimal) -> str:
    return f"{int(value * 100)}%"


def _hook_label(hook: AlertWebhook) -> str:
    """A webhook's place without its secret path (a Slack or Teams webhook's path is its password)."""
    parts = urlsplit(hook.url)
    return f"{parts.scheme}://{parts.netloc}/…"


def _rules(organization: Organization, hooks: list[AlertWebhook]) -> list[dict[str, Any]]:
    """Per commitment with a clock, in every agreement in force: each threshold and who hears of it."""
    teams = {t.key: t for t in Team.objects.filter(organization=organization)}
    leads_of: dict[int, list[str]] = {}
    for person in Person.objects.filter(team__organization=organization, role=Person.Role.LEAD).order_by(
        "name"
    ):
        leads_of.setdefault(person.team_id, []).append(person.name)
    by_team = {h.team_id: h for h in hooks if h.active}
    out: list[dict[str, Any]] = []
    for agreement in Agreement.objects.filter(organization=organization).order_by("title"):
        version = agreement_active_version(agreement)
        if version is None:
            continue
        doc = agreement_version_document(version)
        manager_at = doc.settings.escalation.manager
        for commitment in doc.commitments:
            if commitment.clock is None:
                continue
            team = teams.get(commitment.owner)
            managers = ", ".join(leads_of.get(team.pk, [])) if team is not None else ""
            hook = by_team.get(team.pk if team is not None else None) or by_team.get(None)
            steps = []
            for threshold in doc.thresholds_of(commitment):
                who = [_("the lead's owner")]
                if threshold >= manager_at:
                    who.append(_("the team lead (%(names)s)") % {"names": managers or _("nobody yet")})
                steps.append(
                    {
                        "share": _share(threshold),
                        "breached": threshold >= 1,
                        "who": who,
                    }
                )
            out.append(
                {
                    "title": commitment.title,
                    "window": str(commitment.clock.window),
                    "team": team.name if team is not None else commitment.owner,
                    "steps": steps,
                    "webhook": _hook_label(hook) if hook is not None else "",
                }
            )
    return out


def _quiet_hours(person: Person | None, now: dt.datetime) -> dict[str, Any] | None:
    """The person's working windows for the coming seven days and when an alert would reach them now."""
    if person is None:
        return None
    calendar = clock_calendar(person)
    zone = calendar.timezone
    today = now.astimezone(zone).date()
    days = []
    for offset in range(7):
        day = today + dt.timedelta(days=offset)
        windows = calendar.windows_on(day)
        days.append({"day": day, "windows": [(a.astimezone(zone), b.astimezone(zone)) for a, b in windows]})
    return {
        "person": person,
        "days": days,
        "open_now": calendar.is_open(now),
        "next_open": calendar.next_open(now).astimezone(zone),
        "zone": str(zone),
    }


def _test_targets(request: AppRequest, hooks: list[AlertWebhook]) -> list[tuple[str, str]]:
    person = request.access.person
    email = person.email if person is not None else getattr(request.user, "email", "")
    targets = [("email", _("your e-mail (%(address)s)") % {"address": email})] if email else []
    for hook in hooks:
        where = hook.team.name if hook.team is not None else _("the whole organisation")
        targets.append((f"webhook:{hook.pk}", _("chat webhook of %(where)s") % {"where": where}))
    return targets


def _hooks(organization: Organization) -> list[AlertWebhook]:
    return list(
        AlertWebhook.objects.filter(organization=organization)
        .select_related("team")
        .order_by("team__name", "id")
    )


@page("view")
@require_http_methods(["GET", "POST"])
def alerts(request: AppRequest) -> HttpResponse:
    """Who gets which warning; the chat webhooks (an admin adds or changes one here)."""
    organization = request.access.organization
    teams = list(Team.objects.filter(organization=organization).order_by("name"))
    hooks = _hooks(organization)
    form = AlertWebhookForm(teams=teams)
    status = 200
    if request.method == "POST":
        require(request, "integrations.manage")
        form = AlertWebhookForm(request.POST, teams=teams)
        if form.is_valid():
            team = next((t for t in teams if str(t.pk) == form.cleaned_data["team"]), None)
            hook = (
                AlertWebhook.objects.filter(organization=organization, team=team).first()
                if team is not None
                else AlertWebhook.objects.filter(organization=organization, team__isnull=True).first()
            ) or AlertWebhook(organization=organization, team=team)
            hook.url, hook.active = form.cleaned_data["url"], form.cleaned_data["active"]
            try:
                alert_webhook_save(webhook=hook, actor=actor_from_request(request))
            except ApplicationError as exc:
                form.add_error("url" if exc.extra.get("field") == "url" else None, exc.message)
            else:
                messages.success(request, _("The chat webhook is saved."))
                return redirect("data_alerts")
        status = 400
    now = timezone.now()
    recent = (
        Alert.objects.filter(lead__in=Lead.objects.filter(organization=organization).values("pk"))
        .select_related("recipient")
        .order_by("-created_at", "-id")[:20]
    )
    return render(
        request,
        "leadpact/data/alerts.html",
        {
            "rules": _rules(organization, hooks),
            "hooks": [(h, _hook_label(h)) for h in hooks],
            "form": form,
            "test_form": AlertTestForm(targets=_test_targets(request, hooks)),
            "may_manage": request.access.allows("integrations.manage"),
            "quiet": _quiet_hours(request.access.person, now),
            "recent": recent,
            "outbox": outbox_in_use(),
            "tab": "alerts",
        },
        status=status,
    )


@page("integrations.manage")
@require_POST
def alert_webhook_remove(request: AppRequest, pk: int) -> HttpResponse:
    hook = get_object_or_404(AlertWebhook, pk=pk, organization=request.access.organization)
    alert_webhook_delete(webhook=hook, actor=actor_from_request(request))
    messages.success(request, _("The chat webhook is removed."))
    return redirect("data_alerts")


@page("integrations.manage")
@require_POST
def alerts_test(request: AppRequest) -> HttpResponse:
    """Send a test alert now, by the sender alerts use, to your e-mail or a chat webhook."""
    organization = request.access.organization
    hooks = _hooks(organization)
    form = AlertTestForm(request.POST, targets=_test_targets(request, hooks))
    if not form.is_valid():
        messages.error(request, _("Choose where to send the test alert."))
        return redirect("data_alerts")
    target = form.cleaned_data["target"]
    actor = actor_from_request(request)
    try:
        if target == "email":
            person = request.access.person
            address = person.email if person is not None else request.user.email  # type: ignore[union-attr]
            alert_test_send(
                organization=organization, channel=Alert.Channel.EMAIL, address=address, actor=actor
            )
            where = address
        else:
            hook = next(h for h in hooks if f"webhook:{h.pk}" == target)
            alert_test_send(
                organization=organization, channel="webhook", address="", webhook=hook, actor=actor
            )
            where = _hook_label(hook)
    except ApplicationError as exc:
        messages.error(request, _("The test alert was not sent: %(reason)s") % {"reason": exc.message})
    else:
        messages.success(request, _("A test alert was sent to %(where)s.") % {"where": where})
    return redirect("data_alerts")
