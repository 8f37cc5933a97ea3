"""Issue 15 case 6: every item of a delivery is stored, applied, or named as ignored with its reason."""

from __future__ import annotations

import json

import pytest

from leadpact.connectors.webhooks import WebhookPayloadError, parse_generic, parse_hubspot, parse_pipedrive


def hubspot_object(type_id: str, name: str, value: str, object_id: int = 501) -> dict:
    return {"eventId": 7, "subscriptionId": 9, "portalId": 1, "occurredAt": 1791360000123,
            "subscriptionType": "object.propertyChange", "objectTypeId": type_id, "objectId": object_id,
            "propertyName": name, "propertyValue": value, "attemptNumber": 0}  # fmt: skip


class TestHubspotObjects:
    def test_a_contacts_owner_change_is_an_assignment(self):
        parsed = parse_hubspot(json.dumps([hubspot_object("0-1", "hubspot_owner_id", "7301")]))
        assert [(e.kind, e.external_id, e.data) for e in parsed.events] == [
            ("assigned", "501", {"value": "7301"})
        ]
        assert parsed.ignored_items == ()

    def test_a_lifecycle_change_of_a_contact_object_is_its_event(self):
        parsed = parse_hubspot(
            json.dumps([hubspot_object("0-1", "lifecyclestage", "marketingqualifiedlead")])
        )
        assert [e.kind for e in parsed.events] == ["handed_over"]

    def test_a_deal_change_is_named_as_ignored(self):
        parsed = parse_hubspot(
            json.dumps(
                [hubspot_object("0-3", "dealstage", "closedwon"), hubspot_object("0-1", "city", "Gent")]
            )
        )
        assert [e.kind for e in parsed.events] == ["field_changed"]
        assert [(p.index, "0-3 (deals)" in p.reason) for p in parsed.ignored_items] == [(0, True)]

    def test_a_deletion_is_named_as_ignored(self):
        body = [{"subscriptionType": "contact.deletion", "objectId": 5, "occurredAt": 1791360000123}]
        parsed = parse_hubspot(json.dumps(body))
        assert parsed.ignored == 1 and "contact.deletion" in parsed.ignored_items[0].reason


class TestGeneric:
    def test_a_body_with_neither_leads_nor_events_is_refused(self):
        with pytest.raises(WebhookPayloadError, match="no leads and no events"):
            parse_generic(json.dumps({"source": "forms"}))

    def test_unknown_top_level_keys_are_named(self):
        parsed = parse_generic(
            json.dumps({"source": "forms", "contacts": [{}], "events": [
                {"external_id": "F-1", "kind": "created", "occurred_at": "2026-11-26T14:05:00Z"}]})
        )  # fmt: skip
        assert len(parsed.events) == 1
        assert ["'contacts'" in p.reason for p in parsed.ignored_items] == [True]


def test_pipedrive_other_entities_say_why():
    parsed = parse_pipedrive(
        json.dumps({"meta": {"action": "change", "entity": "person"}, "data": {"id": 3}})
    )
    assert parsed.ignored == 1 and "leads and deals" in parsed.ignored_items[0].reason
