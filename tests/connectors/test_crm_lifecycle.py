"""Issue 15 case 9: each CRM's standard lifecycle maps onto leadpact's events (README has the tables)."""

from __future__ import annotations

import io
import json

from leadpact.connectors.files import ImportedRow, read_file
from leadpact.connectors.webhooks import parse_hubspot, parse_mautic


def test_hubspot_attempted_to_contact_is_a_field_change_not_an_attempt():
    body = [{"subscriptionType": "contact.propertyChange", "objectId": 5, "occurredAt": 1791360000123,
             "propertyName": "hs_lead_status", "propertyValue": "ATTEMPTED_TO_CONTACT"}]  # fmt: skip
    parsed = parse_hubspot(json.dumps(body))
    assert [(e.kind, e.data) for e in parsed.events] == [
        ("field_changed", {"field": "hs_lead_status", "value": "ATTEMPTED_TO_CONTACT"})
    ]


def mautic_update(stage: str, modified: str) -> str:
    return json.dumps({"mautic.lead_post_save_update": [
        {"contact": {"id": 4711, "dateModified": modified, "stage": {"id": 2, "name": stage},
                     "doNotContact": [], "fields": {"all": {"email": "j@x.nl"}}},
         "timestamp": modified}]})  # fmt: skip


def test_mautic_stage_mql_is_a_handoff_and_consent_follows_do_not_contact():
    parsed = parse_mautic(mautic_update("MQL", "2026-11-27T09:30:00+00:00"))
    assert [(e.kind, e.data) for e in parsed.events] == [("handed_over", {"stage": "MQL"})]
    assert parsed.leads[0].fields.consent is True
    assert [
        e.kind for e in parse_mautic(mautic_update("Sales Qualified Lead", "2026-11-28T09:00:00Z")).events
    ] == ["qualified"]
    assert parse_mautic(mautic_update("Nurture", "2026-11-28T09:00:00Z")).events == ()


def test_a_salesforce_reports_mql_date_is_the_handoff():
    text = (
        '"Lead ID","First Name","Last Name","Company / Account","Lead Status","Create Date","MQL Date"\n'
        '"00Q1","A","B","C","Working - Contacted","26/11/2026 09:00","27/11/2026 10:15"\n'
    )
    with read_file(io.BytesIO(text.encode()), preset="salesforce_report", tz="Europe/Amsterdam") as result:
        rows = [r for r in result if isinstance(r, ImportedRow)]
    assert [e.kind for e in rows[0].events] == ["created", "handed_over"]
