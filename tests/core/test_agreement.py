"""The agreement document: parse and validate (every problem, with its path), dump, hash, templates."""

from __future__ import annotations

import copy
import datetime as dt
import json
import pickle
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from leadpact.core import _agreement_yaml
from leadpact.core.agreement import (
    AgreementDocument,
    AgreementInvalid,
    BusinessDuration,
    Calendar,
    Clock,
    Commitment,
    FieldCheck,
    FieldCheckError,
    Problem,
    Settings,
    Target,
    agreement_content_hash,
    agreement_diff,
    agreement_dump_yaml,
    agreement_load_yaml,
    agreement_parse,
    agreement_template,
    agreement_to_data,
    check_value,
)
from leadpact.core.calendar import BusinessCalendar

FIXTURES = Path(__file__).parent / "fixtures"


def minimal() -> dict:
    """The smallest valid document, as plain data."""
    return {
        "leadpact": 1,
        "agreement": {
            "key": "marketing-sales",
            "title": "Marketing–sales SLA",
            "language": "en",
            "effective_from": dt.date(2026, 1, 1),
        },
        "parties": [
            {"key": "marketing", "name": "Marketing", "calendar": "nl-office"},
            {"key": "sales", "name": "Sales", "calendar": "nl-office"},
        ],
        "calendars": {
            "nl-office": {
                "timezone": "Europe/Amsterdam",
                "hours": {"mon-fri": ["09:00-17:00"]},
                "holidays": {"country": "NL"},
            }
        },
        "definitions": [
            {"key": "mql", "term": "MQL", "text": "A lead that qualifies.", "rule": "lead.score >= 50"},
        ],
        "commitments": [
            {
                "key": "mql-volume",
                "title": "Marketing hands over MQLs",
                "kind": "volume",
                "owner": "marketing",
                "beneficiary": "sales",
                "covers": "mql",
                "target": {"value": 200, "unit": "count", "per": "month"},
                "period": "month",
            },
            {
                "key": "decision",
                "title": "Sales decides within a day",
                "kind": "decision",
                "owner": "sales",
                "beneficiary": "marketing",
                "covers": "mql",
                "target": {"value": 100, "unit": "percent"},
                "period": "month",
                "clock": {"window": "8h", "start": "handed_over", "stop": ["accepted", "rejected"]},
            },
        ],
    }


def problems_of(data: object) -> list[str]:
    with pytest.raises(AgreementInvalid) as caught:
        agreement_parse(data)
    return [str(p) for p in caught.value.problems]


class TestParse:
    def test_the_minimal_document(self):
        doc = agreement_parse(minimal())
        assert isinstance(doc, AgreementDocument)
        assert doc.info.key == "marketing-sales"
        assert doc.info.effective_until is None
        assert doc.settings == Settings()
        assert doc.reason_codes == ()
        volume = doc.commitment("mql-volume")
        assert volume.target == Target(Decimal(200), "count", "month")
        assert volume.split == "none"
        assert doc.commitment("decision").clock == Clock(
            BusinessDuration("minutes", 480), "handed_over", ("accepted", "rejected")
        )
        assert doc.definition("mql").rule is not None
        assert doc.definition("mql").rule.fields == {"score"}

    def test_defaults_and_inheritance(self):
        doc = agreement_parse(minimal())
        decision = doc.commitment("decision")
        assert doc.calendar_of(decision) == "nl-office"
        assert doc.basis_of(decision) == "business_days"
        assert doc.thresholds_of(decision) == (Decimal("0.8"), Decimal("1"), Decimal("1.5"))
        assert doc.currency_of(decision) == "EUR"
        assert doc.settings.ramp == (Decimal(0), Decimal("0.25"), Decimal("0.5"), Decimal("0.75"), Decimal(1))
        assert doc.settings.min_sample == 20

    def test_overrides(self):
        data = minimal()
        data["calendars"]["be-office"] = {
            "timezone": "Europe/Brussels",
            "hours": {"mon-fri": ["08:30-16:30"]},
        }
        data["settings"] = {"basis": "calendar_days", "currency": "USD"}
        decision = data["commitments"][1]
        decision.update(basis="business_days", calendar="be-office")
        decision["clock"]["thresholds"] = [0.5, 1]
        data["commitments"].append(
            {
                "key": "revenue",
                "title": "Won revenue",
                "kind": "revenue",
                "owner": "sales",
                "beneficiary": "marketing",
                "split": "capacity",
                "target": {"value": "120000.50", "unit": "amount", "per": "quarter", "currency": "GBP"},
                "period": "quarter",
            }
        )
        doc = agreement_parse(data)
        decision = doc.commitment("decision")
        assert doc.calendar_of(decision) == "be-office"
        assert doc.basis_of(decision) == "business_days"
        assert doc.basis_of(doc.commitment("mql-volume")) == "calendar_days"
        assert doc.thresholds_of(decision) == (Decimal("0.5"), Decimal(1))
        assert doc.currency_of(doc.commitment("revenue")) == "GBP"
        assert doc.commitment("revenue").target.value == Decimal("120000.5")

    def test_lookups_raise_key_error(self):
        doc = agreement_parse(minimal())
        with pytest.raises(KeyError):
            doc.commitment("nope")
        with pytest.raises(KeyError):
            doc.reason_code("nope")
        assert doc.party("sales").name == "Sales"

    def test_calendars_are_built_and_stored_canonically(self):
        data = minimal()
        data["calendars"]["nl-office"]["hours"] = {
            "tue": ["13:00-17:00", "09:00-12:00"],
            "mon": ["09:00-12:00", "13:00-17:00"],
        }
        doc = agreement_parse(data)
        calendar = doc.calendar("nl-office")
        assert isinstance(calendar, Calendar)
        assert dict(calendar.spec["hours"]) == {"mon-tue": ("09:00-12:00", "13:00-17:00")}
        assert calendar.build() == BusinessCalendar.from_spec(data["calendars"]["nl-office"])

    def test_decimals_are_exact(self):
        data = minimal()
        data["commitments"][0]["target"].update(value=Decimal("200.10"), growth=0.1)
        doc = agreement_parse(data)
        target = doc.commitment("mql-volume").target
        assert target.value == Decimal("200.1") and str(target.value) == "200.1"
        assert str(target.growth) == "0.1"

    def test_review_and_end_date(self):
        data = minimal()
        data["agreement"]["effective_until"] = "2027-01-01"
        data["agreement"]["review"] = {"cadence": "FREQ=WEEKLY;BYDAY=TH", "duration_minutes": 45}
        info = agreement_parse(data).info
        assert info.effective_until == dt.date(2027, 1, 1)
        assert info.review is not None and info.review.cadence == "FREQ=WEEKLY;BYDAY=TH"


