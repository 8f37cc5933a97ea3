"""Webhook receivers: a good signature is stored and processed, a bad one is refused, logged and never
processed, a replay creates nothing new, a crash between store and process loses nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest

from leadpact.connectors.webhooks import sign_generic
from leadpact.leads.models import Lead, LeadEvent, LeadSource, WebhookDelivery, WebhookRejection
from leadpact.leads.services import webhook_integration_create
from leadpact.leads.webhooks import webhook_deliveries_process_pending, webhook_delivery_store

SAMPLES = Path(__file__).parents[1] / "connectors" / "samples"
GENERIC = "generic-signing-secret-0123456789"
HUBSPOT = "hubspot-client-secret-0123456789"


@pytest.fixture
def generic(organization):
    return webhook_integration_create(
        organization=organization, kind="generic", name="forms", slug="forms", secret=GENERIC, actor="test"
    )[0]


@pytest.fixture
def hubspot(organization):
    return webhook_integration_create(
        organization=organization, kind="hubspot", name="hs", slug="hs", secret=HUBSPOT, actor="test"
    )[0]


def send_generic(client, body: bytes, *, secret: str = GENERIC, slug: str = "forms"):
    headers = sign_generic(body, secret=secret, timestamp=int(time.time()))
    return client.post(
        f"/hooks/generic/{slug}/",
        data=body,
        content_type="application/json",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
    )


def hubspot_headers(body: bytes, uri: str, secret: str = HUBSPOT) -> dict[str, str]:
    stamp = str(int(time.time() * 1000))
    message = b"POST" + uri.encode() + body + stamp.encode()
    signature = base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()
    return {"HTTP_X_HUBSPOT_SIGNATURE_V3": signature, "HTTP_X_HUBSPOT_REQUEST_TIMESTAMP": stamp}


class TestGeneric:
    def test_good_signature_is_stored_and_processed(self, client, generic, people):
        body = (SAMPLES / "generic_webhook.json").read_bytes()
        response = send_generic(client, body)
        assert response.status_code == 200
        assert response.json()["status"] == "processed"
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "processed" and bytes(delivery.body) == body
        assert LeadSource.objects.filter(source="formtool", external_id="F-1001").exists()
        assert LeadEvent.objects.count() == delivery.events_stored > 0

    def test_bad_signature_is_401_logged_and_not_processed(self, client, generic, caplog):
        body = (SAMPLES / "generic_webhook.json").read_bytes()
        response = send_generic(client, body, secret="wrong")
        assert response.status_code == 401
        rejection = WebhookRejection.objects.get()
        assert rejection.integration == generic
        assert "does not match" in rejection.reason
        assert "webhook refused" in caplog.text
        assert WebhookDelivery.objects.count() == 0 and Lead.objects.count() == 0

    def test_unsigned_and_unknown_are_refused(self, client, generic):
        body = b'{"leads": []}'
        assert (
            client.post("/hooks/generic/forms/", data=body, content_type="application/json").status_code
            == 401
        )
        assert send_generic(client, body, slug="nope").status_code == 404
        assert client.get("/hooks/generic/forms/").status_code == 405
        assert WebhookRejection.objects.count() == 2
        assert WebhookDelivery.objects.count() == 0

    def test_replay_creates_nothing_new(self, client, generic):
        body = (SAMPLES / "generic_webhook.json").read_bytes()
        send_generic(client, body)
        counts = (Lead.objects.count(), LeadEvent.objects.count())
        again = send_generic(client, body)
        assert again.status_code == 200 and again.json()["events_stored"] == 0
        assert (Lead.objects.count(), LeadEvent.objects.count()) == counts
        assert again.json()["status"] == "duplicate"  # the same body is one delivery, applied once
        assert WebhookDelivery.objects.count() == 1

    def test_not_the_senders_shape_fails_the_delivery(self, client, generic):
        response = send_generic(client, b"[1, 2]")
        assert response.status_code == 200 and response.json()["status"] == "failed"
        assert "json object" in WebhookDelivery.objects.get().error

    def test_a_stored_but_unprocessed_delivery_is_processed_later(self, generic):
        body = (SAMPLES / "generic_webhook.json").read_bytes()
        from django.utils import timezone

        webhook_delivery_store(integration=generic, headers={}, body=body, now=timezone.now())
        assert Lead.objects.count() == 0  # as if the process died right after storing
        assert webhook_deliveries_process_pending() == {"processed": 1, "failed": 0, "stuck": 0}
        assert WebhookDelivery.objects.get().status == "processed"
        assert Lead.objects.count() > 0
        assert webhook_deliveries_process_pending() == {"processed": 0, "failed": 0, "stuck": 0}


class TestHubspot:
    def test_v3_signed_batch_with_repeated_event_ids(self, client, hubspot):
        body = (SAMPLES / "hubspot_webhook.json").read_bytes()
        items = json.loads(body)
        uri = "http://testserver/hooks/hubspot/hs/"
        response = client.post(
            "/hooks/hubspot/hs/", data=body, content_type="application/json", **hubspot_headers(body, uri)
        )
        assert response.status_code == 200, response.content
        stored = LeadEvent.objects.count()
        assert stored > 0
        assert len({i["eventId"] for i in items}) < len(
            items
        )  # HubSpot repeats eventIds across subscriptions
        replay = client.post(
            "/hooks/hubspot/hs/", data=body, content_type="application/json", **hubspot_headers(body, uri)
        )
        assert replay.json()["events_stored"] == 0
        assert LeadEvent.objects.count() == stored

    def test_bad_v3_signature(self, client, hubspot):
        body = (SAMPLES / "hubspot_webhook.json").read_bytes()
        headers = hubspot_headers(body, "http://testserver/hooks/hubspot/hs/", secret="other")
        response = client.post("/hooks/hubspot/hs/", data=body, content_type="application/json", **headers)
        assert response.status_code == 401
        assert WebhookRejection.objects.count() == 1 and LeadEvent.objects.count() == 0


class TestPipedriveAndMautic:
    def test_pipedrive_basic_auth(self, client, organization):
        _, shown = webhook_integration_create(
            organization=organization, kind="pipedrive", name="pd", slug="pd", username="u", actor="t"
        )
        assert shown.username == "u" and len(shown.password) >= 32
        body = (SAMPLES / "pipedrive_lead_created.json").read_bytes()
        good = "Basic " + base64.b64encode(f"u:{shown.password}".encode()).decode()
        bad = "Basic " + base64.b64encode(b"u:x").decode()
        refused = client.post(
            "/hooks/pipedrive/pd/", data=body, content_type="application/json", HTTP_AUTHORIZATION=bad
        )
        assert refused.status_code == 401 and LeadEvent.objects.count() == 0
        ok = client.post(
            "/hooks/pipedrive/pd/", data=body, content_type="application/json", HTTP_AUTHORIZATION=good
        )
        assert ok.status_code == 200 and ok.json()["status"] == "processed"
        assert Lead.objects.count() == 1

    def test_mautic_signature(self, client, organization):
        _, shown = webhook_integration_create(
            organization=organization, kind="mautic", name="m", slug="m", actor="t"
        )
        body = (SAMPLES / "mautic_webhook.json").read_bytes()
        key = shown.secret.encode()
        signature = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
        ok = client.post(
            "/hooks/mautic/m/", data=body, content_type="application/json", HTTP_WEBHOOK_SIGNATURE=signature
        )
        assert ok.status_code == 200 and ok.json()["status"] == "processed"
        assert Lead.objects.count() >= 1
