"""The import's reader: a child process stores exactly what the in-process thread stores.

The child parses, keys and shapes rows on another core (``leads._reader``); whatever it hands over must
land as the thread's rows do — the same leads, events (keys, data, times), states and problems — for
every sample export, broken rows, a lead on two rows and owners named by people.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadpact.connectors.files import UnreadableFile
from leadpact.leads._reader import ChildReader, encode
from leadpact.leads._sql import BULK_PRAGMAS, tuned_for_bulk
from leadpact.leads.imports import lead_import
from leadpact.leads.models import ImportJob, ImportProblem, Lead, LeadEvent, LeadState
from leadpact.leads.services import leads_refresh_state
from leadpact.organization.models import Person
from tests.organization.factories import make_organization, make_person, make_team

SAMPLES = Path(__file__).parents[1] / "connectors" / "samples"
FILES = [
    "hubspot_labels.csv",
    "hubspot_internal.csv",
    "salesforce_report.csv",
    "salesforce_report_nl.csv",
    "salesforce_bulk.csv",
    "pipedrive_leads.csv",
    "pipedrive_deals.csv",
    "broken_rows.csv",
]


def _organization(key: str):
    org = make_organization(key=key)
    sales = make_team(org, "sales")
    make_person(sales, "Jeroen Bakker")  # an owner the HubSpot sample names
    make_person(sales, "Emma Visser")
    return org


def _stored(org) -> dict[str, Any]:
    """Everything an import wrote for ``org``, keyed by what does not depend on database ids."""
    by_id = {
        pk: (source.source, source.external_id)
        for pk, source in ((lead.pk, lead.sources.get()) for lead in Lead.objects.filter(organization=org))
    }
    leads = {
        by_id[lead.pk]: (
            lead.name, lead.email, lead.company, lead.country, lead.score, lead.extra, lead.created_at,
            lead.marketing_owner.name if lead.marketing_owner else None,
            lead.sales_owner.name if lead.sales_owner else None,
        )
        for lead in Lead.objects.filter(organization=org).select_related("marketing_owner", "sales_owner")
    }  # fmt: skip
    names = dict(Person.objects.filter(team__organization=org).values_list("pk", "name"))

    def data(values: dict[str, Any]) -> str:  # an owner by name: ids differ between organisations
        return repr({k: names[v] if k == "owner_id" else v for k, v in sorted(values.items())})

    stored_events = list(LeadEvent.objects.filter(organization=org))
    keys = {e.pk: e.idempotency_key for e in stored_events}

    def void_data(values: dict[str, Any]) -> str:  # a void names events by id: name them by content key
        return repr({k: keys.get(v, v) if k in ("event_id", "by") else v for k, v in sorted(values.items())})

    events = sorted(
        (by_id[e.lead_id], e.kind, e.occurred_at, e.kind == "voided" or e.idempotency_key,
         e.kind == "voided" or bytes(e.key_digest), void_data(e.data) if e.kind == "voided" else data(e.data),
         e.actor_label, e.source)
        for e in stored_events
    )  # fmt: skip
    states = {
        by_id[s.lead_id]: (
            s.stage, s.owner.name if s.owner else None, s.handed_over_at, s.handoffs, s.decision,
            s.decided_at, s.reason_code, s.first_human_attempt_at, s.attempts, s.outcome, s.closed_at,
            s.amount, s.events, s.last_event_at,
        )
        for s in LeadState.objects.filter(lead__organization=org).select_related("owner")
    }  # fmt: skip
    problems = sorted(
        ImportProblem.objects.filter(job__organization=org).values_list(
            "job__file_name", "row", "column", "reason"
        )
    )
    jobs = sorted(
        ImportJob.objects.filter(organization=org).values_list(
            "file_name", "status", "rows_read", "rows_imported", "problems_count", "last_committed_row"
        )
    )
    return {"leads": leads, "events": events, "states": states, "problems": problems, "jobs": jobs}


def _two_row_file(tmp_path: Path) -> Path:
    """A lead on two rows (in one batch and across batches), an owner nobody is, an assignment."""
    path = tmp_path / "twice.csv"
    path.write_text(
        "Record ID,Email,Contact owner,Create Date,Owner assigned date,"
        "Became a Marketing Qualified Lead Date,Became a Sales Qualified Lead Date\n"
        "1,a@example.nl,Jeroen Bakker,2026-03-02 09:00,2026-03-02 09:30,2026-03-02 10:00,\n"
        "2,b@example.nl,Nobody Known,2026-03-03 09:00,,2026-03-03 10:00,\n"
        "1,a@example.nl,Emma Visser,2026-03-02 09:00,2026-03-04 09:30,2026-03-02 10:00,2026-03-05 11:00\n"
        "3,c@example.nl,,2026-03-04 09:00,,,\n"
        "3,c@example.nl,,2026-03-04 09:00,,2026-03-06 10:00,\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("batch_size", [10_000, 2])
def test_a_child_process_stores_what_the_thread_stores(tmp_path, batch_size):
    files = [SAMPLES / name for name in FILES] + [_two_row_file(tmp_path)]
    stored = {}
    for reader in ("thread", "process"):
        org = _organization(reader)
        for path in files:
            lead_import(organization=org, path=path, reader=reader, batch_size=batch_size)
        stored[reader] = _stored(org)
    assert stored["process"]["leads"]  # something was imported at all
    assert stored["process"]["problems"]  # and broken rows were reported
    for part in ("leads", "events", "states", "problems", "jobs"):
        assert stored["process"][part] == stored["thread"][part], part
    # the states the reader derived are the ones the log gives when folded again from the database
    leads_refresh_state(Lead.objects.values_list("pk", flat=True))
    assert _stored(org)["states"] == stored["process"]["states"]
    twice = {k: v for k, v in stored["process"]["states"].items() if k[1] == "1"}
    assert [state[1] for state in twice.values()] == ["Emma Visser"]  # the later assignment wins


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("reader", ["thread", "process"])
def test_an_unreadable_rest_fails_the_job_after_storing_every_whole_batch_before_it(tmp_path, reader):
    org = _organization("broken")
    path = tmp_path / "cut.csv"
    good = "".join(f"{i},p{i}@example.nl,2026-03-02 09:00,2026-03-02 10:00\n" for i in range(1, 6))
    # an unclosed quote that runs a cell past the reader's limit: the rest of the file cannot be read
    path.write_text(
        "Record ID,Email,Create Date,Became a Marketing Qualified Lead Date\n"
        + good
        + '6,"'
        + "x" * 200_000
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(UnreadableFile):
        lead_import(organization=org, path=path, reader=reader, batch_size=2)
    job = ImportJob.objects.get(organization=org)
    assert job.status == "failed" and job.error
    assert Lead.objects.filter(organization=org).count() == job.rows_imported == 4  # two whole batches


def test_the_child_reports_rows_read_and_skips_what_a_resumed_job_committed(tmp_path):
    path = tmp_path / "small.csv"
    path.write_text(
        "Record ID,Email,Create Date\n"
        + "".join(f"{i},p{i}@example.nl,2026-03-02 09:00\n" for i in range(1, 8)),
        encoding="utf-8",
    )
    reader = ChildReader(path, {"preset": None, "mapping": None, "dayfirst": None, "tz": None},
                         names={}, sqlite=True, skip_to=4)  # fmt: skip
    rows = [row for row, *_ in reader]
    assert rows == [5, 6, 7, 8]  # spreadsheet rows: the header is row 1
    assert reader.rows_read == 7


def test_rows_cross_the_pipe_as_plain_tuples(tmp_path):
    """What the child sends loads without any class of ours: only tuples, text, numbers, datetimes, dicts."""
    from leadpact.connectors import read_file

    with read_file(SAMPLES / "hubspot_labels.csv") as result:
        encoded = [encode(item) for item in result]

    def plain(value: Any) -> bool:
        if isinstance(value, tuple | list):
            return all(plain(v) for v in value)
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        return type(value).__module__ in ("builtins", "datetime", "decimal")

    assert encoded and all(plain(e) for e in encoded)


def test_the_reader_module_runs_without_django(tmp_path):
    """The child never sets Django up: importing the reader must not need it."""
    code = (
        "import sys, leadpact.leads._reader; "
        "assert not [m for m in sys.modules if m.startswith('django')], 'django imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.django_db
def test_handoffs_in_a_period_are_read_through_the_partial_index(organization):
    """The scorecards', clocks' and accountability's read of handoffs uses ``lead_event_handoffs``."""
    from django.db import connection

    handed = LeadEvent.objects.filter(
        organization=organization,
        kind="handed_over",
        occurred_at__gte="2026-01-01T00:00:00Z",
        occurred_at__lt="2026-02-01T00:00:00Z",
    ).values("lead_id")
    sql, params = handed.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be scanned otherwise
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "lead_event_handoffs" in plan, plan


