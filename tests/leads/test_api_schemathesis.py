"""Schemathesis against ``/api/openapi.json``, in-process through the WSGI app: no input gives a 500.

Both well-formed (positive) and malformed (negative) cases per operation, with a valid write token.
"""

from __future__ import annotations

from contextlib import contextmanager

import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from leadpact.leads.models import Lead
from leadpact.leads.services import api_token_create, leads_store
from tests.leads.conftest import event, lead

EXAMPLES = 30


@contextmanager
def keep_connection():
    """The test's transaction lives on the connection: don't let the WSGI handler close it (as Django's
    test client does — and, leaving, connects the closing again: so this wraps only the WSGI calls)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_no_operation_answers_with_a_server_error(organization, people, admin_client):
    _, token = api_token_create(organization=organization, name="fuzz", scope="write", actor="test")
    leads_store(
        organization=organization,
        leads=[lead("L-1", source="crm")],
        events=[event("created", "L-1", source="crm")],
    )
    # the schema is for signed-in people: read it as one, then run the cases through the WSGI app
    schema = schemathesis.openapi.from_dict(admin_client.get("/api/openapi.json").json())
    schema.app = WSGIHandler()
    schema.location = "/api/openapi.json"
    auth = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {
        "/api/leads",
        "/api/events",
        "/api/events/batch",
        "/api/leads/batch",
    }
    with keep_connection():
        _fuzz(operations, auth)
    assert Lead.objects.count() > 1  # the generated requests did reach the API and store leads


def _fuzz(operations, auth):
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case):
                response = case.call(headers=auth)
                case.validate_response(response, checks=[not_a_server_error])

            check()
