"""The diff between two agreement versions, clause by clause, in English and Dutch."""

from __future__ import annotations

import copy
from decimal import Decimal

from leadpact.core.agreement import (
    Change,
    agreement_diff,
    agreement_load_yaml,
    agreement_parse,
    agreement_template,
)
from tests.core.test_agreement import minimal


def changed_version() -> dict:
    data = minimal()
    data["agreement"]["effective_until"] = "2027-01-01"
    data["calendars"]["nl-office"]["hours"] = {"mon-fri": ["09:00-12:30", "13:00-17:30"]}
    data["definitions"][0]["rule"] = "lead.score >= 60"
    data["definitions"].append({"key": "sql", "term": "SQL", "text": "Qualified."})
    data["reason_codes"] = [
        {"code": "duplicate", "label": "Duplicate", "group": "definition_miss", "owner": "marketing"}
    ]
    data["settings"] = {"ramp": [0, 0.5, 1]}
    data["commitments"][0]["target"] = {"value": 220, "unit": "count", "per": "month", "growth": 0.1}
    decision = data["commitments"][1]
    decision["basis"] = "calendar_days"
    decision["clock"]["window"] = "1bd"
    decision["clock"]["thresholds"] = [0.5, 1]
    data["commitments"].reverse()
    data["commitments"].append(
        {
            "key": "handoff",
            "title": "Data",
            "kind": "handoff",
            "owner": "marketing",
            "beneficiary": "sales",
            "target": {"value": 100, "unit": "percent"},
            "period": "month",
            "fields": [{"field": "email", "check": "email"}],
        }
    )
    return data


def test_no_change_no_diff():
    doc = agreement_parse(minimal())
    assert agreement_diff(doc, doc) == []
    assert agreement_diff(doc, agreement_parse(minimal())) == []


def test_changes_in_english():
    changes = agreement_diff(agreement_parse(minimal()), agreement_parse(changed_version()))
    assert [c.describe("en") for c in changes] == [
        "agreement: effective_until set to 2027-01-01",
        "calendar nl-office: hours changed from {mon-fri: [09:00-17:00]} to {mon-fri: [09:00-12:30,"
        " 13:00-17:30]}",
        "definition mql: rule changed from lead.score >= 50 to lead.score >= 60",
        "definition sql added",
        "reason code duplicate added",
        "settings.ramp changed from [0, 0.25, 0.5, 0.75, 1] to [0, 0.5, 1]",
        "commitment decision: basis set to calendar_days",
        "commitment decision: clock.window changed from 8 business hours to 1 business day",
        "commitment decision: clock.thresholds set to [0.5, 1]",
        "commitment mql-volume: target changed from 200 a month to 220 a month, growing 10% a month",
        "commitment handoff added",
        "commitments: order changed from [mql-volume, decision] to [decision, mql-volume]",
    ]


def test_changes_in_dutch():
    changes = agreement_diff(agreement_parse(minimal()), agreement_parse(changed_version()))
    assert [c.describe("nl") for c in changes] == [
        "overeenkomst: geldig tot ingesteld op 2027-01-01",
        "kalender nl-office: hours gewijzigd van {mon-fri: [09:00-17:00]} naar {mon-fri:"
        " [09:00-12:30, 13:00-17:30]}",
        "definitie mql: regel gewijzigd van lead.score >= 50 naar lead.score >= 60",
        "definitie sql toegevoegd",
        "redencode duplicate toegevoegd",
        "instellingen.ramp gewijzigd van [0, 0.25, 0.5, 0.75, 1] naar [0, 0.5, 1]",
        "afspraak decision: basis ingesteld op calendar_days",
        "afspraak decision: klok.venster gewijzigd van 8 werkuren naar 1 werkdag",
        "afspraak decision: klok.drempels ingesteld op [0.5, 1]",
        "afspraak mql-volume: doel gewijzigd van 200 per maand naar 220 per maand, groei 10% per maand",
        "afspraak handoff toegevoegd",
        "afspraken: volgorde gewijzigd van [mql-volume, decision] naar [decision, mql-volume]",
    ]