def set_in(data: dict, path: str, value: object) -> dict:
    """Set (or delete, for ...) the value at a dotted path with [i] indexes."""
    parts: list[object] = []
    for piece in path.split("."):
        while "[" in piece:
            name, rest = piece.split("[", 1)
            if name:
                parts.append(name)
            parts.append(int(rest[: rest.index("]")]))
            piece = rest[rest.index("]") + 1 :]
        if piece:
            parts.append(piece)
    target = data
    for part in parts[:-1]:
        target = target[part]  # type: ignore[index]
    if value is ...:
        del target[parts[-1]]  # type: ignore[arg-type]
    else:
        target[parts[-1]] = value  # type: ignore[index]
    return data


CASES = [
    # shape, required and unknown keys, types
    ("agreement.titel", "x", ["agreement.titel: unknown key (did you mean title?)"]),
    ("agreement.title", ..., ["agreement.title: required"]),
    ("agreement.title", 3, ["agreement.title: must be text"]),
    ("agreement.title", "  ", ["agreement.title: must not be empty"]),
    ("agreement.effective_from", "1 jan", ["agreement.effective_from: must be a date (YYYY-MM-DD)"]),
    ("agreement.effective_from", None, ["agreement.effective_from: must be a date (YYYY-MM-DD)"]),
    (
        "agreement.effective_from",
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        ["agreement.effective_from: must be a date (YYYY-MM-DD), not a date and time"],
    ),
    (
        "agreement.effective_until",
        "2026-01-01",
        ["agreement.effective_until: must be after effective_from (2026-01-01)"],
    ),
    ("agreement.language", "fr", ["agreement.language: must be one of en, nl"]),
    (
        "agreement.key",
        "Marketing",
        ["agreement.key: 'Marketing' must be a key of lowercase letters, digits, - and _"],
    ),
    (
        "agreement.review",
        {"cadence": "WEEKLY"},
        [
            "agreement.review.duration_minutes: required",
            "agreement.review.cadence: must be an RFC 5545 rule such as FREQ=WEEKLY;BYDAY=TH"
            " ('WEEKLY' is not NAME=VALUE)",
        ],
    ),
    (
        "agreement.review",
        {"cadence": "FREQ=WEEKLY;BYDAI=TH", "duration_minutes": 45},
        [
            "agreement.review.cadence: unknown rule part BYDAI",
        ],
    ),
    (
        "agreement.review",
        {"cadence": "BYDAY=TH", "duration_minutes": 2000},
        [
            "agreement.review.cadence: FREQ is required, e.g. FREQ=WEEKLY;BYDAY=TH",
            "agreement.review.duration_minutes: must be <= 1440",
        ],
    ),
    (
        "agreement.review",
        {"cadence": "FREQ=DAILY;COUNT=3;UNTIL=20260101", "duration_minutes": 30},
        [
            "agreement.review.cadence: COUNT and UNTIL cannot both be given",
        ],
    ),
    (
        "agreement.review",
        {"cadence": "FREQ=DAILY;INTERVAL=0", "duration_minutes": True},
        [
            "agreement.review.cadence: INTERVAL must be a whole number > 0",
            "agreement.review.duration_minutes: must be a whole number",
        ],
    ),
    (
        "agreement.review",
        {"cadence": "FREQ=DAILY;FREQ=WEEKLY", "duration_minutes": 30},
        [
            "agreement.review.cadence: rule part FREQ appears twice",
        ],
    ),
    ("leadpact", "1", ["leadpact: unsupported format version '1' (this leadpact reads 1)"]),
    ("leadpact", True, ["leadpact: unsupported format version True (this leadpact reads 1)"]),
    ("agreement", [], ["agreement: must be a mapping"]),
    ("settings", [], ["settings: must be a mapping"]),
    ("parties", {}, ["parties: must be a list"]),
    # parties and calendars
    (
        "parties[1]",
        "sales",
        [
            "parties[1]: must be a mapping",
            "commitments[0].beneficiary: unknown party sales (known: marketing)",
            "commitments[1].owner: unknown party sales (known: marketing)",
        ],
    ),
    (
        "parties[1].key",
        "marketing",
        [
            "parties[1].key: duplicate party marketing (also at parties[0].key)",
            "commitments[0].beneficiary: unknown party sales (known: marketing)",
            "commitments[1].owner: unknown party sales (known: marketing)",
        ],
    ),
    (
        "parties[1].calendar",
        "nl-ofice",
        ["parties[1].calendar: unknown calendar nl-ofice (did you mean nl-office?)"],
    ),
    ("parties[1].calendar", "zz", ["parties[1].calendar: unknown calendar zz (known: nl-office)"]),
    (
        "parties",
        [{"key": "marketing", "name": "M", "calendar": "nl-office"}],
        [
            "parties: an agreement needs at least two parties",
            "commitments[0].beneficiary: unknown party sales (known: marketing)",
            "commitments[1].owner: unknown party sales (known: marketing)",
        ],
    ),
    (
        "calendars.nl-office.timezone",
        "Mars/Olympus",
        ["calendars.nl-office.timezone: unknown time zone 'Mars/Olympus'"],
    ),
    (
        "calendars.nl-office.hours",
        {"mon-fri": ["09:00-25:00"]},
        [
            "calendars.nl-office.hours.mon-fri[0]: bad time '25:00' (use hh:mm from 00:00 to 23:59,"
            " or 24:00 as an end)",
        ],
    ),
    (
        "calendars.nl-office.holidays",
        {"country": "XX"},
        [
            "calendars.nl-office.holidays.country: unknown country 'XX' (not in the holidays package)",
        ],
    ),
    ("calendars.nl-office", "weekdays", ["calendars.nl-office: must be a mapping"]),
    ("calendars", [], ["calendars: must be a mapping of calendar key to calendar"]),
    (
        "calendars",
        {},
        [
            "parties[0].calendar: unknown calendar nl-office (known: none)",
            "parties[1].calendar: unknown calendar nl-office (known: none)",
        ],
    ),
    # definitions
    (
        "definitions[0].rule",
        "lead.scor >= 50",
        [
            "definitions[0].rule: unknown field lead.scor (did you mean lead.score?) at line 1, column 1",
        ],
    ),
    (
        "definitions[0].rule",
        "lead.score >=",
        ["definitions[0].rule: syntax error: the rule ends too early at line 1, column 14"],
    ),
    ("definitions[0].rule", 50, ["definitions[0].rule: must be text (a CEL expression)"]),
    ("definitions[0].rule", None, []),
    ("definitions[0].term", ..., ["definitions[0].term: required"]),
    # reason codes
    (
        "reason_codes",
        [{"code": "dup", "label": "Duplicate", "group": "definition_miss", "owner": "marketing"}],
        [],
    ),
    (
        "reason_codes",
        [
            {"code": "dup", "label": "Duplicate", "group": "definition", "owner": "markting"},
            {"code": "dup", "label": "Again", "group": "other", "owner": "sales", "requires_text": 1},
        ],
        [
            "reason_codes[0].group: must be one of definition_miss, timing, unreachable,"
            " already_handled, other"
            " (did you mean definition_miss?)",
            "reason_codes[0].owner: unknown party markting (did you mean marketing?)",
            "reason_codes[1].requires_text: must be true or false",
            "reason_codes[1].code: duplicate reason code dup (also at reason_codes[0].code)",
        ],
    ),
    # settings
    ("settings", {"basis": "weekdays"}, ["settings.basis: must be one of business_days, calendar_days"]),
    ("settings", {"ramp": [0, 1.5]}, ["settings.ramp[1]: must be between 0 and 1"]),
    ("settings", {"ramp": []}, ["settings.ramp: must list at least one share"]),
    ("settings", {"ramp": [0, "half"]}, ["settings.ramp[1]: must be a number"]),
    ("settings", {"ramp": [0.5, 0.25]}, ["settings.ramp: must not decrease"]),
    (
        "settings",
        {"pacing": {"ahead": 1.1, "on_track": 1.2}},
        [
            "settings.pacing: thresholds must ascend: behind < on_track < ahead",
        ],
    ),
    ("settings", {"pacing": {"ahaed": 1.1}}, ["settings.pacing.ahaed: unknown key (did you mean ahead?)"]),
    (
        "settings",
        {"escalation": {"warn": -1, "reassign": "x"}},
        [
            "settings.escalation.warn: must be > 0",
            "settings.escalation.reassign: must be a number",
        ],
    ),
    (
        "settings",
        {"escalation": {"manager": 2, "reassign": 1.5}},
        [
            "settings.escalation: thresholds must ascend: warn < manager < reassign",
        ],
    ),
    (
        "settings",
        {"min_sample": 2.5, "currency": "eur"},
        [
            "settings.min_sample: must be a whole number",
            "settings.currency: must be an ISO 4217 code such as EUR",
        ],
    ),
    ("settings", {"min_sample": 0}, ["settings.min_sample: must be >= 1"]),
    (
        "settings",
        {"normalisation": "own"},
        [
            "settings.normalisation: must be one of average_period, own_period",
        ],
    ),
    # commitments: keys, references, kinds
    (
        "commitments[1].key",
        "mql-volume",
        ["commitments[1].key: duplicate commitment mql-volume (also at commitments[0].key)"],
    ),
    (
        "commitments[0].owner",
        "marketeers",
        ["commitments[0].owner: unknown party marketeers (did you mean marketing?)"],
    ),
    ("commitments[0].beneficiary", "marketing", ["commitments[0].beneficiary: must differ from the owner"]),
    ("commitments[0].covers", "mq", ["commitments[0].covers: unknown definition mq (did you mean mql?)"]),
    (
        "commitments[0].covers",
        ...,
        ["commitments[0].covers: required for kind volume (the definition of the leads counted)"],
    ),
    (
        "commitments[0].calendar",
        "be-office",
        ["commitments[0].calendar: unknown calendar be-office (did you mean nl-office?)"],
    ),
    ("commitments[0].basis", "days", ["commitments[0].basis: must be one of business_days, calendar_days"]),
    (
        "commitments[0].kind",
        "volumes",
        [
            "commitments[0].kind: must be one of volume, decision, first_attempt, attempts, handoff,"
            " feedback, conversion,"
            " pipeline, revenue, acceptance (did you mean volume?)",
        ],
    ),
    ("commitments[0].period", "year", ["commitments[0].period: must be one of day, week, month, quarter"]),
    ("commitments[0].split", "people", ["commitments[0].split: must be one of capacity, none"]),
    (
        "commitments[1].split",
        "capacity",
        ["commitments[1].split: capacity split needs a count or amount target"],
    ),
    ("commitments[0].outcome", "won", ["commitments[0].outcome: only for kind conversion"]),
    ("commitments[0].trget", 1, ["commitments[0].trget: unknown key (did you mean target?)"]),
    ("commitments[0].target", ..., ["commitments[0].target: required"]),
    ("commitments", [], []),
    # targets
    ("commitments[0].target.value", 0, ["commitments[0].target.value: must be > 0"]),
    ("commitments[0].target.value", -5, ["commitments[0].target.value: must be > 0"]),
    ("commitments[0].target.value", "many", ["commitments[0].target.value: must be a number"]),
    ("commitments[0].target.value", True, ["commitments[0].target.value: must be a number"]),
    ("commitments[0].target.value", float("inf"), ["commitments[0].target.value: must be a finite number"]),
    ("commitments[1].target.value", 101, ["commitments[1].target.value: a percentage must be <= 100"]),
    ("commitments[1].target.value", Decimal("100.0"), []),
    (
        "commitments[0].target.unit",
        "percent",
        [
            "commitments[0].target.value: a percentage must be <= 100",
            "commitments[0].target.unit: must be count for kind volume",
            "commitments[0].target.per: only for count and amount targets",
        ],
    ),
    (
        "commitments[1].target.unit",
        "count",
        [
            "commitments[1].target.unit: must be percent or duration for kind decision",
            "commitments[1].target.per: required for a count target (one of day, week, month,"
            " quarter, basis_day)",
        ],
    ),
    (
        "commitments[0].target.per",
        ...,
        [
            "commitments[0].target.per: required for a count target (one of day, week, month,"
            " quarter, basis_day)",
        ],
    ),
    (
        "commitments[0].target.per",
        "year",
        ["commitments[0].target.per: must be one of day, week, month, quarter, basis_day"],
    ),
    ("commitments[0].target.growth", -1, ["commitments[0].target.growth: must be > -1"]),
    ("commitments[0].target.growth", -0.5, []),
    (
        "commitments[1].target.growth",
        0.1,
        ["commitments[1].target.growth: only for count and amount targets"],
    ),
    ("commitments[0].target.currency", "EUR", ["commitments[0].target.currency: only for amount targets"]),
    # clocks
    ("commitments[1].clock", ..., ["commitments[1].clock: required for kind decision"]),
    (
        "commitments[0].clock",
        {"window": "1h", "start": "handed_over", "stop": ["accepted"]},
        [
            "commitments[0].clock: only for kinds decision, first_attempt, attempts, feedback",
        ],
    ),
    (
        "commitments[1].clock.window",
        "8 hours",
        [
            "commitments[1].clock.window: duration '8 hours' must be a whole number followed by m"
            " (minutes), h (hours)"
            " or bd (business days), e.g. 90m, 8h, 10bd",
        ],
    ),
    (
        "commitments[1].clock.window",
        8,
        ["commitments[1].clock.window: must be a duration such as 90m, 8h or 10bd"],
    ),
    ("commitments[1].clock.window", "0h", ["commitments[1].clock.window: duration '0h' must be > 0"]),
    (
        "commitments[1].clock.start",
        "handover",
        [
            "commitments[1].clock.start: must be one of created, handed_over, assigned,"
            " contact_attempt, accepted,"
            " rejected, qualified, opportunity, won, lost, recycled, feedback, field_changed (did"
            " you mean handed_over?)",
        ],
    ),
    (
        "commitments[1].clock.stop",
        [],
        ["commitments[1].clock.stop: list at least one event kind that stops the clock"],
    ),
    (
        "commitments[1].clock.stop",
        ["accepted", "acepted", "accepted"],
        [
            "commitments[1].clock.stop[1]: unknown event kind acepted (did you mean accepted?)",
            "commitments[1].clock.stop[2]: accepted is listed twice",
        ],
    ),
    (
        "commitments[1].clock.stop",
        ["handed_over"],
        ["commitments[1].clock.stop: must not contain the start event handed_over"],
    ),
    ("commitments[1].clock.stop", "accepted", ["commitments[1].clock.stop: must be a list"]),
    (
        "commitments[1].clock.pause",
        ["waiting_on_customer", "accepted", "Bad Key"],
        [
            "commitments[1].clock.pause[2]: must be an event kind (lowercase key)",
        ],
    ),
    (
        "commitments[1].clock.pause",
        ["waiting_on_customer", "accepted"],
        [
            "commitments[1].clock.pause[1]: accepted already starts or stops the clock",
        ],
    ),
    (
        "commitments[1].clock.thresholds",
        [0.8, 0.8],
        ["commitments[1].clock.thresholds: thresholds must ascend"],
    ),
    ("commitments[1].clock.thresholds", [0, 1], ["commitments[1].clock.thresholds[0]: must be > 0"]),
    ("commitments[1].clock.thresholds", [], ["commitments[1].clock.thresholds: list at least one threshold"]),
    ("commitments[1].clock.attempts", 6, ["commitments[1].clock.attempts: only for kind attempts"]),
    ("commitments[1].clock.human_only", "yes", ["commitments[1].clock.human_only: must be true or false"]),
    (
        "commitments[1].clock.stpo",
        [],
        [
            "commitments[1].clock.stpo: unknown key (did you mean stop?)",
        ],
    ),
    (
        "commitments[1].kind",
        "attempts",
        [
            "commitments[1].clock.attempts: required for kind attempts (the number of attempts)",
        ],
    ),
]


