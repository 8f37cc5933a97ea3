"""Pages: server time and queries of each main page and API read, against a named baseline database.

Signs in with Django's test client against the configured database (``DATABASE_URL``,
``LEADPACT_DATA_DIR``: the same settings ``leadpact serve`` uses; nothing goes over the network), requests
each page ``--runs`` times after one warm-up request, and prints per page the median and p95 of the server
time (the whole Django stack: middleware, view, template), this process's CPU for it (what a busy,
shared machine does not inflate; PostgreSQL's own CPU is not in it), the time spent in queries, and the
number of queries. ``--baseline-url`` (and ``--baseline-data``) runs the same pages on a second database in
a child process and prints the ratio, so that a page that grows with the data shows itself:

    # the ~13,000-lead demo as the baseline, the 1,000,000-lead organisation as the subject
    DATABASE_URL=postgres://…/big LEADPACT_DATA_DIR=/data/big python bench/pages.py --runs 10 \\
        --baseline-url postgres://…/demo --baseline-data /data/demo

Read-only but for one API token (read scope) it makes for the API reads and revokes at the end. The
bars (issue 12): 200 ms on the demo, 1 s with a million leads.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BAR_DEMO_MS = 200.0
BAR_MILLION_MS = 1000.0


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadpact.settings")
    os.environ.setdefault("LEADPACT_DEBUG", "0")  # as served: no debug pages, no query log kept
    import django

    django.setup()


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _pages(org: Any) -> list[tuple[str, str, str]]:
    """``(name, who, path)`` of each page measured: ``who`` is a demo login (``api``: the token)."""
    from django.utils import timezone

    from leadpact.leads.models import Lead
    from leadpact.measurement.clocks.models import LeadClock
    from leadpact.organization.models import Team

    month = timezone.localdate().strftime("%Y-%m")
    marketing = Team.objects.filter(organization=org, key="marketing").values_list("pk", flat=True).first()
    # a lead with a running clock: the lead page's fullest case (events, checks, clocks)
    clocked = LeadClock.objects.filter(lead__organization=org).order_by("-lead_id").values("lead_id").first()
    lead_id = clocked["lead_id"] if clocked else Lead.objects.filter(organization=org).order_by("-pk")[0].pk
    evidence = f"/measure/evidence/?commitment=mql-volume&period={month}&subject=team:{marketing}"
    return [
        ("my page, organisation", "revops", "/"),
        ("my page, sales lead", "bram.degroot", "/"),
        ("my page, SDR", "lotte.meijer", "/"),
        ("scorecard", "revops", f"/measure/?period={month}"),
        ("commitment", "revops", f"/measure/mql-volume/?period={month}"),
        ("evidence", "revops", evidence),
        ("lead", "revops", f"/leads/{lead_id}/"),
        ("targets", "revops", f"/targets/?period={month}"),
        ("accountability", "revops", "/accountability/"),
        ("agreements", "revops", "/agreements/"),
        ("disputes", "bram.degroot", "/disputes/"),
        ("restatements", "bram.degroot", "/restatements/"),
        ("close", "bram.degroot", "/close/"),
        ("reviews", "revops", "/reviews/"),
        ("data", "revops", "/data/"),
        ("api: leads", "api", "/api/leads?limit=50"),
        ("api: lead", "api", f"/api/leads/{lead_id}"),
    ]


def measure(runs: int) -> dict[str, Any]:
    """Every page ``runs`` times (after one warm-up): ms and queries; the database's size."""
    _setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from leadpact.demo import demo_organisation
    from leadpact.leads.models import Lead, LeadEvent
    from leadpact.leads.services import api_token_create, api_token_revoke
    from leadpact.organization.models import Organization

    org = Organization.objects.get(key=demo_organisation()["organisation"]["slug"])
    clients: dict[str, Client] = {}
    users = get_user_model().objects
    token, secret = api_token_create(organization=org, name="bench-pages", scope="read", actor="bench")
    out: dict[str, Any] = {
        "database": connection.settings_dict["NAME"],
        "vendor": connection.vendor,
        "leads": Lead.objects.filter(organization=org).count(),
        "events": LeadEvent.objects.filter(organization=org).count(),
        "pages": {},
    }
    try:
        for name, who, path in _pages(org):
            client = clients.get(who)
            if client is None:
                client = clients[who] = Client()
                if who != "api":
                    client.force_login(users.get(username=who))
            headers = {"Authorization": f"Bearer {secret}"} if who == "api" else {}
            started = time.perf_counter()
            first = client.get(path, headers=headers)
            cold = (time.perf_counter() - started) * 1000
            if first.status_code != 200:
                raise SystemExit(f"{name} ({path} as {who}): {first.status_code}")
            times, cpu, db, counts = [], [], [], []
            for _ in range(runs):
                with CaptureQueriesContext(connection) as queries:
                    started, used = time.perf_counter(), time.process_time()
                    response = client.get(path, headers=headers)
                    times.append((time.perf_counter() - started) * 1000)
                    cpu.append((time.process_time() - used) * 1000)
                assert response.status_code == 200, (path, response.status_code)
                counts.append(len(queries))
                db.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
            out["pages"][name] = {
                "path": path,
                "who": who,
                "cold_ms": cold,
                "median_ms": statistics.median(times),
                "p95_ms": _p95(times),
                "cpu_ms": statistics.median(cpu),
                "db_ms": statistics.median(db),
                "queries": max(counts),
            }
            print(f"  {name}: {statistics.median(times):.0f} ms", file=sys.stderr, flush=True)
    finally:
        api_token_revoke(token=token, actor="bench")
    return out


