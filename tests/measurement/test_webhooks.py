"""Alert webhooks go to public addresses only (issue 11 point 7, SSRF), never follow a redirect, and
are audited when an admin creates one (issue 11 point 5)."""

from __future__ import annotations

import http.server
import json
import socket
import threading

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from leadpact.audit.models import AuditEntry
from leadpact.measurement.alerts.models import Alert, AlertWebhook
from leadpact.measurement.alerts.services import alerts_deliver
from leadpact.measurement.alerts.webhooks import WebhookRefused, webhook_addresses, webhook_post
from leadpact.measurement.clocks.services import clocks_update
from leadpact.organization.models import Team
from tests.measurement.scene import add_lead, local

PUBLIC = "93.184.216.34"


def resolving(*addresses: str):
    """A resolver that answers ``addresses`` for any host (the shape of ``socket.getaddrinfo``)."""

    def resolve(host, port, **_):
        family = {4: socket.AF_INET, 6: socket.AF_INET6}
        return [
            (
                family[6 if ":" in a else 4],
                socket.SOCK_STREAM,
                6,
                "",
                (a, port) if ":" not in a else (a, port, 0, 0),
            )
            for a in addresses
        ]

    return resolve


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.5.6.7",
        "::1",
        "169.254.169.254",  # a cloud's metadata service
        "fe80::1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "fd00::1",
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "240.0.0.1",
    ],
)
def test_loopback_link_local_private_and_the_like_are_refused(address):
    with pytest.raises(WebhookRefused, match=r"resolves to .*: alerts are only posted to public addresses"):
        webhook_addresses("https://hooks.example/services/x", allow_private=False, resolve=resolving(address))
    assert webhook_addresses("https://hooks.example/x", allow_private=True, resolve=resolving(address)) == [
        address
    ]


def test_every_resolved_address_is_checked_not_only_the_first():
    assert webhook_addresses("https://hooks.example/x", allow_private=False, resolve=resolving(PUBLIC)) == [
        PUBLIC
    ]
    with pytest.raises(WebhookRefused, match=r"10\.0\.0\.5"):
        webhook_addresses(
            "https://hooks.example/x", allow_private=False, resolve=resolving(PUBLIC, "10.0.0.5")
        )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("gopher://hooks.example/", "only http and https"),
        ("https:///path", "no host"),
        ("https://hooks.example:99999/", "(?i)port out of range"),
    ],
)
def test_addresses_that_are_no_http_target_are_refused(url, reason):
    with pytest.raises(WebhookRefused, match=reason):
        webhook_addresses(url, allow_private=True, resolve=resolving(PUBLIC))


def test_a_host_that_does_not_resolve_is_refused():
    def fails(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    with pytest.raises(WebhookRefused, match="does not resolve"):
        webhook_addresses("https://nowhere.invalid/", allow_private=True, resolve=fails)


@pytest.fixture
def server():
    """A local HTTP server: ``/hook`` answers 200, ``/moved`` redirects to ``/admin/``; what reached it."""
    seen: list[tuple[str, str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"] or 0)).decode()
            seen.append((self.path, self.headers["Host"], body))
            if self.path == "/moved":
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/admin/")
            else:
                self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_port, seen
    httpd.shutdown()
    httpd.server_close()


def test_the_post_goes_to_the_checked_address_with_the_host_name_kept(server):
    port, seen = server
    status = webhook_post(
        f"http://hooks.example:{port}/hook?team=1",
        b'{"text": "hi"}',
        allow_private=True,
        resolve=resolving("127.0.0.1"),
    )
    assert status == 200
    assert seen == [("/hook?team=1", f"hooks.example:{port}", '{"text": "hi"}')]


def test_a_redirect_is_not_followed(server):
    port, seen = server
    with pytest.raises(WebhookRefused, match="302"):
        webhook_post(f"http://127.0.0.1:{port}/moved", b"{}", allow_private=True)
    assert [s[0] for s in seen] == ["/moved"]  # /admin/ never reached


@pytest.mark.django_db
def test_the_worker_does_not_post_to_this_machine_unless_the_operator_allows_it(demo, server, settings):
    port, seen = server
    org = demo.agreement.organization
    # a row from before the check (or written around the admin): the worker checks again at each send
    AlertWebhook.objects.create(
        organization=org, team=Team.objects.get(key="sales"), url=f"http://127.0.0.1:{port}/admin/"
    )
    add_lead(org, "s", events=[("handed_over", local(2026, 10, 6, 10), {})])
    clocks_update(now=local(2026, 10, 6, 10, 50))
    settings.ALERT_WEBHOOKS_ALLOW_PRIVATE = False
    report = alerts_deliver(now=local(2026, 10, 6, 10, 50))
    hooked = Alert.objects.get(channel="webhook")
    assert seen == [] and report.failed == 1 and report.retried == 0  # refused for good, not retried
    assert hooked.status == "failed" and "loopback" in hooked.error and hooked.attempts == 1
    Alert.objects.filter(pk=hooked.pk).update(status="pending", attempts=0, error="")
    settings.ALERT_WEBHOOKS_ALLOW_PRIVATE = True
    assert alerts_deliver(now=local(2026, 10, 6, 10, 51)).sent == 1
    assert [s[0] for s in seen] == ["/admin/"] and "SLA at 80%" in json.loads(seen[0][2])["text"]


@pytest.mark.django_db
def test_creating_an_alert_webhook_in_the_admin_is_checked_and_audited(demo, settings):
    settings.ALERT_WEBHOOKS_ALLOW_PRIVATE = False
    admin_user = get_user_model().objects.create_superuser(
        "root", "root@example.com", "a-long-enough-passphrase"
    )
    client = Client()
    client.force_login(admin_user)
    org = demo.agreement.organization
    form = {"organization": org.pk, "team": "", "active": "on"}
    refused = client.post(
        "/admin/measurement/alertwebhook/add/", {**form, "url": "http://127.0.0.1:8000/admin/"}
    )
    assert refused.status_code == 200 and "loopback" in refused.content.decode()
    assert not AlertWebhook.objects.exists()
    secret = f"https://{PUBLIC}/services/T000/B000/very-secret-token"
    saved = client.post("/admin/measurement/alertwebhook/add/", {**form, "url": secret})
    assert saved.status_code == 302
    hook = AlertWebhook.objects.get()
    entry = AuditEntry.objects.get(action="alert_webhook.create")
    assert entry.actor_id == admin_user.pk and entry.object_id == str(hook.pk)
    text = json.dumps(entry.after)
    assert f"https://{PUBLIC}/" in text and "very-secret-token" not in text
    client.post(f"/admin/measurement/alertwebhook/{hook.pk}/delete/", {"post": "yes"})
    assert (
        not AlertWebhook.objects.exists()
        and AuditEntry.objects.filter(action="alert_webhook.delete").exists()
    )