@pytest.mark.parametrize(("path", "value", "expected"), CASES, ids=[f"{c[0]}={c[1]!r}"[:60] for c in CASES])
def test_each_problem_has_its_path(path, value, expected):
    data = set_in(minimal(), path, value)
    if not expected:
        agreement_parse(data)
        return
    assert problems_of(data) == expected


def test_kind_specific_requirements():
    data = minimal()
    data["commitments"] += [
        {
            "key": "attempts",
            "title": "Six attempts",
            "kind": "attempts",
            "owner": "sales",
            "beneficiary": "marketing",
            "target": {"value": 90, "unit": "percent"},
            "period": "month",
            "clock": {"window": "10bd", "start": "accepted", "stop": ["qualified"]},
        },
        {
            "key": "handoff",
            "title": "Data contract",
            "kind": "handoff",
            "owner": "marketing",
            "beneficiary": "sales",
            "target": {"value": 100, "unit": "percent"},
            "period": "month",
        },
        {
            "key": "conversion",
            "title": "MQL to SQL",
            "kind": "conversion",
            "owner": "sales",
            "beneficiary": "marketing",
            "covers": "mql",
            "outcome": "signed",
            "target": {"value": 30, "unit": "percent"},
            "period": "month",
            "fields": [{"field": "email", "check": "email"}],
        },
    ]
    assert problems_of(data) == [
        "commitments[2].clock.attempts: required for kind attempts (the number of attempts)",
        "commitments[3].fields: required for kind handoff (the data contract)",
        "commitments[4].outcome: must be one of accepted, qualified, opportunity, won",
        "commitments[4].fields: only for kind handoff",
    ]


