"""Handoff checks with the rules evaluated a batch at a time store the rows lead-by-lead checks stored.

The reference is the lead-by-lead check as it was written before (one ``rules_check`` a lead, the JSON
made a row at a time), run over the demo's leads against its agreement: every row it would write must
be the very row the batch check writes, text for text.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from leadpact.core.rules import rules_check
from leadpact.demo.services import demo_load
from leadpact.leads import _handoff
from leadpact.leads._handoff import _RULE_COLUMNS, Handoff, HandoffChecker, _rule_values
from leadpact.leads._sql import adapt_json, datetime_adapter
from leadpact.leads.models import HandoffCheck, Lead, LeadEvent
from leadpact.organization.models import Organization

NOW = dt.datetime(2026, 2, 2, 9, 0, tzinfo=dt.UTC)


def _lead_by_lead_rows(
    checker: HandoffChecker, events: list[Handoff], now: dt.datetime
) -> list[tuple[Any, ...]]:
    """The rows the handoff check wrote before rules were evaluated a batch at a time."""
    leads = {
        row["id"]: _rule_values(row)
        for row in Lead.objects.filter(pk__in={e.lead_id for e in events}).values("id", *_RULE_COLUMNS)
    }
    checked_at = datetime_adapter()(now)
    rows = []
    for event in events:
        values = leads[event.lead_id]
        for agreement in checker.agreements:
            version = checker.version_at(agreement, event.occurred_at)
            if version is None:
                continue
            terms = checker.terms(version)
            checked = iter(rules_check(terms.rules, values))
            results: dict[str, dict[str, Any]] = {}
            for covered in terms.covered:
                met, failed = True, []
                if covered.rule is not None:
                    result = next(checked)
                    met, failed = result.met, list(result.failed)
                results[covered.key] = {"version": covered.version.pk, "met": met, "failed": failed}
            main = results.get(terms.definition.key) if terms.definition is not None else None
            met, failed = (main["met"], main["failed"]) if main is not None else (True, [])
            missing = [c.field for c in terms.fields if not c.passes(values)]
            rows.append(
                (
                    event.lead_id,
                    event.pk,
                    version.pk,
                    terms.definition.pk if terms.definition is not None else None,
                    met,
                    adapt_json(failed),
                    adapt_json(missing),
                    adapt_json(results),
                    checked_at,
                )
            )
    return rows


@pytest.mark.django_db
def test_the_demos_handoffs_get_the_rows_lead_by_lead_checks_wrote(monkeypatch):
    demo_load(now=NOW)
    organization = Organization.objects.get()
    handoffs = [
        Handoff(e.pk, e.lead_id, e.occurred_at)
        for e in LeadEvent.objects.filter(kind="handed_over").order_by("occurred_at", "pk")
    ]
    assert len(handoffs) > 500
    expected = _lead_by_lead_rows(HandoffChecker(organization), handoffs, NOW)
    assert {row[4] for row in expected} == {True, False}  # met and not met, so both kinds are compared
    assert len({row[7] for row in expected}) > 20  # many different outcomes in words

    # what the demo's import stored (the batch check, in its batches) reads back as the reference's rows
    stored = sorted(
        HandoffCheck.objects.values_list(
            "event_id", "agreement_version_id", "met", "failed", "missing_fields", "definitions"
        )
    )
    assert stored == sorted(
        (row[1], row[2], row[4], json.loads(row[5]), json.loads(row[6]), json.loads(row[7]))
        for row in expected
    )

    # and what the batch check hands to the database is the reference's text, byte for byte
    written: list[tuple[Any, ...]] = []
    real = _handoff.insert_rows

    def capture(model, columns, rows, **kwargs):
        written.extend(tuple(row[1:]) for row in rows)  # all but the id
        return real(model, columns, rows, **kwargs)

    monkeypatch.setattr(_handoff, "insert_rows", capture)
    HandoffCheck.objects.all().delete()
    checker = HandoffChecker(organization)
    for start in range(0, len(handoffs), 300):
        checker.check(handoffs[start : start + 300], now=NOW)
    assert written == expected
    assert HandoffCheck.objects.count() == len(expected)
