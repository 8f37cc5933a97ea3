"""The webhook receiver: ``POST /hooks/<kind>/<slug>/``, no login, verified by signature or credentials."""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from leadpact.connectors.salesforce_live import ACK, fault
from leadpact.leads.models import WebhookIntegration
from leadpact.leads.webhooks import (
    webhook_delivery_failed,
    webhook_delivery_process,
    webhook_delivery_store,
    webhook_reject,
    webhook_verify,
)

__all__ = ["receive"]

logger = logging.getLogger("leadpact.webhooks")


_SOAP = "text/xml; charset=utf-8"


@csrf_exempt
@require_POST
def receive(request: HttpRequest, kind: str, slug: str) -> HttpResponse:
    """:func:`_receive`, answered as Salesforce's Outbound Messages expect for that kind: ``<Ack>true</Ack>``
    once the message is stored (it is resent for 24 hours until then), a SOAP fault otherwise."""
    response = _receive(request, kind, slug)
    if kind != WebhookIntegration.Kind.SALESFORCE:
        return response
    if response.status_code < 300:
        return HttpResponse(ACK, content_type=_SOAP)
    detail = json.loads(response.content).get("detail", "refused")
    return HttpResponse(fault(str(detail)), content_type=_SOAP, status=response.status_code)


def _receive(request: HttpRequest, kind: str, slug: str) -> HttpResponse:
    """Verify on the raw bytes; 401 (logged, never processed) if it fails; else store, then process.

    The delivery is committed before it is processed; if processing fails the delivery stays pending for
    ``leadpact webhooks process`` and the sender still gets a 2xx, so it does not retry forever. A body
    delivered before is answered ``duplicate`` and not applied again.
    """
    now = timezone.now()
    body = request.body
    remote = str(request.META.get("REMOTE_ADDR", ""))
    integration = (
        WebhookIntegration.objects.select_related("organization").filter(slug=slug, kind=kind).first()
    )
    if integration is None or not integration.active:
        webhook_reject(
            integration=integration,
            path=request.path,
            reason="unknown or inactive webhook",
            remote_addr=remote,
            now=now,
        )
        return JsonResponse({"detail": "unknown webhook"}, status=404)
    headers = dict(request.headers.items())
    verdict = webhook_verify(
        integration,
        headers=headers,
        method=request.method or "POST",
        uri=request.build_absolute_uri(),
        body=body,
        now=now,
    )
    if not verdict:
        webhook_reject(
            integration=integration, path=request.path, reason=verdict.reason, remote_addr=remote, now=now
        )
        return JsonResponse({"detail": f"not verified: {verdict.reason}"}, status=401)
    delivery, new = webhook_delivery_store(integration=integration, headers=headers, body=body, now=now)
    if not new:  # the same body again: acknowledged, not applied twice
        return JsonResponse({"delivery": delivery.pk, "status": "duplicate", "events_stored": 0})
    try:
        done = webhook_delivery_process(delivery, now=now)
    except Exception as error:
        logger.exception("webhook delivery %s not processed; it stays pending", delivery.pk)
        webhook_delivery_failed(delivery, error, now=now)
        return JsonResponse({"delivery": delivery.pk, "status": "pending"}, status=202)
    return JsonResponse({"delivery": done.pk, "status": done.status, "events_stored": done.events_stored})
