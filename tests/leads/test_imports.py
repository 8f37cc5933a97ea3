"""``leadpact import``: the connectors' sample files, broken rows reported and the rest kept, re-runs add
nothing, ambiguous dates stop before writing, and a killed import resumes without a partial batch."""

from __future__ import annotations

import csv
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from leadpact.connectors import file_fingerprint, get_preset
from leadpact.leads.imports import import_job_report_csv
from leadpact.leads.models import (
    ImportJob,
    ImportProblem,
    Lead,
    LeadEvent,
    LeadSource,
    LeadState,
    SavedMapping,
)
from tests.organization.factories import make_person, make_team

SAMPLES = Path(__file__).parents[1] / "connectors" / "samples"


def run_import(*args: str) -> str:
    out = io.StringIO()
    call_command("import", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "rows"),
    [
        ("hubspot_labels.csv", 4),
        ("hubspot_internal.csv", 3),
        ("salesforce_report.csv", 3),
        ("salesforce_report_nl.csv", 3),
        ("salesforce_bulk.csv", 3),
        ("pipedrive_leads.csv", 2),
        ("pipedrive_deals.csv", 3),
    ],
)
def test_sample_files_import_whole(organization, name, rows):
    run_import(str(SAMPLES / name))
    job = ImportJob.objects.get()
    assert (job.status, job.rows_read, job.rows_imported) == ("completed", rows, rows)
    assert Lead.objects.count() == LeadSource.objects.count() == LeadState.objects.count() == rows
    assert LeadEvent.objects.count() >= rows
    counts = (Lead.objects.count(), LeadEvent.objects.count())
    assert "imported before" in run_import(str(SAMPLES / name))
    assert (Lead.objects.count(), LeadEvent.objects.count()) == counts and ImportJob.objects.count() == 1


def test_owners_matched_to_people_unknown_reported_and_lead_kept(organization):
    sales = make_team(organization, "sales")
    jeroen = make_person(sales, "Jeroen Bakker")
    run_import(str(SAMPLES / "hubspot_labels.csv"))
    assert {lead.sales_owner or lead.marketing_owner for lead in Lead.objects.all()} >= {jeroen}
    problems = list(ImportProblem.objects.values_list("row", "column", "reason"))
    # an owner nobody is: listed once for the import, at its first row, with how many rows named it
    assert [(row, column, reason.split(":")[0]) for row, column, reason in problems] == [
        (4, "Contact owner", "unknown owner 'Emma Visser' on 2 row(s) from this one"),
    ]
    assert Lead.objects.count() == 4  # the rows with an unknown owner landed, without the owner


def test_broken_rows_are_reported_and_the_rest_kept(organization, tmp_path):
    sales = make_team(organization, "sales")
    make_person(sales, "Emma Visser")
    report = tmp_path / "problems.csv"
    run_import(str(SAMPLES / "broken_rows.csv"), "--report", str(report))
    job = ImportJob.objects.get()
    rows = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8"))))
    assert rows[0] == ["row", "column", "reason"]
    assert [(r[0], r[1]) for r in rows[1:]] == [
        ("3", "Record ID"),
        ("5", "HubSpot Score"),
        ("6", "Create Date"),
        ("7", "Recent Deal Amount"),
    ]
    assert report.read_bytes().decode("utf-8") == import_job_report_csv(job)
    kept = set(LeadSource.objects.values_list("external_id", flat=True))
    assert kept == {"50001", "50003", "50008"}
    assert job.rows_imported == 3 and job.problems_count == 4
    assert not LeadEvent.objects.filter(lead__sources__external_id__in=["50004", "50005", "50006"]).exists()