def _print(result: dict[str, Any], baseline: dict[str, Any] | None) -> bool:
    bar = BAR_MILLION_MS if result["leads"] >= 500_000 else BAR_DEMO_MS
    print(
        f"{result['vendor']} database {result['database']}: {result['leads']:,} leads, "
        f"{result['events']:,} events; bar {bar:.0f} ms (median)"
    )
    if baseline is not None:
        print(f"baseline: {baseline['vendor']} {baseline['database']}: {baseline['leads']:,} leads")
    head = f"{'page':24} {'median':>8} {'p95':>8} {'cpu':>7} {'db':>7} {'cold':>8} {'queries':>7}"
    if baseline is not None:
        head += f" | {'base med':>8} {'cpu':>7} {'queries':>7} {'ratio':>6}"
    print(head)
    ok = True
    for name, page in result["pages"].items():
        line = (
            f"{name:24} {page['median_ms']:8.0f} {page['p95_ms']:8.0f} {page['cpu_ms']:7.0f} "
            f"{page['db_ms']:7.0f} {page['cold_ms']:8.0f} {page['queries']:7d}"
        )
        if baseline is not None and name in baseline["pages"]:
            base = baseline["pages"][name]
            line += (
                f" | {base['median_ms']:8.0f} {base['cpu_ms']:7.0f} {base['queries']:7d} "
                f"{page['median_ms'] / max(base['median_ms'], 0.1):6.1f}"
            )
        if page["median_ms"] > bar:
            line += "  OVER"
            ok = False
        print(line)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="requests a page after its warm-up (default 5)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--baseline-url", help="DATABASE_URL of the baseline (e.g. the ~13,000-lead demo)")
    parser.add_argument("--baseline-data", help="LEADPACT_DATA_DIR of the baseline")
    parser.add_argument("--baseline-json", type=Path, help="a baseline measured before (--json)")
    args = parser.parse_args()
    if not 1 <= args.runs <= 1000:
        parser.error("--runs: 1 to 1000")
    baseline = None
    if args.baseline_json:
        baseline = json.loads(args.baseline_json.read_text())
    elif args.baseline_url:
        env = {**os.environ, "DATABASE_URL": args.baseline_url}
        if args.baseline_data:
            env["LEADPACT_DATA_DIR"] = args.baseline_data
        done = subprocess.run(
            [sys.executable, __file__, "--runs", str(args.runs), "--json", "/dev/stdout"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        baseline = json.loads(done.stdout)
    result = measure(args.runs)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    if args.json and str(args.json) == "/dev/stdout":
        return 0
    return 0 if _print(result, baseline) else 1


if __name__ == "__main__":
    sys.exit(main())
