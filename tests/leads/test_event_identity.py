"""Issue 15 case 1: one fact from two sources is one event, kept at its most precise instant."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from django.utils import timezone

from leadpact.leads._identity import same_event
from leadpact.leads.imports import lead_import
from leadpact.leads.models import LeadEvent, WebhookDelivery
from leadpact.leads.services import webhook_integration_create
from leadpact.leads.webhooks import webhook_delivery_process

UTC = dt.UTC
HUBSPOT_CSV = (
    "Record ID,First Name,Last Name,Email,Create Date,Became a Marketing Qualified Lead Date,Last Contacted\n"
    "501,Anna,Jansen,anna@example.nl,2026-10-07 09:30,2026-10-07 10:00,2026-10-07 10:05\n"
)


def _ms(at: dt.datetime) -> int:
    return int(at.timestamp() * 1000)


def hubspot_body(object_id: int, items: list[tuple[str, dict]]) -> bytes:
    out = []
    for n, (subscription, extra) in enumerate(items):
        out.append({"objectId": object_id, "subscriptionType": subscription, "eventId": n, "portalId": 1,
                    "subscriptionId": 9, "attemptNumber": 0, **extra})  # fmt: skip
    return json.dumps(out).encode()


def deliver(integration, body: bytes) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        integration=integration, headers={}, body=body, body_digest=hashlib.sha256(body).digest(),
        received_at=timezone.now(),
    )  # fmt: skip
    return webhook_delivery_process(delivery)


HANDOFF = dt.datetime(2026, 10, 7, 8, 0, 0, 123000, tzinfo=UTC)  # 10:00:00.123 in Amsterdam
CREATED = dt.datetime(2026, 10, 7, 7, 30, 0, 456000, tzinfo=UTC)


def webhook_items() -> list[tuple[str, dict]]:
    return [
        ("contact.creation", {"occurredAt": _ms(CREATED)}),
        ("contact.propertyChange", {"occurredAt": _ms(HANDOFF), "propertyName": "lifecyclestage",
                                    "propertyValue": "marketingqualifiedlead"}),
    ]  # fmt: skip


def live(kind: str) -> list[LeadEvent]:
    voided = {e.data.get("event_id") for e in LeadEvent.objects.filter(kind="voided")}
    return [e for e in LeadEvent.objects.filter(kind=kind).order_by("id") if e.pk not in voided]


@pytest.fixture
def hubspot(organization):
    return webhook_integration_create(organization=organization, kind="hubspot", name="hs", slug="hs",
                                      secret="hubspot-client-secret-0123456789", actor="test")[0]  # fmt: skip


def test_csv_then_webhook_is_one_handoff_at_the_webhooks_instant(organization, hubspot, tmp_path: Path):
    path = tmp_path / "contacts.csv"
    path.write_text(HUBSPOT_CSV)
    lead_import(organization=organization, path=path, preset="hubspot", tz="Europe/Amsterdam")
    assert [e.occurred_at for e in live("handed_over")] == [dt.datetime(2026, 10, 7, 8, 0, tzinfo=UTC)]
    done = deliver(hubspot, hubspot_body(501, webhook_items()))
    assert done.status == "processed", done.error
    handoffs = live("handed_over")
    assert [e.occurred_at for e in handoffs] == [HANDOFF]  # the most precise instant is kept
    assert [e.occurred_at for e in live("created")] == [CREATED]
    void = LeadEvent.objects.filter(kind="voided").first()
    assert void is not None and "more precise" in void.data["reason"]
    lead = handoffs[0].lead
    assert lead.state.handed_over_at == HANDOFF and lead.state.handoffs == 1
    # the first attempt (10:05 local) is after the handoff, whichever report of the handoff is kept
    assert lead.state.first_attempt_at > lead.state.handed_over_at


def test_webhook_then_csv_adds_nothing(organization, hubspot, tmp_path: Path):
    deliver(hubspot, hubspot_body(501, webhook_items()))
    path = tmp_path / "contacts.csv"
    path.write_text(HUBSPOT_CSV)
    lead_import(organization=organization, path=path, preset="hubspot", tz="Europe/Amsterdam")
    assert [e.occurred_at for e in live("handed_over")] == [HANDOFF]
    assert [e.occurred_at for e in live("created")] == [CREATED]
    assert not LeadEvent.objects.filter(kind="voided").exists()
    assert len(live("contact_attempt")) == 1


def test_salesforce_report_date_then_bulk_export_is_one_creation(organization, tmp_path: Path):
    report = tmp_path / "report.csv"
    report.write_text(
        '"Lead ID","First Name","Last Name","Company / Account","Lead Status","Create Date"\n'
        '"00Q5g00000AbCdEEA1","Sanne","de Vries","Bakkerij","Open - Not Contacted","26/11/2026"\n'
    )
    bulk = tmp_path / "bulk.csv"
    bulk.write_text(
        '"Id","FirstName","LastName","Company","Status","CreatedDate","LastModifiedDate"\n'
        '"00Q5g00000AbCdEEA1","Sanne","de Vries","Bakkerij","Open - Not Contacted",'
        '"2026-11-26T14:05:00.000Z","2026-11-26T14:05:00.000Z"\n'
    )
    lead_import(organization=organization, path=report, preset="salesforce_report", dayfirst=True,
                tz="Europe/Amsterdam")  # fmt: skip
    lead_import(organization=organization, path=bulk, preset="salesforce_bulk", tz="Europe/Amsterdam")
    assert [e.occurred_at for e in live("created")] == [dt.datetime(2026, 11, 26, 14, 5, tzinfo=UTC)]


def test_two_calls_a_second_apart_stay_two(organization, hubspot):
    first = dt.datetime(2026, 10, 7, 8, 0, 1, tzinfo=UTC)
    second = dt.datetime(2026, 10, 7, 8, 0, 2, tzinfo=UTC)
    assert not same_event(first, "second", second, "second")
    assert same_event(dt.datetime(2026, 10, 6, 22, 0, tzinfo=UTC), "day", second, "millisecond")
    assert not same_event(dt.datetime(2026, 10, 7, 22, 0, tzinfo=UTC), "day", second, "millisecond")


def test_a_refinement_that_would_reorder_the_leads_facts_is_not_applied():
    """An export's handoff and call in one minute: the webhook's handoff at .123 would fall after the call."""
    from leadpact.leads._identity import resolve

    minute = dt.datetime(2026, 10, 7, 13, 31, tzinfo=UTC)
    stored = [
        (1, 9, "handed_over", minute, {"precision": "minute"}),
        (2, 9, "contact_attempt", minute, {"precision": "minute"}),
    ]
    fine = minute + dt.timedelta(milliseconds=123)
    decided = resolve([(0, 9, "handed_over", fine, {})], stored)
    assert decided.same == {0: 1} and not decided.supersede
    # a call later in the minute is after the refined handoff either way: the refinement applies
    later = [stored[0], (2, 9, "contact_attempt", minute + dt.timedelta(minutes=1), {"precision": "minute"})]
    assert resolve([(0, 9, "handed_over", fine, {})], later).supersede == {0: 1}
