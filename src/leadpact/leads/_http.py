"""RFC 9457 problem details and token authentication for the JSON API."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.urls import URLPattern
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.security import HttpBearer

from leadpact.errors import ApplicationError
from leadpact.leads.models import ApiToken
from leadpact.leads.services import api_token_authenticate

__all__ = [
    "PROBLEM_JSON",
    "ProblemAPI",
    "TokenAuth",
    "install_problem_handlers",
    "problem_response",
    "pydantic_errors",
    "request_token",
    "require_write",
]

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://leadpact.example/problems/"
logger = logging.getLogger("leadpact.api")

_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    422: "Invalid input",
    500: "Server error",
}


def problem_response(
    *,
    status: int,
    detail: str,
    problem: str | None = None,
    title: str | None = None,
    errors: Sequence[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> HttpResponse:
    """A problem details response: ``type``, ``title``, ``status``, ``detail``, ``errors`` and extensions."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + problem if problem else "about:blank",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = list(errors)
    body.update(extra)
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, default=str), status=status, content_type=PROBLEM_JSON
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _field(loc: Iterable[Any]) -> str:
    return ".".join(str(p) for p in loc) or "body"


def pydantic_errors(errors: Iterable[dict[str, Any]], *, index: int | None = None) -> list[dict[str, Any]]:
    """Pydantic's errors as ``{index, field, reason}`` (the location prefix ``body.payload`` dropped)."""
    out: list[dict[str, Any]] = []
    for error in errors:
        loc = list(error.get("loc", ()))
        while loc and loc[0] in ("body", "query", "path", "header", "payload"):
            loc = loc[1:]
        item_index = index
        # a batch body's own list: body.<list name>.<i>.<field>
        if index is None and len(loc) >= 2 and isinstance(loc[1], int) and loc[0] in ("leads", "events"):
            item_index = loc[1]
            loc = loc[2:]
        out.append({"index": item_index, "field": _field(loc), "reason": str(error.get("msg", "invalid"))})
    return out


class TokenAuth(HttpBearer):
    """``Authorization: Bearer lp_<prefix>_<secret>``; the token row becomes ``request.auth``."""

    openapi_description = "An API token made with `leadpact token create NAME --scope read|write`."

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return api_token_authenticate(token)


def request_token(request: HttpRequest) -> ApiToken:
    """The authenticated token of an API request."""
    token = getattr(request, "auth", None)
    if not isinstance(token, ApiToken):
        raise AuthenticationError(401, "an api token is required")
    return token


def require_write(request: HttpRequest) -> ApiToken:
    """The token, if it may write; else 403."""
    token = request_token(request)
    if token.scope != ApiToken.Scope.WRITE:
        raise AuthorizationError(403, f"api token {token.name!r} is read-only; this needs the write scope")
    return token


#: What every operation may answer besides its own responses, each as problem details.
_ERROR_RESPONSES = {
    "400": "the body is not JSON, or not readable",
    "401": "no valid API token (Authorization: Bearer lp_…)",
    "422": "a value is not valid: errors name each item, field and reason",
}


class ProblemOut(Schema):
    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None


class ProblemAPI(NinjaAPI):
    """The JSON API, whose OpenAPI document declares every error answer as ``application/problem+json``
    (400, 401, 403, 404, 422 …) and whose every answer — a method not allowed (405) too — is problem
    details rather than HTML."""

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        problem = {"schema": {"$ref": "#/components/schemas/ProblemOut"}}
        if "ProblemOut" not in schema.get("components", {}).get("schemas", {}):
            schema.setdefault("components", {}).setdefault("schemas", {})["ProblemOut"] = (
                ProblemOut.model_json_schema()
            )
        for operations in schema.get("paths", {}).values():
            for method, operation in operations.items():
                # ninja keys its own answers by int: one string key each, or the JSON repeats "422"
                # (a duplicated key Swagger UI's parser refuses, leaving /api/docs blank)
                responses = {str(status): answer for status, answer in operation.get("responses", {}).items()}
                operation["responses"] = responses
                for status, answer in responses.items():
                    if str(status).startswith(("4", "5")):
                        answer["content"] = {PROBLEM_JSON: problem}
                wanted = dict(_ERROR_RESPONSES)
                if method.lower() == "post":
                    wanted["403"] = "the API token is read-only; this needs the write scope"
                for status, description in wanted.items():
                    responses.setdefault(
                        status, {"description": description, "content": {PROBLEM_JSON: problem}}
                    )
        return schema

    @property
    def urls(self) -> tuple[list[Any], str, str]:
        patterns, app_name, namespace = super().urls
        return [_problem_methods(p) for p in patterns], app_name, namespace


def _problem_methods(pattern: Any) -> Any:
    """The URL pattern with a view that answers a method not allowed (405) as problem details."""
    if not isinstance(pattern, URLPattern):
        return pattern
    view = pattern.callback

    @functools.wraps(view)
    def answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response: HttpResponseBase = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(PROBLEM_JSON):
            allowed = response.get("Allow", "")
            return problem_response(
                status=405,
                problem="method-not-allowed",
                detail=f"{request.method} is not allowed here; allowed: {allowed}",
                headers={"Allow": allowed},
            )
        return response

    return URLPattern(pattern.pattern, answer, pattern.default_args, pattern.name)


def install_problem_handlers(api: NinjaAPI) -> None:
    """Every error the API can meet answers as problem details; nothing is left to a bare 500."""

    @api.exception_handler(ValidationError)
    def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = pydantic_errors(exc.errors)
        return problem_response(
            status=422,
            problem="invalid-input",
            detail=f"{len(errors)} value(s) are not valid: "
            + "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:3]),
            errors=errors,
        )

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem_response(
            status=401,
            problem="not-authenticated",
            detail="a valid api token is required: Authorization: Bearer lp_…",
            headers={"WWW-Authenticate": 'Bearer realm="leadpact"'},
        )

    @api.exception_handler(HttpError)
    def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        status = exc.status_code
        detail = str(exc)
        if status == 400 and "json" in detail.lower():
            detail = "the request body is not valid JSON"
            return problem_response(status=400, problem="malformed-json", detail=detail)
        return problem_response(status=status, detail=detail)

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem_response(status=404, detail=str(exc) or "not found")

    @api.exception_handler(ApplicationError)
    def _application(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
        return problem_response(
            status=int(exc.extra.get("status", 422)),
            problem=exc.code.replace(".", "-"),
            detail=exc.message,
            errors=exc.extra.get("errors"),
        )

    @api.exception_handler(RequestDataTooBig)
    def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return problem_response(status=413, detail="the request body is too large; send smaller batches")

    @api.exception_handler(SuspiciousOperation)
    def _suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        return problem_response(status=400, detail="the request cannot be read")

    @api.exception_handler(Exception)
    def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("api error on %s %s", request.method, request.path)
        return problem_response(status=500, detail="an unexpected error; it has been logged")