def _pragmas() -> dict[str, int]:
    with connection.cursor() as cursor:
        out = {}
        for name in BULK_PRAGMAS:
            cursor.execute(f"PRAGMA {name}")
            out[name] = cursor.fetchone()[0]
    return out


@pytest.mark.django_db(transaction=True)
def test_an_import_tunes_sqlite_for_bulk_loading_and_puts_the_connection_back(tmp_path):
    """SQLite checkpoints its WAL less often during an import; afterwards the connection is as it was."""
    org = _organization("tuned")
    during: list[dict[str, int]] = []
    if connection.vendor != "sqlite":
        with CaptureQueriesContext(connection) as queries, tuned_for_bulk():
            pass
        assert not queries.captured_queries  # PostgreSQL has no such knobs: nothing is sent
        lead_import(organization=org, path=_two_row_file(tmp_path))
        assert Lead.objects.filter(organization=org).count() == 3
        return
    before = _pragmas()
    assert before != BULK_PRAGMAS
    path = _two_row_file(tmp_path)
    lead_import(organization=org, path=path, batch_size=2, on_batch=lambda job: during.append(_pragmas()))
    assert during and all(values == BULK_PRAGMAS for values in during)
    assert _pragmas() == before
    with pytest.raises(RuntimeError), tuned_for_bulk():  # put back after a failure too
        raise RuntimeError("the import broke off")
    assert _pragmas() == before
