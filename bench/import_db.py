"""File import into SQLite: rows/s and peak memory for a generated HubSpot export.

    python bench/import_db.py [ROWS] [--agreement] [--profile]   (default 1,000,000; the file is in /tmp)

Each row is a lead with three events (created, handed over, qualified). The goal: at least 20,000 rows/s
with memory flat (resident size after the first tenth of the rows about the same as at the end).

Without ``--agreement`` the leads go to an organisation with no agreement, so no handoff is checked;
with it, to the demo organisation with its signed agreement in force, so every handoff is checked against
the lead definition and the data contract (a stored check a lead) and duplicates are looked for, as in
real use.

``--profile`` also prints the importing process's CPU time in the handoff check and its parts (rule
evaluation, duplicates, the data contract), µs a row: process time measured around those functions
alone, so the figure is not inflated as a profiler's would be.

The file is parsed in a child process (``reader="auto"`` for a file this size); the figures give the CPU
time of the importing process and of the reader apart, and the memory of the importing process.

Baselines, measured in the same run on the same machine, so that a figure can be read on any machine:

- **SQLite floor**: the very rows the import stored (leads, source ids, events, states, handoff checks),
  read back and inserted again with ``executemany`` alone into an empty database with the same schema,
  in the import's batches and transactions, with the import's pragmas. That is SQLite's own work plus
  the driver's binding, without a line of leadpact's Python: no import into this schema can be faster
  on this machine. (It leaves out the reads an import makes: source ids and e-mail addresses known.)
- **csv.reader**: Python's C CSV parser reading the file, no conversion: the floor of the reading side.
- **Python loop**: ns per iteration of ``for i in range(n): s += i``, to compare machines.
"""

from __future__ import annotations

import csv
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
ROWS = int(_ARGS[0]) if _ARGS else 1_000_000
AGREEMENT = "--agreement" in sys.argv
PROFILE = "--profile" in sys.argv
FLOOR = "--floor" in sys.argv
_OPTIONS = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
DB = _OPTIONS.get("db", "both")  # sqlite, postgresql or both (each in its own process)
ROWWISE = int(_OPTIONS.get("rowwise-rows", "2000"))  # rows of the row-by-row baseline
PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
HEADER = (
    "Record ID,First Name,Last Name,Email,Company Name,Country/Region,HubSpot Score,Create Date,"
    "Became a Marketing Qualified Lead Date,Became a Sales Qualified Lead Date\n"
)


def write_file(path: Path, rows: int, start: int = 0) -> None:
    countries = ["Netherlands", "Belgium", "Germany", "France"]
    with path.open("w", encoding="utf-8") as fh:
        fh.write(HEADER)
        for i in range(start, start + rows):
            day = 1 + i % 28
            minute = i % 60
            fh.write(
                f"{1_000_000 + i},First{i},Last{i},p{i}@example.nl,Company {i % 5000},{countries[i % 4]},"
                f"{i % 100},2026-02-{day:02d} 09:{minute:02d},2026-02-{day:02d} 10:{minute:02d},"
                f"2026-03-{day:02d} 11:{minute:02d}\n"
            )


_BIG = ("leads_lead", "leads_leadsource", "leads_leadevent", "leads_leadstate", "leads_handoffcheck")


