"""Fifty signed webhook deliveries of overlapping batches at once on PostgreSQL: every lead and every
event is stored exactly once, and no delivery fails.  The test database on SQLite is an in-memory one
whose shared cache refuses concurrent writers outright ("table is locked"), so there twenty of the
same deliveries go one after another: the overlap is still proven, the race only on PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client

from leadpact.connectors.webhooks import sign_generic
from leadpact.leads.models import Lead, LeadEvent, LeadSource, WebhookDelivery
from leadpact.leads.services import webhook_integration_create
from tests.organization.factories import make_organization, make_person, make_team

SECRET = "parallel-signing-secret-0123456789"
SPAN = 10  # leads per batch; batch i holds leads i … i+9, so neighbours share nine


def _batch(first: int) -> bytes:
    leads, events = [], []
    for n in range(first, first + SPAN):
        ext = f"P-{n:03d}"
        leads.append(
            {
                "external_id": ext,
                "created_at": "2026-11-26T09:00:00+01:00",
                "fields": {"email": f"p{n}@example.nl", "company": f"Company {n}", "country": "NL"},
            }
        )
        events.append({"external_id": ext, "kind": "handed_over", "occurred_at": "2026-11-26T10:00:00+01:00"})
        events.append(
            {
                "external_id": ext,
                "kind": "contact_attempt",
                "occurred_at": f"2026-11-26T11:{n % 60:02d}:00+01:00",
                "channel": "phone",
                "human": True,
            }
        )
    return json.dumps({"source": "formtool", "leads": leads, "events": events}).encode()


@pytest.mark.django_db(transaction=True)
def test_parallel_overlapping_deliveries_store_every_event_once():
    organization = make_organization()
    make_person(make_team(organization, "marketing"), "Mia Marketing")
    webhook_integration_create(
        organization=organization, kind="generic", name="forms", slug="forms", secret=SECRET, actor="test"
    )
    parallel = connection.vendor == "postgresql"
    deliveries = 50 if parallel else 20
    start = threading.Barrier(deliveries if parallel else 1)

    def deliver(first: int) -> tuple[int, str]:
        body = _batch(first)
        headers = sign_generic(body, secret=SECRET, timestamp=int(time.time()))
        meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        try:
            start.wait(timeout=60)
            response = Client().post(
                "/hooks/generic/forms/", data=body, content_type="application/json", **meta
            )
            return response.status_code, response.json().get("status", "")
        finally:
            if parallel:
                connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=deliveries if parallel else 1) as pool:
        answers = list(pool.map(deliver, range(deliveries)))
    assert answers == [(200, "processed")] * deliveries
    leads = deliveries - 1 + SPAN
    assert LeadSource.objects.filter(source="formtool").count() == leads
    assert Lead.objects.count() == leads
    assert LeadEvent.objects.count() == 2 * leads  # overlapping batches: each event once
    assert LeadEvent.objects.filter(kind="handed_over").values("lead").distinct().count() == leads
    assert not WebhookDelivery.objects.exclude(status="processed").exists()
