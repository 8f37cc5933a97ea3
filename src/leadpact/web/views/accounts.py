"""Signing in and choosing the organisation to work in."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from leadpact.organization.access import organizations_of
from leadpact.web.access import current_access, organization_choose

__all__ = ["organizations"]


def _safe_next(request: HttpRequest, default: str = "/") -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return default


@login_required
@require_http_methods(["GET", "POST"])
def organizations(request: HttpRequest) -> HttpResponse:
    """The organisations the user belongs to; choosing one makes it the current one."""
    choices = list(organizations_of(request.user))
    error = None
    if request.method == "POST":
        chosen = next((o for o in choices if str(o.pk) == request.POST.get("organization")), None)
        if chosen is not None and organization_choose(request, chosen) is not None:
            return redirect(_safe_next(request))
        error = True
    current = current_access(request)
    return render(
        request,
        "leadpact/organizations.html",
        {
            "choices": choices,
            "current": current.organization if current else None,
            "next": _safe_next(request, ""),
            "error": error,
        },
        status=400 if error else 200,
    )
