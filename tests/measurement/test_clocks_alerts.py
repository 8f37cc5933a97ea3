"""SLA clocks in the database, alerts through a real SMTP server and a real webhook, the worker."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from io import StringIO

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command

from leadpact.measurement.alerts.services import alerts_deliver
from leadpact.measurement.clocks.services import clocks_update
from leadpact.measurement.models import Alert, AlertWebhook, LeadClock
from leadpact.organization.models import Team
from tests.measurement.scene import NINE_TO_FIVE, add_lead, event, local, person

pytestmark = pytest.mark.django_db(transaction=True)


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    inbox = _Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd checks its own port once started)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield inbox
    controller.stop()


@pytest.fixture
def hook(settings):
    """A webhook receiver on this machine: the operator allows private targets for it (by default
    alerts are posted to public addresses only — see test_webhooks.py)."""
    settings.ALERT_WEBHOOKS_ALLOW_PRIVATE = True
    received: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def scene(demo):
    Team.objects.filter(key="sales").update(calendar=NINE_TO_FIVE)
    return demo


def clock(lead, key="first-attempt-high-intent"):
    return LeadClock.objects.get(lead=lead, commitment_key=key)


def test_friday_1630_with_one_business_hour_is_due_monday_0930(scene):
    org = scene.agreement.organization
    lead = add_lead(org, "fri", events=[("handed_over", local(2026, 10, 9, 16, 30), {})])
    clocks_update(now=local(2026, 10, 9, 16, 40))
    c = clock(lead)
    assert c.due_at == local(2026, 10, 12, 9, 30)
    assert (c.state, c.level, c.elapsed_us) == ("running", 0, 10 * 60 * 1_000_000)
    # Saturday night: no business time has passed since Friday's close, still not breached (and a
    # running clock whose state did not change is not rewritten)
    update = clocks_update(now=local(2026, 10, 10, 23, 0))
    assert clock(lead).state == "running" and update.written == 0
    clocks_update(now=local(2026, 10, 12, 9, 31))
    assert clock(lead).state == "breached"


def test_a_human_attempt_stops_the_clock_and_routing_delay_is_apart(scene):
    org = scene.agreement.organization
    lead = add_lead(
        org,
        "r",
        events=[
            ("handed_over", local(2026, 10, 5, 10), {}),
            ("assigned", local(2026, 10, 5, 10, 20), {}),
            ("contact_attempt", local(2026, 10, 5, 10, 30), {"human": False}),
            ("contact_attempt", local(2026, 10, 5, 10, 50), {"human": True}),
        ],
    )
    clocks_update(now=local(2026, 10, 5, 12))
    c = clock(lead)
    assert c.state == "met" and c.stopped_at == local(2026, 10, 5, 10, 50)
    assert c.elapsed_us == 50 * 60 * 1_000_000 and c.routing_us == 20 * 60 * 1_000_000


def test_alerts_reach_owner_then_manager_once_per_threshold_through_smtp_and_webhook(scene, smtp, hook):
    url, posted = hook
    org = scene.agreement.organization
    AlertWebhook.objects.create(organization=org, team=Team.objects.get(key="sales"), url=url)
    add_lead(org, "al", events=[("handed_over", local(2026, 10, 6, 10), {})])
    julia, bram = person("julia"), person("bram")
    clocks_update(now=local(2026, 10, 6, 10, 50))  # 50 of 60 minutes: past the 0.8 warning
    clocks_update(now=local(2026, 10, 6, 10, 55))  # same threshold again: nothing new
    assert list(Alert.objects.values_list("recipient", "threshold", "channel").order_by("channel")) == [
        (julia.pk, "0.8", "email"),
        (julia.pk, "0.8", "webhook"),
    ]
    report = alerts_deliver(now=local(2026, 10, 6, 10, 55))
    assert report.sent == 2
    assert [m[0] for m in smtp.messages] == [[julia.email]]
    assert (
        "80% of the window (1h) is used" in smtp.messages[0][1]
        and len(posted) == 1
        and "Julia" in posted[0]["text"]
    )
    clocks_update(now=local(2026, 10, 6, 11, 1))  # breached: owner and the sales lead
    alerts_deliver(now=local(2026, 10, 6, 11, 1))
    alerts_deliver(now=local(2026, 10, 6, 11, 2))  # nothing sent twice
    rcpts = sorted(m[0][0] for m in smtp.messages)
    assert rcpts == sorted([julia.email, julia.email, bram.email])
    assert Alert.objects.filter(status="sent").count() == 6 and len(posted) == 3


def test_alerts_wait_for_the_recipients_business_hours(scene, smtp):
    org = scene.agreement.organization
    add_lead(org, "late", events=[("handed_over", local(2026, 10, 9, 16), {})])
    clocks_update(now=local(2026, 10, 9, 20))  # a worker running Friday night finds the 0.8 crossing
    alert = Alert.objects.get()
    assert alert.deliver_at == local(2026, 10, 12, 9)
    assert alerts_deliver(now=local(2026, 10, 10, 12)).sent == 0 and smtp.messages == []
    assert alerts_deliver(now=local(2026, 10, 12, 9)).sent == 1 and len(smtp.messages) == 1


def test_a_claimed_alert_is_never_sent_again_after_a_crash(scene, smtp):
    org = scene.agreement.organization
    add_lead(org, "c", events=[("handed_over", local(2026, 10, 6, 10), {})])
    clocks_update(now=local(2026, 10, 6, 10, 50))
    Alert.objects.update(status="sending", claimed_at=local(2026, 10, 6, 10, 50))  # the worker died mid-send
    report = alerts_deliver(now=local(2026, 10, 6, 11, 30))
    assert (report.sent, report.interrupted) == (0, 1) and smtp.messages == []
    assert Alert.objects.get().status == "failed"


def test_a_refused_send_is_retried_later(scene, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens: connection refused
    org = scene.agreement.organization
    add_lead(org, "x", events=[("handed_over", local(2026, 10, 6, 10), {})])
    clocks_update(now=local(2026, 10, 6, 10, 50))
    report = alerts_deliver(now=local(2026, 10, 6, 10, 50))
    alert = Alert.objects.get()
    assert report.retried == 1 and alert.status == "pending" and alert.attempts == 1 and alert.error


def test_worker_once(scene, smtp):
    org = scene.agreement.organization
    lead = add_lead(org, "w", events=[("handed_over", local(2026, 10, 6, 10), {})])
    out = StringIO()
    call_command("worker", "--once", "--now", local(2026, 10, 6, 10, 50).isoformat(), stdout=out)
    assert "alerts queued 1, sent 1" in out.getvalue()
    assert clock(lead).level == 1 and len(smtp.messages) == 1
    event(org, "w", "contact_attempt", local(2026, 10, 6, 10, 52), human=True)
    call_command("worker", "--once", "--now", local(2026, 10, 6, 11).isoformat(), stdout=StringIO())
    assert clock(lead).state == "met" and len(smtp.messages) == 1


def test_a_breach_long_past_when_first_seen_pages_nobody(scene):
    """Importing old data or a first worker run: old breaches show on the scorecard, not in inboxes."""
    org = scene.agreement.organization
    # a standard MQL (the 24-hour first attempt) and a high-intent one (the 1-hour first attempt)
    old = add_lead(org, "old", trigger="webinar", events=[("handed_over", local(2026, 10, 1, 10), {})])
    fresh = add_lead(org, "fresh", events=[("handed_over", local(2026, 10, 6, 10), {})])
    clocks_update(now=local(2026, 10, 6, 10, 50))
    assert clock(old, "mql-decision").state == "breached"
    assert not LeadClock.objects.filter(lead=old, commitment_key="first-attempt-high-intent").exists()
    # the old lead's 1-day decision clock ran out days ago: no page; its 24-hour clock ran out this
    # morning (due 10:00 today): that one is news, and so is the fresh lead's 80%
    paged = set(Alert.objects.values_list("lead_id", "commitment_key"))
    assert paged == {(fresh.pk, "first-attempt-high-intent"), (old.pk, "first-attempt-standard")}
