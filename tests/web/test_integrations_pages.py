"""Integrations: API tokens shown once and revoked, webhook receivers with their URL and secret shown once,
a signed test delivery through the real receiver, the last deliveries; organisation admins only."""

from __future__ import annotations

import json
import time

import pytest

from leadpact.connectors.webhooks import sign_generic
from leadpact.leads.models import ApiToken, Lead, WebhookDelivery, WebhookIntegration
from leadpact.leads.services import api_token_authenticate, api_token_create, webhook_integration_create
from leadpact.organization.models import Membership, Organization
from tests.conftest import member_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(demo):
    return demo.agreement.organization


@pytest.fixture
def admin(org):
    return member_client(org, role=Membership.Role.ADMIN, username="ops")


def _shown(html: str) -> list[str]:
    start = html.index('class="card shown-once"')
    chunk = html[start : html.index("</div>", start)]
    return [part.split("</code>")[0] for part in chunk.split("data-copy>")[1:]]


def test_a_token_is_shown_once_works_and_stops_working_when_revoked(admin, org):
    response = admin.post(
        "/data/integrations/", {"action": "token", "token-name": "Zapier", "token-scope": "write"}
    )
    assert response.status_code == 302
    page = admin.get("/data/integrations/").content.decode()
    [token] = _shown(page)
    row = ApiToken.objects.get(organization=org, name="Zapier")
    assert token.startswith(f"lp_{row.prefix}_") and row.scope == "write"
    assert api_token_authenticate(token) == row
    again = admin.get("/data/integrations/").content.decode()
    assert token not in again and "shown-once" not in again  # shown once, never again
    assert f"lp_{row.prefix}_…" in again
    assert admin.post(f"/data/integrations/tokens/{row.pk}/revoke/").status_code == 302
    assert api_token_authenticate(token) is None
    assert "revoked" in admin.get("/data/integrations/").content.decode()


def test_a_token_without_a_name_is_refused_on_the_field(admin, org):
    response = admin.post("/data/integrations/", {"action": "token", "token-name": "", "token-scope": "read"})
    assert response.status_code == 400
    assert 'id="id_token-name-error"' in response.content.decode()
    assert not ApiToken.objects.filter(organization=org).exists()


def test_a_receiver_shows_its_url_from_the_request_host_and_its_secret_once(admin, org):
    response = admin.post(
        "/data/integrations/",
        {"action": "webhook", "hook-kind": "generic", "hook-name": "Our CRM"},
        secure=True,
    )
    assert response.status_code == 302
    hook = WebhookIntegration.objects.get(organization=org, name="Our CRM")
    page = admin.get(response["Location"], secure=True).content.decode()
    url = f"https://testserver/hooks/generic/{hook.slug}/"
    assert url in page
    [line] = _shown(page)
    secret = line.removeprefix("secret: ")
    assert len(secret) >= 16
    assert secret not in admin.get(response["Location"]).content.decode()
    # the CRM signs with that secret: the real receiver takes it
    body = json.dumps(
        {"source": "crm", "leads": [{"external_id": "W-1", "fields": {"name": "Wim Web"}}], "events": []}
    ).encode()
    signed = sign_generic(body, secret=secret, timestamp=int(time.time()))
    answer = admin.post(f"/hooks/generic/{hook.slug}/", body, content_type="application/json", headers=signed)
    assert answer.status_code == 200, answer.content
    assert Lead.objects.filter(organization=org, name="Wim Web").exists()
    listing = admin.get(f"/data/integrations/webhooks/{hook.pk}/").content.decode()
    assert "processed" in listing


def test_hubspot_needs_its_client_secret_said_on_the_field(admin, org):
    response = admin.post(
        "/data/integrations/", {"action": "webhook", "hook-kind": "hubspot", "hook-name": "HS"}
    )
    assert response.status_code == 400
    assert "client secret" in response.content.decode()
    assert not WebhookIntegration.objects.filter(organization=org).exists()


