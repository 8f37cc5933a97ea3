"""The outbox backend keeps every message as sent — envelope, text, HTML, attachments, date — for the
organisation its sender named, and only the newest ``KEEP`` of them."""

from __future__ import annotations

import datetime as dt
from email.mime.application import MIMEApplication
from email.utils import formatdate

import pytest
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection

from leadpact.organization.models import Organization
from leadpact.outbox import services as outbox_services
from leadpact.outbox.context import mail_for, mail_organization
from leadpact.outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db

BACKEND = "leadpact.outbox.backend.EmailBackend"


@pytest.fixture
def outbox(settings):
    settings.EMAIL_BACKEND = BACKEND


@pytest.fixture
def org():
    return Organization.objects.create(key="acme", name="Acme B.V.")


def test_a_message_is_kept_whole_with_its_html_and_attachments(outbox, org):
    message = EmailMultiAlternatives(
        "Review pack: Monthly on 2026-11-02",
        "# The pack\nplain text",
        "leadpact <leadpact@localhost>",
        ["sanne@example.com"],
        cc=["bram@example.com"],
        bcc=["audit@example.com"],
        headers={"Date": formatdate(dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC).timestamp())},
    )
    message.attach_alternative("<p>The <b>pack</b></p>", "text/html")
    message.attach("pack.pdf", b"%PDF-1.7 fake", "application/pdf")
    message.attach(MIMEApplication(b"a,b\n", "csv", Name="rows.csv"))
    with mail_for(org):
        assert message.send() == 1
    kept = OutboxMessage.objects.get()
    assert kept.organization == org
    assert kept.sent_at == dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)
    assert (kept.to, kept.cc, kept.bcc) == (
        ["sanne@example.com"],
        ["bram@example.com"],
        ["audit@example.com"],
    )
    assert kept.recipients == ["sanne@example.com", "bram@example.com", "audit@example.com"]
    assert kept.subject == "Review pack: Monthly on 2026-11-02"
    assert kept.body == "# The pack\nplain text" and kept.html == "<p>The <b>pack</b></p>"
    files = [(a.name, a.content_type, a.size, bytes(a.content)) for a in kept.attachments.all()]
    assert files == [
        ("pack.pdf", "application/pdf", 13, b"%PDF-1.7 fake"),
        ("rows.csv", "application/csv", 4, b"a,b\n"),
    ]


def test_without_a_sender_context_a_message_belongs_to_no_organisation_and_is_dated_now(outbox):
    before = dt.datetime.now(dt.UTC)
    assert mail.send_mail("Reset your password", "link", None, ["a@example.com"]) == 1
    kept = OutboxMessage.objects.get()
    assert kept.organization is None and mail_organization() is None
    assert before <= kept.sent_at <= dt.datetime.now(dt.UTC)
    assert kept.html == "" and not kept.attachments.exists()


def test_an_html_only_message_keeps_its_html_and_no_text(outbox):
    message = EmailMessage("Hi", "<h1>Hi</h1>", None, ["a@example.com"])
    message.content_subtype = "html"
    message.send()
    kept = OutboxMessage.objects.get()
    assert (kept.body, kept.html) == ("", "<h1>Hi</h1>")


def test_a_message_without_recipients_is_not_kept(outbox):
    assert get_connection(BACKEND).send_messages([EmailMessage("x", "y", None, [])]) == 0
    assert not OutboxMessage.objects.exists()


def test_contexts_nest_and_restore(org):
    other = Organization.objects.create(key="other", name="Other")
    with mail_for(org):
        with mail_for(other.pk):
            assert mail_organization() == other.pk
        with mail_for(None):
            assert mail_organization() is None
        assert mail_organization() == org.pk
    assert mail_organization() is None


def test_only_the_newest_messages_are_kept(outbox, monkeypatch):
    monkeypatch.setattr(outbox_services, "KEEP", 3)
    for n in range(5):
        at = dt.datetime(2026, 11, 1 + n, 9, tzinfo=dt.UTC)
        EmailMessage(
            f"m{n}", "", None, ["a@example.com"], headers={"Date": formatdate(at.timestamp())}
        ).send()
    assert list(OutboxMessage.objects.values_list("subject", flat=True)) == ["m4", "m3", "m2"]
