"""Duplicates marked by hand (API field, admin action) and event kinds an organisation may store."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from leadpact.leads.models import Lead, LeadEvent, WebhookDelivery
from leadpact.leads.services import api_token_create, webhook_integration_create
from tests.leads.test_api import post
from tests.leads.test_webhooks import GENERIC, send_generic

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(organization, people):
    return api_token_create(organization=organization, name="crm", scope="write", actor="test")[1]


def lead(external_id: str, **fields):
    return {"source": "crm", "external_id": external_id, "email": f"{external_id}@b.nl", **fields}


def stored(external_id: str) -> Lead:
    return Lead.objects.get(sources__external_id=external_id)


class TestApiDuplicateOf:
    def test_set_shown_kept_when_left_out_and_cleared_with_null(self, client, token):
        first = post(client, "/api/leads", lead("one"), token).json()["lead"]
        answer = post(client, "/api/leads", lead("two", duplicate_of=first["id"]), token)
        assert answer.status_code == 201 and answer.json()["lead"]["duplicate_of"] == first["id"]
        again = post(client, "/api/leads", lead("two", name="Twee"), token)
        assert again.json()["lead"]["duplicate_of"] == first["id"]  # left out: unchanged
        cleared = post(client, "/api/leads", lead("two", duplicate_of=None), token)
        assert cleared.json()["lead"]["duplicate_of"] is None and stored("two").duplicate_of_id is None

    @pytest.mark.parametrize("case", ["unknown", "itself", "cycle"])
    def test_a_bad_original_is_refused_naming_the_field_and_nothing_is_stored(self, client, token, case):
        one = post(client, "/api/leads", lead("one"), token).json()["lead"]["id"]
        two = post(client, "/api/leads", lead("two", duplicate_of=one), token).json()["lead"]["id"]
        original = {"unknown": 999_999, "itself": one, "cycle": two}[case]
        answer = post(client, "/api/leads", lead("one", name="Changed", duplicate_of=original), token)
        assert answer.status_code == 422
        error = answer.json()["errors"][0]
        assert error["field"] == "duplicate_of" and str(original) in error["reason"]
        assert stored("one").name == "" and stored("one").duplicate_of_id is None

    def test_batch_keeps_the_valid_items(self, client, token):
        one = post(client, "/api/leads", lead("one"), token).json()["lead"]["id"]
        body = {"leads": [lead("a", duplicate_of=one), lead("b", duplicate_of=123_456_789), lead("c")]}
        answer = post(client, "/api/leads/batch", body, token)
        assert answer.status_code == 422
        assert [(e["index"], e["field"]) for e in answer.json()["errors"]] == [(1, "duplicate_of")]
        assert stored("a").duplicate_of_id == one and stored("c").duplicate_of_id is None
        assert not Lead.objects.filter(sources__external_id="b").exists()


def test_admin_marks_the_selected_leads_as_duplicates_of_the_id_given(client, token):
    ids = [post(client, "/api/leads", lead(x), token).json()["lead"]["id"] for x in ("o", "d1", "d2")]
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "a-long-enough-passphrase")
    browser = Client()
    browser.force_login(admin)
    url = "/admin/leads/lead/"
    answer = browser.post(
        url, {"action": "mark_duplicate", "_selected_action": ids[1:], "original": str(ids[0])}, follow=True
    )
    assert answer.status_code == 200 and "2 lead(s) marked as duplicates" in answer.content.decode()
    assert [stored(x).duplicate_of_id for x in ("d1", "d2")] == [ids[0], ids[0]]
    refused = browser.post(
        url, {"action": "mark_duplicate", "_selected_action": [ids[0]], "original": str(ids[1])}, follow=True
    )
    assert "a duplicate of its own duplicate" in refused.content.decode()
    assert stored("o").duplicate_of_id is None
    browser.post(url, {"action": "clear_duplicate", "_selected_action": ids[1:]}, follow=True)
    assert [stored(x).duplicate_of_id for x in ("d1", "d2")] == [None, None]


def test_a_webhook_kind_no_agreement_declares_is_noted_and_resumed_is_stored(client, organization, people):
    webhook_integration_create(
        organization=organization, kind="generic", name="forms", slug="forms", secret=GENERIC, actor="test"
    )
    body = json.dumps(
        {
            "source": "formtool",
            "leads": [{"external_id": "F-1", "fields": {"email": "f@b.nl"}}],
            "events": [
                {"external_id": "F-1", "kind": "waiting_on_customer", "occurred_at": "2026-11-26T14:10:00Z"},
                {"external_id": "F-1", "kind": "resumed", "occurred_at": "2026-11-26T15:10:00Z"},
            ],
        }
    ).encode()
    assert send_generic(client, body).status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.events_stored == 1
    assert "event 0: kind: unknown event kind 'waiting_on_customer'; allowed: created" in delivery.error
    assert list(LeadEvent.objects.values_list("kind", flat=True)) == ["resumed"]
