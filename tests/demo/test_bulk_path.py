"""The demo's leads by the bulk path (``path="bulk"``, the import's way) store what ``leads_store`` does.

The same generated traffic goes both ways in one database: the ordinary store's tables, clocks and
scorecard are read, rolled back, and the bulk path's are compared with them row for row (ids aside:
the leads are matched by their source id, events by their idempotency key).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction

from leadpact.agreements.models import AgreementVersion
from leadpact.demo._leads import demo_leads_load
from leadpact.demo.services import demo_load
from leadpact.leads.models import HandoffCheck, Lead, LeadEvent, LeadSource, LeadState
from leadpact.measurement.clocks.models import LeadClock
from leadpact.measurement.clocks.services import clocks_update
from leadpact.measurement.scorecard.selectors import measure_periods

NOW = dt.datetime(2026, 3, 16, 9, 0, tzinfo=dt.UTC)


def _tables() -> dict[str, Any]:
    """Every row the leads wrote, with ids replaced by what names the row (source id, event key)."""
    lead_key = dict(LeadSource.objects.values_list("lead_id", "external_id"))
    event_key = dict(LeadEvent.objects.values_list("id", "idempotency_key"))

    def rows(model: Any, drop: tuple[str, ...] = ("id",)) -> list[tuple[Any, ...]]:
        out = []
        for row in model.objects.values():
            for name in drop:
                row.pop(name, None)
            for name in ("lead_id", "duplicate_of_id"):
                if row.get(name) is not None:
                    row[name] = lead_key[row[name]]
            if row.get("event_id") is not None:
                row["event_id"] = event_key[row["event_id"]]
            out.append(tuple(sorted((k, repr(v)) for k, v in row.items())))
        return sorted(out)

    leads = []
    for row in Lead.objects.values():
        row["id"] = lead_key[row["id"]]
        if row["duplicate_of_id"] is not None:
            row["duplicate_of_id"] = lead_key[row["duplicate_of_id"]]
        leads.append(tuple(sorted((k, repr(v)) for k, v in row.items())))
    states = []
    for row in LeadState.objects.values():
        row["lead_id"] = lead_key[row["lead_id"]]
        states.append(tuple(sorted((k, repr(v)) for k, v in row.items())))
    return {
        "leads": sorted(leads),
        "sources": rows(LeadSource),
        "events": rows(LeadEvent),
        "states": sorted(states),
        "checks": rows(HandoffCheck),
        "clocks": rows(LeadClock),
    }


def _run(path: str) -> tuple[int, dict[str, Any], list[tuple[Any, ...]]]:
    version = AgreementVersion.objects.select_related("agreement__organization").get(status="active")
    org = version.agreement.organization
    # batches of 250: duplicates across batches, leads handed over in one batch and decided in the next
    made = demo_leads_load(org, now=NOW, leads=1200, batch=250, path=path)  # type: ignore[arg-type]
    clocks_update(now=NOW, organization=org)
    months = ["2026-01", "2026-02", "2026-03"]
    results = measure_periods(version=version, periods=months, now=NOW)
    card = [
        (m, r.commitment_key, r.subject_kind, r.subject_name, r.actual, r.target, r.status, r.sample_size)
        for m in months
        for r in results[m]
    ]
    return made, _tables(), card


@pytest.mark.django_db
def test_the_bulk_path_stores_the_same_rows_clocks_and_scorecards_as_the_ordinary_store(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    demo_load(with_leads=False, now=NOW)
    with transaction.atomic():
        made, ordinary, card = _run("store")
        transaction.set_rollback(True)
    assert not Lead.objects.exists()  # rolled back: the bulk path starts from the same empty organisation
    bulk_made, bulk, bulk_card = _run("bulk")

    assert made == bulk_made > 1000
    assert len(bulk["events"]) > 8 * made
    assert len(bulk["checks"]) > 0.8 * made and len(bulk["clocks"]) > 100
    assert any(dict(row)["duplicate_of_id"] != "None" for row in bulk["leads"])  # duplicates were marked
    for table, ordinary_rows in ordinary.items():
        assert bulk[table] == ordinary_rows, table
    assert bulk_card == card and any(row[4] for row in card)