def test_a_changed_file_adds_only_what_is_new(organization, tmp_path):
    text = (SAMPLES / "hubspot_labels.csv").read_text(encoding="utf-8-sig")
    first = tmp_path / "a.csv"
    first.write_text("\n".join(text.splitlines()[:3]) + "\n", encoding="utf-8")
    run_import(str(first))
    events = LeadEvent.objects.count()
    whole = tmp_path / "b.csv"
    whole.write_text(text, encoding="utf-8")
    run_import(str(whole))
    assert Lead.objects.count() == 4 and ImportJob.objects.count() == 2
    solo = tmp_path / "c.csv"
    solo.write_text("\n".join(text.splitlines()[3:]) + "\n", encoding="utf-8")
    assert LeadEvent.objects.count() > events
    total = LeadEvent.objects.count()
    full_again = tmp_path / "d.csv"
    full_again.write_text(text + "\n", encoding="utf-8")  # another fingerprint, the same rows
    run_import(str(full_again))
    assert LeadEvent.objects.count() == total and Lead.objects.count() == 4


def test_ambiguous_dates_stop_before_writing(organization):
    with pytest.raises(CommandError, match="--day-first or --month-first"):
        run_import(str(SAMPLES / "ambiguous_dates.csv"), "--preset", "generic")
    assert ImportJob.objects.count() == 0 and Lead.objects.count() == 0
    run_import(str(SAMPLES / "ambiguous_dates.csv"), "--preset", "generic", "--day-first")
    created = LeadEvent.objects.filter(kind="created").order_by("occurred_at").first()
    assert created.occurred_at.month == 4  # 03-04-2026 read as 3 April


def test_an_unfinished_job_needs_resume(organization):
    path = SAMPLES / "pipedrive_leads.csv"
    ImportJob.objects.create(
        organization=organization,
        file_name=path.name,
        fingerprint=file_fingerprint(path),
        preset="pipedrive_leads",
        mapping=get_preset("pipedrive_leads").to_dict(),
        started_at=timezone.now(),
    )
    with pytest.raises(CommandError, match="pass --resume"):
        run_import(str(path))
    assert "2 imported" in run_import(str(path), "--resume")
    assert ImportJob.objects.get().status == "completed"


# --- a real kill -----------------------------------------------------------------------------------------

ROWS = 12_000
BATCH = 400
HEADER = (
    "Record ID,First Name,Last Name,Email,Create Date,Became a Marketing Qualified Lead Date,"
    "Became a Sales Qualified Lead Date\n"
)


