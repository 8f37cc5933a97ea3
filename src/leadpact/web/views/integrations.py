"""Integrations: API tokens (created and shown once, scoped, revoked) and webhook receivers per CRM (their
URL, the secret shown once, the last deliveries and refusals, a signed test delivery). Organisation admins
only: a token or a receiver's address lets data in."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from leadpact.audit.services import actor_from_request
from leadpact.errors import ApplicationError
from leadpact.leads.models import ApiToken, WebhookDelivery, WebhookIntegration, WebhookRejection
from leadpact.leads.services import (
    api_token_create,
    api_token_revoke,
    webhook_integration_create,
    webhook_integration_renew,
    webhook_integration_update,
)
from leadpact.leads.webhook_probe import webhook_probe_send, webhook_url
from leadpact.web.access import AppRequest, page
from leadpact.web.data_forms import TokenForm, WebhookCreateForm, WebhookUpdateForm

__all__ = ["integrations", "token_revoke", "webhook_detail", "webhook_test"]

_SHOWN_ONCE = "leadpact_shown_once"


def _base(request: AppRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _show_once(request: AppRequest, what: str, lines: list[str]) -> None:
    """Keep a secret for the very next page only (then it is gone from the session)."""
    request.session[_SHOWN_ONCE] = {"what": what, "lines": lines}


def _pop_shown(request: AppRequest) -> dict[str, Any] | None:
    shown = request.session.pop(_SHOWN_ONCE, None)
    return shown if isinstance(shown, dict) else None


@page("integrations.manage")
@require_http_methods(["GET", "POST"])
def integrations(request: AppRequest) -> HttpResponse:
    """Tokens and webhook receivers of the organisation, with a form for each."""
    organization = request.access.organization
    actor = actor_from_request(request)
    token_form, hook_form = TokenForm(prefix="token"), WebhookCreateForm(prefix="hook")
    if request.method == "POST" and request.POST.get("action") == "token":
        token_form = TokenForm(request.POST, prefix="token")
        if token_form.is_valid():
            try:
                row, text = api_token_create(
                    organization=organization,
                    name=token_form.cleaned_data["name"],
                    scope=token_form.cleaned_data["scope"],
                    actor=actor,
                )
            except ApplicationError as exc:
                token_form.add_error("name", exc.message)
            else:
                _show_once(request, _("API token “%(name)s”") % {"name": row.name}, [text])
                return redirect("data_integrations")
    elif request.method == "POST" and request.POST.get("action") == "webhook":
        hook_form = WebhookCreateForm(request.POST, prefix="hook")
        if hook_form.is_valid():
            data = hook_form.cleaned_data
            try:
                hook, credentials = webhook_integration_create(
                    organization=organization,
                    kind=data["kind"],
                    name=data["name"],
                    secret=data["secret"],
                    username=data["username"],
                    public_url=data["public_url"],
                    actor=actor,
                )
            except ApplicationError as exc:
                field = "name" if exc.code == "webhook.name" else "secret"
                if exc.code == "webhook.credentials":
                    field = "username"
                hook_form.add_error(field, exc.message)
            else:
                if credentials.lines():
                    _show_once(request, _("Webhook “%(name)s”") % {"name": hook.name}, credentials.lines())
                return redirect("data_webhook", pk=hook.pk)
    elif request.method == "POST":
        messages.error(request, _("Nothing was changed: the form was not recognised."))
    tokens = ApiToken.objects.filter(organization=organization).order_by("revoked_at", "name", "id")
    hooks = list(WebhookIntegration.objects.filter(organization=organization).order_by("name", "id"))
    for hook in hooks:
        hook.url = webhook_url(hook, base=_base(request))  # type: ignore[attr-defined]
        hook.last = hook.deliveries.order_by("-received_at", "-id").first()  # type: ignore[attr-defined]
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "leadpact/data/integrations.html",
        {
            "tokens": tokens,
            "hooks": hooks,
            "token_form": token_form,
            "hook_form": hook_form,
            "shown": _pop_shown(request),
            "tab": "integrations",
        },
        status=status,
    )


@page("integrations.manage")
@require_POST
def token_revoke(request: AppRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, organization=request.access.organization)
    api_token_revoke(token=token, actor=actor_from_request(request))
    messages.success(request, _("Token “%(name)s” is revoked: it no longer works.") % {"name": token.name})
    return redirect("data_integrations")


def _hook(request: AppRequest, pk: int) -> WebhookIntegration:
    return get_object_or_404(WebhookIntegration, pk=pk, organization=request.access.organization)


@page("integrations.manage")
@require_http_methods(["GET", "POST"])
def webhook_detail(request: AppRequest, pk: int) -> HttpResponse:
    """One receiver: its URL, settings, a new secret, the last deliveries and refusals."""
    hook = _hook(request, pk)
    actor = actor_from_request(request)
    form = WebhookUpdateForm(
        initial={"name": hook.name, "public_url": hook.public_url, "active": hook.active}
    )
    status = 200
    if request.method == "POST" and request.POST.get("action") == "renew":
        try:
            credentials = webhook_integration_renew(integration=hook, actor=actor)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            _show_once(request, _("Webhook “%(name)s”") % {"name": hook.name}, credentials.lines())
        return redirect("data_webhook", pk=hook.pk)
    if request.method == "POST":
        form = WebhookUpdateForm(request.POST)
        if form.is_valid():
            try:
                webhook_integration_update(
                    integration=hook,
                    name=form.cleaned_data["name"],
                    public_url=form.cleaned_data["public_url"],
                    active=form.cleaned_data["active"],
                    actor=actor,
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Saved."))
                return redirect("data_webhook", pk=hook.pk)
        status = 400
    deliveries = list(WebhookDelivery.objects.filter(integration=hook).order_by("-received_at", "-id")[:20])
    for delivery in deliveries:
        delivery.is_test = (delivery.headers or {}).get("User-Agent", "") == "leadpact test delivery"  # type: ignore[attr-defined]
    return render(
        request,
        "leadpact/data/webhook.html",
        {
            "hook": hook,
            "url": webhook_url(hook, base=_base(request)),
            "form": form,
            "deliveries": deliveries,
            "rejections": WebhookRejection.objects.filter(integration=hook).order_by("-received_at", "-id")[
                :10
            ],
            "shown": _pop_shown(request),
            "tab": "integrations",
        },
        status=status,
    )


@page("integrations.manage")
@require_POST
def webhook_test(request: AppRequest, pk: int) -> HttpResponse:
    """Send a signed test delivery through the receiver; its outcome shows among the deliveries."""
    hook = _hook(request, pk)
    try:
        probe = webhook_probe_send(integration=hook, base=_base(request), actor=actor_from_request(request))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("data_webhook", pk=hook.pk)
    if probe.delivery is not None and probe.status < 300:
        messages.success(
            request,
            _("The test delivery was verified and processed (delivery %(id)s).") % {"id": probe.delivery.pk},
        )
    else:
        messages.error(
            request,
            _("The receiver refused the test delivery (%(status)s): %(detail)s")
            % {"status": probe.status, "detail": probe.answer.get("detail", "")},
        )
    return redirect("data_webhook", pk=hook.pk)
