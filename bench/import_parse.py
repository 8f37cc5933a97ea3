"""Parse throughput and peak memory of the streaming file reader on a 1,000,000-row HubSpot export.

    .venv/bin/python bench/import_parse.py [rows] [--xlsx-rows N]

The file is generated into /tmp (about 240 MB) and removed afterwards. Peak memory is measured with
tracemalloc (Python allocations) in a second pass, and as the process's peak RSS.

Baseline (2026-11-26, the 2-cpu build machine shared with other jobs, load average 4.4):
1,000,000 rows, 3,833,567 events, 0 problems in 35.7 s wall / 18.1 s cpu: 28,000 rows/s wall,
55,000 rows/s cpu (a quieter earlier run: 34,500 wall, 64,500 cpu); peak RSS 24 MB for a 238 MB file;
tracemalloc peak 3.2 MB for both 25,000 and 100,000 rows (flat).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta

from leadpact.connectors import ImportedRow, read_file

HEADER = [
    "Record ID", "First Name", "Last Name", "Email", "Phone Number", "Company Name", "Country/Region",
    "Job Title", "Industry", "Contact owner", "Lifecycle Stage", "Lead Status", "HubSpot Score",
    "Original Source", "Create Date", "Owner assigned date", "Became a Marketing Qualified Lead Date",
    "Became a Sales Qualified Lead Date", "Became a Customer Date", "Recent Deal Amount",
    "Last Modified Date",
]  # fmt: skip
FIRST = ["Anna", "Bas", "Carla", "Daan", "Eva", "Femke", "Gijs", "Hanna", "Sébastien", "Joëlle"]
LAST = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Bos", "Peeters"]
COUNTRIES = ["Netherlands", "Belgium", "Germany", "Nederland", "NL", "France"]
OWNERS = ["Jeroen Bakker", "Emma Visser", "Sanne Kok", "Ruben Dekker"]
STAGES = ["Lead", "Marketing Qualified Lead", "Sales Qualified Lead", "Customer"]
STATUSES = ["New", "Open", "In Progress", "Unqualified", "Bad Timing", "Connected"]
SOURCES = ["Paid Search", "Organic Search", "Direct Traffic", "Referrals", "Email Marketing"]


def generate(path: str, rows: int) -> None:
    rnd = random.Random(5)
    start = datetime(2026, 1, 1, 8, 0)
    fmt = "%Y-%m-%d %H:%M"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(rows):
            created = start + timedelta(minutes=rnd.randrange(0, 500_000))
            stage = rnd.randrange(4)
            mql = (created + timedelta(hours=rnd.randrange(1, 72))).strftime(fmt) if stage >= 1 else ""
            sql = (created + timedelta(days=rnd.randrange(3, 20))).strftime(fmt) if stage >= 2 else ""
            won = (created + timedelta(days=rnd.randrange(20, 90))).strftime(fmt) if stage >= 3 else ""
            first, last = rnd.choice(FIRST), rnd.choice(LAST)
            w.writerow([
                100000 + i, first, last, f"{first.lower()}.{i}@example.com", "+31 20 555 0101",
                f"Company {i % 5000} B.V.", rnd.choice(COUNTRIES), "Manager", "Software", rnd.choice(OWNERS),
                STAGES[stage], rnd.choice(STATUSES), rnd.randrange(0, 100), rnd.choice(SOURCES),
                created.strftime(fmt), (created + timedelta(minutes=5)).strftime(fmt), mql, sql, won,
                rnd.randrange(1000, 50000) if won else "", (created + timedelta(days=30)).strftime(fmt),
            ])  # fmt: skip


def consume(path: str) -> tuple[int, int, int, float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    rows = events = problems = 0
    with read_file(path) as result:
        for item in result:
            if isinstance(item, ImportedRow):
                rows += 1
                events += len(item.events)
            else:
                problems += 1
    return rows, events, problems, time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--memory-rows", type=int, default=100_000, help="rows for the tracemalloc pass")
    args = parser.parse_args()
    fd, path = tempfile.mkstemp(suffix=".csv", prefix="leadpact-bench-")
    os.close(fd)
    small = path.replace(".csv", "-small.csv")
    try:
        t0 = time.perf_counter()
        generate(path, args.rows)
        size = os.path.getsize(path)
        print(f"generated {args.rows:,} rows ({size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")
        rows, events, problems, seconds, cpu = consume(path)
        print(f"parsed {rows:,} rows, {events:,} events, {problems} problems")
        print(f"in {seconds:.2f} s wall, {cpu:.2f} s cpu")
        print(
            f"throughput: {rows / seconds:,.0f} rows/s wall, {rows / cpu:,.0f} rows/s cpu"
            f" ({size / seconds / 1e6:.0f} MB/s), encoding check included"
        )
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of the process: {rss:.0f} MB (file size {size / 1e6:.0f} MB)")
        for n in (args.memory_rows // 4, args.memory_rows):
            generate(small, n)
            tracemalloc.start()
            consume(small)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(f"tracemalloc peak while streaming {n:,} rows: {peak / 1e6:.1f} MB")
    finally:
        for p in (path, small):
            if os.path.exists(p):
                os.remove(p)


if __name__ == "__main__":
    main()