def _write_file(path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write(HEADER)
        for i in range(ROWS):
            day = 1 + i % 28
            fh.write(
                f"{100000 + i},First{i},Last{i},p{i}@example.nl,2026-02-{day:02d} 09:{i % 60:02d},"
                f"2026-02-{day:02d} 10:{i % 60:02d},2026-03-{day:02d} 11:{i % 60:02d}\n"
            )


def _leadpact(env: dict[str, str], *args: str, **kw):
    return subprocess.Popen(
        [sys.executable, "-m", "leadpact", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kw,
    )


def _readers_of(path: Path) -> list[int]:
    """Pids of import reader processes (``leads._reader``) still reading ``path``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"leadpact.leads._reader" in argv and str(path).encode() in argv:
            found.append(int(proc.name))
    return found


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("reader", ["thread", "process"])
def test_a_killed_import_leaves_whole_batches_and_resumes(tmp_path, reader):
    env = {**os.environ, "LEADPACT_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "leadpact.settings"}
    if connection.vendor == "sqlite":
        db_path = tmp_path / "shared.sqlite3"
        env["DATABASE_URL"] = f"sqlite:///{db_path}"
        migrate = _leadpact(env, "migrate", "-v0")
        _, err = migrate.communicate(timeout=120)
        assert migrate.returncode == 0, err.decode()

        def query(sql: str) -> list[tuple]:
            with sqlite3.connect(db_path, timeout=30) as db:
                return db.execute(sql).fetchall()

    else:
        s = connection.settings_dict
        password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
        env["DATABASE_URL"] = f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT']}/{s['NAME']}"

        def query(sql: str) -> list[tuple]:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall()

    setup = (
        "from leadpact.organization.services import organization_create as c; c(key='k', name='K', actor='t')"
    )
    made = _leadpact(env, "shell", "-c", setup)
    _, err = made.communicate(timeout=60)
    assert made.returncode == 0, err.decode()
    path = tmp_path / "big.csv"
    _write_file(path)

    process = _leadpact(
        env, "import", str(path), "--batch-size", str(BATCH), "--reader", reader, start_new_session=True
    )
    deadline = time.monotonic() + 120
    committed = 0
    while time.monotonic() < deadline and process.poll() is None:
        rows = query("SELECT last_committed_row FROM leads_importjob")
        committed = rows[0][0] if rows else 0
        if committed >= 3 * BATCH:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the import finished before it could be killed; make the file larger"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()
    process.stderr.close()
    gone = time.monotonic() + 30
    while _readers_of(path) and time.monotonic() < gone:  # the reader's next write meets a broken pipe
        time.sleep(0.05)
    assert _readers_of(path) == []

    ((status, last_row, imported),) = query(
        "SELECT status, last_committed_row, rows_imported FROM leads_importjob"
    )
    assert status == "running"  # nobody could say otherwise: the process was killed
    leads = query("SELECT COUNT(*) FROM leads_lead")[0][0]
    events = query("SELECT COUNT(*) FROM leads_leadevent")[0][0]
    assert leads == imported == last_row - 1  # data rows start at row 2
    assert leads > 0 and leads % BATCH == 0  # whole batches only
    assert events == 3 * leads
    assert query("SELECT COUNT(*) FROM leads_leadstate")[0][0] == leads
    uneven = "SELECT lead_id FROM leads_leadevent GROUP BY lead_id HAVING COUNT(*) <> 3"
    assert query(uneven) == []  # every lead has all its events

    refused = _leadpact(env, "import", str(path))
    _, err = refused.communicate(timeout=60)
    assert refused.returncode != 0 and b"--resume" in err
    resumed = _leadpact(env, "import", str(path), "--resume", "--batch-size", str(BATCH), "--reader", reader)
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err.decode()

    assert query("SELECT status, rows_imported FROM leads_importjob") == [("completed", ROWS)]
    assert query("SELECT COUNT(*) FROM leads_lead")[0][0] == ROWS
    assert query("SELECT COUNT(DISTINCT external_id) FROM leads_leadsource")[0][0] == ROWS
    assert query("SELECT COUNT(*) FROM leads_leadevent")[0][0] == 3 * ROWS
    assert query(uneven) == []
    assert query("SELECT COUNT(*) FROM leads_leadstate WHERE stage = 'qualified'")[0][0] == ROWS

    again = _leadpact(env, "import", str(path))
    out, _ = again.communicate(timeout=60)
    assert again.returncode == 0 and b"nothing added" in out
    assert query("SELECT COUNT(*) FROM leads_leadevent")[0][0] == 3 * ROWS


def test_family_presets(organization):
    run_import(str(SAMPLES / "salesforce_bulk.csv"), "--preset", "salesforce")
    assert ImportJob.objects.get().preset == "salesforce_bulk"
    with pytest.raises(CommandError, match="not a pipedrive export"):
        run_import(str(SAMPLES / "hubspot_labels.csv"), "--preset", "pipedrive")


def test_a_saved_mapping_is_reused(organization, tmp_path):
    run_import(
        str(SAMPLES / "ambiguous_dates.csv"), "--preset", "generic", "--day-first", "--save-mapping", "forms"
    )
    saved = SavedMapping.objects.get(name="forms")
    assert saved.mapping["dayfirst"] is True
    other = tmp_path / "more.csv"
    other.write_text(
        "external_id,name,email,created_at\ng-9,Dirk,d@example.nl,02-01-2026 09:00\n", encoding="utf-8"
    )
    run_import(str(other), "--mapping", "forms")  # no question about the date order: the mapping answers it
    created = LeadEvent.objects.get(lead__sources__external_id="g-9", kind="created")
    assert (created.occurred_at.month, created.occurred_at.day) == (1, 2)
    with pytest.raises(CommandError, match="no saved mapping"):
        run_import(str(other), "--mapping", "nope")
