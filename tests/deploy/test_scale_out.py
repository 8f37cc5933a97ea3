"""Scale-out on PostgreSQL: two ``leadpact serve`` processes and two ``leadpact worker`` processes on one
database, each with a data folder of its own (four machines, as far as leadpact can tell), take the same
load — overlapping API batches and signed webhook deliveries sent to both servers at once, some replayed
on the other — and every event is stored once, every alert sent once (one e-mail per e-mail alert, one
POST per webhook alert), the review pack e-mailed once.

The test needs PostgreSQL whichever half of ``make test`` runs it: it makes a database of its own on the
suite's server (``DATABASE_URL``'s when that is PostgreSQL, else ``postgres@127.0.0.1:5432``) and drops it
at the end. It opens no Django database (no ``db`` fixture), so ``tests/conftest.py`` runs it once, in the
SQLite half.
"""

from __future__ import annotations

import email
import email.policy
import http.server
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from leadpact.connectors.webhooks import sign_generic

ROOT = Path(__file__).resolve().parents[2]
SIGNING = "scale-out-signing-secret-0123456789"
NOW = "2026-10-06T11:30:00+02:00"  # the workers' instant: a Tuesday, 90 minutes after the handoffs
HANDOFF = "2026-10-06T10:00:00+02:00"  # the high-intent first attempt is due within one business hour
LEADS = 60  # per way in (API, webhooks)
SPAN, STEP = 10, 5  # a batch holds 10 leads, the next one starts 5 further: neighbours share five
DEADLINE = 240.0  # seconds for the whole test, processes included, before it gives up