def sqlite_floor(source: Path, batch: int) -> tuple[float, float, int]:
    """(wall s, CPU s, leads) of inserting the import's stored rows again by ``executemany`` alone."""
    target = source.with_name("floor.sqlite3")
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target, isolation_level=None)
    from leadpact.leads._sql import BULK_PRAGMAS

    for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"):
        dst.execute(f"PRAGMA {pragma}")  # what Django's connection sets
    for name, value in BULK_PRAGMAS.items():
        dst.execute(f"PRAGMA {name} = {value}")  # and what the importer sets (tuned_for_bulk)
    schema = src.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
        "ORDER BY type = 'index'"
    ).fetchall()
    dst.execute("BEGIN")
    for _kind, _name, sql in schema:
        dst.execute(sql)
    dst.execute("COMMIT")
    dst.execute("ATTACH DATABASE ? AS src", (str(source),))
    dst.execute("PRAGMA foreign_keys = OFF")  # the small tables' order does not matter: they are copied whole
    dst.execute("BEGIN")
    for kind, name, _sql in schema:
        if kind == "table" and name not in _BIG:
            dst.execute(f'INSERT INTO main."{name}" SELECT * FROM src."{name}"')
    dst.execute("COMMIT")
    dst.execute("DETACH DATABASE src")
    dst.execute("PRAGMA foreign_keys = ON")
    inserts = {}
    for name in _BIG:
        width = len(src.execute(f'SELECT * FROM "{name}" LIMIT 0').description)
        inserts[name] = f'INSERT INTO "{name}" VALUES ({", ".join("?" * width)})'
    by_lead = "SELECT * FROM {} WHERE lead_id >= ? AND lead_id < ? ORDER BY id"
    selects = {
        "leads_lead": "SELECT * FROM leads_lead WHERE id >= ? AND id < ? ORDER BY id",
        "leads_leadsource": by_lead.format("leads_leadsource"),
        "leads_leadevent": by_lead.format("leads_leadevent"),
        "leads_leadstate": "SELECT * FROM leads_leadstate WHERE lead_id >= ? AND lead_id < ?",
        "leads_handoffcheck": by_lead.format("leads_handoffcheck"),
    }
    low, high = src.execute("SELECT MIN(id), MAX(id) FROM leads_lead").fetchone()
    wall = cpu = 0.0
    for start in range(low, high + 1, batch):
        rows = {name: src.execute(sql, (start, start + batch)).fetchall() for name, sql in selects.items()}
        began, began_cpu = time.perf_counter(), time.process_time()
        dst.execute("BEGIN IMMEDIATE")
        for name in _BIG:
            dst.executemany(inserts[name], rows[name])
        dst.execute("COMMIT")
        wall += time.perf_counter() - began
        cpu += time.process_time() - began_cpu
    leads = dst.execute("SELECT COUNT(*) FROM leads_lead").fetchone()[0]
    dst.close()
    src.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    return wall, cpu, leads


