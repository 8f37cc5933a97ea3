"""Issue 11 point 8: the OpenAPI document declares every error answer as problem details, and a method the
API does not allow is answered as problem details too (never HTML)."""

from __future__ import annotations

import pytest

PROBLEM = "application/problem+json"


def test_every_operation_declares_400_401_and_422_as_problem_details(admin_client, db):
    schema = admin_client.get("/api/openapi.json").json()  # the schema is for signed-in people
    assert "ProblemOut" in schema["components"]["schemas"]
    operations = [(path, method, op) for path, ops in schema["paths"].items() for method, op in ops.items()]
    assert len(operations) >= 6
    for path, method, op in operations:
        for status in ("400", "401", "422"):
            assert PROBLEM in op["responses"][status]["content"], (path, method, status)
        for status, answer in op["responses"].items():
            if status.startswith("4"):
                assert list(answer["content"]) == [PROBLEM], (path, method, status)
        if method == "post":
            assert "403" in op["responses"], path


@pytest.mark.parametrize(
    ("method", "path"), [("put", "/api/events"), ("delete", "/api/leads"), ("patch", "/api/leads/batch")]
)
def test_a_method_not_allowed_is_problem_details(client, db, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == 405 and body["type"].endswith("/method-not-allowed")
    assert method.upper() in body["detail"] and response["Allow"]
