"""The worker e-mails a review's pack to its attendees once, a set time before the meeting, through a
real SMTP server."""

from __future__ import annotations

import email
import socket
from io import StringIO

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command

from leadpact.reviews.models import Review
from leadpact.reviews.services import reviews_send_due
from tests.measurement.scene import local

pytestmark = pytest.mark.django_db(transaction=True)


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    inbox = _Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    inbox.port = port
    yield inbox
    controller.stop()


def _worker(at) -> str:
    out = StringIO()
    call_command("worker", "--once", "--restate-every", "0", "--now", at.isoformat(), stdout=out)
    return out.getvalue()


def test_the_pack_arrives_once_a_day_before_the_review(series, smtp):
    series.language = "nl"
    series.save(update_fields=["language"])
    assert "review packs sent 0" in _worker(local(2026, 10, 18, 9, 59))  # more than 24 hours ahead
    assert smtp.messages == []
    assert "review packs sent 1" in _worker(local(2026, 10, 18, 10, 0))
    assert "review packs sent 0" in _worker(local(2026, 10, 18, 10, 5))  # once
    assert "review packs sent 0" in _worker(local(2026, 10, 19, 9, 0))
    assert len(smtp.messages) == 1
    recipients, raw = smtp.messages[0]
    in_post = series.attendees.exclude(end_date__lte="2026-10-19")
    assert sorted(recipients) == sorted(in_post.values_list("email", flat=True))
    assert "thijs.vos@example.com" not in recipients  # left in June: no pack for him
    message = email.message_from_bytes(raw)
    assert "2026-10-19" in str(email.header.make_header(email.header.decode_header(message["Subject"])))
    parts = {part.get_content_type(): part for part in message.walk()}
    body = parts["text/plain"].get_payload(decode=True).decode()
    assert body.startswith("# Weekly operating review — 19 oktober 2026")
    assert parts["application/pdf"].get_payload(decode=True).startswith(b"%PDF-")
    assert Review.objects.get(day="2026-10-19").emailed_at == local(2026, 10, 18, 10, 0)


def test_a_refused_send_is_tried_again_on_the_next_pass(series, smtp, settings):
    settings.EMAIL_PORT = 9  # nothing listens
    assert reviews_send_due(now=local(2026, 10, 18, 12)) == 0
    assert Review.objects.get(day="2026-10-19").emailed_at is None
    settings.EMAIL_PORT = smtp.port
    assert reviews_send_due(now=local(2026, 10, 18, 13)) == 1
    assert len(smtp.messages) == 1