def sqlite_minimal(path: Path, batch: int) -> tuple[float, int]:
    """(wall s, rows) of the file's rows (csv.reader) inserted by ``executemany`` into a table of ten text
    columns, no index, in transactions of ``batch`` rows, with the importer's pragmas: SQLite's speed
    with nothing of a schema."""
    from leadpact.leads._sql import BULK_PRAGMAS

    target = Path(tempfile.mkdtemp(prefix="leadpact-bench-")) / "minimal.sqlite3"
    db = sqlite3.connect(target, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = NORMAL"):
        db.execute(f"PRAGMA {pragma}")
    for name, value in BULK_PRAGMAS.items():
        db.execute(f"PRAGMA {name} = {value}")
    db.execute(f"CREATE TABLE rows ({', '.join(f'c{i} TEXT' for i in range(10))})")
    insert = f"INSERT INTO rows VALUES ({', '.join('?' * 10)})"
    began = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        while chunk := [row for _, row in zip(range(batch), reader, strict=False)]:
            db.execute("BEGIN")
            db.executemany(insert, chunk)
            db.execute("COMMIT")
    wall = time.perf_counter() - began
    rows = db.execute("SELECT COUNT(*) FROM rows").fetchone()[0]
    db.close()
    return wall, rows


def postgres_copy(path: Path) -> tuple[float, int]:
    """(wall s, rows) of ``COPY … FROM STDIN (FORMAT csv)`` of the raw file into a table of ten text
    columns (psycopg 3, 1 MiB a write): PostgreSQL's speed with nothing of a schema."""
    from django.db import connection

    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        cursor.execute(f"CREATE TEMPORARY TABLE raw_rows ({', '.join(f'c{i} text' for i in range(10))})")
        began = time.perf_counter()
        with path.open("rb") as fh, cursor.copy("COPY raw_rows FROM STDIN (FORMAT csv, HEADER true)") as copy:
            while data := fh.read(2**20):
                copy.write(data)
        wall = time.perf_counter() - began
        cursor.execute("SELECT COUNT(*) FROM raw_rows")
        rows = cursor.fetchone()[0]
        cursor.execute("DROP TABLE raw_rows")
    return wall, rows


def rowwise(organization: Any, rows: int) -> tuple[float, int]:
    """(wall s, rows) of the row-by-row import: a batch (and a transaction) a row, read in a thread,
    one ``INSERT`` a row (no COPY), into the same organisation after the big import, new leads."""
    from leadpact.leads import _sql
    from leadpact.leads.imports import lead_import

    path = Path("/tmp") / f"leadpact-bench-rowwise-{rows}.csv"
    if not path.exists():
        write_file(path, rows, start=ROWS + 10_000_000)
    copy_from = _sql.COPY_FROM_ROWS
    _sql.COPY_FROM_ROWS = 10**9
    try:
        began = time.perf_counter()
        outcome = lead_import(organization=organization, path=path, batch_size=1, reader="thread")
        wall = time.perf_counter() - began
    finally:
        _sql.COPY_FROM_ROWS = copy_from
    return wall, outcome.job.rows_read


def csv_floor(path: Path) -> tuple[float, int]:
    """(CPU s, rows) of reading the file with Python's csv.reader alone."""
    began = time.process_time()
    with path.open(encoding="utf-8", newline="") as fh:
        rows = sum(1 for _ in csv.reader(fh)) - 1
    return time.process_time() - began, rows


def loop_ns() -> float:
    """ns per iteration of a plain Python loop: how fast this machine runs Python."""
    began = time.process_time()
    s = 0
    for i in range(5_000_000):
        s += i
    return (time.process_time() - began) / 5_000_000 * 1e9


# (module, owner, function, label): what --profile measures in the importing process
_PROFILED = (
    ("leadpact.leads._handoff", "HandoffChecker", "check", "handoff check, all of it"),
    ("leadpact.leads._handoff", None, "rules_failed_batch", "rule evaluation (a batch at a time)"),
    ("leadpact.leads._handoff", None, "rules_check", "rule evaluation (lead by lead)"),
    ("leadpact.leads._handoff", "HandoffChecker", "mark_duplicates", "duplicates"),
    ("leadpact.core.agreement", "FieldCheck", "passes", "data contract (FieldCheck.passes)"),
)


def profile_start() -> dict[str, float]:
    """Wrap the functions of _PROFILED with process-time counters (those that exist in this version)."""
    import importlib

    spent: dict[str, float] = {}
    for module_name, owner_name, name, label in _PROFILED:
        module = importlib.import_module(module_name)
        owner = getattr(module, owner_name) if owner_name else module
        function = getattr(owner, name, None)
        if function is None:
            continue
        spent[label] = 0.0

        def timed(*args, _f=function, _label=label, **kwargs):
            began = time.process_time()
            try:
                return _f(*args, **kwargs)
            finally:
                spent[_label] += time.process_time() - began

        setattr(owner, name, timed)
    return spent


def backend_cpu() -> float:
    """CPU seconds so far of this connection's PostgreSQL server process (local server: /proc), else 0."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    if DB == "both":  # each database in its own process: Django is set up once a process
        for db in ("sqlite", "postgresql"):
            args = [a for a in sys.argv[1:] if not a.startswith("--db=")]
            print(f"== {db} ==", flush=True)
            subprocess.run([sys.executable, __file__, *args, f"--db={db}"], check=True)
        return
    data = Path(tempfile.mkdtemp(prefix="leadpact-bench-"))
    os.environ["LEADPACT_DATA_DIR"] = str(data)
    pg_name = f"leadpact_bench_{os.getpid()}"
    if DB == "postgresql":
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {pg_name}")
        os.environ["DATABASE_URL"] = f"{PG_SERVER}/{pg_name}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{data / 'bench.sqlite3'}"
    try:
        run(data)
    finally:
        if DB == "postgresql":
            from django.db import connection

            connection.close()
            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {pg_name}")


def run(data: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "leadpact.settings"
    os.environ.setdefault("LEADPACT_DEBUG", "0")  # DEBUG keeps every query in memory
    import django

    django.setup()
    from django.core.management import call_command

    from leadpact.leads.imports import lead_import
    from leadpact.leads.models import ImportJob, LeadEvent
    from leadpact.organization.services import organization_create

    call_command("migrate", verbosity=0)
    if AGREEMENT:
        from leadpact.agreements.models import AgreementVersion
        from leadpact.demo.services import demo_load

        demo_load(with_leads=False)
        organization = AgreementVersion.objects.get(status="active").agreement.organization
    else:
        organization = organization_create(key="bench", name="Bench", actor="bench")
    path = Path("/tmp") / f"leadpact-bench-{ROWS}.csv"
    if not path.exists():
        started = time.perf_counter()
        write_file(path, ROWS)
        print(f"wrote {path} ({path.stat().st_size / 2**20:.0f} MB) in {time.perf_counter() - started:.1f} s")
    samples: list[tuple[int, float]] = []
    spent = profile_start() if PROFILE else {}

    def on_batch(job: ImportJob) -> None:
        samples.append((job.rows_read, rss_mb()))

    backend = backend_cpu()
    load_before = os.getloadavg()[0]
    start_rss = rss_mb()
    started = time.perf_counter()
    cpu = time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    outcome = lead_import(organization=organization, path=path, on_batch=on_batch)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    backend = backend_cpu() - backend
    reader_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    job = outcome.job
    tenth = next((mb for rows, mb in samples if rows >= ROWS // 10), samples[0][1])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    read, imported, problems = job.rows_read, job.rows_imported, job.problems_count
    checked = "checked against the demo agreement" if AGREEMENT else "none checked: no agreement in force"
    goal = 50_000 if DB == "postgresql" else 20_000
    print(f"database:        {DB}")
    print(f"handoffs:        {checked}")
    print(f"rows:            {read:,} read, {imported:,} imported, {problems} problems")
    print(f"events:          {LeadEvent.objects.count():,}")
    print(f"time:            {elapsed:.1f} s")
    print(f"speed:           {job.rows_read / elapsed:,.0f} rows/s (goal >= {goal:,})")
    print(f"CPU per row:     {cpu / read * 1e6:.0f} µs importing, {reader_cpu / read * 1e6:.0f} µs reading")
    if DB == "postgresql":
        print(f"                 {backend / read * 1e6:.0f} µs in PostgreSQL's server process")
    print(
        f"load average:    {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
        "(2 cores; above ~1.5 other work shared them)"
    )
    end = samples[-1][1]
    print(f"memory (RSS):    {start_rss:.0f} MB before, {tenth:.0f} MB at 10%, {end:.0f} MB at the end")
    print(f"peak RSS:        {peak:.0f} MB")
    for label, seconds in spent.items():
        print(f"  CPU in {label}: {seconds / read * 1e6:.1f} µs a row")
    speed = read / elapsed
    if ROWWISE:
        wall, rows = rowwise(organization, ROWWISE)
        print(
            f"baseline rows:   {rows / wall:,.0f} rows/s row by row ({rows:,} rows, a batch and transaction"
        )
        print(
            f"                 a row, one INSERT a row): the fast import is {speed / (rows / wall):.1f}x that"
        )
    if DB == "sqlite":
        wall, rows = sqlite_minimal(path, 10_000)
        print(
            f"baseline SQLite: {rows / wall:,.0f} rows/s: csv.reader rows by executemany into a table of ten"
        )
        print(f"                 text columns, no index; the import is {speed / (rows / wall):.2f} of that")
    else:
        wall, rows = postgres_copy(path)
        print(
            f"baseline COPY:   {rows / wall:,.0f} rows/s: the raw file by COPY (csv) into a table of ten text"
        )
        print(f"                 columns, no index; the import is {speed / (rows / wall):.2f} of that")
    if FLOOR and DB == "sqlite":
        floor_wall, floor_cpu, floor_leads = sqlite_floor(data / "bench.sqlite3", 10_000)
        floor = floor_leads / floor_wall
        floor_us = floor_cpu / floor_leads * 1e6
        print(f"schema floor:    {floor:,.0f} rows/s ({floor_us:.0f} µs CPU a row): the stored rows again")
        print(
            f"                 by executemany alone into this schema; the import is {speed / floor:.2f} of it"
        )
    csv_cpu, csv_rows = csv_floor(path)
    print(
        f"baseline csv:    {csv_rows / csv_cpu:,.0f} rows/s CPU (csv.reader alone); reading costs "
        f"{reader_cpu / csv_cpu:.1f}x that"
    )
    print(f"Python loop:     {loop_ns():.0f} ns an iteration (a machine's speed, for comparing runs)")


if __name__ == "__main__":
    main()
