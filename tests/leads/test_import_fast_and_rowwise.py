"""The fast import (big batches, the child reader, COPY on PostgreSQL) stores exactly what the row-by-row way
stores (a batch of one row, read in a thread, one INSERT a row): every table and every scorecard, with
the demo agreement in force — duplicates, repeated leads, refused rows and unknown owners included."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from leadpact.leads import _sql
from leadpact.leads.imports import import_job_report_csv, lead_import
from leadpact.leads.models import HandoffCheck, ImportJob, Lead, LeadEvent, LeadSource, LeadState
from leadpact.measurement.scorecard.results import result_data
from leadpact.measurement.scorecard.selectors import measure

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
HEADER = (
    "Record ID,First Name,Last Name,Email,Company Name,Country/Region,Contact owner,HubSpot Score,"
    "Create Date,Became a Marketing Qualified Lead Date,Became a Sales Qualified Lead Date\n"
)
COUNTRIES = ["Netherlands", "Belgium", "Germany", "", "France"]


def _export(path: Path, rows: int) -> None:
    """A HubSpot export with the cases that make a batch differ from a row: the same person twice (a
    duplicate), the same record twice (one lead, values merged), refused values and unknown owners."""
    lines = [HEADER]
    for i in range(rows):
        # every 37th row is the record before it again, later: the same values but the company (empty:
        # keep what is stored) and other dates. Values that change between two rows of a file are
        # judged as they stand when the batch is stored (a handoff's check, an e-mail's twins), so they
        # differ by batch size by design; they are not what this test compares.
        n = i if i % 37 else i - 1
        record = 70_000 + n
        email = f"p{n % 150}@example.nl" if n % 11 else "not-an-email"  # 150 addresses: duplicates
        owner = "Nobody Known" if i % 23 == 0 else ""
        score = "lots" if i % 41 == 0 else str(n % 100)  # a refused score: the row is reported
        company = f"Company {n % 7}" if n == i else ""
        day, minute = 1 + i % 28, i % 60
        sql_date = f"2026-11-{day:02d} 11:{minute:02d}" if i % 3 else ""
        lines.append(
            f"{record},First{n},Last{n},{email},{company},{COUNTRIES[n % 5]},{owner},{score},"
            f"2026-10-{day:02d} 09:{minute:02d},2026-10-{day:02d} 10:{minute:02d},{sql_date}\n"
        )
    path.write_text("".join(lines), encoding="utf-8")


def _snapshot(demo: Any) -> dict[str, Any]:
    """Every row an import writes, keyed by what does not depend on id allocation, and every scorecard."""
    organization = demo.agreement.organization
    external = dict(LeadSource.objects.values_list("lead_id", "external_id"))
    keys = dict(LeadEvent.objects.values_list("id", "idempotency_key"))
    marks = dict(Lead.objects.values_list("id", "duplicate_of_id"))

    def original(pk: int | None) -> str | None:
        """The lead a duplicate's marks lead to: a batch marks every twin of a group as a duplicate of the
        first-handed-over one, rows one at a time may chain them (a mark once set is never changed),
        the same leads are duplicates of the same original either way."""
        if pk is None:
            return None
        while marks[pk] is not None:
            pk = marks[pk]
        return external[pk]

    leads = []
    for row in Lead.objects.filter(organization=organization).values():
        row["duplicate_of_id"] = original(row["duplicate_of_id"])
        leads.append((external[row.pop("id")], row))
    leads.sort()
    events = sorted(
        (external[row.pop("lead_id")], row.pop("idempotency_key"), sorted(row.items()))
        for row in LeadEvent.objects.values()
        if row.pop("id")
    )
    states = sorted((external[row.pop("lead_id")], sorted(row.items())) for row in LeadState.objects.values())
    checks = sorted(
        (external[row.pop("lead_id")], keys[row.pop("event_id")], sorted(row.items()))
        for row in HandoffCheck.objects.values()
        if row.pop("id")
    )
    job = ImportJob.objects.get()
    scorecards = []
    for period in ("2026-10", "2026-11", "2026-Q4"):
        for result in measure(version=demo, period=period, now=NOW):
            data = result_data(result)
            data["evidence"] = {k: sorted(external[pk] for pk in v) for k, v in data["evidence"].items()}
            scorecards.append(data)
    return {
        "leads": leads,
        "sources": sorted(LeadSource.objects.values_list("source", "external_id")),
        "events": events,
        "states": states,
        "checks": checks,
        "job": (job.status, job.rows_read, job.rows_imported, job.problems_count, job.last_committed_row),
        "problems": import_job_report_csv(job),
        "scorecards": scorecards,
    }


class _UndoError(Exception):
    pass


@pytest.mark.django_db(transaction=False)
def test_the_fast_import_stores_what_the_row_by_row_import_stores(demo, tmp_path, monkeypatch):
    path = tmp_path / "export.csv"
    _export(path, 400)
    organization = demo.agreement.organization

    def clock() -> dt.datetime:
        return NOW

    try:
        with transaction.atomic():
            fast = lead_import(organization=organization, path=path, clock=clock, reader="process")
            assert fast.result == "imported"
            quick = _snapshot(demo)
            raise _UndoError
    except _UndoError:
        pass
    assert not Lead.objects.exists()
    monkeypatch.setattr(_sql, "COPY_FROM_ROWS", 10**9)  # PostgreSQL: one INSERT a row, as before COPY
    slow = lead_import(organization=organization, path=path, clock=clock, reader="thread", batch_size=1)
    assert slow.result == "imported"
    rowwise = _snapshot(demo)

    # the file did what it was made for, so the comparison compares something
    assert quick["job"][0] == "completed" and quick["job"][3] > 0  # refused rows and unknown owners
    assert len(quick["checks"]) > 100  # handoffs checked against the agreement in force
    assert any(row["duplicate_of_id"] for _, row in quick["leads"])  # duplicates marked
    assert any(r["sample_size"] for r in quick["scorecards"])  # scorecards measured something
    for table in quick:
        differing = [(a, b) for a, b in zip(quick[table], rowwise[table], strict=False) if a != b][:2]
        assert quick[table] == rowwise[table], f"{table} differs ({connection.vendor}): {differing}"
    # and a re-run adds nothing
    again = lead_import(organization=organization, path=path, clock=clock, reader="process")
    assert again.result == "already_imported" and _snapshot(demo) == rowwise
