"""The JSON API (django-ninja) at ``/api/``: OpenAPI at ``/api/openapi.json``, docs at ``/api/docs``.

The schema and its documentation page are for signed-in people only (they name every field leadpact
holds); the endpoints themselves answer to API tokens.

Authentication is an API token per integration (``Authorization: Bearer lp_…``). Every error is an RFC 9457
problem details document (``application/problem+json``); no input produces a bare server error.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required

from leadpact.leads._http import ProblemAPI, TokenAuth, install_problem_handlers
from leadpact.leads.api import router as leads_router

__all__ = ["api"]

api = ProblemAPI(
    title="leadpact",
    version="1",
    description="Lead data in and out: leads, their events and their state.",
    auth=TokenAuth(),
    urls_namespace="api",
    docs_decorator=login_required,
)
install_problem_handlers(api)
api.add_router("/", leads_router)
