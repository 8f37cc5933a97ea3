"""File import into SQLite: rows/s and peak memory for a generated HubSpot export.

    python bench/import_db.py [ROWS]          (default 1,000,000; the file is written to /tmp)

Each row is a lead with three events (created, handed over, qualified). The goal: at least 20,000 rows/s
with memory flat (resident size after the first tenth of the rows about the same as at the end).

The file is parsed in a child process (``reader="auto"`` for a file this size); the figures give the CPU
time of the importing process and of the reader apart, and the memory of the importing process.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
HEADER = (
    "Record ID,First Name,Last Name,Email,Company Name,Country/Region,HubSpot Score,Create Date,"
    "Became a Marketing Qualified Lead Date,Became a Sales Qualified Lead Date\n"
)


def write_file(path: Path, rows: int) -> None:
    countries = ["Netherlands", "Belgium", "Germany", "France"]
    with path.open("w", encoding="utf-8") as fh:
        fh.write(HEADER)
        for i in range(rows):
            day = 1 + i % 28
            minute = i % 60
            fh.write(
                f"{1_000_000 + i},First{i},Last{i},p{i}@example.nl,Company {i % 5000},{countries[i % 4]},"
                f"{i % 100},2026-02-{day:02d} 09:{minute:02d},2026-02-{day:02d} 10:{minute:02d},"
                f"2026-03-{day:02d} 11:{minute:02d}\n"
            )


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    data = Path(tempfile.mkdtemp(prefix="leadpact-bench-"))
    os.environ["LEADPACT_DATA_DIR"] = str(data)
    os.environ["DATABASE_URL"] = f"sqlite:///{data / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "leadpact.settings"
    os.environ.setdefault("LEADPACT_DEBUG", "0")  # DEBUG keeps every query in memory
    import django

    django.setup()
    from django.core.management import call_command

    from leadpact.leads.imports import lead_import
    from leadpact.leads.models import ImportJob, LeadEvent
    from leadpact.organization.services import organization_create

    call_command("migrate", verbosity=0)
    organization = organization_create(key="bench", name="Bench", actor="bench")
    path = Path("/tmp") / f"leadpact-bench-{ROWS}.csv"
    if not path.exists():
        started = time.perf_counter()
        write_file(path, ROWS)
        print(f"wrote {path} ({path.stat().st_size / 2**20:.0f} MB) in {time.perf_counter() - started:.1f} s")
    samples: list[tuple[int, float]] = []

    def on_batch(job: ImportJob) -> None:
        samples.append((job.rows_read, rss_mb()))

    start_rss = rss_mb()
    started = time.perf_counter()
    cpu = time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    outcome = lead_import(organization=organization, path=path, on_batch=on_batch)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    reader_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    job = outcome.job
    tenth = next((mb for rows, mb in samples if rows >= ROWS // 10), samples[0][1])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    read, imported, problems = job.rows_read, job.rows_imported, job.problems_count
    print(f"rows:            {read:,} read, {imported:,} imported, {problems} problems")
    print(f"events:          {LeadEvent.objects.count():,}")
    print(f"time:            {elapsed:.1f} s")
    print(f"speed:           {job.rows_read / elapsed:,.0f} rows/s (goal >= 20,000)")
    print(f"CPU per row:     {cpu / read * 1e6:.0f} µs storing, {reader_cpu / read * 1e6:.0f} µs reading")
    print(f"load average:    {os.getloadavg()[0]:.1f} (2 cores; above ~1.5 other work shared them)")
    end = samples[-1][1]
    print(f"memory (RSS):    {start_rss:.0f} MB before, {tenth:.0f} MB at 10%, {end:.0f} MB at the end")
    print(f"peak RSS:        {peak:.0f} MB")


if __name__ == "__main__":
    main()