@pytest.mark.parametrize("kind", ["generic", "hubspot", "mautic"])
def test_send_a_test_is_a_signed_delivery_through_the_receiver(admin, org, kind):
    hook, _credentials = webhook_integration_create(
        organization=org, kind=kind, name=kind, secret="a-client-secret-long-enough", actor="test"
    )
    leads_before = Lead.objects.count()
    response = admin.post(f"/data/integrations/webhooks/{hook.pk}/test/")
    assert response.status_code == 302
    delivery = WebhookDelivery.objects.get(integration=hook)
    assert delivery.status == "processed" and delivery.events_stored == 0
    assert Lead.objects.count() == leads_before  # a test adds no lead
    page = admin.get(response["Location"]).content.decode()
    assert "The test delivery was verified and processed" in page
    assert ">test<" in page
    # a second test is a delivery of its own
    admin.post(f"/data/integrations/webhooks/{hook.pk}/test/")
    assert WebhookDelivery.objects.filter(integration=hook).count() == 2


def test_a_test_of_an_inactive_receiver_is_refused_as_the_crm_would_be(admin, org):
    hook, _credentials = webhook_integration_create(
        organization=org, kind="generic", name="Off", actor="test"
    )
    assert (
        admin.post(f"/data/integrations/webhooks/{hook.pk}/", {"name": "Off", "public_url": ""}).status_code
        == 302
    )
    hook.refresh_from_db()
    assert hook.active is False
    page = admin.get(admin.post(f"/data/integrations/webhooks/{hook.pk}/test/")["Location"]).content.decode()
    assert "refused the test delivery (404)" in page
    assert not WebhookDelivery.objects.filter(integration=hook).exists()


def test_pipedrive_cannot_be_tested_and_says_why(admin, org):
    hook, credentials = webhook_integration_create(
        organization=org, kind="pipedrive", name="PD", actor="test"
    )
    assert credentials.password
    page = admin.get(admin.post(f"/data/integrations/webhooks/{hook.pk}/test/")["Location"]).content.decode()
    assert "only Pipedrive knows" in page


def test_a_new_secret_is_shown_once_and_the_old_one_stops(admin, org):
    hook, credentials = webhook_integration_create(organization=org, kind="generic", name="G", actor="test")
    response = admin.post(f"/data/integrations/webhooks/{hook.pk}/", {"action": "renew"})
    [line] = _shown(admin.get(response["Location"]).content.decode())
    assert line.startswith("secret: ") and line != f"secret: {credentials.secret}"


@pytest.mark.parametrize("role", [Membership.Role.MEMBER, Membership.Role.VIEWER])
def test_members_and_viewers_are_refused(org, role):
    token, _text = api_token_create(organization=org, name="Z", scope="read", actor="test")
    hook, _credentials = webhook_integration_create(organization=org, kind="generic", name="G", actor="test")
    client = member_client(org, role=role, username=f"u-{role}")
    assert client.get("/data/integrations/").status_code == 403
    assert (
        client.post(
            "/data/integrations/", {"action": "token", "token-name": "x", "token-scope": "write"}
        ).status_code
        == 403
    )
    assert client.post(f"/data/integrations/tokens/{token.pk}/revoke/").status_code == 403
    assert client.get(f"/data/integrations/webhooks/{hook.pk}/").status_code == 403
    assert client.post(f"/data/integrations/webhooks/{hook.pk}/test/").status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None and ApiToken.objects.count() == 1
    assert not WebhookDelivery.objects.exists()


def test_another_organisations_token_and_receiver_are_not_found(org):
    token, _text = api_token_create(organization=org, name="Z", scope="read", actor="test")
    hook, _credentials = webhook_integration_create(organization=org, kind="generic", name="G", actor="test")
    other = Organization.objects.create(key="other", name="Other B.V.")
    outsider = member_client(other, role=Membership.Role.ADMIN, username="outsider")
    assert outsider.post(f"/data/integrations/tokens/{token.pk}/revoke/").status_code == 404
    assert outsider.get(f"/data/integrations/webhooks/{hook.pk}/").status_code == 404
    assert outsider.post(f"/data/integrations/webhooks/{hook.pk}/test/").status_code == 404
    assert outsider.post(f"/data/integrations/webhooks/{hook.pk}/", {"action": "renew"}).status_code == 404
    page = outsider.get("/data/integrations/").content.decode()
    assert hook.slug not in page and token.prefix not in page
    token.refresh_from_db()
    assert token.revoked_at is None
