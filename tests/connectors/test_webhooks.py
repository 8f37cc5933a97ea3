"""Webhook verification on raw bytes, and payload parsing per system."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from leadpact.connectors.webhooks import (
    WebhookPayloadError,
    hubspot_v3_uri,
    parse_generic,
    parse_hubspot,
    parse_mautic,
    parse_pipedrive,
    sign_generic,
    verify_generic,
    verify_hubspot,
    verify_mautic,
    verify_pipedrive,
)

SAMPLES = Path(__file__).parent / "samples"
NOW = datetime(2026, 11, 26, 14, 5, tzinfo=UTC)
SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
BODY = (SAMPLES / "hubspot_webhook.json").read_bytes()
URI = "https://leadpact.example/hooks/hubspot?portal=33&next=%2Fleads%3Fq%3Da%20b"


def hubspot_v3_headers(body=BODY, *, secret=SECRET, at=NOW, method="POST", uri=URI):
    stamp = str(int(at.timestamp() * 1000))
    decoded = uri.replace("%2F", "/").replace("%3F", "?")  # HubSpot's table; %3D and %20 stay encoded
    message = (method + decoded).encode() + body + stamp.encode()
    signature = base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()
    return {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": stamp}


def check_hubspot(headers, body=BODY, *, secret=SECRET, method="POST", uri=URI, now=NOW):
    return verify_hubspot(headers=headers, method=method, uri=uri, body=body, client_secret=secret, now=now)


class TestHubSpotV3:
    def test_good_signature(self):
        result = check_hubspot(hubspot_v3_headers())
        assert result and result.reason == ""

    def test_header_names_are_case_insensitive(self):
        headers = {k.lower(): v for k, v in hubspot_v3_headers().items()}
        assert check_hubspot(headers)

    def test_only_the_listed_characters_are_decoded(self):
        assert hubspot_v3_uri("https://a.b/x?u=%3a%2F%3F%40%21%24%27%28%29%2A%2C%3B%20%3D%25") == (
            "https://a.b/x?u=:/?@!$'()*,;%20%3D%25"
        )

    def test_tampered_body(self):
        result = check_hubspot(hubspot_v3_headers(), BODY.replace(b"UNQUALIFIED", b"IN_PROGRESS"))
        assert not result and result.reason == "the X-HubSpot-Signature-v3 signature does not match"

    def test_wrong_secret(self):
        assert not check_hubspot(hubspot_v3_headers(secret="someone-else"))

    def test_other_uri_or_method(self):
        assert not check_hubspot(hubspot_v3_headers(), uri=URI.replace("portal=33", "portal=34"))
        assert not check_hubspot(hubspot_v3_headers(), method="PUT")

    def test_stale_timestamp(self):
        old = hubspot_v3_headers(at=NOW - timedelta(minutes=5, seconds=1))
        result = check_hubspot(old)
        assert not result and result.reason == "the timestamp is older than 5 minutes"
        assert check_hubspot(hubspot_v3_headers(at=NOW - timedelta(minutes=5)))

    def test_timestamp_from_the_future(self):
        result = check_hubspot(hubspot_v3_headers(at=NOW + timedelta(minutes=6)))
        assert not result and "in the future" in result.reason

    @pytest.mark.parametrize(
        ("drop", "reason"),
        [
            ("X-HubSpot-Request-Timestamp", "the X-HubSpot-Request-Timestamp header is missing"),
            ("X-HubSpot-Signature-v3", "the X-HubSpot-Signature-v3 header is missing"),
        ],
    )
    def test_missing_header(self, drop, reason):
        headers = hubspot_v3_headers()
        del headers[drop]
        result = check_hubspot(headers)
        assert not result and result.reason == reason

    def test_timestamp_not_a_number(self):
        headers = hubspot_v3_headers() | {"X-HubSpot-Request-Timestamp": "yesterday"}
        assert check_hubspot(headers).reason.endswith("is not a number of milliseconds")


class TestHubSpotLegacy:
    def test_v1_documented_example(self):
        # the example from HubSpot's v1 documentation: secret + body, sha256 hex
        body = (
            b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
            b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM",'
            b'"changeFlag":"NEW","appId":54321}]'
        )
        headers = {
            "X-HubSpot-Signature": "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de",
            "X-HubSpot-Signature-Version": "v1",
        }
        assert check_hubspot(headers, body)
        assert not check_hubspot(headers, body + b" ")

    def test_v2_documented_example(self):
        # HubSpot's v2 example: a GET without a body
        headers = {
            "X-HubSpot-Signature": "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e",
            "X-HubSpot-Signature-Version": "v2",
        }
        assert check_hubspot(headers, b"", method="GET", uri="https://www.example.com/webhook_uri")
        result = check_hubspot(headers, b"", method="GET", uri="https://www.example.com/other")
        assert not result and result.reason == "the X-HubSpot-Signature (v2) signature does not match"

    def test_legacy_signatures_can_be_refused(self):
        headers = {
            "X-HubSpot-Signature": "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e",
            "X-HubSpot-Signature-Version": "v2",
        }
        result = verify_hubspot(
            headers=headers,
            method="GET",
            uri="https://www.example.com/webhook_uri",
            body=b"",
            client_secret=SECRET,
            now=NOW,
            legacy="refuse",
        )
        assert not result and result.reason == "the X-HubSpot-Signature-v3 header is missing"

    def test_a_bad_v3_signature_does_not_fall_back_to_v1(self):
        v1 = hashlib.sha256(SECRET.encode() + BODY).hexdigest()
        headers = hubspot_v3_headers(secret="wrong") | {"X-HubSpot-Signature": v1}
        assert not check_hubspot(headers)
        assert check_hubspot({"X-HubSpot-Signature": v1})

    def test_unknown_version(self):
        headers = {"X-HubSpot-Signature": "ab", "X-HubSpot-Signature-Version": "v9"}
        assert check_hubspot(headers).reason == "signature version 'v9' is not supported"


class TestMautic:
    def sign(self, body, secret="mautic-secret"):
        return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()

    def test_good_signature(self):
        body = (SAMPLES / "mautic_webhook.json").read_bytes()
        assert verify_mautic(
            headers={"Webhook-Signature": self.sign(body)}, body=body, secret="mautic-secret"
        )

    def test_tampered_body_wrong_secret_missing_header(self):
        body = b'{"mautic.lead_post_save_new": []}'
        good = {"Webhook-Signature": self.sign(body)}
        assert not verify_mautic(headers=good, body=body + b" ", secret="mautic-secret")
        assert not verify_mautic(headers=good, body=body, secret="other")
        missing = verify_mautic(headers={}, body=body, secret="mautic-secret")
        assert not missing and missing.reason == "the Webhook-Signature header is missing"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class TestPipedrive:
    def basic(self, user, password):
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

    def test_good_credentials(self):
        assert verify_pipedrive(
            headers=self.basic("leadpact", "s3cret"), username="leadpact", password_sha256=sha("s3cret")
        )

    @pytest.mark.parametrize(
        ("headers", "reason"),
        [
            ({}, "the Authorization header is missing"),
            ({"Authorization": "Bearer abc"}, "the Authorization header is not basic authentication"),
            ({"Authorization": "Basic ***"}, "the basic credentials are not valid base64"),
        ],
    )
    def test_refusals(self, headers, reason):
        assert verify_pipedrive(headers=headers, username="u", password_sha256=sha("p")).reason == reason

    def test_wrong_password_or_user(self):
        assert not verify_pipedrive(
            headers=self.basic("leadpact", "guess"), username="leadpact", password_sha256=sha("s3cret")
        )
        assert not verify_pipedrive(
            headers=self.basic("admin", "s3cret"), username="leadpact", password_sha256=sha("s3cret")
        )

    def test_empty_credentials_never_match_even_an_empty_setting(self):
        # "Basic Og==" is ":": an integration stored without credentials must not take it
        empty = {"Authorization": "Basic Og=="}
        assert not verify_pipedrive(headers=empty, username="", password_sha256=sha(""))
        assert not verify_pipedrive(headers=empty, username="", password_sha256="")
        assert not verify_pipedrive(
            headers=self.basic("leadpact", ""), username="leadpact", password_sha256=sha("")
        )


class TestGeneric:
    body = (SAMPLES / "generic_webhook.json").read_bytes()
    stamp = int(NOW.timestamp())

    def test_good_signature(self):
        headers = sign_generic(self.body, secret="k", timestamp=self.stamp)
        assert headers["X-Leadpact-Signature"].startswith("sha256=")
        assert verify_generic(headers=headers, body=self.body, secret="k", now=NOW + timedelta(minutes=4))

    def test_the_signature_is_over_timestamp_dot_body(self):
        expected = hmac.new(b"k", f"{self.stamp}.".encode() + self.body, hashlib.sha256).hexdigest()
        assert (
            sign_generic(self.body, secret="k", timestamp=self.stamp)["X-Leadpact-Signature"]
            == f"sha256={expected}"
        )

    def test_refusals(self):
        headers = sign_generic(self.body, secret="k", timestamp=self.stamp)
        assert not verify_generic(headers=headers, body=self.body + b"\n", secret="k", now=NOW)
        assert not verify_generic(headers=headers, body=self.body, secret="other", now=NOW)
        stale = verify_generic(headers=headers, body=self.body, secret="k", now=NOW + timedelta(minutes=6))
        assert stale.reason == "the timestamp is older than 5 minutes"
        replayed = headers | {"X-Leadpact-Timestamp": str(self.stamp + 1)}
        assert not verify_generic(headers=replayed, body=self.body, secret="k", now=NOW)
        for name in headers:
            partial = {k: v for k, v in headers.items() if k != name}
            result = verify_generic(headers=partial, body=self.body, secret="k", now=NOW)
            assert result.reason == f"the {name} header is missing"
        bad_form = headers | {"X-Leadpact-Signature": "md5=abc"}
        assert "sha256=<hex>" in verify_generic(headers=bad_form, body=self.body, secret="k", now=NOW).reason

    def test_now_must_be_aware(self):
        headers = sign_generic(self.body, secret="k", timestamp=self.stamp)
        with pytest.raises(ValueError, match="aware"):
            verify_generic(headers=headers, body=self.body, secret="k", now=datetime(2026, 11, 26, 14, 5))


# --- payloads --------------------------------------------------------------------------------------------


class TestParseHubSpot:
    def test_batch(self):
        parsed = parse_hubspot(BODY)
        # the creation, and the owner change (its owner id matches a person's HubSpot user id)
        assert [(lead.external_id, lead.sales_owner) for lead in parsed.leads] == [
            ("1246965", ""),
            ("1246965", "81234567"),
        ]
        assert parsed.leads[0].created_at == datetime.fromtimestamp(1796306700, tz=UTC)
        assert [(e.kind, e.reason_code, e.data) for e in parsed.events] == [
            ("created", "", {}),
            ("handed_over", "", {}),
            ("assigned", "", {"value": "81234567"}),
            ("rejected", "unqualified", {}),
            ("field_changed", "", {"field": "jobtitle", "value": "Head of Operations"}),
        ]
        assert parsed.events[1].source_ref == "33:26:3816279340"
        assert parsed.ignored == 1  # the deletion
        assert [(p.index, p.reason) for p in parsed.problems] == [
            (6, "occurredAt 'yesterday' is not a time in milliseconds")
        ]

    def test_event_ids_repeat_across_subscriptions_but_keys_do_not(self):
        parsed = parse_hubspot(BODY)
        creation, stage = parsed.events[0], parsed.events[1]
        assert creation.source_ref.endswith(":3816279340") and stage.source_ref.endswith(":3816279340")
        assert creation.idempotency_key != stage.idempotency_key

    def test_a_retry_has_the_same_keys(self):
        items = json.loads(BODY)
        retried = [item | {"attemptNumber": item["attemptNumber"] + 1} for item in items]
        first = [e.idempotency_key for e in parse_hubspot(BODY).events]
        again = [e.idempotency_key for e in parse_hubspot(json.dumps(retried)).events]
        assert first == again and len(set(first)) == len(first)

    def test_not_a_batch(self):
        with pytest.raises(WebhookPayloadError, match="json array"):
            parse_hubspot(b'{"eventId": 1}')
        with pytest.raises(WebhookPayloadError, match="not json"):
            parse_hubspot(b"<html>")


class TestParseMautic:
    def test_payload(self):
        parsed = parse_mautic((SAMPLES / "mautic_webhook.json").read_bytes())
        new, points, updated = parsed.leads
        assert new.source == "mautic" and new.external_id == "4711"
        assert new.fields.name == "Joëlle van Dijk" and new.fields.country == "NL"
        assert new.fields.job_title == "Marketing lead" and new.fields.score == 25
        assert new.marketing_owner == "Emma Visser"
        assert new.created_at == datetime(2026, 11, 26, 14, 5, tzinfo=UTC)
        assert points.fields.score == 60
        assert updated.external_id == "4712" and updated.fields.email == "bas@example.nl"
        assert [(e.kind, e.data) for e in parsed.events] == [
            ("created", {}),
            ("field_changed", {"field": "score", "value": "60", "previous": "25"}),
        ]
        assert [p.reason for p in parsed.problems] == ["mautic.lead_post_save_update: the contact has no id"]

    def test_not_an_object(self):
        with pytest.raises(WebhookPayloadError):
            parse_mautic(b"[]")


class TestParsePipedrive:
    def test_deal_won(self):
        parsed = parse_pipedrive((SAMPLES / "pipedrive_deal_won.json").read_bytes())
        (deal,) = parsed.leads
        assert (deal.source, deal.external_id, deal.sales_owner) == ("pipedrive", "1201", "18487521")
        (won,) = parsed.events
        assert won.kind == "won" and won.amount == Decimal("14500") and won.currency == "EUR"
        assert won.occurred_at == datetime(2026, 10, 20, 14, 5, 12, tzinfo=UTC)
        assert won.source_ref == "6a0c4e66-2b8f-4c3e-9a57-1f2d3c4b5a69"

    def test_deal_lost_and_reassigned(self):
        payload = json.loads((SAMPLES / "pipedrive_deal_won.json").read_text())
        payload["data"] |= {"status": "lost", "won_time": None, "lost_time": "2026-10-21T09:00:00Z",
                            "lost_reason": "Budget", "owner_id": 999}  # fmt: skip
        payload["previous"] |= {"owner_id": 18487521}
        parsed = parse_pipedrive(json.dumps(payload))
        assert [(e.kind, e.reason, e.data) for e in parsed.events] == [
            ("assigned", "", {"value": "999"}),
            ("lost", "Budget", {}),
        ]
        assert parsed.events[0].occurred_at == datetime(2026, 10, 20, 14, 5, 12, tzinfo=UTC)  # update_time

    def test_lead_created(self):
        parsed = parse_pipedrive((SAMPLES / "pipedrive_lead_created.json").read_bytes())
        (lead,) = parsed.leads
        assert lead.external_id == "2f4e8c1a-7b7d-11ef-9c1a-0242ac120002"
        assert lead.fields.source == "Web forms" and lead.fields.extra["title"] == "Bakkerij De Vries lead"
        assert [e.kind for e in parsed.events] == ["created"]

    def test_deletions_and_other_entities_are_ignored(self):
        payload = {
            "meta": {"action": "delete", "entity": "deal", "id": "x"},
            "data": None,
            "previous": {"id": 1},
        }
        assert parse_pipedrive(json.dumps(payload)).ignored == 1
        payload = {"meta": {"action": "create", "entity": "note"}, "data": {"id": 5}, "previous": None}
        assert parse_pipedrive(json.dumps(payload)).ignored == 1

    def test_not_a_v2_payload(self):
        with pytest.raises(WebhookPayloadError, match="meta"):
            parse_pipedrive(b'{"current": {}}')


class TestParseGeneric:
    def test_payload(self):
        parsed = parse_generic((SAMPLES / "generic_webhook.json").read_bytes())
        (lead,) = parsed.leads
        assert (lead.source, lead.external_id, lead.fields.name, lead.fields.country) == (
            "formtool", "F-1001", "Sanne de Vries", "NL",
        )  # fmt: skip
        assert (
            lead.fields.consent is True
            and lead.fields.score == 64
            and lead.fields.extra == {"utm_medium": "cpc"}
        )
        # a kind of a pause kind's shape passes the parser: storing checks it against the agreements
        assert [(e.kind, e.human, e.channel) for e in parsed.events] == [
            ("handed_over", None, ""),
            ("contact_attempt", True, "phone"),
            ("won", None, ""),
            ("teleported", None, ""),
        ]
        assert parsed.events[2].amount == Decimal("14500.00") and parsed.events[2].currency == "EUR"
        assert [p.reason for p in parsed.problems] == [
            "lead: external_id is missing",
            "event: F-1001: occurred_at '2026-11-26 15:00' has no timezone offset",
        ]

    def test_replayed_payload_has_the_same_keys(self):
        body = (SAMPLES / "generic_webhook.json").read_bytes()
        assert [e.idempotency_key for e in parse_generic(body).events] == [
            e.idempotency_key for e in parse_generic(body).events
        ]

    def test_unknown_lead_field_is_named(self):
        body = {"leads": [{"external_id": "X", "fields": {"shoe_size": 44}}]}
        assert (
            parse_generic(body).problems[0].reason == "lead: X: unknown field 'shoe_size' (put it in extra)"
        )


def test_absurd_timestamps_are_refusals_not_crashes():
    huge = "9" * 30
    headers = hubspot_v3_headers() | {"X-HubSpot-Request-Timestamp": huge}
    assert check_hubspot(headers).reason == "the X-HubSpot-Request-Timestamp header is not a valid time"
    generic = {"X-Leadpact-Signature": "sha256=00", "X-Leadpact-Timestamp": huge}
    result = verify_generic(headers=generic, body=b"", secret="k", now=NOW)
    assert result.reason == "the X-Leadpact-Timestamp header is not a valid time"
    batch = [{"subscriptionType": "contact.creation", "objectId": 1, "occurredAt": int(huge)}]
    assert parse_hubspot(json.dumps(batch)).problems[0].reason.endswith("is not a time in milliseconds")


def test_deeply_nested_json_is_refused():
    with pytest.raises(WebhookPayloadError, match="nested too deeply"):
        parse_generic(b"[" * 100_000 + b"]" * 100_000)


@pytest.mark.parametrize("stamp", ["²", "9" * 5000, "١٢٣"])
def test_timestamp_headers_that_are_no_ascii_number_are_refused_not_raised(stamp):
    refused = verify_generic(
        headers={"X-Leadpact-Signature": "sha256=00", "X-Leadpact-Timestamp": stamp},
        body=b"{}",
        secret="s",
        now=NOW,
    )
    assert not refused and "not a number of seconds" in refused.reason
    hub = check_hubspot({"X-HubSpot-Signature-v3": "x", "X-HubSpot-Request-Timestamp": stamp})
    assert not hub and "not a number of milliseconds" in hub.reason