def test_handoff_fields():
    data = minimal()
    data["commitments"].append(
        {
            "key": "handoff",
            "title": "Data contract",
            "kind": "handoff",
            "owner": "marketing",
            "beneficiary": "sales",
            "target": {"value": 100, "unit": "percent"},
            "period": "month",
            "fields": [
                {"field": "email", "check": "email"},
                {"field": "emial", "check": "present"},
                {"field": "email", "check": "present"},
                {"field": "score", "check": "number >= lots"},
                {"field": "country", "check": "one of []"},
                {"field": "extra", "check": "present"},
                {"field": "name.first", "check": "present"},
                {"field": "phone", "check": "telephone"},
                {"field": "extra.plan", "chek": "present"},
                "company",
            ],
        }
    )
    assert problems_of(data) == [
        "commitments[2].fields[1].field: unknown lead field emial (did you mean email?)",
        "commitments[2].fields[2].field: duplicate field email (also at commitments[2].fields[0].field)",
        "commitments[2].fields[3].check: check 'number >= lots': 'lots' is not a number",
        "commitments[2].fields[4].check: check 'one of []': list at least one choice",
        "commitments[2].fields[5].field: unknown lead field extra (or extra.<name>)",
        "commitments[2].fields[6].field: unknown lead field name.first (did you mean name?)",
        "commitments[2].fields[7].check: check 'telephone' must be one of: present, email, phone,"
        " country, number,"
        ' number >= X (or >, <=, <), one of ["a", "b"]',
        "commitments[2].fields[8].chek: unknown key (did you mean check?)",
        "commitments[2].fields[8].check: required",
        "commitments[2].fields[9]: must be a mapping",
    ]


