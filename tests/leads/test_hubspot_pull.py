"""Issue 15 case 11: a pull connector for HubSpot (CRM v3 objects API with a private app token): contacts
changed since the cursor, paged, rate-limit aware, resumable, run by ``leadpact worker`` — tested against
a local fake of the documented search endpoint."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command

from leadpact.connectors.hubspot_pull import PROPERTIES
from leadpact.leads.models import Lead, LeadEvent, PullConnector
from leadpact.leads.pull import pull_connector_create, pull_connector_run

TOKEN = "pat-eu1-00000000-0000-0000-0000-000000000000"
T0 = dt.datetime(2026, 10, 1, 8, 0, tzinfo=dt.UTC)


def _iso(at: dt.datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def contact(n: int) -> dict:
    created = T0 + dt.timedelta(minutes=n)
    return {
        "id": str(1000 + n),
        "properties": {
            "firstname": f"Lead{n}", "lastname": "Test", "email": f"lead{n}@example.nl",
            "country": "Netherlands", "createdate": _iso(created),
            "lastmodifieddate": _iso(created + dt.timedelta(seconds=30)),
            "hs_lifecyclestage_marketingqualifiedlead_date": _iso(
                created + dt.timedelta(seconds=10, milliseconds=123)
            ),
            "hs_legal_basis": "Freely given consent from contact", "hs_lead_status": "NEW",
        },
        "createdAt": _iso(created), "updatedAt": _iso(created), "archived": False,
    }  # fmt: skip


class FakeHubSpot:
    """``POST /crm/v3/objects/contacts/search``: filter GTE on lastmodifieddate, ascending, paged by
    ``after``; the first request of a run answers 429 with Retry-After (HubSpot's rate limit)."""

    def __init__(self, contacts: list[dict]) -> None:
        self.contacts = contacts
        self.requests: list[dict] = []
        self.limited = 1
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"auth": self.headers.get("Authorization"), **body})
                if (
                    self.path != "/crm/v3/objects/contacts/search"
                    or self.headers.get("Authorization") != f"Bearer {TOKEN}"
                ):
                    self._send(401, {"status": "error", "message": "Authentication credentials not found."})
                    return
                if fake.limited:
                    fake.limited -= 1
                    self._send(429, {"status": "error", "errorType": "RATE_LIMIT"}, {"Retry-After": "1"})
                    return
                since = 0
                for group in body.get("filterGroups", []):
                    for f in group["filters"]:
                        assert f["propertyName"] == "lastmodifieddate" and f["operator"] == "GTE"
                        since = int(f["value"])

                def modified(c: dict) -> float:
                    return dt.datetime.fromisoformat(c["properties"]["lastmodifieddate"]).timestamp() * 1000

                rows = [c for c in fake.contacts if modified(c) >= since]
                rows.sort(key=lambda c: c["properties"]["lastmodifieddate"])
                start = int(body.get("after") or 0)
                page = rows[start : start + body["limit"]]
                answer: dict = {"total": len(rows), "results": page}
                if start + body["limit"] < len(rows):
                    answer["paging"] = {"next": {"after": str(start + body["limit"]), "link": "…"}}
                self._send(200, answer)

            def _send(self, status: int, data: dict, headers: dict | None = None) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    fake = FakeHubSpot([contact(n) for n in range(230)])
    yield fake
    fake.close()


def connector(organization, fake: FakeHubSpot) -> PullConnector:
    return pull_connector_create(organization=organization, kind="hubspot", name="HubSpot", token=TOKEN,
                                 base_url=fake.url, actor="test")  # fmt: skip


def test_reads_every_page_waits_out_the_rate_limit_and_moves_the_cursor(organization, hubspot):
    row = connector(organization, hubspot)
    waits: list[float] = []
    outcome = pull_connector_run(row, sleep=waits.append)
    assert waits == [1.0]  # Retry-After honoured
    assert (outcome.contacts, outcome.pages) == (230, 3)
    assert Lead.objects.count() == 230 and Lead.objects.filter(consent=True).count() == 230
    assert LeadEvent.objects.filter(kind="handed_over").count() == 230
    assert set(hubspot.requests[1]["properties"]) == set(PROPERTIES)
    row.refresh_from_db()
    assert row.cursor == "2026-10-01T11:49:30+00:00"  # the last modification read
    # nothing changed: the next run reads from the cursor and adds nothing
    again = pull_connector_run(row, sleep=waits.append)
    assert again.events_stored == 0 and Lead.objects.count() == 230
    assert hubspot.requests[-1]["filterGroups"][0]["filters"][0]["value"] == str(
        int(dt.datetime(2026, 10, 1, 11, 49, 30, tzinfo=dt.UTC).timestamp() * 1000)
    )


def test_an_interrupted_run_resumes_after_its_last_page(organization, hubspot):
    row = connector(organization, hubspot)
    first = pull_connector_run(row, sleep=lambda s: None, max_pages=1)
    assert first.contacts == 100 and Lead.objects.count() == 100
    pull_connector_run(row, sleep=lambda s: None)
    assert Lead.objects.count() == 230
    assert (
        LeadEvent.objects.filter(kind="created").count() == 230
    )  # the page at the cursor added nothing twice


def test_a_bad_token_is_a_clear_result_not_a_crash(organization, hubspot):
    row = pull_connector_create(
        organization=organization, kind="hubspot", name="HubSpot", token="pat-eu1-wrong-token-000000",
        base_url=hubspot.url, actor="test",
    )  # fmt: skip
    outcome = pull_connector_run(row, sleep=lambda s: None)
    assert outcome.contacts == 0 and "401" in outcome.notes[0]
    row.refresh_from_db()
    assert row.last_result.startswith("failed: hubspot answered 401")


def test_the_worker_runs_the_due_connector(organization, hubspot):
    connector(organization, hubspot)
    hubspot.limited = 0
    out = io.StringIO()
    call_command("worker", "--once", "--now", "2026-10-02T12:00:00+00:00", stdout=out)
    assert "pulled HubSpot: 230 contacts" in out.getvalue()
    assert Lead.objects.count() == 230
