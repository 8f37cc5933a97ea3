"""Response headers a browser enforces, and a size limit on what machines may send.

:class:`SecurityHeadersMiddleware` adds a Content-Security-Policy (Django 5.2 has none built in) and the
headers Django's own ``SecurityMiddleware`` does not set.  The policy allows scripts, styles, images and
fonts from this site only — no inline ``<script>``, no ``style=`` attributes, no ``eval`` — so a page
that slips one in breaks visibly in tests (``tests/web/test_csp.py``) instead of silently in production.
The API's documentation page (Swagger UI, shipped inside django-ninja) loads its scripts as files too.

:class:`BodyLimitMiddleware` refuses a request body larger than ``LEADPACT_MAX_BODY_BYTES`` on the
machine endpoints (``/api/``, ``/hooks/``) with ``413`` and RFC 9457 problem details, before a view
reads a byte; pages are bounded by Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` and
``FILE_UPLOAD_MAX_MEMORY_SIZE``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

__all__ = ["CSP", "BodyLimitMiddleware", "HealthMiddleware", "SecurityHeadersMiddleware", "body_limit"]

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
"""The policy of every page: this site's own files, nothing inline."""

_PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
_MACHINE_PREFIXES = ("/api/", "/hooks/")


class SecurityHeadersMiddleware:
    """Content-Security-Policy, Permissions-Policy and Cross-Origin-Resource-Policy on every answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Permissions-Policy", _PERMISSIONS)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


class HealthMiddleware:
    """``GET /healthz``: ``ok`` when the database answers, else 503 — before host checks and HTTPS
    redirects, so a probe on the loopback address works; it says nothing else, so it is public."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path != "/healthz" or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception:  # any database failure means "not ready"
            return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
        response = HttpResponse("ok\n", content_type="text/plain")
        response["Cache-Control"] = "no-store"
        return response


def body_limit() -> int:
    """The largest request body the API and the webhooks accept, in bytes."""
    return int(getattr(settings, "LEADPACT_MAX_BODY_BYTES", 10 * 1024 * 1024))


class BodyLimitMiddleware:
    """413 problem details for an API or webhook body over :func:`body_limit`, judged by its declared
    length (a body without one is bounded by Django when read: ``DATA_UPLOAD_MAX_MEMORY_SIZE``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path.startswith(_MACHINE_PREFIXES):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = body_limit()
            if length > limit:
                return _too_large(length, limit)
        return self.get_response(request)


def _too_large(length: int, limit: int) -> HttpResponse:
    from leadpact.leads._http import problem_response  # the API's one problem format

    return problem_response(
        status=413,
        problem="body-too-large",
        detail=f"the request body has {length} bytes; at most {limit} are accepted — send smaller batches",
    )
