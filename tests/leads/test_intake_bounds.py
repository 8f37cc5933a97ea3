"""Issue 11 (points 2, 3, 8): every way in refuses a value out of bounds as a problem of that item and
keeps the rest; a stuck delivery stops nothing; replays apply nothing twice; refusals are bounded;
concurrent and killed imports recover."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
import json
import os
import subprocess
import sys
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.utils import timezone

from leadpact.connectors import file_fingerprint
from leadpact.connectors.webhooks import sign_generic
from leadpact.leads import _store, webhooks
from leadpact.leads.imports import import_job_alive, import_job_status, lead_import
from leadpact.leads.models import (
    ImportJob,
    Lead,
    LeadEvent,
    LeadSource,
    WebhookDelivery,
    WebhookIntegration,
    WebhookRejection,
)
from leadpact.leads.services import api_token_create, webhook_integration_create
from leadpact.leads.webhooks import webhook_deliveries_process_pending, webhook_delivery_store
from tests.leads.test_api import post

GOOD_AT = "2026-11-26T09:00:00Z"


@pytest.fixture
def token(organization, people):
    return api_token_create(organization=organization, name="crm", scope="write", actor="test")[1]


@pytest.fixture
def generic(organization):
    return webhook_integration_create(
        organization=organization, kind="generic", name="g", slug="g", actor="t"
    )


def send(client, integration_and_credentials, payload, *, kind="generic"):
    integration, shown = integration_and_credentials
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = sign_generic(body, secret=shown.secret, timestamp=int(time.time()))
    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return client.post(
        f"/hooks/{kind}/{integration.slug}/", data=body, content_type="application/json", **meta
    )


# --- the API ---------------------------------------------------------------------------------------------


def test_an_amount_of_2e14_is_refused_by_the_api(client, organization, token):
    post(client, "/api/leads", {"source": "crm", "external_id": "L-1"}, token)
    won = {"source": "crm", "external_id": "L-1", "kind": "won", "occurred_at": GOOD_AT, "amount": "2e14"}
    response = post(client, "/api/events", won, token)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "amount"
    assert "out of range" in response.json()["errors"][0]["reason"]
    assert not LeadEvent.objects.filter(kind="won").exists()


def test_api_batches_refuse_lone_surrogates_and_control_characters_per_item(client, organization, token):
    body = (
        '{"leads": [{"source": "crm", "external_id": "A", "name": "Ann\\ud800"},'
        ' {"source": "crm", "external_id": "B", "company": "B\\u001b V."},'
        ' {"source": "crm", "external_id": "C", "name": "Cor"}]}'
    )
    response = post(client, "/api/leads/batch", body, token)
    assert response.status_code == 422
    assert [(e["index"], e["field"]) for e in response.json()["errors"]] == [(0, "name"), (1, "company")]
    assert [r["index"] for r in response.json()["results"]] == [2]
    assert list(LeadSource.objects.values_list("external_id", flat=True)) == ["C"]


# --- webhooks ----------------------------------------------------------------------------------------------


BAD_ITEMS = [
    {"external_id": "N", "fields": {"name": "x" * 1000}},
    {"external_id": "9" * 300},
    {"external_id": "Z", "fields": {"company": "nul\x00byte"}},
    {"external_id": "S", "fields": {"score": 1e20}},
    {"external_id": "U", "fields": {"name": "\ud800"}},
]
BAD_EVENTS = [
    {"external_id": "OK", "kind": "won", "occurred_at": "9999-12-31T23:59:59Z"},
    {"external_id": "OK", "kind": "lost", "occurred_at": "0001-01-01T00:00:00+14:00"},
    {"external_id": "OK", "kind": "won", "occurred_at": GOOD_AT, "amount": "1e999999"},
]


def test_a_delivery_with_bad_items_applies_the_rest_and_never_stays_pending(
    admin_client, organization, generic
):
    payload = {
        "source": "crm",
        "leads": [{"external_id": "OK", "fields": {"name": "Anna"}}, *BAD_ITEMS],
        "events": [{"external_id": "OK", "kind": "created", "occurred_at": GOOD_AT}, *BAD_EVENTS],
    }
    response = send(admin_client, generic, payload)
    assert response.status_code == 200 and response.json()["status"] == "processed"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "processed" and delivery.events_stored == 1
    assert list(LeadSource.objects.values_list("external_id", flat=True)) == ["OK"]
    for index in range(1, 6):
        assert f"item {index}: lead: " in delivery.error
    assert "9999-12-31T23:59:59+00:00 is out of range" in delivery.error
    assert "0001-01-01T00:00:00+14:00 is out of range" in delivery.error
    assert "1E+999999 is out of range" in delivery.error
    assert admin_client.get("/admin/leads/lead/").status_code == 200
    assert admin_client.get("/admin/leads/webhookdelivery/").status_code == 200


def test_every_webhook_kind_keeps_its_good_items(client, organization):
    webhook_integration_create(
        organization=organization, kind="hubspot", name="h", slug="h", secret="h" * 32, actor="t"
    )
    body = json.dumps(
        [
            {"subscriptionType": "contact.creation", "objectId": "1" * 300, "occurredAt": 1796306700000},
            {"subscriptionType": "contact.creation", "objectId": 2, "occurredAt": 253402300799000},
            {"subscriptionType": "contact.creation", "objectId": 3, "occurredAt": 1796306700000},
        ]
    ).encode()
    stamp = str(int(time.time() * 1000))
    message = b"POST" + b"http://testserver/hooks/hubspot/h/" + body + stamp.encode()
    signature = base64.b64encode(hmac.new(b"h" * 32, message, hashlib.sha256).digest()).decode()
    response = client.post(
        "/hooks/hubspot/h/",
        data=body,
        content_type="application/json",
        HTTP_X_HUBSPOT_SIGNATURE_V3=signature,
        HTTP_X_HUBSPOT_REQUEST_TIMESTAMP=stamp,
    )
    assert response.json()["status"] == "processed"
    assert list(LeadSource.objects.values_list("external_id", flat=True)) == ["3"]
    mautic, shown = webhook_integration_create(organization=organization, kind="mautic", name="m", actor="t")
    body = json.dumps(
        {
            "mautic.lead_post_save_update": [
                {"lead": {"id": 5, "fields": {"core": {"firstname": {"value": "\x00"}}}}},
                {"lead": {"id": 6, "fields": {"core": {"firstname": {"value": "Bas"}}}}},
            ]
        }
    ).encode()
    sign = base64.b64encode(hmac.new(shown.secret.encode(), body, hashlib.sha256).digest()).decode()
    response = client.post(
        f"/hooks/mautic/{mautic.slug}/",
        data=body,
        content_type="application/json",
        HTTP_WEBHOOK_SIGNATURE=sign,
    )
    assert response.json()["status"] == "processed"
    assert Lead.objects.get(sources__source="mautic").name == "Bas"


def test_webhooks_process_goes_past_a_stuck_delivery(organization, generic, monkeypatch):
    integration = generic[0]
    for n in (1, 2):
        body = json.dumps({"source": "crm", "leads": [{"external_id": f"L{n}"}]}).encode()
        webhook_delivery_store(integration=integration, headers={}, body=body, now=timezone.now())
    first = WebhookDelivery.objects.order_by("id").first()
    real = webhooks.store_batch

    def failing(**kw):
        if kw["leads"] and kw["leads"][0].external_id == "L1":
            raise RuntimeError("the disk is full")
        return real(**kw)

    monkeypatch.setattr(webhooks, "store_batch", failing)
    out = io.StringIO()
    call_command("webhooks", "process", stdout=out)
    assert "1 deliveries processed, 0 failed, 1 still pending" in out.getvalue()
    first.refresh_from_db()
    assert first.status == "pending" and first.attempts == 1 and "the disk is full" in first.error
    assert list(LeadSource.objects.values_list("external_id", flat=True)) == ["L2"]
    for _ in range(webhooks.MAX_ATTEMPTS - 1):
        webhook_deliveries_process_pending()
    first.refresh_from_db()
    assert first.status == "failed" and "given up" in first.error
    monkeypatch.setattr(webhooks, "store_batch", real)


def test_the_admin_process_action_reports_a_stuck_delivery(admin_client, organization, generic, monkeypatch):
    body = json.dumps({"source": "crm", "leads": [{"external_id": "L1"}]}).encode()
    delivery, _ = webhook_delivery_store(integration=generic[0], headers={}, body=body, now=timezone.now())
    monkeypatch.setattr(webhooks, "store_batch", lambda **kw: 1 / 0)
    response = admin_client.post(
        "/admin/leads/webhookdelivery/",
        {"action": "process", "_selected_action": [delivery.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "still pending" in response.content.decode()


def test_a_replayed_mautic_body_does_not_put_old_fields_back(client, organization):
    mautic, shown = webhook_integration_create(organization=organization, kind="mautic", name="m", actor="t")

    def deliver(name: str) -> dict:
        body = json.dumps(
            {"mautic.lead_post_save_update": [{"lead": {"id": 7, "fields": {"all": {"firstname": name}}}}]}
        ).encode()
        sign = base64.b64encode(hmac.new(shown.secret.encode(), body, hashlib.sha256).digest()).decode()
        return client.post(
            f"/hooks/mautic/{mautic.slug}/",
            data=body,
            content_type="application/json",
            HTTP_WEBHOOK_SIGNATURE=sign,
        ).json()

    deliver("Old")
    deliver("New")
    assert deliver("Old")["status"] == "duplicate"
    assert Lead.objects.get().name == "New"
    assert WebhookDelivery.objects.count() == 2


def test_unsigned_requests_to_unknown_addresses_are_bounded_and_expire(client, organization, monkeypatch):
    monkeypatch.setattr(webhooks, "REJECTION_CAP", 3)
    old = WebhookRejection.objects.create(
        path="/hooks/generic/old/", reason="x", received_at=timezone.now() - dt.timedelta(days=40)
    )
    for n in range(10):
        assert (
            client.post(
                f"/hooks/generic/nobody-{n}/", data=b"{}", content_type="application/json"
            ).status_code
            == 404
        )
    rows = WebhookRejection.objects.all()
    assert not rows.filter(pk=old.pk).exists()
    assert rows.count() == 3
    assert sum(r.count for r in rows) == 10


# --- file imports ------------------------------------------------------------------------------------------

HEADER = "Record ID,First Name,Email,Company Name,HubSpot Score,Create Date\n"


def run_import(*args: str) -> str:
    out = io.StringIO()
    call_command("import", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_a_400_character_company_is_a_problem_row_and_the_rest_lands(tmp_path, organization):
    path = tmp_path / "contacts.csv"
    path.write_text(
        HEADER
        + "1,Anna,a@b.nl,Acme,10,2026-10-01 09:00\n"
        + f"2,Bo,b@b.nl,{'C' * 400},10,2026-10-01 09:00\n"
        + "3,Cas,c@b.nl,Cas BV,1e20,2026-10-01 09:00\n"
        + "4,Dirk,d@b.nl,Dirk BV,10,9999-12-31 23:59\n"
        + "5,Eva,e@b.nl,Eva BV,10,2026-10-02 09:00\n",
        encoding="utf-8",
    )
    out = run_import(str(path))
    assert "5 rows read, 2 imported, 3 problems" in out
    assert sorted(LeadSource.objects.values_list("external_id", flat=True)) == ["1", "5"]
    job = ImportJob.objects.get()
    problems = {p.row: (p.column, p.reason) for p in job.problems.all()}
    assert problems[3] == ("Company Name", "is 400 characters long; at most 300")
    assert problems[4][0] == "HubSpot Score" and "out of range" in problems[4][1]
    assert problems[5][0] == "Create Date" and "is out of range: from 1970-01-01" in problems[5][1]
    assert max(len(c) for c in Lead.objects.values_list("company", flat=True)) <= 300


def test_a_batch_another_import_stored_first_is_stored_again(tmp_path, organization, monkeypatch):
    path = tmp_path / "contacts.csv"
    path.write_text(HEADER + "1,Anna,a@b.nl,Acme,10,2026-10-01 09:00\n", encoding="utf-8")
    lead_import(organization=organization, path=path, reader="thread")
    other = tmp_path / "other.csv"
    other.write_text(HEADER + "1,Anna,a@b.nl,Acme BV,10,2026-10-01 09:00\n", encoding="utf-8")
    real, calls = _store._existing_leads, []

    def missed_once(org, keys):  # as if the other import committed between our read and our insert
        calls.append(keys)
        return {} if len(calls) == 1 else real(org, keys)

    monkeypatch.setattr(_store, "_existing_leads", missed_once)
    outcome = lead_import(organization=organization, path=other, reader="thread")
    assert len(calls) == 2
    assert (outcome.job.status, outcome.job.rows_imported) == ("completed", 1)
    assert Lead.objects.get().company == "Acme BV"


def test_a_batch_retried_in_vain_is_stored_row_by_row(tmp_path, organization, monkeypatch):
    path = tmp_path / "contacts.csv"
    path.write_text(
        HEADER + "1,Anna,a@b.nl,Acme,10,2026-10-01 09:00\n2,Bo,b@b.nl,Bo BV,10,2026-10-01 09:00\n",
        encoding="utf-8",
    )
    real = _store.store_items

    def refuse_bo(**kw):
        if any(lead[1] == "2" for lead in kw["leads"]):
            raise IntegrityError("duplicate key value violates unique constraint")
        return real(**kw)

    monkeypatch.setattr("leadpact.leads.imports.store_items", refuse_bo)
    outcome = lead_import(organization=organization, path=path, reader="thread")
    assert (outcome.job.status, outcome.job.rows_imported, outcome.job.problems_count) == ("completed", 1, 1)
    problem = outcome.job.problems.get()
    assert problem.row == 3 and problem.reason.startswith("the database refused the row: duplicate key")


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_killed_imports_job_reads_as_interrupted_and_resumes(tmp_path, organization):
    path = tmp_path / "contacts.csv"
    path.write_text(HEADER + "1,Anna,a@b.nl,Acme,10,2026-10-01 09:00\n", encoding="utf-8")
    job = ImportJob.objects.create(
        organization=organization,
        file_name=path.name,
        fingerprint=file_fingerprint(path),
        preset="hubspot",
        mapping={},
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        host=os.uname().nodename,
        pid=_dead_pid(),
    )
    assert job.status == "running" and not import_job_alive(job)
    assert import_job_status(job) == "interrupted"
    with pytest.raises(CommandError, match=r"stopped after row 0 \(interrupted\); pass --resume"):
        run_import(str(path))
    job.refresh_from_db()
    assert job.status == "interrupted"


def test_a_running_import_is_not_run_twice(tmp_path, organization):
    path = tmp_path / "contacts.csv"
    path.write_text(HEADER + "1,Anna,a@b.nl,Acme,10,2026-10-01 09:00\n", encoding="utf-8")
    job = ImportJob.objects.create(
        organization=organization,
        file_name=path.name,
        fingerprint=file_fingerprint(path),
        mapping={},
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        host=os.uname().nodename,
        pid=os.getpid(),
    )
    assert import_job_status(job) == "running"
    with pytest.raises(CommandError, match="is running"):
        run_import(str(path), "--resume")
    stale = timezone.now() + dt.timedelta(hours=1)
    assert import_job_status(job, now=stale) == "interrupted"  # no sign of life for an hour


# --- secrets ---------------------------------------------------------------------------------------------


def test_integrations_get_generated_secrets_stored_unusably(organization):
    row, shown = webhook_integration_create(organization=organization, kind="generic", name="g", actor="t")
    assert len(shown.secret) >= 32 and shown.secret not in row.secret_sealed
    pipe, creds = webhook_integration_create(organization=organization, kind="pipedrive", name="p", actor="t")
    assert creds.username == "leadpact" and creds.password not in pipe.password_hash
    assert pipe.password_hash == "sha256:" + hashlib.sha256(creds.password.encode()).hexdigest()
    stored = WebhookIntegration.objects.values_list("secret_sealed", "password_hash")
    assert all(shown.secret not in a and creds.password not in b for a, b in stored)


@pytest.mark.parametrize(
    ("kind", "secret", "error"),
    [
        ("hubspot", "", "give the HubSpot app's client secret"),
        ("hubspot", "   ", "give the HubSpot app's client secret"),
        ("mautic", "short", "at least 16 characters"),
        ("generic", "x" * 20 + "\x00", "at least 16 characters"),
        ("pipedrive", "my-own-password-123", "generated, not given"),
    ],
)
def test_empty_or_weak_secrets_are_refused(organization, kind, secret, error):
    from leadpact.errors import ApplicationError

    with pytest.raises(ApplicationError, match=error):
        webhook_integration_create(organization=organization, kind=kind, name="x", secret=secret, actor="t")
    assert not WebhookIntegration.objects.exists()


@pytest.fixture
def admin_client(client, organization):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


def test_an_api_upsert_that_meets_a_concurrent_one_is_stored_again(client, organization, token, monkeypatch):
    assert post(client, "/api/leads", {"source": "crm", "external_id": "L-1"}, token).status_code == 201
    real, calls = _store._existing_leads, []

    def missed_once(org, keys):  # as if the other request committed between our read and our insert
        calls.append(keys)
        return {} if len(calls) == 1 else real(org, keys)

    monkeypatch.setattr(_store, "_existing_leads", missed_once)
    response = post(client, "/api/leads", {"source": "crm", "external_id": "L-1", "name": "Anna"}, token)
    assert response.status_code == 200 and response.json()["lead"]["name"] == "Anna"
    assert len(calls) == 2 and Lead.objects.count() == 1
