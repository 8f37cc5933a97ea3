"""API batch append and webhook deliveries over loopback HTTP, on SQLite and PostgreSQL, agreement in force.

    python bench/api_db.py [--db=sqlite|postgresql|both] [--batches=20] [--deliveries=1000] [--clients=4]

The app runs in a child process behind a threaded WSGI server (``wsgiref``, a thread a request) on
127.0.0.1; this process is the client. The organisation is the demo one with its agreement in force, so
every handoff is checked as in real use.

- **API batch append**: ``POST /api/events/batch``, ``--batches`` × 1,000 events (handoffs, attempts,
  acceptances …) for 5,000 leads, one request at a time. Goal: ≥ 20,000 events/s.
- **Webhook deliveries**: ``--deliveries`` signed generic deliveries (a new lead, its handoff and a
  contact attempt each), ``--clients`` at once. Goal: ≥ 500 deliveries/s, p99 < 100 ms.

Baseline measured in the same run: an empty request (``GET /api/health``-like: the 404 of an unknown
URL through the same server), the server's own floor for a request.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

OPTIONS = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
DB = OPTIONS.get("db", "both")
BATCHES = int(OPTIONS.get("batches", "20"))
DELIVERIES = int(OPTIONS.get("deliveries", "1000"))
CLIENTS = int(OPTIONS.get("clients", "4"))
PER_BATCH = 1000
LEADS = 5000
SECRET = "bench-signing-secret-0123456789abcdef"
PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def _django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "leadpact.settings"
    os.environ.setdefault("LEADPACT_DEBUG", "0")
    os.environ.setdefault("LEADPACT_ALLOWED_HOSTS", "127.0.0.1,localhost")
    import django

    django.setup()


def serve(port: int) -> None:
    """The child: the app behind a threaded WSGI server, quiet."""
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    _django()
    from django.core.wsgi import get_wsgi_application

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True
        request_queue_size = 128

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = make_server("127.0.0.1", port, get_wsgi_application(), server_class=Server, handler_class=Quiet)
    print("ready", flush=True)
    httpd.serve_forever()


def _post(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run() -> None:
    _django()
    from django.core.management import call_command

    from leadpact.agreements.models import AgreementVersion
    from leadpact.connectors.webhooks import sign_generic
    from leadpact.demo.services import demo_load
    from leadpact.leads.models import HandoffCheck, LeadEvent, WebhookDelivery
    from leadpact.leads.services import api_token_create, webhook_integration_create

    call_command("migrate", verbosity=0)
    demo_load(with_leads=False)
    organization = AgreementVersion.objects.get(status="active").agreement.organization
    _, token = api_token_create(organization=organization, name="bench", scope="write", actor="bench")
    webhook_integration_create(
        organization=organization, kind="generic", name="bench", slug="bench", secret=SECRET, actor="bench"
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from django.db import connection

    connection.close()
    server = subprocess.Popen(
        [sys.executable, __file__, f"--serve={port}"], stdout=subprocess.PIPE, env=os.environ.copy()
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == b"ready"
        auth = {"Authorization": f"Bearer {token}"}
        leads = [
            {"source": "crm", "external_id": f"L-{i}", "email": f"p{i}@example.nl"} for i in range(LEADS)
        ]
        for start in range(0, LEADS, 1000):
            status, data = _post(
                port, "/api/leads/batch", json.dumps({"leads": leads[start : start + 1000]}).encode(), auth
            )
            assert status == 200, data[:300]

        # the floor of a request through this server: an unknown URL's 404
        began = time.perf_counter()
        for _ in range(200):
            _post(port, "/api/nothing-here", b"{}", {})
        floor = 200 / (time.perf_counter() - began)

        kinds = ["handed_over", "contact_attempt", "accepted", "contact_attempt", "qualified"]
        bodies = []
        n = 0
        for b in range(BATCHES):
            events = []
            for _ in range(PER_BATCH):
                lead, step = n % LEADS, n // LEADS
                events.append(
                    {
                        "source": "crm",
                        "external_id": f"L-{lead}",
                        "kind": kinds[step % len(kinds)],
                        "occurred_at": f"2026-11-{1 + step % 28:02d}T{8 + b % 10:02d}:{n % 60:02d}:"
                        f"{step % 60:02d}+01:00",
                        "channel": "phone",
                        "human": True,
                    }
                )
                n += 1
            bodies.append(json.dumps({"events": events}).encode())
        load_before = os.getloadavg()[0]
        began = time.perf_counter()
        for body in bodies:
            status, data = _post(port, "/api/events/batch", body, auth)
            assert status == 200, data[:300]
        api_wall = time.perf_counter() - began
        total = BATCHES * PER_BATCH

        deliveries = []
        for i in range(DELIVERIES):
            lead = f"W-{i}"
            payload = {
                "source": "bench",
                "leads": [{"external_id": lead, "fields": {"email": f"w{i}@example.nl", "country": "NL"}}],
                "events": [
                    {"external_id": lead, "kind": "handed_over", "occurred_at": "2026-11-26T14:10:00+01:00"},
                    {"external_id": lead, "kind": "contact_attempt", "occurred_at": "2026-11-26T15:00:00Z",
                     "channel": "phone", "human": True},
                ],
            }  # fmt: skip
            deliveries.append(json.dumps(payload).encode())
        latencies: list[float] = []
        failures: list[int] = []
        lock = threading.Lock()
        todo = iter(deliveries)

        def client() -> None:
            while True:
                with lock:
                    body = next(todo, None)
                if body is None:
                    return
                headers = sign_generic(body, secret=SECRET, timestamp=int(time.time()))
                sent = time.perf_counter()
                status, _ = _post(port, "/hooks/generic/bench/", body, headers)
                took = time.perf_counter() - sent
                with lock:
                    latencies.append(took)
                    if status != 200:
                        failures.append(status)

        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        began = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        hook_wall = time.perf_counter() - began
        load_after = os.getloadavg()[0]
    finally:
        server.kill()
        server.wait()

    print(f"database:        {DB}")
    print(f"load average:    {load_before:.1f} before, {load_after:.1f} after (2 cores; above ~1.5 shared)")
    print(
        f"API append:      {total / api_wall:,.0f} events/s (goal >= 20,000): {total:,} events in {BATCHES} "
        f"batches of {PER_BATCH:,}, {api_wall / BATCHES * 1000:.0f} ms a batch"
    )
    print(
        f"webhooks:        {DELIVERIES / hook_wall:,.0f} deliveries/s (goal >= 500), {CLIENTS} clients; "
        f"latency p50 {_percentile(latencies, 0.5) * 1000:.0f} ms, "
        f"p99 {_percentile(latencies, 0.99) * 1000:.0f} ms "
        f"(goal < 100 ms); {len(failures)} not 200"
    )
    print(f"baseline:        {floor:,.0f} requests/s: an unknown URL's 404, one at a time")
    print(
        f"stored:          {LeadEvent.objects.count():,} events, {HandoffCheck.objects.count():,} checks, "
        f"{WebhookDelivery.objects.filter(status='processed').count():,} deliveries processed"
    )


def main() -> None:
    if "serve" in OPTIONS:
        serve(int(OPTIONS["serve"]))
        return
    if DB == "both":
        for db in ("sqlite", "postgresql"):
            args = [a for a in sys.argv[1:] if not a.startswith("--db=")]
            print(f"== {db} ==", flush=True)
            subprocess.run([sys.executable, __file__, *args, f"--db={db}"], check=True)
        return
    data = Path(tempfile.mkdtemp(prefix="leadpact-bench-"))
    os.environ["LEADPACT_DATA_DIR"] = str(data)
    name = f"leadpact_bench_api_{os.getpid()}"
    if DB == "postgresql":
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        os.environ["DATABASE_URL"] = f"{PG_SERVER}/{name}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{data / 'bench.sqlite3'}"
    try:
        run()
    finally:
        if DB == "postgresql":
            from django.db import connection

            connection.close()
            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
