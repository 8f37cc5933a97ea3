"""Admin pages of the leads app, the problem report download, and the token and webhook commands."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from leadpact.leads.models import ApiToken, ImportJob, Lead, WebhookDelivery
from leadpact.leads.services import api_token_authenticate, webhook_integration_create
from leadpact.leads.webhooks import webhook_delivery_store

SAMPLES = Path(__file__).parents[1] / "connectors" / "samples"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def admin_client(client, organization):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


def test_changelists_and_a_lead_page_render(admin_client, organization):
    run("import", str(SAMPLES / "hubspot_labels.csv"))
    for name in ("lead", "leadevent", "importjob", "apitoken", "webhookintegration", "webhookdelivery",
                 "webhookrejection", "handoffcheck", "savedmapping"):  # fmt: skip
        assert admin_client.get(f"/admin/leads/{name}/").status_code == 200, name
    lead = Lead.objects.first()
    page = admin_client.get(f"/admin/leads/lead/{lead.pk}/change/")
    assert page.status_code == 200 and b"created" in page.content


def test_problem_report_download(admin_client, organization):
    run("import", str(SAMPLES / "broken_rows.csv"))
    job = ImportJob.objects.get()
    response = admin_client.post(
        "/admin/leads/importjob/", {"action": "download_problems", "_selected_action": [job.pk]}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    assert text.startswith("row,column,reason") and "3,Record ID,the id is missing" in text


def test_token_create_list_revoke(organization):
    out = run("token", "create", "crm", "--scope", "write")
    token = out.splitlines()[1]
    assert api_token_authenticate(token) is not None
    assert "crm  write  live" in run("token", "list")
    prefix = ApiToken.objects.get().prefix
    assert "revoked" in run("token", "revoke", prefix)
    assert api_token_authenticate(token) is None
    with pytest.raises(CommandError, match="no token"):
        run("token", "revoke", "nope")


def test_webhooks_process_command(organization):
    hook, _ = webhook_integration_create(organization=organization, kind="generic", name="f", actor="t")
    body = (SAMPLES / "generic_webhook.json").read_bytes()
    webhook_delivery_store(integration=hook, headers={}, body=body, now=timezone.now())
    assert run("webhooks", "process") == "1 deliveries processed, 0 failed\n"
    assert WebhookDelivery.objects.get().status == "processed"