def test_a_bad_document_reports_every_problem_at_once():
    text = (FIXTURES / "agreement_bad.yaml").read_text("utf-8")
    with pytest.raises(AgreementInvalid) as caught:
        agreement_load_yaml(text)
    assert [str(p) for p in caught.value.problems] == [
        "leadpact: unsupported format version 2 (this leadpact reads 1)",
        "agreement.key: 'Marketing Sales' must be a key of lowercase letters, digits, - and _",
        "agreement.title: must not be empty",
        "agreement.language: must be one of en, nl",
        "agreement.effective_until: must be after effective_from (2026-02-01)",
        "agreement.review.cadence: FREQ must be one of SECONDLY, MINUTELY, HOURLY, DAILY, WEEKLY,"
        " MONTHLY, YEARLY",
        "agreement.review.duration_minutes: must be >= 1",
        "parties[0].calendar: unknown calendar nl-ofice (did you mean nl-office?)",
        "parties[1].calender: unknown key (did you mean calendar?)",
        "parties[1].calendar: required",
        "parties[1].key: duplicate party marketing (also at parties[0].key)",
        "calendars.de-office.timezone: unknown time zone 'Mars/Olympus'",
        "definitions[0].rule: unknown field lead.scor (did you mean lead.score?) at line 1, column 1",
        "definitions[1].rule: syntax error: the rule ends too early at line 1, column 14",
        "definitions[1].key: duplicate definition mql (also at definitions[0].key)",
        "reason_codes[0].group: must be one of definition_miss, timing, unreachable, already_handled, other"
        " (did you mean definition_miss?)",
        "reason_codes[1].owner: unknown party legal (known: marketing)",
        "reason_codes[1].requires_text: must be true or false",
        "reason_codes[1].code: duplicate reason code not_icp (also at reason_codes[0].code)",
        "settings.colour: unknown key",
        "settings.ramp: must not decrease",
        "settings.pacing: thresholds must ascend: behind < on_track < ahead",
        "settings.escalation.warn: must be > 0",
        "settings.min_sample: must be >= 1",
        "settings.currency: must be an ISO 4217 code such as EUR",
        "commitments[0].beneficiary: must differ from the owner",
        "commitments[0].covers: required for kind volume (the definition of the leads counted)",
        "commitments[0].target.value: must be > 0",
        "commitments[0].target.unit: must be count for kind volume",
        "commitments[0].target.per: only for count and amount targets",
        "commitments[0].target.growth: only for count and amount targets",
        "commitments[1].owner: unknown party sales (known: marketing)",
        "commitments[1].covers: unknown definition sql (did you mean mql?)",
        "commitments[1].period: must be one of day, week, month, quarter",
        "commitments[1].target.value: a percentage must be <= 100",
        "commitments[1].clock.window: duration '8 hours' must be a whole number followed by m (minutes),"
        " h (hours) or bd (business days), e.g. 90m, 8h, 10bd",
        "commitments[1].clock.stop[1]: unknown event kind acepted (did you mean accepted?)",
        "commitments[1].clock.thresholds: thresholds must ascend",
        "commitments[1].clock.attempts: only for kind attempts",
        "commitments[2].beneficiary: unknown party sales (known: marketing)",
        "commitments[2].fields[0].field: unknown lead field emial (did you mean email?)",
        "commitments[2].fields[1].check: check 'number >= lots': 'lots' is not a number",
        "commitments[2].fields[2].check: check 'one of []': list at least one choice",
        "commitments[3].owner: unknown party sales (known: marketing)",
        "commitments[3].covers: required for kind conversion (the definition of the leads counted)",
        "commitments[3].outcome: required for kind conversion (one of accepted, qualified, opportunity, won)",
        "commitments[3].target.unit: must be percent for kind conversion",
        "commitments[3].clock: only for kinds decision, first_attempt, attempts, feedback",
    ]
    error = caught.value
    assert isinstance(error, ValueError)
    assert str(error).startswith("agreement has 48 problems: leadpact: unsupported format version 2")
    assert error.problems[0] == Problem("leadpact", "unsupported format version 2 (this leadpact reads 1)")


