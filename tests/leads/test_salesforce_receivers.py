"""Issue 15 case 10: Salesforce in real time — Outbound Messages (SOAP, acknowledged, organisation id
checked) and Change Data Capture events (JSON, replay id kept)."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from leadpact.connectors.salesforce_live import ACK, parse_cdc, parse_outbound_message
from leadpact.connectors.webhooks import WebhookPayloadError, sign_generic
from leadpact.errors import ApplicationError
from leadpact.leads.models import Lead, LeadEvent, WebhookIntegration, WebhookRejection
from leadpact.leads.services import webhook_integration_create
from tests.organization.factories import make_person, make_team

SAMPLES = Path(__file__).parents[1] / "connectors" / "samples"
OUTBOUND = (SAMPLES / "salesforce_outbound.xml").read_bytes()
CDC = (SAMPLES / "salesforce_cdc.json").read_bytes()
UTC = dt.UTC


def test_outbound_message_parses_leads_and_names_the_contact_it_ignores():
    parsed = parse_outbound_message(OUTBOUND)
    assert [(r.external_id, r.fields.name, r.fields.consent, r.sales_owner) for r in parsed.leads] == [
        ("00Q5g00000AbCdEEA1", "Sanne de Vries", True, "0055g00000AAAAAAA1")
    ]
    assert [(e.kind, e.occurred_at) for e in parsed.events] == [
        ("created", dt.datetime(2026, 11, 2, 8, 14, tzinfo=UTC)),
        ("handed_over", dt.datetime(2026, 11, 2, 9, 0, tzinfo=UTC)),
        ("accepted", dt.datetime(2026, 11, 3, 9, 30, 12, tzinfo=UTC)),
    ]
    assert "Contact" in parsed.ignored_items[0].reason


def test_a_doctype_is_refused():
    with pytest.raises(WebhookPayloadError, match="DOCTYPE"):
        parse_outbound_message(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')


def test_cdc_events_become_events_and_the_replay_id_is_the_highest():
    parsed = parse_cdc(CDC)
    assert parsed.cursor == "16003"
    kinds = [(e.kind, e.occurred_at) for e in parsed.events]
    assert kinds[0] == ("created", dt.datetime(2026, 11, 30, 9, 20, tzinfo=UTC))
    assert ("rejected", dt.datetime(2026, 11, 30, 10, 20, 0, 456000, tzinfo=UTC)) in kinds
    assert [e.data for e in parsed.events if e.kind == "field_changed"] == [
        {"field": "Rating", "value": "Cold"}
    ]
    assert "GAP_UPDATE" in parsed.ignored_items[0].reason


@pytest.fixture
def outbound(organization):
    return webhook_integration_create(organization=organization, kind="salesforce", name="sf", slug="sf-x1",
                                      account_id="00D5g000004FAKEEA4", actor="test")[0]  # fmt: skip


def test_the_receiver_acknowledges_and_stores(client, outbound, organization):
    sales = make_team(organization, "sales")
    julia = make_person(sales, "Julia Bos")
    julia.crm_ids = {"salesforce": "0055g00000AAAAA"}
    julia.save()
    response = client.post("/hooks/salesforce/sf-x1/", data=OUTBOUND, content_type="text/xml")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    assert response.content.decode() == ACK
    lead = Lead.objects.get(sources__external_id="00Q5g00000AbCdEEA1")
    assert lead.sales_owner == julia and lead.consent is True
    assert set(LeadEvent.objects.values_list("kind", flat=True)) == {"created", "handed_over", "accepted"}
    # Salesforce sends again until acknowledged: the same body is acknowledged and adds nothing
    again = client.post("/hooks/salesforce/sf-x1/", data=OUTBOUND, content_type="text/xml")
    assert again.content.decode() == ACK and LeadEvent.objects.count() == 3


def test_another_organisations_message_is_a_fault(client, outbound):
    forged = OUTBOUND.replace(b"00D5g000004FAKEEA4", b"00D5g000009OTHERA4")
    response = client.post("/hooks/salesforce/sf-x1/", data=forged, content_type="text/xml")
    assert response.status_code == 401 and b"<soapenv:Fault>" in response.content
    assert b"is not this integration" in response.content
    assert WebhookRejection.objects.count() == 1 and Lead.objects.count() == 0


def test_an_outbound_integration_needs_the_organisation_id(organization):
    with pytest.raises(ApplicationError, match="organisation id"):
        webhook_integration_create(organization=organization, kind="salesforce", name="sf", actor="test")


def test_cdc_relay_is_signed_and_the_replay_id_kept(client, organization):
    row, shown = webhook_integration_create(organization=organization, kind="salesforce_cdc", name="cdc",
                                            slug="cdc", actor="test")  # fmt: skip
    headers = sign_generic(CDC, secret=shown.secret, timestamp=int(time.time()))
    signed = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    response = client.post("/hooks/salesforce_cdc/cdc/", data=CDC, content_type="application/json", **signed)
    assert response.status_code == 200 and response.json()["status"] == "processed"
    assert WebhookIntegration.objects.get(pk=row.pk).cursor == "16003"
    lead = Lead.objects.get(sources__external_id="00Q5g00000AbCdGEA1")
    assert lead.name == "Lotte Smit" and lead.state.decision == "rejected"
    unsigned = client.post("/hooks/salesforce_cdc/cdc/", data=json.dumps([]), content_type="application/json")
    assert unsigned.status_code == 401


def test_connecting_on_the_cli(organization):
    import io

    from django.core.management import call_command

    sales = make_team(organization, "sales")
    bo = make_person(sales, "Bo Berg")
    out = io.StringIO()
    call_command("webhooks", "add", "salesforce", "Salesforce", "--account-id", "00D5g000004FAKEEA4",
                 "--by", bo.email, stdout=out)  # fmt: skip
    call_command("webhooks", "add", "generic", "Forms", "--slug", "forms", "--by", bo.email, stdout=out)
    text = out.getvalue()
    assert "POST /hooks/salesforce/" in text and "secret (shown this once): " in text
    listed = io.StringIO()
    call_command("webhooks", "list", stdout=listed)
    assert "Forms (generic, active): /hooks/generic/forms/" in listed.getvalue()
    assert "secret" not in listed.getvalue()
