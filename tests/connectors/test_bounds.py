"""The bounds every incoming value must fit (leadpact.connectors.bounds), and the parsers that use them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadpact.connectors._values import parse_amount, parse_count
from leadpact.connectors.bounds import (
    AMOUNT_LIMIT,
    EARLIEST,
    LATEST,
    LEAD_TEXT,
    amount_problem,
    event_problems,
    instant_problem,
    lead_problems,
    text_problem,
)
from leadpact.connectors.records import EventRecord, LeadFields, LeadRecord
from leadpact.connectors.webhooks import parse_generic, parse_hubspot, parse_mautic, parse_pipedrive
from leadpact.leads.models import Lead, LeadEvent, LeadSource

T = datetime(2026, 11, 26, 9, tzinfo=UTC)


def lead(**fields) -> LeadRecord:
    ids = {k: fields.pop(k) for k in ("system", "external_id") if k in fields}
    owners = {k: fields.pop(k) for k in ("marketing_owner", "sales_owner") if k in fields}
    created = fields.pop("created_at", T)
    return LeadRecord(
        ids.get("system", "crm"), ids.get("external_id", "L-1"), LeadFields(**fields), created, **owners
    )


def event(**kw) -> EventRecord:
    at = kw.pop("occurred_at", T)
    return EventRecord(kw.pop("source", "crm"), kw.pop("external_id", "L-1"), kw.pop("kind", "won"), at, **kw)


def test_the_lengths_are_the_columns():
    for name, limit in LEAD_TEXT.items():
        if name not in ("first_name", "last_name"):
            assert Lead._meta.get_field(name).max_length == limit, name
    assert LeadSource._meta.get_field("external_id").max_length == 255
    assert LeadEvent._meta.get_field("actor_label").max_length == 200


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"name": "x" * 1000}, "name", "is 1000 characters long; at most 300"),
        ({"company": "c" * 400}, "company", "is 400 characters long; at most 300"),
        ({"external_id": "9" * 300}, "external_id", "is 300 characters long; at most 255"),
        ({"name": "Ann\x00a"}, "name", "contains a NUL character"),
        ({"name": "Ann\ud800"}, "name", "contains a lone surrogate (U+D800), which is not Unicode text"),
        ({"email": "a\x1b@b.nl"}, "email", "contains the control character U+001B"),
        ({"source": "web\x85"}, "lead_source", "contains the control character U+0085"),
        ({"score": 10**20}, "score", "100000000000000000000 is out of range: from -1000000000 to 1000000000"),
        ({"recent_touches": -1}, "recent_touches", "-1 is out of range: from 0 to 1000000000"),
        ({"created_at": datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)}, "created_at", "9999-12-31T23:59:59"),
        ({"extra": {"note": "\x00"}}, "extra.note", "contains a NUL character"),
        ({"extra": {"k\ud800": "v"}}, "extra", "a key contains a lone surrogate"),
        ({"marketing_owner": "m" * 201}, "marketing_owner", "is 201 characters long; at most 200"),
    ],
)
def test_a_lead_out_of_bounds_names_field_and_reason(fields, field, reason):
    problems = lead_problems(lead(**fields))
    assert [f for f, _ in problems] == [field]
    assert problems[0][1].startswith(reason)


def test_tab_newline_and_any_printable_unicode_are_text():
    assert lead_problems(lead(name="Zoë 🦊\tvan\r\nDijk", company="株式会社", extra={"note": "a\nb"})) == []


@given(text=st.text(st.characters(blacklist_categories=["Cs", "Cc"]), max_size=300))
def test_any_unicode_text_within_its_length_is_taken(text):
    assert text_problem(text, 300) is None
    assert lead_problems(lead(name=text, company=text)) == []


@pytest.mark.parametrize(
    "at",
    [
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),  # no UTC time at all
        datetime(1, 1, 1, tzinfo=UTC),
        EARLIEST - timedelta(microseconds=1),
        LATEST,
    ],
)
def test_instants_outside_1970_to_2100_are_refused(at):
    assert "is out of range: from 1970-01-01 up to 2100-01-01 (UTC)" in instant_problem(at)
    assert [f for f, _ in event_problems(event(occurred_at=at))] == ["occurred_at"]


def test_the_edges_of_the_instant_range():
    assert instant_problem(EARLIEST) is None
    assert instant_problem(LATEST - timedelta(microseconds=1)) is None
    assert instant_problem(datetime(2099, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-14)))) is not None


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("2e14", "200000000000000 is out of range"),
        ("1e999999", "1E+999999 is out of range"),
        ("-100000000000", "-100000000000 is out of range"),
        ("Infinity", "Infinity is not a finite number"),
        ("NaN", "NaN is not a finite number"),
        ("0.0000001", "0.0000001 has more than 6 decimal places"),
        ("1e-999999", "1E-999999 has more than 6 decimal places"),
    ],
)
def test_amounts_out_of_bounds(amount, reason):
    assert amount_problem(Decimal(amount)).startswith(reason)


@given(
    amount=st.decimals(
        min_value=-AMOUNT_LIMIT + Decimal("0.000001"), max_value=AMOUNT_LIMIT - Decimal("0.000001"), places=6
    )
)
def test_every_amount_within_bounds_is_taken(amount):
    assert amount_problem(amount) is None
    assert event_problems(event(amount=amount)) == []


def test_event_texts_are_bounded():
    problems = event_problems(event(reason="r" * 2001, currency="EURO", actor="\x00", data={"k": "\ud800"}))
    assert {f for f, _ in problems} == {"reason", "currency", "actor", "data.k"}


def test_counts_and_amounts_of_any_size_parse_quickly_or_refuse():
    with pytest.raises(ValueError, match="out of range: more than 40 digits"):
        parse_count("1e999999999")
    with pytest.raises(ValueError, match="not a whole number"):
        parse_count("1e-999999999")
    assert parse_count("1e20") == 10**20  # a number the bounds then refuse as a score
    assert amount_problem(parse_amount("1e999999999")) is not None


# --- the parsers apply the bounds per item --------------------------------------------------------------


def generic(*leads, events=()):
    return {"source": "crm", "leads": list(leads), "events": list(events)}


def test_generic_refuses_one_item_and_keeps_the_rest():
    body = generic(
        {"external_id": "OK", "fields": {"name": "Anna"}},
        {"external_id": "BAD", "fields": {"name": "x" * 1000}},
        {"external_id": "9" * 300},
        {"external_id": "S", "fields": {"score": 1e20}},
        {"external_id": "U", "fields": {"name": "\ud800"}},
        events=[
            {"external_id": "OK", "kind": "created", "occurred_at": "2026-11-26T09:00:00Z"},
            {"external_id": "OK", "kind": "won", "occurred_at": "9999-12-31T23:59:59Z"},
            {"external_id": "OK", "kind": "lost", "occurred_at": "0001-01-01T00:00:00+14:00"},
            {"external_id": "OK", "kind": "won", "occurred_at": "2026-11-27T09:00:00Z", "amount": "2e14"},
            {"external_id": "OK", "kind": "won", "occurred_at": "2026-11-27T09:00:00Z", "amount": "1e999999"},
        ],
    )
    parsed = parse_generic(body)
    assert [r.external_id for r in parsed.leads] == ["OK"]
    assert [e.kind for e in parsed.events] == ["created"]
    reasons = {p.index: p.reason for p in parsed.problems}
    assert sorted(reasons) == [1, 2, 3, 4, 6, 7, 8, 9]
    assert "name: is 1000 characters long" in reasons[1]
    assert "external_id: is 300 characters long; at most 255" in reasons[2]
    assert "score" in reasons[3] and "out of range" in reasons[3]
    assert "lone surrogate" in reasons[4]
    assert "occurred_at: 9999-12-31T23:59:59+00:00 is out of range" in reasons[6]
    assert "occurred_at: 0001-01-01T00:00:00+14:00 is out of range" in reasons[7]
    assert "amount: 200000000000000 is out of range" in reasons[8]
    assert "amount: 1E+999999 is out of range" in reasons[9]


def test_hubspot_mautic_pipedrive_refuse_items_out_of_bounds():
    hub = parse_hubspot(
        [
            {"subscriptionType": "contact.creation", "objectId": "1" * 300, "occurredAt": 1796306700000},
            {"subscriptionType": "contact.creation", "objectId": 7, "occurredAt": 253402300799000},
            {"subscriptionType": "contact.creation", "objectId": 8, "occurredAt": 1796306700000},
        ]
    )
    assert [r.external_id for r in hub.leads] == ["8"] and [p.index for p in hub.problems] == [0, 1]
    mautic = parse_mautic(
        {
            "mautic.lead_points_change": [
                {
                    "contact": {"id": 5},
                    "points": {"new_points": "1e20"},
                    "timestamp": "2026-11-26T09:00:00+00:00",
                }
            ],
            "mautic.lead_post_save_update": [
                {"contact": {"id": 6, "fields": {"core": {"firstname": "\x00"}}}}
            ],
        }
    )
    assert mautic.leads == () and [p.index for p in mautic.problems] == [0, 1]
    deal = {
        "meta": {"action": "create", "entity": "deal", "id": "m1"},
        "data": {"id": 3, "add_time": "2026-11-26 09:00:00", "value": 1e300, "currency": "EUR"},
    }
    assert "amount" in parse_pipedrive(deal).problems[0].reason and parse_pipedrive(deal).events == ()


def test_a_body_with_an_integer_of_thousands_of_digits_is_not_json_not_a_crash():
    from leadpact.connectors.webhooks import WebhookPayloadError

    with pytest.raises(WebhookPayloadError):
        parse_generic(b'{"leads": [{"external_id": ' + b"9" * 5000 + b"}]}")


odd_text = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["\x00", "\ud800", "\x1b", "\x85", "x" * 301, "y" * 65, "é" * 321]),
)


@given(
    name=odd_text,
    email=odd_text,
    country=odd_text,
    owner=odd_text,
    extra=st.dictionaries(odd_text, odd_text, max_size=3),
    score=st.one_of(st.none(), st.integers(-(10**12), 10**12)),
    year=st.integers(1, 9999),
)
def test_the_fast_path_agrees_with_the_full_check(name, email, country, owner, extra, score, year):
    from leadpact.connectors.bounds import _lead_problems

    record = lead(
        name=name, email=email, country=country, marketing_owner=owner, extra=extra, score=score,
        created_at=datetime(year, 6, 1, tzinfo=UTC),
    )  # fmt: skip
    assert (lead_problems(record) == []) == (_lead_problems(record) == [])
