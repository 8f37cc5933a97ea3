"""A test delivery to a webhook receiver: signed as its CRM signs, sent through the real receiver.

The request is built in the process (no network) and handed to :func:`leadpact.leads.hooks.receive`, so
it is verified on its raw bytes, stored as a delivery and processed exactly as the CRM's would be. Its
body carries only items leadpact ignores (it adds no lead and no event) and a fresh nonce, so every test
is a delivery of its own. Pipedrive cannot be tested this way: only Pipedrive knows the password
(leadpact keeps its hash).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.test.client import RequestFactory
from django.urls import reverse
from django.utils import timezone

from leadpact.audit.services import Actor, audit_record
from leadpact.connectors.webhooks import hubspot_v3_uri, sign_generic
from leadpact.errors import ApplicationError
from leadpact.leads._secrets import SecretUnreadable, unseal
from leadpact.leads.models import WebhookDelivery, WebhookIntegration

__all__ = ["WebhookProbe", "webhook_probe_send", "webhook_url"]


@dataclass(frozen=True, slots=True)
class WebhookProbe:
    """What the receiver answered, and the delivery it stored (None when it refused the request)."""

    status: int
    answer: dict[str, object]
    delivery: WebhookDelivery | None


def webhook_url(integration: WebhookIntegration, *, base: str) -> str:
    """The receiver's URL on ``base`` (``https://host``): the address to give the CRM."""
    path = reverse("hooks:receive", kwargs={"kind": integration.kind, "slug": integration.slug})
    return base.rstrip("/") + path


def _body(kind: str, nonce: str, now: dt.datetime) -> bytes:
    if kind == WebhookIntegration.Kind.HUBSPOT:
        item = {
            "subscriptionType": "leadpact.test",
            "objectId": f"leadpact-test-{nonce}",
            "occurredAt": int(now.timestamp() * 1000),
            "eventId": nonce,
        }
        return json.dumps([item]).encode()
    if kind == WebhookIntegration.Kind.MAUTIC:
        return json.dumps({"leadpact.test": [], "timestamp": now.isoformat(), "nonce": nonce}).encode()
    return json.dumps({"source": "leadpact-test", "leads": [], "events": [], "test": nonce}).encode()


def webhook_probe_send(
    *, integration: WebhookIntegration, base: str, actor: Actor, now: dt.datetime | None = None
) -> WebhookProbe:
    """Send a signed test delivery to ``integration`` through the receiver, as if from ``base``."""
    from leadpact.leads.hooks import receive  # the view: imported here, the URLconf imports this app

    moment = timezone.now() if now is None else now
    if integration.kind == WebhookIntegration.Kind.PIPEDRIVE:
        raise ApplicationError(
            "webhook.test.pipedrive",
            "Pipedrive signs in with a password only Pipedrive knows: send a test from Pipedrive's webhook "
            "settings",
        )
    try:
        secret = unseal(integration.secret_sealed).encode()
    except SecretUnreadable as error:
        raise ApplicationError("webhook.test.secret", f"the secret cannot be used: {error}") from error
    url = webhook_url(integration, base=base)
    parts = urlsplit(url)
    body = _body(integration.kind, secrets.token_hex(8), moment)
    headers: dict[str, str] = {}
    if integration.kind == WebhookIntegration.Kind.HUBSPOT:
        stamp = str(int(moment.timestamp() * 1000))
        signed = integration.public_url or url
        message = b"POST" + hubspot_v3_uri(signed).encode() + body + stamp.encode()
        headers = {
            "X-HubSpot-Signature-v3": base64.b64encode(
                hmac.new(secret, message, hashlib.sha256).digest()
            ).decode(),
            "X-HubSpot-Request-Timestamp": stamp,
        }
    elif integration.kind == WebhookIntegration.Kind.MAUTIC:
        headers = {
            "Webhook-Signature": base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()
        }
    else:
        headers = sign_generic(body, secret=secret, timestamp=int(moment.timestamp()))
    request = RequestFactory().post(
        parts.path,
        data=body,
        content_type="application/json",
        secure=parts.scheme == "https",
        headers={"Host": parts.netloc, "User-Agent": "leadpact test delivery", **headers},
    )
    response = receive(request, integration.kind, integration.slug)
    answer = json.loads(response.content or b"{}")
    delivery_id = answer.get("delivery")
    delivery = (
        WebhookDelivery.objects.filter(integration=integration, pk=delivery_id).first()
        if isinstance(delivery_id, int)
        else None
    )
    audit_record(
        actor=actor,
        action="webhook_integration.test",
        obj=integration,
        at=moment,
        after={"status": response.status_code, "delivery": delivery_id},
        organization=integration.organization,
    )
    return WebhookProbe(status=response.status_code, answer=answer, delivery=delivery)
