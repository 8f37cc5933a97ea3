"""Issue 15 point 5 and issue 11 point 5: integrations made in the admin get a secret (generated and shown
once, or HubSpot's given), never show it again, never ask for created_at, and are audited."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from django.contrib.auth import get_user_model

from leadpact.audit.models import AuditEntry
from leadpact.leads._secrets import unseal
from leadpact.leads.models import WebhookIntegration
from leadpact.leads.services import webhook_integration_create

ADD = "/admin/leads/webhookintegration/add/"


@pytest.fixture
def admin_client(client, organization):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


def test_the_add_form_asks_no_created_at_and_shows_no_secret(admin_client):
    page = admin_client.get(ADD).content.decode()
    assert 'name="created_at"' not in page and 'name="secret_sealed"' not in page
    assert 'name="password_hash"' not in page and 'type="password"' in page


def test_a_generic_integration_made_in_the_admin_shows_its_secret_once_and_is_audited(
    admin_client, organization
):
    response = admin_client.post(
        ADD,
        {"organization": organization.pk, "kind": "generic", "name": "Forms", "slug": "forms", "secret": ""},
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    row = WebhookIntegration.objects.get()
    secret = unseal(row.secret_sealed)
    page = response.content.decode()
    assert secret in page and "/hooks/generic/forms/" in page
    assert secret not in row.secret_sealed
    change = admin_client.get(f"/admin/leads/webhookintegration/{row.pk}/change/").content.decode()
    assert secret not in change and row.secret_sealed not in change
    entry = AuditEntry.objects.get(action="webhook_integration.create")
    assert (
        entry.actor_label == "root"
        and entry.after["secret"] == "generated"
        and secret not in str(entry.after)
    )


def test_a_hubspot_integration_needs_its_client_secret(admin_client, organization):
    refused = admin_client.post(
        ADD, {"organization": organization.pk, "kind": "hubspot", "name": "HS", "secret": ""}
    )
    assert refused.status_code == 200 and "client secret" in refused.content.decode()
    assert not WebhookIntegration.objects.exists()
    given = "0f8e1c2d-hubspot-client-secret"
    done = admin_client.post(
        ADD, {"organization": organization.pk, "kind": "hubspot", "name": "HS", "secret": given}
    )
    assert given not in done.content.decode()
    assert unseal(WebhookIntegration.objects.get().secret_sealed) == given


def test_new_credentials_from_the_list_stop_the_old_ones(admin_client, organization):
    row, old = webhook_integration_create(organization=organization, kind="pipedrive", name="pd", actor="t")
    response = admin_client.post(
        "/admin/leads/webhookintegration/", {"action": "renew", "_selected_action": [row.pk]}
    )
    row.refresh_from_db()
    page = response.content.decode()
    new = page.split("password</th><td><code>")[1].split("</code>")[0]
    assert new != old.password and row.password_hash == "sha256:" + hashlib.sha256(new.encode()).hexdigest()
    assert AuditEntry.objects.filter(action="webhook_integration.renew").count() == 1


def test_a_mautic_secret_typed_in_the_change_form_replaces_the_old(admin_client, client, organization):
    row, old = webhook_integration_create(organization=organization, kind="mautic", name="m", actor="t")
    url = f"/admin/leads/webhookintegration/{row.pk}/change/"
    admin_client.post(
        url, {"name": "Mautic", "public_url": "", "active": "on", "new_secret": "mautic-own-secret-123"}
    )
    row.refresh_from_db()
    assert row.name == "Mautic" and unseal(row.secret_sealed) == "mautic-own-secret-123"
    body = b'{"mautic.lead_post_save_new": []}'
    old_sig = base64.b64encode(hmac.new(old.secret.encode(), body, hashlib.sha256).digest()).decode()
    assert client.post(f"/hooks/mautic/{row.slug}/", data=body, content_type="application/json",
                       HTTP_WEBHOOK_SIGNATURE=old_sig).status_code == 401  # fmt: skip
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"webhook_integration.update", "webhook_integration.renew"} <= actions


def test_the_migration_seals_secrets_and_hashes_passwords_kept_in_clear(organization):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("leadpact.leads.migrations.0007_secrets_at_rest_replays_heartbeat")
    hook, _ = webhook_integration_create(organization=organization, kind="generic", name="g", actor="t")
    pipe, _ = webhook_integration_create(organization=organization, kind="pipedrive", name="p", actor="t")
    WebhookIntegration.objects.filter(pk=hook.pk).update(secret_sealed="plain-old-secret")  # as stored before
    WebhookIntegration.objects.filter(pk=pipe.pk).update(password_hash="plain-old-password")
    sealed_before = WebhookIntegration.objects.get(pk=pipe.pk).secret_sealed
    migration.seal_existing(apps, None)
    hook.refresh_from_db()
    pipe.refresh_from_db()
    assert hook.secret_sealed.startswith("v1:") and unseal(hook.secret_sealed) == "plain-old-secret"
    assert pipe.password_hash == "sha256:" + hashlib.sha256(b"plain-old-password").hexdigest()
    assert pipe.secret_sealed == sealed_before
    migration.seal_existing(apps, None)  # twice changes nothing
    assert unseal(WebhookIntegration.objects.get(pk=hook.pk).secret_sealed) == "plain-old-secret"