def _server() -> tuple[str, str]:
    """The PostgreSQL server (``postgres://user@host:port``) and a name for this run's database."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(url)
        name = parts.path.lstrip("/") or "leadpact"
        return f"{parts.scheme}://{parts.netloc}", f"{name}_{os.getpid()}"
    return "postgres://postgres@127.0.0.1:5432", f"leadpact_scaleout_{os.getpid()}"


def _lead(prefix: str, n: int) -> dict[str, Any]:
    return {
        "external_id": f"{prefix}-{n:03d}",
        "name": f"Lead {prefix} {n}",
        "email": f"{prefix.lower()}{n}@example.nl",
        "company": f"Company {n}",
        "country": "NL",
        "consent": True,
        "score": 80,
        "trigger": "demo_request",
        "recent_touches": 2,
        "campaign": "scale-out",
        "lead_source": "web",
    }


def _events(prefix: str, n: int) -> list[dict[str, Any]]:
    """A handoff each; every even lead was called 20 minutes later (its clock met), every odd one not
    (breached at the workers' instant: the owner and the sales lead hear of it)."""
    ext = f"{prefix}-{n:03d}"
    events = [{"external_id": ext, "kind": "handed_over", "occurred_at": HANDOFF}]
    if n % 2 == 0:
        events.append(
            {
                "external_id": ext,
                "kind": "contact_attempt",
                "occurred_at": "2026-10-06T10:20:00+02:00",
                "channel": "phone",
                "human": True,
            }
        )
    return events


def _api_requests(token: str) -> list[tuple[str, bytes, dict[str, str]]]:
    """Per batch: its leads (upsert), then their events with idempotency keys — two requests in order."""
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    batches = []
    for first in range(0, LEADS - SPAN + 1, STEP):
        numbers = range(first, first + SPAN)
        leads = [
            {
                "source": "crm",
                "sales_owner": "julia.bos@example.com",
                "marketing_owner": "daan.bakker@example.com",
                "created_at": "2026-10-06T09:00:00+02:00",
                **_lead("A", n),
            }
            for n in numbers
        ]
        events = [
            {"source": "crm", **e, "idempotency_key": f"{e['external_id']}:{e['kind']}"}
            for n in numbers
            for e in _events("A", n)
        ]
        batches.append(
            [
                ("/api/leads/batch", json.dumps({"leads": leads}).encode(), auth),
                ("/api/events/batch", json.dumps({"events": events}).encode(), auth),
            ]
        )
    return batches  # type: ignore[return-value]


def _deliveries() -> list[bytes]:
    bodies = []
    for first in range(0, LEADS - SPAN + 1, STEP):
        numbers = range(first, first + SPAN)
        leads = []
        for n in numbers:
            fields = _lead("W", n)
            ext = fields.pop("external_id")
            fields["source"] = fields.pop("lead_source")
            leads.append(
                {
                    "external_id": ext,
                    "created_at": "2026-10-06T09:00:00+02:00",
                    "sales_owner": "julia.bos@example.com",
                    "marketing_owner": "daan.bakker@example.com",
                    "fields": fields,
                }
            )
        events = [e for n in numbers for e in _events("W", n)]
        bodies.append(json.dumps({"source": "forms", "leads": leads, "events": events}).encode())
    return bodies


def _post(base: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(base + path, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read() or b"{}")


class _Receiver:
    """The sales team's chat webhook, on loopback: every POST body kept."""

    def __init__(self) -> None:
        self.posted: list[str] = []
        lock = threading.Lock()
        posted = self.posted

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    posted.append(json.loads(body)["text"])
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(what: str, check: Any, deadline: float, every: float = 0.25) -> Any:
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def _mails(folder: Path) -> list[email.message.EmailMessage]:
    """Every message the file-based backend wrote (a file per connection, messages split by a rule)."""
    out = []
    for path in sorted(folder.glob("*.log")):
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                out.append(email.message_from_bytes(chunk, policy=email.policy.default))
    return out  # type: ignore[return-value]


@pytest.mark.own_postgresql
def test_two_servers_and_two_workers_on_one_postgresql_do_everything_once(tmp_path: Path):
    began = time.monotonic()
    deadline = began + DEADLINE
    server, name = _server()
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    receiver = _Receiver()
    mail = tmp_path / "mail"
    mail.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "LEADPACT_"))}
    env.update(
        DATABASE_URL=f"{server}/{name}",
        SECRET_KEY=secrets.token_urlsafe(50),
        LEADPACT_AUDIT_KEY=secrets.token_urlsafe(40),
        LEADPACT_EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        LEADPACT_EMAIL_FILE_PATH=str(mail),
        LEADPACT_ALERT_WEBHOOKS_ALLOW_PRIVATE="1",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")]),
    )
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []

    def start(label: str, *args: str) -> subprocess.Popen[bytes]:
        data = tmp_path / label  # a data folder each: four machines sharing nothing but the database
        data.mkdir()
        log = tmp_path / f"{label}.log"
        logs.append(log)
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "leadpact", *args],
                env={**env, "LEADPACT_DATA_DIR": str(data)},
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=tmp_path,
            )
        processes.append(process)
        return process

    try:
        setup = subprocess.run(
            [sys.executable, "-m", "tests.deploy.scaleout_setup", receiver.url, SIGNING],
            env={**env, "LEADPACT_DATA_DIR": str(tmp_path / "setup")},
            capture_output=True,
            cwd=ROOT,
            timeout=DEADLINE,
            check=False,
        )
        assert setup.returncode == 0, setup.stderr.decode()[-3000:]
        token = json.loads(setup.stdout.decode().strip().splitlines()[-1])["token"]
        prepared = time.monotonic()

        for i in (1, 2):
            start(f"web{i}", "serve", "--addr", f"127.0.0.1:{_free_port()}", "--any-port", "--workers", "1")
        for i in (1, 2):
            start(
                f"worker{i}",
                "worker",
                *("--interval", "0.2", "--restate-every", "2", "--alerts-per-pass", "8", "--now", NOW),
            )

        def served(log: Path) -> str | None:
            for line in log.read_text(errors="replace").splitlines():
                if line.startswith("leadpact serves at "):
                    return line.removeprefix("leadpact serves at ").rstrip("/")
            return None

        bases = [_wait_for(f"{log.name} to serve", lambda log=log: served(log), deadline) for log in logs[:2]]
        for base in bases:
            _wait_for(f"{base}/healthz", lambda base=base: _healthy(base), deadline)

        # the load: each API batch (leads, then their events) and each delivery goes to one server, every
        # third is replayed on the other — all at once, eight clients
        jobs: list[tuple[str, list[tuple[str, bytes, dict[str, str]]]]] = []
        for i, pair in enumerate(_api_requests(token)):
            jobs.append((bases[i % 2], pair))
            if i % 3 == 0:
                jobs.append((bases[(i + 1) % 2], pair))
        for i, body in enumerate(_deliveries()):
            jobs.append((bases[(i + 1) % 2], [("/hooks/generic/forms/", body, {})]))
            if i % 3 == 0:
                jobs.append((bases[i % 2], [("/hooks/generic/forms/", body, {})]))

        def send(job: tuple[str, list[tuple[str, bytes, dict[str, str]]]]) -> list[tuple[str, int, str]]:
            base, requests = job
            answers = []
            for path, body, headers in requests:
                if path.startswith("/hooks/"):
                    headers = {
                        "Content-Type": "application/json",
                        **sign_generic(body, secret=SIGNING, timestamp=int(time.time())),
                    }
                status, answer = _post(base, path, body, headers)
                answers.append((path, status, str(answer.get("status", "")) or json.dumps(answer)[:300]))
            return answers

        load_began = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = [a for many in pool.map(send, jobs) for a in many]
        load_seconds = time.monotonic() - load_began
        assert {status for _, status, _ in answers} == {200}, [a for a in answers if a[1] != 200][:5]
        hook_answers = Counter(text for path, _, text in answers if path.startswith("/hooks/"))
        assert set(hook_answers) <= {"processed", "duplicate"}, hook_answers

        with psycopg.connect(f"{server}/{name}", autocommit=True) as db:

            def one(sql: str) -> Any:
                row = db.execute(sql).fetchone()
                assert row is not None
                return row[0]

            odd = LEADS  # breached leads: half of each way in's 60

            # idle: every lead has its clocks, every breached lead its alerts, nothing pending or being sent,
            # the review pack e-mailed, and nothing new for two seconds
            def idle() -> bool:
                state = (
                    one("SELECT count(*) FROM measurement_leadclock"),
                    one("SELECT count(*) FROM measurement_alert"),
                    one("SELECT count(*) FROM measurement_alert WHERE status IN ('pending', 'sending')"),
                    one("SELECT count(*) FROM reviews_review WHERE emailed_at IS NOT NULL"),
                    one("SELECT count(DISTINCT lead_id) FROM measurement_alert"),
                    one("SELECT count(*) FROM measurement_alert WHERE channel = 'email'"),
                    _written(mail),
                )
                # the pack is claimed (emailed_at) before it is rendered and sent: wait for its message too
                settled = state[2] == 0 and state[3] == 1 and state[4] >= odd and state[6] == state[5] + 1
                if not settled:
                    idle.quiet_since = None  # type: ignore[attr-defined]
                    return False
                if getattr(idle, "last", None) != state:
                    idle.last, idle.quiet_since = state, time.monotonic()  # type: ignore[attr-defined]
                    return False
                return time.monotonic() - idle.quiet_since >= 2.0  # type: ignore[attr-defined]

            _wait_for("the workers to be idle", idle, deadline, every=0.3)
            finished = time.monotonic()
            for process in processes:
                assert process.poll() is None, f"a process ended early: {process.args}"

            # every event stored exactly once: no idempotency key twice, and per lead exactly the events sent
            events, keys = db.execute(
                "SELECT count(*), count(DISTINCT idempotency_key) FROM leads_leadevent"
            ).fetchone()  # type: ignore[misc]
            assert events == keys
            per_lead = Counter(
                (ext, kind)
                for ext, kind in db.execute(
                    "SELECT s.external_id, e.kind FROM leads_leadevent e"
                    " JOIN leads_leadsource s ON s.lead_id = e.lead_id"
                )
            )
            expected = Counter(
                (e["external_id"], e["kind"]) for p in ("A", "W") for n in range(LEADS) for e in _events(p, n)
            )
            sent_kinds = {"handed_over", "contact_attempt"}
            assert Counter({k: v for k, v in per_lead.items() if k[1] in sent_kinds}) == expected
            assert max(per_lead.values()) == 1  # nor any other kind (a lead's creation) twice
            assert one("SELECT count(*) FROM leads_lead") == 2 * LEADS

            # every alert sent exactly once: one e-mail per e-mail alert, one POST per webhook alert
            alerts = db.execute(
                "SELECT a.channel, a.address, a.subject, a.status, a.attempts, s.external_id"
                " FROM measurement_alert a JOIN leads_leadsource s ON s.lead_id = a.lead_id"
            ).fetchall()
            assert {(status, attempts) for _, _, _, status, attempts, _ in alerts} == {("sent", 1)}
            assert {ext for *_, ext in alerts} == {f"{p}-{n:03d}" for p in "AW" for n in range(1, LEADS, 2)}
            mails = _mails(mail)
            packs = [m for m in mails if str(m["Subject"]).startswith("Review pack")]
            alert_mails = Counter((str(m["To"]), _words(m["Subject"])) for m in mails if m not in packs)
            assert alert_mails == Counter((a[1], _words(a[2])) for a in alerts if a[0] == "email")
            assert len(packs) == 1
            hooks = [a for a in alerts if a[0] == "webhook"]
            assert len(receiver.posted) == len(hooks) and len(set(receiver.posted)) == len(hooks)
            stored = events

        worked = [log.read_text(errors="replace") for log in logs[2:]]
        sent_by = [
            sum(int(line.split(", sent ")[1].split(",")[0]) for line in w.splitlines() if ", sent " in line)
            for w in worked
        ]
        assert sum(sent_by) == len(alerts)
        turns = [w.count("clocks: another worker's pass") for w in worked]
        passes = [w.count(" clocks ") for w in worked]
        print(
            f"\nscale-out: {sum(len(p[1]) for p in jobs)} requests ({len(answers)} answers) carrying "
            f"{sum(len(json.loads(b).get('events', [])) for _, p in jobs for _, b, _ in p)} events, "
            f"{stored} stored; {len(alerts)} alerts ({sum(1 for a in alerts if a[0] == 'email')} e-mails, "
            f"{len(hooks)} webhook posts), sent by the workers {sent_by}; clock passes {passes}, skipped "
            f"for the other's {turns}; {len(mails)} messages in the mail folder (1 review pack); "
            f"setup {prepared - began:.1f} s, load {load_seconds:.1f} s, until idle "
            f"{finished - load_began:.1f} s, total {time.monotonic() - began:.1f} s"
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        receiver.close()
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for log in logs:
        assert "Traceback" not in log.read_text(errors="replace"), log.read_text(errors="replace")[-3000:]


def _written(folder: Path) -> int:
    """Messages the file-based backend has finished writing (each ends with its rule)."""
    return sum(path.read_bytes().count(b"\n" + b"-" * 79 + b"\n") for path in folder.glob("*.log"))


def _words(header: object) -> str:
    """A header as its words (a long subject is folded over lines in the message)."""
    return " ".join(str(header).split())


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False
