"""The organisation a page is about, and who may open it: every app page goes through :func:`page`.

The current organisation is kept in the session (chosen on ``/organizations/`` when a user belongs to
more than one); a page never takes it from the query string, so no URL opens another organisation's data.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from leadpact.organization.access import Access, Action, access_for, organizations_of
from leadpact.organization.models import Organization

__all__ = ["SESSION_KEY", "AppRequest", "current_access", "organization_choose", "page", "require"]

SESSION_KEY = "leadpact_organization"
_CACHE = "_leadpact_access"


class AppRequest(HttpRequest):
    """The request an app page receives: with the user's :class:`Access` to the current organisation."""

    access: Access


View = TypeVar("View", bound=Callable[..., HttpResponse])


def current_access(request: HttpRequest) -> Access | None:
    """The signed-in user's access to the current organisation (cached on the request), or None when
    there is no organisation to choose or the user has yet to choose one."""
    if hasattr(request, _CACHE):
        return cast(Access | None, getattr(request, _CACHE))
    access: Access | None = None
    user = request.user
    if user.is_authenticated:
        chosen = request.session.get(SESSION_KEY)
        organizations = organizations_of(user)
        organization: Organization | None = None
        if chosen is not None:
            organization = organizations.filter(pk=chosen).first()
        if organization is None:
            first_two = list(organizations[:2])
            if len(first_two) == 1:
                organization = first_two[0]
        if organization is not None:
            access = access_for(user, organization)
    setattr(request, _CACHE, access)
    return access


def organization_choose(request: HttpRequest, organization: Organization) -> Access | None:
    """Make ``organization`` the current one, if the user may open it."""
    access = access_for(request.user, organization)
    if access is not None:
        request.session[SESSION_KEY] = organization.pk
        setattr(request, _CACHE, access)
    return access


def require(request: HttpRequest, action: Action, **on: Any) -> Access:
    """The current access, if it allows ``action`` (else 403)."""
    access = current_access(request)
    if access is None or not access.allows(action, **on):
        raise PermissionDenied
    return access


def page(action: Action = "view") -> Callable[[View], View]:
    """A page of the current organisation: signed in, an organisation chosen, ``action`` allowed.

    The view receives the :class:`Access` as ``request.access``.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            access = current_access(request)
            if access is None:
                if organizations_of(request.user).exists():
                    return redirect(f"{_picker()}?{urlencode({'next': request.get_full_path()})}")
                return redirect(_picker())
            if not access.allows(action):
                raise PermissionDenied
            request.access = access  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return cast(View, wrapped)

    return decorate


def _picker() -> str:
    from django.urls import reverse

    return reverse("organizations")