def test_top_level_problems():
    assert problems_of([]) == ["must be a mapping"]
    assert problems_of({"leadpact": 1, "extras": 1}) == [
        "extras: unknown key",
        "agreement: required",
        "parties: required",
        "calendars: required",
        "definitions: required",
        "commitments: required",
    ]


class TestYaml:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            (
                "leadpact: 1\nagreement: [1, 2\n",
                "line 3, column 1: while parsing a flow sequence did not find expected ',' or ']'",
            ),
            (
                "leadpact: 1\nleadpact: 2\n",
                "line 2, column 1: while reading a mapping found duplicate key 'leadpact'",
            ),
            ("a: b: c\n", "line 1, column 5: mapping values are not allowed in this context"),
            (
                "x: 1\n\ty: 2\n",
                "line 2, column 1: while scanning a plain scalar found a tab character that violates"
                " indentation",
            ),
        ],
    )
    def test_syntax_errors_are_problems_with_line_and_column(self, text, expected):
        with pytest.raises(AgreementInvalid) as caught:
            agreement_load_yaml(text)
        assert [str(p) for p in caught.value.problems] == [expected]

    def test_yaml_1_1_surprises_are_text(self):
        text = agreement_dump_yaml(agreement_parse(minimal()))
        text = text.replace("holidays:\n      country: NL", "holidays:\n      country: NO")
        doc = agreement_load_yaml(text)
        assert doc.calendar("nl-office").spec["holidays"]["country"] == "NO"

    def test_numbers_are_read_as_exact_decimals(self):
        text = agreement_dump_yaml(agreement_parse(minimal())).replace("value: 200", "value: 200.10")
        assert agreement_load_yaml(text).commitment("mql-volume").target.value == Decimal("200.1")
        assert "value: 200.1\n" in agreement_dump_yaml(agreement_load_yaml(text))

    @pytest.mark.parametrize(
        ("old", "new", "expected"),
        [
            (
                "effective_from: 2026-01-01",
                "effective_from: 2026-13-01",
                "agreement.effective_from: must be a date (YYYY-MM-DD)",
            ),
            ("value: 200\n", "value: .inf\n", "commitments[0].target.value: must be a number"),
            (
                "value: 200\n",
                "value: 1e400000000\n",
                "commitments[0].target.value: is too large (at most 15 digits before the point)",
            ),
            (
                "value: 200\n",
                "value: 1.0000000000001\n",
                "commitments[0].target.value: has too many decimals (at most 12)",
            ),
            ("min_sample: 20", "min_sample: 10000000", "settings.min_sample: must be <= 1000000"),
            (
                "key: marketing-sales",
                "key: !!python/object:os.system x",
                "line 3, column 8: could not determine a constructor for the tag"
                " 'tag:yaml.org,2002:python/object:os.system'",
            ),
            (
                "leadpact: 1",
                "leadpact: 1\nx: &a [*a]",
                "anchors and aliases (& and *) are not supported in agreements",
            ),
            (
                "leadpact: 1",
                "leadpact: 1\na: &a [1, 2]\nb: [*a, *a]",
                "anchors and aliases (& and *) are not supported in agreements",
            ),
            (
                "leadpact: 1",
                "leadpact: 1\n? [a, b]\n: c",
                "line 2, column 3: while constructing a mapping found unhashable key",
            ),
        ],
    )
    def test_hostile_yaml_is_a_problem_not_a_crash(self, old, new, expected):
        text = agreement_dump_yaml(agreement_parse(minimal()))
        assert old in text
        with pytest.raises(AgreementInvalid) as caught:
            agreement_load_yaml(text.replace(old, new, 1))
        assert [str(p) for p in caught.value.problems] == [expected]

    @pytest.mark.parametrize("lang", ["en", "nl"])
    def test_the_pure_python_reader_reads_the_same(self, lang):
        # used only where PyYAML lacks libyaml; it must agree with the fast reader
        text = agreement_template(lang)
        loader = _agreement_yaml._Loader(text)
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
        assert agreement_parse(data) == agreement_load_yaml(text)
        twice = text.replace("leadpact: 1\n", "leadpact: 1\nreason_codes: []\n")
        loader = _agreement_yaml._Loader(twice)
        try:
            with pytest.raises(yaml.constructor.ConstructorError, match="found duplicate key 'reason_codes'"):
                loader.get_single_data()
        finally:
            loader.dispose()

    def test_a_non_mapping_document(self):
        with pytest.raises(AgreementInvalid) as caught:
            agreement_load_yaml("- 1\n- 2\n")
        assert [str(p) for p in caught.value.problems] == ["must be a mapping"]


class TestDump:
    def test_canonical_text_of_the_minimal_document(self):
        assert agreement_dump_yaml(agreement_parse(minimal())) == (
            FIXTURES / "agreement_minimal.yaml"
        ).read_text("utf-8")

    def test_json_style_data_parses_back_to_the_same_document(self):
        doc = agreement_load_yaml(agreement_template("en"))
        data = agreement_to_data(doc, style="json")
        assert json.loads(json.dumps(data)) == data
        assert agreement_parse(data) == doc
        assert agreement_parse(agreement_to_data(doc)) == doc

    def test_data_is_canonical_and_plain(self):
        data = agreement_to_data(agreement_parse(minimal()))
        assert list(data) == [
            "leadpact",
            "agreement",
            "parties",
            "calendars",
            "definitions",
            "reason_codes",
            "settings",
            "commitments",
        ]
        assert data["commitments"][0]["target"] == {"value": Decimal(200), "unit": "count", "per": "month"}
        assert list(data["commitments"][1]) == [
            "key",
            "title",
            "kind",
            "owner",
            "split",
            "beneficiary",
            "covers",
            "target",
            "period",
            "clock",
        ]

    def test_unicode_is_kept(self):
        data = minimal()
        data["definitions"][0]["text"] = "Een lead die kwalificeert — één regel, ‘quotes’ en €."
        text = agreement_dump_yaml(agreement_parse(data))
        assert "Een lead die kwalificeert — één regel, ‘quotes’ en €." in text