def test_change_values_are_structured():
    changes = agreement_diff(agreement_parse(minimal()), agreement_parse(changed_version()))
    target = next(c for c in changes if c.field == "target")
    assert target == Change(
        "changed",
        "commitment",
        "mql-volume",
        "target",
        {"value": Decimal(200), "unit": "count", "per": "month"},
        {"value": Decimal(220), "unit": "count", "per": "month", "growth": Decimal("0.1")},
    )
    assert target.subject == "commitment mql-volume"
    assert str(target) == target.describe("en")
    added = next(c for c in changes if c.kind == "added" and c.field is None and c.section == "definition")
    assert (added.subject, added.before, added.after) == (
        "definition sql",
        None,
        {"key": "sql", "term": "SQL", "text": "Qualified."},
    )


def test_removals_and_handoff_fields():
    old = changed_version()
    new = copy.deepcopy(old)
    new["reason_codes"] = []
    new["definitions"].pop()
    handoff = new["commitments"][2]
    handoff["fields"] = [{"field": "email", "check": "present"}, {"field": "phone", "check": "phone"}]
    handoff["target"]["value"] = 95
    new["commitments"][0]["clock"].pop("thresholds")
    new["agreement"].pop("effective_until")
    changes = agreement_diff(agreement_parse(old), agreement_parse(new))
    assert [c.describe("en") for c in changes] == [
        "agreement: effective_until removed (was 2027-01-01)",
        "definition sql removed",
        "reason code duplicate removed",
        "commitment decision: clock.thresholds removed (was [0.5, 1])",
        "commitment handoff: target changed from 100% to 95%",
        "commitment handoff: field email check changed from email to present",
        "commitment handoff: field phone added (check phone)",
    ]
    assert [c.describe("nl") for c in changes][-3:] == [
        "afspraak handoff: doel gewijzigd van 100% naar 95%",
        "afspraak handoff: veld email controle gewijzigd van email naar present",
        "afspraak handoff: veld phone toegevoegd (controle phone)",
    ]
    back = agreement_diff(agreement_parse(new), agreement_parse(old))
    assert "commitment handoff: field phone removed (was check phone)" in [c.describe("en") for c in back]


def test_targets_of_every_unit_read_as_phrases():
    old = minimal()
    old["commitments"].append(
        {
            "key": "revenue",
            "title": "Won revenue",
            "kind": "revenue",
            "owner": "sales",
            "beneficiary": "marketing",
            "target": {"value": 120000, "unit": "amount", "per": "quarter", "currency": "EUR"},
            "period": "quarter",
        }
    )
    new = copy.deepcopy(old)
    new["commitments"][2]["target"]["value"] = "125000.50"
    new["commitments"][1]["target"] = {"value": 8, "unit": "duration"}
    changes = agreement_diff(agreement_parse(old), agreement_parse(new))
    assert [c.describe("en") for c in changes] == [
        "commitment decision: target changed from 100% to 8 business hours",
        "commitment revenue: target changed from EUR 120000 a quarter to EUR 125000.5 a quarter",
    ]
    assert [c.describe("nl") for c in changes] == [
        "afspraak decision: doel gewijzigd van 100% naar 8 werkuren",
        "afspraak revenue: doel gewijzigd van EUR 120000 per kwartaal naar EUR 125000.5 per kwartaal",
    ]


def test_flags_and_missing_values_in_words():
    old = minimal()
    new = copy.deepcopy(old)
    new["commitments"][1]["clock"]["human_only"] = False
    changes = agreement_diff(agreement_parse(old), agreement_parse(new))
    assert [c.describe("en") for c in changes] == [
        "commitment decision: clock.human_only changed from yes to no"
    ]
    assert [c.describe("nl") for c in changes] == [
        "afspraak decision: klok.alleen_mensen gewijzigd van ja naar nee"
    ]


def test_template_edit_reads_like_the_brief():
    old = agreement_load_yaml(agreement_template("en"))
    text = agreement_template("en").replace("value: 1000\n", "value: 1100\n")
    changes = agreement_diff(old, agreement_load_yaml(text))
    assert [c.describe("en") for c in changes] == [
        "commitment mql-volume: target changed from 1000 a month to 1100 a month"
    ]
