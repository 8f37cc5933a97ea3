"""The JSON API: tokens and scopes, upserts, events one by one and in batches, problem details, no 500s."""

from __future__ import annotations

import json
import random
import re

import pytest
from django.test import Client

from leadpact.leads.models import ApiToken, Lead, LeadEvent, LeadSource
from leadpact.leads.services import api_token_create, api_token_revoke

PROBLEM = "application/problem+json"


@pytest.fixture
def tokens(organization, people):
    _, write = api_token_create(organization=organization, name="crm", scope="write", actor="test")
    _, read = api_token_create(organization=organization, name="bi", scope="read", actor="test")
    return {"write": write, "read": read}


def post(client: Client, path: str, body, token: str | None, **headers):
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", **headers)


def get(client: Client, path: str, token: str | None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get(path, **headers)


LEAD = {"source": "crm", "external_id": "L-1", "name": "Anna de Boer", "email": "anna@boer.nl", "score": 60}


def event(i: int = 0, **kw):
    return {
        "source": "crm",
        "external_id": "L-1",
        "kind": "contact_attempt",
        "occurred_at": f"2026-03-02T{9 + i // 60:02d}:{i % 60:02d}:00+01:00",
        "channel": "phone",
        "human": True,
        **kw,
    }


class TestAuth:
    def test_no_token_is_401_problem(self, client, tokens):
        response = post(client, "/api/leads", LEAD, None)
        assert response.status_code == 401
        assert response["Content-Type"] == PROBLEM
        assert response.json()["status"] == 401
        assert get(client, "/api/leads", None).status_code == 401

    def test_wrong_secret_is_401(self, client, tokens):
        forged = tokens["write"][:-4] + "AAAA"
        assert post(client, "/api/leads", LEAD, forged).status_code == 401

    def test_read_token_cannot_write(self, client, tokens):
        response = post(client, "/api/leads", LEAD, tokens["read"])
        assert response.status_code == 403
        assert response["Content-Type"] == PROBLEM
        assert "read-only" in response.json()["detail"]
        assert Lead.objects.count() == 0
        assert get(client, "/api/leads", tokens["read"]).status_code == 200

    def test_revoked_token_is_401(self, client, tokens):
        row = ApiToken.objects.get(name="crm")
        assert post(client, "/api/leads", LEAD, tokens["write"]).status_code == 201
        api_token_revoke(token=row, actor="test")
        assert post(client, "/api/leads", LEAD, tokens["write"]).status_code == 401

    def test_only_the_hash_is_stored(self, tokens):
        row = ApiToken.objects.get(name="crm")
        assert tokens["write"] not in (row.hashed_secret, row.prefix)
        assert tokens["write"].startswith(f"lp_{row.prefix}_")


class TestLeads:
    def test_upsert_creates_then_updates_the_same_lead(self, client, tokens):
        first = post(client, "/api/leads", LEAD, tokens["write"])
        assert first.status_code == 201
        assert first.json()["created"] is True
        again = post(client, "/api/leads", {**LEAD, "score": 70, "name": ""}, tokens["write"])
        assert again.status_code == 200
        body = again.json()["lead"]
        assert (body["score"], body["name"]) == (70, "Anna de Boer")  # empty keeps the stored value
        assert Lead.objects.count() == 1 and LeadSource.objects.count() == 1

    def test_owner_by_name_or_email_and_unknown_owner_refused(self, client, tokens, people):
        ok = post(client, "/api/leads", {**LEAD, "sales_owner": "SID SALES"}, tokens["write"])
        assert ok.json()["lead"]["sales_owner"] == "Sid Sales"
        bad = post(
            client, "/api/leads", {**LEAD, "external_id": "L-2", "sales_owner": "Nobody"}, tokens["write"]
        )
        assert bad.status_code == 422
        assert bad.json()["errors"] == [
            {
                "index": None,
                "field": "sales_owner",
                "reason": "unknown owner 'Nobody': no person has that name",
            }
        ]
        assert not LeadSource.objects.filter(external_id="L-2").exists()

    def test_validation_error_is_problem_with_field(self, client, tokens):
        response = post(client, "/api/leads", {**LEAD, "score": "many"}, tokens["write"])
        assert response.status_code == 422
        assert response["Content-Type"] == PROBLEM
        assert [e["field"] for e in response.json()["errors"]] == ["score"]

    def test_batch_keeps_the_valid_rest_and_names_index_and_field(self, client, tokens):
        items = [
            {**LEAD, "external_id": "A"},
            {**LEAD, "external_id": "B", "email": 5},
            {**LEAD, "external_id": "C", "sales_owner": "Nobody"},
            {**LEAD, "external_id": "D"},
        ]
        response = post(client, "/api/leads/batch", {"leads": items}, tokens["write"])
        assert response.status_code == 422
        body = response.json()
        assert [(e["index"], e["field"]) for e in body["errors"]] == [(1, "email"), (2, "sales_owner")]
        assert [r["index"] for r in body["results"]] == [0, 3]
        assert sorted(LeadSource.objects.values_list("external_id", flat=True)) == ["A", "D"]

    def test_read_lead_with_events_and_state(self, client, tokens):
        lead_id = post(client, "/api/leads", LEAD, tokens["write"]).json()["lead"]["id"]
        post(client, "/api/events", event(0, kind="handed_over"), tokens["write"])
        post(client, "/api/events", event(5), tokens["write"])
        body = get(client, f"/api/leads/{lead_id}", tokens["read"]).json()
        assert [e["kind"] for e in body["events"]] == ["handed_over", "contact_attempt"]
        assert body["state"]["stage"] == "handed_over"
        assert body["state"]["human_attempts"] == 1
        assert body["handoff"] == "not checked"  # no agreement in force
        assert body["sla"] is None
        found = get(client, "/api/leads?source=crm&external_id=L-1", tokens["read"]).json()
        assert [lead["id"] for lead in found] == [lead_id]
        listed = get(client, "/api/leads?limit=10", tokens["read"]).json()
        assert [(lead["id"], lead["handoff"], lead["state"]["stage"]) for lead in listed] == [
            (lead_id, "not checked", "handed_over")
        ]
        missing = get(client, "/api/leads/999999", tokens["read"])
        assert missing.status_code == 404 and missing["Content-Type"] == PROBLEM


class TestEvents:
    def test_same_event_twice_is_one_record_same_answer(self, client, tokens):
        post(client, "/api/leads", LEAD, tokens["write"])
        first = post(client, "/api/events", event(), tokens["write"])
        second = post(client, "/api/events", event(), tokens["write"])
        assert (first.status_code, second.status_code) == (201, 200)
        assert first.json()["id"] == second.json()["id"]
        assert LeadEvent.objects.count() == 1

    def test_client_idempotency_key(self, client, tokens):
        post(client, "/api/leads", LEAD, tokens["write"])
        a = post(client, "/api/events", event(1, idempotency_key="k-1"), tokens["write"])
        b = post(client, "/api/events", event(2, idempotency_key="k-1"), tokens["write"])
        assert a.json()["id"] == b.json()["id"] and LeadEvent.objects.count() == 1

    def test_idempotency_key_header(self, client, tokens):
        post(client, "/api/leads", LEAD, tokens["write"])
        a = post(client, "/api/events", event(1), tokens["write"], HTTP_IDEMPOTENCY_KEY="h-1")
        b = post(client, "/api/events", event(2), tokens["write"], HTTP_IDEMPOTENCY_KEY="h-1")
        assert (a.status_code, b.status_code) == (201, 200) and a.json()["id"] == b.json()["id"]
        assert LeadEvent.objects.count() == 1

    def test_event_for_unknown_lead_is_refused(self, client, tokens):
        response = post(client, "/api/events", event(external_id="nope"), tokens["write"])
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "external_id"
        assert LeadEvent.objects.count() == 0

    def test_batch_with_bad_items(self, client, tokens):
        post(client, "/api/leads", LEAD, tokens["write"])
        items = [event(i) for i in range(6)]
        items[1]["kind"] = "teleported"
        items[3]["occurred_at"] = "2026-03-02T09:00:00"  # no offset
        items[4]["external_id"] = "unknown"
        response = post(client, "/api/events/batch", {"events": items}, tokens["write"])
        assert response.status_code == 422
        body = response.json()
        assert [(e["index"], e["field"]) for e in body["errors"]] == [
            (1, "kind"),
            (3, "occurred_at"),
            (4, "external_id"),
        ]
        assert "3 of 6 items were refused" in body["detail"]
        assert LeadEvent.objects.count() == 3
        replay = post(
            client, "/api/events/batch", {"events": [items[0], items[2], items[5]]}, tokens["write"]
        )
        assert replay.status_code == 200
        assert [r["created"] for r in replay.json()["results"]] == [False, False, False]
        assert LeadEvent.objects.count() == 3

    def test_batch_of_more_than_1000_is_refused_whole(self, client, tokens):
        response = post(client, "/api/events/batch", {"events": [event()] * 1001}, tokens["write"])
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "events"


class TestNoServerError:
    def test_malformed_json_is_400_problem(self, client, tokens):
        response = post(client, "/api/leads", b"{not json", tokens["write"])
        assert response.status_code == 400
        assert response["Content-Type"] == PROBLEM

    def test_fuzzed_bodies_never_500(self, client, tokens):
        rng = random.Random(5)
        atoms = [None, True, 0, -1, 2**70, 1.5, "", "x" * 400, "\x00", "2026-13-45T99:00:00Z", [], {}, "NaN"]
        keys = [*LEAD, "kind", "occurred_at", "amount", "extra", "data", "events", "leads", "idempotency_key"]

        def value(depth: int = 0):
            roll = rng.random()
            if depth < 2 and roll < 0.15:
                return [value(depth + 1) for _ in range(rng.randint(0, 3))]
            if depth < 2 and roll < 0.3:
                return {rng.choice(keys): value(depth + 1) for _ in range(rng.randint(0, 6))}
            return rng.choice(atoms)

        paths = ["/api/leads", "/api/leads/batch", "/api/events", "/api/events/batch"]
        for _ in range(150):
            body = {k: value() for k in rng.sample(keys, rng.randint(0, len(keys)))}
            if rng.random() < 0.3:
                body.update(
                    {"source": "crm", "external_id": "L-1", "kind": "won", "occurred_at": "2026-03-02T10:00Z"}
                )
            raw = json.dumps(body) if rng.random() < 0.9 else json.dumps(body)[: rng.randint(0, 20)]
            response = post(client, rng.choice(paths), raw, tokens["write"])
            assert response.status_code < 500, (raw, response.content)
            assert response["Content-Type"].split(";")[0] in (PROBLEM, "application/json")


def test_openapi_and_docs_are_served_to_signed_in_people_only(client, admin_client, db):
    assert client.get("/api/openapi.json").status_code == 302  # to the sign-in page
    assert client.get("/api/docs").status_code == 302
    client = admin_client
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200
    assert {"/api/leads", "/api/leads/batch", "/api/events", "/api/events/batch"} <= set(
        schema.json()["paths"]
    )
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    page = docs.content.decode()
    # whole without the internet: every asset from the app, none from a CDN
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and not [a for a in assets if "//" in a], assets
    from django.contrib.staticfiles import finders

    for asset in assets:
        if asset.startswith("/static/"):
            assert finders.find(asset.removeprefix("/static/")), asset