class TestHash:
    def test_same_content_same_hash(self):
        a = agreement_parse(minimal())
        b = agreement_load_yaml(agreement_dump_yaml(a))
        assert agreement_content_hash(a) == agreement_content_hash(b)
        assert len(agreement_content_hash(a)) == 64

    def test_equivalent_spellings_hash_alike(self):
        data = minimal()
        variant = copy.deepcopy(data)
        variant["commitments"][0]["target"]["value"] = "200.00"
        variant["commitments"][1]["clock"]["window"] = "480m"
        variant["settings"] = {"ramp": [0, 0.25, 0.50, 0.75, 1.0]}
        assert agreement_content_hash(agreement_parse(variant)) == agreement_content_hash(
            agreement_parse(data)
        )

    @pytest.mark.parametrize(
        ("path", "value"),
        [
            ("agreement.title", "Marketing-sales SLA"),
            ("commitments[0].target.value", 201),
            ("commitments[1].clock.window", "7h"),
            ("definitions[0].rule", "lead.score >= 51"),
            ("definitions[0].text", "A lead that qualifies"),
            ("settings", {"min_sample": 21}),
            ("calendars.nl-office.hours", {"mon-fri": ["09:00-17:30"]}),
        ],
    )
    def test_any_change_changes_the_hash(self, path, value):
        base = agreement_content_hash(agreement_parse(minimal()))
        assert agreement_content_hash(agreement_parse(set_in(minimal(), path, value))) != base


class TestTemplates:
    @pytest.mark.parametrize("lang", ["en", "nl"])
    def test_templates_parse_and_are_already_canonical(self, lang):
        text = agreement_template(lang)
        doc = agreement_load_yaml(text)
        assert doc.info.language == lang
        assert agreement_dump_yaml(doc) == text
        assert agreement_dump_yaml(agreement_load_yaml(agreement_dump_yaml(doc))) == text

    def test_the_dutch_template_is_the_same_agreement_in_dutch(self):
        en = agreement_load_yaml(agreement_template("en"))
        nl = agreement_load_yaml(agreement_template("nl"))
        human = {"title", "language", "text", "term", "label", "name"}
        changes = agreement_diff(en, nl)
        assert changes
        assert {c.field for c in changes} <= human
        assert all(c.kind == "changed" for c in changes)
        assert en.settings == nl.settings
        assert [c.target for c in en.commitments] == [c.target for c in nl.commitments]

    def test_the_template_covers_the_seed(self):
        doc = agreement_load_yaml(agreement_template("en"))
        kinds = {c.kind for c in doc.commitments}
        assert kinds == {
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
        }
        windows = {c.key: str(c.clock.window) for c in doc.commitments if c.clock is not None}
        assert windows == {
            "mql-decision": "1bd",
            "first-attempt-high-intent": "1h",
            "first-attempt-standard": "24h",
            "contact-attempts": "10bd",
            "feedback": "15bd",
        }
        assert doc.commitment("contact-attempts").clock.attempts == 6
        assert {g.group for g in doc.reason_codes} == {
            "definition_miss",
            "timing",
            "unreachable",
            "already_handled",
            "other",
        }
        assert doc.reason_code("other").requires_text is True
        assert {f.field for f in doc.commitment("handoff-data").fields} >= {
            "email",
            "company",
            "source",
            "campaign",
            "trigger",
            "score",
            "recent_touches",
            "consent",
        }
        calendar = doc.calendar("nl-office").build()
        assert calendar == BusinessCalendar.from_spec(
            {
                "timezone": "Europe/Amsterdam",
                "hours": {"mon-fri": ["09:00-12:30", "13:00-17:30"]},
                "holidays": {"country": "NL"},
            }
        )

    def test_template_rules_sort_leads(self):
        doc = agreement_load_yaml(agreement_template("en"))
        rule = lambda key: doc.definition(key).rule  # noqa: E731
        demo = {"consent": True, "email": "a@b.nl", "country": "NL", "score": 10, "trigger": "demo_request"}
        webinar = {"consent": True, "email": "a@b.nl", "country": "BE", "score": 70, "trigger": "webinar"}
        no_trigger = {"consent": True, "email": "a@b.nl", "country": "BE", "score": 70}
        cold = {"consent": True, "email": "a@b.nl", "country": "DE", "score": 90}
        assert [rule("mql").matches(x) for x in (demo, webinar, no_trigger, cold)] == [
            True,
            True,
            True,
            False,
        ]
        assert [rule("mql-high-intent").matches(x) for x in (demo, webinar, no_trigger)] == [
            True,
            False,
            False,
        ]
        assert [rule("mql-standard").matches(x) for x in (demo, webinar, no_trigger)] == [False, True, True]
        assert rule("mql").check(cold).failed == ['lead.country in ["NL", "BE"] (lead.country is "DE")']

    def test_unknown_language(self):
        with pytest.raises(ValueError, match="template language 'de' must be en or nl"):
            agreement_template("de")  # type: ignore[arg-type]


