"""Export → import → export is byte-identical, on generated documents (hypothesis) and the templates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadpact.core.agreement import (
    AgreementDocument,
    AgreementInvalid,
    agreement_content_hash,
    agreement_diff,
    agreement_dump_yaml,
    agreement_load_yaml,
    agreement_parse,
    agreement_template,
    agreement_to_data,
)

slugs = st.from_regex(r"[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4})?", fullmatch=True)
texts = st.text(min_size=1, max_size=60).filter(lambda t: t.strip() != "")
decimals = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1000000"), places=4)
shares = st.decimals(min_value=Decimal(0), max_value=Decimal(1), places=3)
RULES = [
    "lead.score >= 50",
    'lead.score >= 50 && lead.country in ["NL", "BE"] && lead.email != ""',
    'lead.extra.plan == "pro" || lead.consent',
    'lead.trigger in ["demo_request", "pricing_request"]\n  && lead.recent_touches.exists(t, t.days < 30)',
    "lead.name != 'Zoë: \"quoted\" # not a comment'",
]
CALENDARS = [
    {"timezone": "Europe/Amsterdam", "hours": {"mon-fri": ["09:00-17:00"]}, "holidays": {"country": "NL"}},
    {
        "timezone": "Europe/Brussels",
        "hours": {"mon-thu": ["08:30-12:00", "12:30-16:30"], "fri": ["08:30-12:00"]},
    },
    {"timezone": "UTC", "hours": {"mon-sun": ["00:00-24:00"]}, "closed": ["2026-12-25", "2026-12-26"]},
]
CHECKS = ["present", "email", "phone", "country", "number", "number >= 0", "number < 1000", "one of [NL, BE]"]


@st.composite
def targets(draw, kind: str) -> dict:
    if kind == "volume":
        unit = "count"
    elif kind in ("pipeline", "revenue"):
        unit = "amount"
    elif kind in ("decision", "first_attempt", "feedback"):
        unit = draw(st.sampled_from(["percent", "duration"]))
    else:
        unit = "percent"
    if unit == "percent":
        value = draw(st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2))
    else:
        value = draw(decimals)
    target: dict = {"value": value, "unit": unit}
    if unit in ("count", "amount"):
        target["per"] = draw(st.sampled_from(["day", "week", "month", "quarter", "basis_day"]))
        if draw(st.booleans()):
            target["growth"] = draw(st.decimals(min_value=Decimal("-0.99"), max_value=Decimal(2), places=3))
    if unit == "amount" and draw(st.booleans()):
        target["currency"] = draw(st.sampled_from(["EUR", "USD", "GBP"]))
    return target


@st.composite
def commitments(draw, key: str, parties: list[str], calendars: list[str], definitions: list[str]) -> dict:
    kind = draw(
        st.sampled_from(
            [
                "volume",
                "decision",
                "first_attempt",
                "attempts",
                "handoff",
                "feedback",
                "conversion",
                "pipeline",
                "revenue",
                "acceptance",
            ]
        )
    )
    owner, beneficiary = draw(st.permutations(parties))[:2]
    item: dict = {
        "key": key,
        "title": draw(texts),
        "kind": kind,
        "owner": owner,
        "beneficiary": beneficiary,
        "target": draw(targets(kind)),
        "period": draw(st.sampled_from(["day", "week", "month", "quarter"])),
    }
    if item["target"]["unit"] in ("count", "amount") and draw(st.booleans()):
        item["split"] = "capacity"
    if kind in ("volume", "conversion") or draw(st.booleans()):
        item["covers"] = draw(st.sampled_from(definitions))
    if kind == "conversion":
        item["outcome"] = draw(st.sampled_from(["accepted", "qualified", "opportunity", "won"]))
    if draw(st.booleans()):
        item["basis"] = draw(st.sampled_from(["business_days", "calendar_days"]))
    if draw(st.booleans()):
        item["calendar"] = draw(st.sampled_from(calendars))
    if kind in ("decision", "first_attempt", "attempts", "feedback"):
        amount = draw(st.integers(1, 500))
        clock: dict = {
            "window": f"{amount}{draw(st.sampled_from(['m', 'h', 'bd']))}",
            "start": "handed_over",
            "stop": draw(
                st.lists(
                    st.sampled_from(["accepted", "rejected", "contact_attempt", "won"]),
                    min_size=1,
                    max_size=3,
                    unique=True,
                )
            ),
        }
        if draw(st.booleans()):
            clock["pause"] = ["waiting_on_customer"]
        if draw(st.booleans()):
            clock["thresholds"] = sorted(
                draw(
                    st.lists(
                        st.decimals(Decimal("0.01"), Decimal(3), places=2),
                        min_size=1,
                        max_size=4,
                        unique=True,
                    )
                )
            )
        if kind == "attempts":
            clock["attempts"] = draw(st.integers(1, 12))
        if draw(st.booleans()):
            clock["human_only"] = draw(st.booleans())
        item["clock"] = clock
    if kind == "handoff":
        names = draw(
            st.lists(
                st.sampled_from(["name", "email", "phone", "company", "score", "extra.plan", "consent"]),
                min_size=1,
                max_size=5,
                unique=True,
            )
        )
        item["fields"] = [{"field": name, "check": draw(st.sampled_from(CHECKS))} for name in names]
    return item


@st.composite
def documents(draw) -> dict:
    party_keys = draw(st.lists(slugs, min_size=2, max_size=4, unique=True))
    calendar_keys = draw(st.lists(slugs, min_size=1, max_size=3, unique=True))
    definition_keys = draw(st.lists(slugs, min_size=1, max_size=4, unique=True))
    commitment_keys = draw(st.lists(slugs, min_size=0, max_size=6, unique=True))
    start = draw(st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)))
    agreement: dict = {
        "key": draw(slugs),
        "title": draw(texts),
        "language": draw(st.sampled_from(["en", "nl"])),
        "effective_from": start,
    }
    if draw(st.booleans()):
        agreement["effective_until"] = start + dt.timedelta(days=draw(st.integers(1, 2000)))
    if draw(st.booleans()):
        agreement["review"] = {
            "cadence": draw(
                st.sampled_from(["FREQ=WEEKLY;BYDAY=TH", "FREQ=MONTHLY;BYMONTHDAY=1;INTERVAL=2"])
            ),
            "duration_minutes": draw(st.integers(1, 1440)),
        }
    ramp = sorted(draw(st.lists(shares, min_size=1, max_size=6)))
    pacing = sorted(
        draw(
            st.lists(st.decimals(Decimal("0.01"), Decimal(3), places=2), min_size=3, max_size=3, unique=True)
        )
    )
    escalation = sorted(
        draw(
            st.lists(st.decimals(Decimal("0.01"), Decimal(3), places=2), min_size=3, max_size=3, unique=True)
        )
    )
    data: dict = {
        "leadpact": 1,
        "agreement": agreement,
        "parties": [
            {"key": key, "name": draw(texts), "calendar": draw(st.sampled_from(calendar_keys))}
            for key in party_keys
        ],
        "calendars": {key: draw(st.sampled_from(CALENDARS)) for key in calendar_keys},
        "definitions": [
            {
                "key": key,
                "term": draw(texts),
                "text": draw(texts),
                **({"rule": draw(st.sampled_from(RULES))} if draw(st.booleans()) else {}),
            }
            for key in definition_keys
        ],
        "reason_codes": [
            {
                "code": code,
                "label": draw(texts),
                "group": draw(
                    st.sampled_from(["definition_miss", "timing", "unreachable", "already_handled", "other"])
                ),
                "owner": draw(st.sampled_from(party_keys)),
                **({"requires_text": draw(st.booleans())} if draw(st.booleans()) else {}),
            }
            for code in draw(st.lists(slugs, max_size=4, unique=True))
        ],
        "commitments": [
            draw(commitments(key, party_keys, calendar_keys, definition_keys)) for key in commitment_keys
        ],
    }
    if draw(st.booleans()):
        data["settings"] = {
            "basis": draw(st.sampled_from(["business_days", "calendar_days"])),
            "normalisation": draw(st.sampled_from(["average_period", "own_period"])),
            "ramp": ramp,
            "pacing": dict(zip(["behind", "on_track", "ahead"], pacing, strict=True)),
            "escalation": dict(zip(["warn", "manager", "reassign"], escalation, strict=True)),
            "min_sample": draw(st.integers(1, 500)),
            "currency": draw(st.sampled_from(["EUR", "USD"])),
        }
    return data


@settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(documents())
def test_export_import_export_is_byte_identical(data):
    doc = agreement_parse(data)
    text = agreement_dump_yaml(doc)
    again = agreement_load_yaml(text)
    assert again == doc
    assert agreement_dump_yaml(again) == text
    assert agreement_content_hash(again) == agreement_content_hash(doc)
    assert agreement_diff(doc, again) == []
    assert agreement_parse(agreement_to_data(doc)) == doc
    assert agreement_parse(agreement_to_data(doc, style="json")) == doc


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(documents(), texts)
def test_a_changed_title_changes_the_hash_and_shows_in_the_diff(data, title):
    doc = agreement_parse(data)
    data["agreement"]["title"] = title
    other = agreement_parse(data)
    if other.info.title == doc.info.title:
        assert agreement_content_hash(other) == agreement_content_hash(doc)
        return
    assert agreement_content_hash(other) != agreement_content_hash(doc)
    assert [c.field for c in agreement_diff(doc, other)] == ["title"]


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_templates_round_trip(lang):
    text = agreement_template(lang)
    doc = agreement_load_yaml(text)
    assert isinstance(doc, AgreementDocument)
    assert agreement_dump_yaml(agreement_load_yaml(agreement_dump_yaml(doc))) == text
    assert agreement_parse(agreement_to_data(doc, style="json")) == doc


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(
    st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 12), st.text(max_size=8)), min_size=1, max_size=4
    )
)
def test_an_edited_template_either_parses_or_lists_problems(edits):
    text = agreement_template("en")
    for position, cut, insert in edits:
        position = min(position, len(text))
        text = text[:position] + insert + text[position + cut :]
    try:
        doc = agreement_load_yaml(text)
    except AgreementInvalid as error:
        assert error.problems
        assert all(str(problem) for problem in error.problems)
        return
    out = agreement_dump_yaml(doc)
    assert agreement_dump_yaml(agreement_load_yaml(out)) == out
