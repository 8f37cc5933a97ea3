"""The attack surface: every URL pattern of leadpact — pages, admin, API, docs — asks an anonymous visitor
to sign in (a redirect to a sign-in page, 401 or 403), except the few that are public on purpose; bodies
over the limit get 413; every answer carries the Content-Security-Policy."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

#: Public on purpose, by URL name: signing in, resetting a forgotten password, choosing a language,
#: signing out, the webhooks (verified by their HMAC signature instead of a login) and django-ninja's
#: API root, which answers 404.
PUBLIC = {
    "login",
    "logout",
    "admin:logout",
    "api:api-root",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "set_language",
    "admin:login",
    "hooks:receive",
    "review_feed",  # a review series' calendar feed: opens with its secret token only (rotatable)
}

_SAMPLES = {
    "int": "1",
    "slug": "x",
    "str": "x",
    "path": "x/y",
    "uuid": "00000000-0000-0000-0000-000000000000",
}


def _patterns(resolver: URLResolver, prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += _patterns(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            found.append((f"{namespace}{entry.name or '?'}", prefix + str(entry.pattern)))
    return found


def _routes() -> list[tuple[str, str]]:
    """(name, example path) for every pattern, with each converter given a sample value."""
    return [(name, _example(route)) for name, route in _patterns(get_resolver())]


def _example(route: str) -> str:
    if route.startswith("^") or "(?P" in route:  # a regular expression (the admin's app index)
        route = re.sub(r"\(\?P<\w+>[^)]*\)", "leads", route).replace("^", "").replace("$", "")
    route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: _SAMPLES[m.group(1) or "str"], route)
    return "/" + route


def _asks_to_sign_in(response) -> bool:
    if response.status_code in (401, 403):
        return True
    location = response.headers.get("Location", "")
    return response.status_code == 302 and ("/accounts/login/" in location or "/admin/login/" in location)


def test_every_route_needs_a_login_but_the_public_ones():
    routes = _routes()
    assert len(routes) > 50  # pages, admin, API, docs: the enumeration found them
    client = Client()
    answered_without_login = set()
    for name, path in routes:
        response = client.get(path)
        if response.status_code == 405:  # a form's target: try what it accepts
            response = client.post(path, {})
        if not _asks_to_sign_in(response):
            answered_without_login.add(name)
    assert answered_without_login <= PUBLIC, sorted(answered_without_login - PUBLIC)
    assert {"api:openapi-json", "api:openapi-view"} <= {name for name, _ in routes}


def test_api_docs_and_schema_need_a_login():
    for path in ("/api/docs", "/api/openapi.json"):
        response = Client().get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", ["/api/events/batch", "/api/leads/batch", "/hooks/generic/some-hook/"])
def test_a_body_over_the_limit_is_refused_with_413_problem_details(path, settings):
    settings.LEADPACT_MAX_BODY_BYTES = 1000
    body = b'{"events": [' + b" " * 2000 + b"]}"
    response = Client().post(path, body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 413 and "at most 1000" in problem["detail"]
    small = Client().post(path, b"{}", content_type="application/json")
    assert small.status_code != 413  # under the limit: the endpoint's own answer (401, 404 …)


def test_every_answer_carries_the_security_headers():
    response = Client().get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_healthz_is_public_and_says_only_ok():
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.content == b"ok\n"