class TestFieldCheck:
    @pytest.mark.parametrize(
        ("written", "canonical"),
        [
            ("present", "present"),
            (" email ", "email"),
            ("number", "number"),
            ("number>=0", "number >= 0"),
            ("number >  0.50", "number > 0.5"),
            ("number <= 1e2", "number <= 100"),
            ("one of [NL, BE]", 'one of ["NL", "BE"]'),
            ('one of ["Nederland", "België"]', 'one of ["Nederland", "België"]'),
            ("one of [true]", 'one of ["true"]'),
            ("one of [1, 2]", 'one of ["1", "2"]'),
        ],
    )
    def test_grammar_and_canonical_form(self, written, canonical):
        assert FieldCheck.parse("score", written).check == canonical

    @pytest.mark.parametrize(
        ("check", "reason"),
        [
            ("telephone", "must be one of"),
            ("number >= x", "'x' is not a number"),
            ("number >= nan", "'nan' is not a number"),
            ("one of []", "list at least one choice"),
            ("one of [a, a]", "choice 'a' is listed twice"),
            ("one of [a, ]", "a choice is empty"),
            ('one of [{"a": 1}]', "choices must be words or numbers"),
            (3, "check must be text"),
        ],
    )
    def test_bad_checks(self, check, reason):
        with pytest.raises(FieldCheckError, match=reason.replace("[", r"\[")):
            FieldCheck.parse("score", check)

    def test_bad_fields(self):
        with pytest.raises(FieldCheckError, match="unknown lead field scor"):
            FieldCheck.parse("scor", "present")
        with pytest.raises(FieldCheckError, match="field must be a lead field name"):
            FieldCheck.parse("", "present")

    @pytest.mark.parametrize(
        ("check", "value", "passes"),
        [
            ("present", "x", True),
            ("present", "  ", False),
            ("present", None, False),
            ("present", [], False),
            ("present", [{"channel": "web"}], True),
            ("present", False, True),
            ("email", "jan@example.nl", True),
            ("email", "jan@example", False),
            ("email", "jan example.nl", False),
            ("email", 3, False),
            ("phone", "+31 (0)20-123 4567", True),
            ("phone", "12345", False),
            ("phone", "call me", False),
            ("country", "NL", True),
            ("country", "nl", False),
            ("country", "NLD", False),
            ("number", "12.5", True),
            ("number", "twelve", False),
            ("number", True, False),
            ("number", [], False),
            ("number >= 0", 0, True),
            ("number >= 0", -0.5, False),
            ("number > 0", Decimal("0.01"), True),
            ("number < 10", 10, False),
            ("number <= 10", "10", True),
            ('one of ["NL", "BE"]', "BE", True),
            ('one of ["NL", "BE"]', "DE", False),
            ('one of ["true"]', True, True),
            ('one of ["true"]', False, False),
            ('one of ["1", "2"]', 2, True),
            ('one of ["1", "2"]', [1], False),
        ],
    )
    def test_values(self, check, value, passes):
        assert check_value(check, value) is passes

    def test_passes_reads_the_lead(self):
        assert FieldCheck.parse("extra.plan", 'one of ["pro"]').passes({"extra": {"plan": "pro"}})
        assert not FieldCheck.parse("extra.plan", 'one of ["pro"]').passes({"extra": "pro"})
        assert not FieldCheck.parse("email", "email").passes({})
        assert FieldCheck.parse("score", "number").kind == "number"


class TestDurations:
    @pytest.mark.parametrize(
        ("text", "canonical", "minutes", "days"),
        [
            ("90m", "90m", 90, None),
            ("120m", "2h", 120, None),
            ("1h", "1h", 60, None),
            (" 8h ", "8h", 480, None),
            ("24h", "24h", 1440, None),
            ("10bd", "10bd", None, 10),
        ],
    )
    def test_parse_and_canonical_form(self, text, canonical, minutes, days):
        duration = BusinessDuration.parse(text)
        assert str(duration) == canonical
        assert duration.minutes == minutes
        assert duration.business_days == days
        assert duration.seconds == (None if minutes is None else minutes * 60)
        assert BusinessDuration.parse(str(duration)) == duration

    @pytest.mark.parametrize("text", ["", "8", "h", "8 h", "1.5h", "-1h", "0m", "8d", "1h30m", "99999999m"])
    def test_bad_durations(self, text):
        with pytest.raises(ValueError, match="duration"):
            BusinessDuration.parse(text)

    def test_values_are_checked(self):
        with pytest.raises(ValueError, match="must be > 0"):
            BusinessDuration.of_minutes(0)
        with pytest.raises(ValueError, match="must be minutes or business_days"):
            BusinessDuration("hours", 1)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="whole number"):
            BusinessDuration("minutes", 1.5)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="must be text"):
            BusinessDuration.parse(8)  # type: ignore[arg-type]
        assert BusinessDuration.of_business_days(2) == BusinessDuration.parse("2bd")

    @pytest.mark.parametrize(
        ("text", "en", "nl"),
        [
            ("1h", "1 business hour", "1 werkuur"),
            ("8h", "8 business hours", "8 werkuren"),
            ("1m", "1 business minute", "1 werkminuut"),
            ("90m", "90 business minutes", "90 werkminuten"),
            ("1bd", "1 business day", "1 werkdag"),
            ("10bd", "10 business days", "10 werkdagen"),
        ],
    )
    def test_words(self, text, en, nl):
        duration = BusinessDuration.parse(text)
        assert duration.describe("en") == en
        assert duration.describe("nl") == nl


def test_commitment_values_are_frozen():
    doc = agreement_parse(minimal())
    with pytest.raises(AttributeError):
        doc.commitments[0].key = "x"  # type: ignore[misc]
    assert isinstance(doc.commitments[0], Commitment)


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_documents_copy_and_pickle(how):
    doc = agreement_load_yaml(agreement_template("en"))
    other = copy.deepcopy(doc) if how == "deepcopy" else pickle.loads(pickle.dumps(doc))
    assert other == doc
    assert hash(other) == hash(doc)
    assert agreement_dump_yaml(other) == agreement_dump_yaml(doc)
    rule = other.definition("mql").rule
    assert rule is not None
    assert rule.check({"consent": True, "email": "a@b.nl", "country": "DE", "score": 60}).failed == [
        'lead.country in ["NL", "BE"] (lead.country is "DE")'
    ]
    with pytest.raises(TypeError):
        other.calendar("nl-office").spec["timezone"] = "UTC"  # type: ignore[index]
