"""Measurement from the database: a year of scorecards for a million leads in SQLite, and a clock pass.

    python bench/measure_db.py [--leads 1000000] [--open-days 36.5] [--keep]

Data (synthetic, seeded; written to /tmp with bulk ``executemany``, not timed): the demo organisation
and its signed agreement, 40 people in the two parties (12 marketing, 28 sales), N leads handed over
through 2026 with about six events each (created, handed over, assigned, a human attempt, accepted
or rejected with a reason, then qualified / feedback / lost, 5% won with an amount) and one
handoff check per lead (90% met the definition). The leads of the last ``--open-days`` are open:
handed over and assigned, nobody has called yet.

Measured:

0. Building the organisation's columnar event snapshot (``measurement._snapshot``): once, after a bulk
   load; afterwards only the events since (the delta) are read with SQL.
1. ``measure_periods`` — every commitment of the agreement, for every month of 2026, for each owner
   team and each of its people, from the database (reads included). Goal: < 10 s.
2. The pure engine on the same arrays (``Frames`` + every metric, reads excluded). Goal: < 2 s.
3. One clock pass (``clocks_compute``) over the open leads (~100,000 at the default size): reads
   and the vectorised evaluation of every clocked commitment. Goal: < 1 s for the compute.
4. What a commitment's charts read: ``measure_trend`` (one commitment and subject, 12 months) and
   ``measure_pacing`` (one month, the figure at each day's end against the target line).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

KINDS = (
    "created",
    "handed_over",
    "assigned",
    "contact_attempt",
    "accepted",
    "rejected",
    "qualified",
    "feedback",
    "lost",
    "won",
)


def setup(path: Path) -> None:
    os.environ["LEADPACT_DATA_DIR"] = str(path.parent)
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "leadpact.settings"
    import django

    django.setup()


def generate(n: int, open_days: float, seed: int) -> dict[str, object]:
    from django.core.management import call_command
    from django.db import connection, transaction

    from leadpact.agreements.models import AgreementVersion
    from leadpact.demo.services import demo_load
    from leadpact.organization.models import Person, Team

    call_command("migrate", verbosity=0)
    demo_load(with_leads=False)
    version = AgreementVersion.objects.select_related("agreement__organization").get(status="active")
    org = version.agreement.organization
    teams = {t.key: t for t in Team.objects.filter(organization=org)}
    for key, want in (("marketing", 12), ("sales", 28)):
        have = Person.objects.filter(team=teams[key]).count()
        Person.objects.bulk_create(
            Person(
                team=teams[key],
                name=f"{key} {i}",
                email=f"{key}{i}@bench.example",
                start_date=dt.date(2024, 1, 1),
            )
            for i in range(have, want)
        )
    marketing = np.array(Person.objects.filter(team=teams["marketing"]).values_list("pk", flat=True))
    sales = np.array(Person.objects.filter(team=teams["sales"]).values_list("pk", flat=True))
    definition = version.definitions.get(key="mql").pk
    rng = np.random.default_rng(seed)
    year = int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp() * 1e6)
    span = 365 * 86400 * 10**6
    hand = np.sort(year + rng.integers(0, span, n))
    # move hand-over times into 07:00–17:00 UTC on weekdays roughly: keep the hour, shift weekends to Monday
    day = (hand // 86_400_000_000) * 86_400_000_000
    hour = 7 * 3_600_000_000 + (hand - day) % (10 * 3_600_000_000)
    weekday = ((day // 86_400_000_000) + 3) % 7  # 0 = Monday
    hand = day + hour + np.where(weekday >= 5, (7 - weekday) * 86_400_000_000, 0)
    order = np.argsort(hand, kind="stable")
    hand = hand[order]
    end = year + span
    open_ = hand >= end - int(open_days * 86400 * 10**6)
    minute = 60 * 10**6
    created = hand - 60 * minute
    assigned = hand + rng.exponential(20, n).astype(np.int64) * minute
    attempt = assigned + rng.exponential(120, n).astype(np.int64) * minute
    decided = hand + rng.exponential(360, n).astype(np.int64) * minute
    accepted = rng.random(n) < 0.8
    third = decided + rng.exponential(3 * 1440, n).astype(np.int64) * minute
    fate = rng.integers(0, 3, n)  # qualified / feedback / lost
    won = accepted & (rng.random(n) < 0.05)
    m_owner = marketing[rng.integers(0, marketing.shape[0], n)]
    s_owner = sales[rng.integers(0, sales.shape[0], n)]
    met = rng.random(n) < 0.9
    reasons = ["not_icp", "wrong_role", "no_budget", "unreachable"]

    def iso(us: int) -> str:
        return (dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(us))).strftime("%Y-%m-%d %H:%M:%S.%f")

    lead_sql = (
        "INSERT INTO leads_lead (id, organization_id, name, email, phone, company, country, source, campaign,"
        " score,"
        ' job_title, industry, company_size, "trigger", consent, recent_touches, extra, marketing_owner_id,'
        " sales_owner_id, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, '', ?, 'NL', 'web', 'bench', 70, '', '', '',"
        " 'demo_request', 1, 3, '{}', ?, ?, ?, ?)"
    )
    event_sql = (
        "INSERT INTO leads_leadevent (id, organization_id, lead_id, kind, occurred_at, recorded_at, actor_id,"
        " actor_label, source, idempotency_key, data) VALUES (?, ?, ?, ?, ?, ?, ?, '', 'bench', ?, ?)"
    )
    check_sql = (
        "INSERT INTO leads_handoffcheck (id, lead_id, event_id, agreement_version_id, definition_version_id,"
        " met,"
        " failed, missing_fields, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    raw = connection.connection if connection.connection else None
    if raw is None:
        connection.ensure_connection()
        raw = connection.connection
    raw.execute("PRAGMA synchronous=OFF")
    events_total = 0
    with connection.cursor() as c:
        c.execute("SELECT COALESCE(MAX(id), 0) FROM leads_lead")
        lead_base = c.fetchone()[0]
        c.execute("SELECT COALESCE(MAX(id), 0) FROM leads_leadevent")
        event_id = c.fetchone()[0]
        c.execute("SELECT COALESCE(MAX(id), 0) FROM leads_handoffcheck")
        check_base = c.fetchone()[0]
    chunk = 50_000
    started = time.perf_counter()
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        leads, events, checks = [], [], []
        for i in range(lo, hi):
            lid = lead_base + i + 1
            c = iso(created[i])
            leads.append(
                (
                    lid,
                    org.pk,
                    f"Lead {lid}",
                    f"l{lid}@example.nl",
                    f"Company {lid % 5000}",
                    int(m_owner[i]),
                    int(s_owner[i]),
                    c,
                    c,
                )
            )
            rows = [
                ("created", created[i], None, "{}"),
                ("handed_over", hand[i], None, "{}"),
                ("assigned", assigned[i], int(s_owner[i]), "{}"),
            ]
            if not open_[i]:
                rows.append(
                    ("contact_attempt", attempt[i], int(s_owner[i]), '{"channel": "phone", "human": true}')
                )
                if accepted[i]:
                    rows.append(("accepted", decided[i], int(s_owner[i]), "{}"))
                else:
                    rows.append(
                        ("rejected", decided[i], int(s_owner[i]), f'{{"reason_code": "{reasons[i % 4]}"}}')
                    )
                f = int(fate[i])
                if f == 0:
                    rows.append(("qualified", third[i], int(s_owner[i]), "{}"))
                elif f == 1:
                    rows.append(
                        ("feedback", third[i], int(s_owner[i]), f'{{"reason_code": "{reasons[i % 4]}"}}')
                    )
                else:
                    rows.append(
                        ("lost", third[i], int(s_owner[i]), '{"reason_code": "no_budget", "amount": "0"}')
                    )
                if won[i]:
                    rows.append(("won", third[i] + 86400 * 10**6, int(s_owner[i]), '{"amount": "12500.00"}'))
            for kind, at, actor, data in rows:
                event_id += 1
                events.append((event_id, org.pk, lid, kind, iso(at), iso(at), actor, f"e{event_id}", data))
                if kind == "handed_over":
                    checks.append(
                        (
                            check_base + event_id,
                            lid,
                            event_id,
                            version.pk,
                            definition,
                            int(met[i]),
                            "[]",
                            "[]" if met[i] else '["email"]',
                            iso(at),
                        )
                    )
        with transaction.atomic():
            cursor = raw.cursor()
            cursor.executemany(lead_sql, leads)
            cursor.executemany(event_sql, events)
            cursor.executemany(check_sql, checks)
        events_total += len(events)
        print(
            f"  generated {hi:,} leads, {events_total:,} events ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    raw.execute("ANALYZE")
    return {"version": version, "leads": n, "events": events_total, "open": int(open_.sum()), "end": end}


def add_events(organization_id: int, n: int, now: dt.datetime) -> int:
    """``n`` contact attempts on the newest leads, as a connector would append them after the snapshot."""
    from django.db import connection, transaction

    with connection.cursor() as c:
        c.execute("SELECT COALESCE(MAX(id), 0) FROM leads_leadevent")
        first = c.fetchone()[0] + 1
        c.execute("SELECT id FROM leads_lead ORDER BY id DESC LIMIT %s", [n])
        leads = [r[0] for r in c.fetchall()]
    at = (now - dt.timedelta(days=3)).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S")
    rows = [
        (first + i, organization_id, leads[i % len(leads)], "contact_attempt", at, at, f"d{first + i}")
        for i in range(n)
    ]
    with transaction.atomic(), connection.cursor() as c:
        c.executemany(
            "INSERT INTO leads_leadevent (id, organization_id, lead_id, kind, occurred_at, recorded_at,"
            " actor_label, source, idempotency_key, data)"
            " VALUES (%s, %s, %s, %s, %s, %s, '', 'bench', %s, '{\"human\": true}')",
            rows,
        )
    return n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--open-days", type=float, default=36.5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--update", action="store_true", help="also time clocks_update (writes, alerts)")
    parser.add_argument("--db", default=None, help="reuse this SQLite file (generated when missing)")
    parser.add_argument("--delta", type=int, default=10_000, help="events to add, then measure again")
    parser.add_argument("--direct", action="store_true", help="also time the direct SQL read (~25 s)")
    args = parser.parse_args()
    path = Path(args.db) if args.db else Path(tempfile.mkdtemp(prefix="leadpact-measure-")) / "bench.sqlite3"
    fresh = not path.exists()
    setup(path)
    from leadpact.agreements.models import AgreementVersion

    print(f"database: {path}")
    if fresh:
        t = time.perf_counter()
        info = generate(args.leads, args.open_days, args.seed)
        print(
            f"generated {info['leads']:,} leads, {info['events']:,} events in {time.perf_counter() - t:.0f} s"
        )
    else:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    version = AgreementVersion.objects.select_related("agreement__organization").get(status="active")

    from leadpact.core.metrics import Frames
    from leadpact.measurement._frames import frames_load
    from leadpact.measurement.clocks.selectors import clocks_compute
    from leadpact.measurement.scorecard import compute as measure_module
    from leadpact.measurement.scorecard.selectors import measure_periods

    months = [f"2026-{m:02d}" for m in range(1, 13)]
    now = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    print(f"python {platform.python_version()}, {os.cpu_count()} cpus")

    from leadpact.measurement._snapshot import snapshot_build

    org = version.agreement.organization
    t = time.perf_counter()
    built = snapshot_build(organization_id=org.pk)
    print(f"0. event snapshot built: {len(built):,} events in {time.perf_counter() - t:.2f} s (once)")

    # 1. the whole year's scorecards from the database
    t = time.perf_counter()
    results = measure_periods(version=version, periods=months, now=now)
    total = time.perf_counter() - t
    figures = sum(len(v) for v in results.values())
    print(
        f"1. measure_periods, 12 months x every commitment x team and people: {figures:,} figures"
        f" in {total:.2f} s"
        " (goal < 10 s)"
    )

    t = time.perf_counter()
    october = measure_periods(version=version, periods=["2026-10"], now=now)["2026-10"]
    month = time.perf_counter() - t
    print(f"   one month (2026-10, what a page asks for): {len(october):,} figures in {month:.2f} s")

    # where the time goes: the read alone, then the engine alone on the same arrays
    doc_fields = [
        f.field for c in measure_module.agreement_version_document(version).commitments for f in c.fields
    ]
    read_args = {
        "organization_id": org.pk,
        "agreement_id": version.agreement_id,
        "version_id": version.pk,
        "since": dt.datetime(2025, 12, 31, 23, tzinfo=dt.UTC),
        "until": now,
        "now": now,
        "reason_codes": [r.code for r in measure_module.agreement_version_document(version).reason_codes],
        "field_names": list(dict.fromkeys(doc_fields)),
    }
    t = time.perf_counter()
    loaded = frames_load(**read_args)  # type: ignore[arg-type]
    read = time.perf_counter() - t
    print(
        f"   of which the database read: {len(loaded.leads):,} leads, {len(loaded.events):,} events"
        f" in {read:.2f} s"
    )
    if args.direct:
        t = time.perf_counter()
        direct = frames_load(**{**read_args, "events_from": "database"})
        same = all(
            np.array_equal(getattr(direct.events, c), getattr(loaded.events, c))
            for c in ("lead", "kind", "occurred_at", "human", "amount_cents", "reason")
        )
        took = time.perf_counter() - t
        print(f"   the same read with the events straight from SQL: {took:.2f} s (same: {same})")

    # 2. the engine on arrays: measure again with the read replaced by the arrays already in memory
    original = measure_module.frames_load
    measure_module.frames_load = lambda **_: loaded  # type: ignore[assignment]
    try:
        t = time.perf_counter()
        measure_periods(version=version, periods=months, now=now, closed="recompute")
        engine = time.perf_counter() - t
    finally:
        measure_module.frames_load = original
    t = time.perf_counter()
    Frames(loaded.events, loaded.leads, now=now)
    prep = time.perf_counter() - t
    print(
        f"2. the same without the read (engine + targets + calendars): {engine:.2f} s"
        " (the pure engine's goal, < 2 s, is bench/measure_engine.py's);"
        f" Frames preparation alone {prep:.2f} s"
    )

    # 3. one clock pass over the open leads
    calendars: dict[int, object] = {}
    clocks_compute(version=version, now=now, lookback=dt.timedelta(days=args.open_days), calendars=calendars)  # type: ignore[arg-type]
    t = time.perf_counter()
    passes = clocks_compute(
        version=version, now=now, lookback=dt.timedelta(days=args.open_days), calendars=calendars
    )  # type: ignore[arg-type]
    pass_time = time.perf_counter() - t
    leads_seen = len(passes[0].lead_id) if passes else 0
    clocks = sum(len(p.lead_id) for p in passes)
    print(
        f"3. clocks_compute: {leads_seen:,} open leads, {clocks:,} clocks over {len(passes)} commitments in"
        f" {pass_time:.2f} s, read included (goal < 1 s)"
    )
    # 4. what a commitment's charts ask for: a trend (12 months, one subject) and a pacing series
    from leadpact.measurement.scorecard.selectors import measure_pacing, measure_trend

    teams = {r.commitment_key: r.subject for r in october if r.subject_kind == "team"}
    person = next(r.subject for r in october if r.subject_kind == "person" and r.commitment_key == "pipeline")
    for key, subject in (("mql-volume", teams["mql-volume"]), ("mql-decision", teams["mql-decision"]),
                         ("pipeline", person)):  # fmt: skip
        t = time.perf_counter()
        trend = measure_trend(version=version, commitment_key=key, subject=subject, last="2026-12", now=now)
        took_trend = time.perf_counter() - t
        t = time.perf_counter()
        series = measure_pacing(
            version=version, period="2026-10", commitment_key=key, subject=subject, now=now
        )
        took_pacing = time.perf_counter() - t
        print(
            f"4. {key} {subject}: trend of {len(trend)} months in {took_trend:.2f} s;"
            f" pacing series of {len(series.days) if series else 0} days in {took_pacing:.2f} s"
        )
    if args.delta:
        added = add_events(org.pk, args.delta, now)
        t = time.perf_counter()
        measure_periods(version=version, periods=months, now=now)
        print(
            f"5. {added:,} events more (the delta, read with SQL and merged): 12 months again in"
            f" {time.perf_counter() - t:.2f} s"
        )
        t = time.perf_counter()
        measure_periods(version=version, periods=["2026-10"], now=now)
        print(f"   one month again: {time.perf_counter() - t:.2f} s")
    if args.update:
        from leadpact.measurement.clocks.services import clocks_update
        from leadpact.measurement.models import Alert, LeadClock

        Alert.objects.all().delete()
        LeadClock.objects.all().delete()

        for label in ("first", "second"):
            t = time.perf_counter()
            update = clocks_update(now=now, lookback=dt.timedelta(days=args.open_days))
            print(
                f"4. clocks_update, {label} pass: {update.clocks:,} clocks, {update.written:,} rows written,"
                f" {update.alerts:,} alerts queued in {time.perf_counter() - t:.2f} s"
                f" (compute {update.compute_seconds:.2f} s)"
            )
    if not args.db:
        print(f"(database kept at {path}; pass --db {path} to rerun without generating)")


if __name__ == "__main__":
    main()
