"""Data → Outbox: what leadpact sent in development, readable by the organisation's admins (the operator
reads everything); the real senders (a test alert, an invitation, a password reset) land there with the
organisation they were sent for; HTML is sandboxed, attachments download."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.test import Client

from leadpact.organization.models import Membership, Organization
from leadpact.outbox.context import mail_for
from leadpact.outbox.models import OutboxMessage
from leadpact.web.views.outbox import HTML_CSP
from tests.conftest import member_client
from tests.measurement.scene import person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def outbox(settings):
    settings.EMAIL_BACKEND = "leadpact.outbox.backend.EmailBackend"


@pytest.fixture
def org(demo):
    return demo.agreement.organization


@pytest.fixture
def other():
    return Organization.objects.create(key="other", name="Other B.V.")


@pytest.fixture
def admin(org):
    return member_client(org, role=Membership.Role.ADMIN, username="ops", person=person("sanne"))


@pytest.fixture
def operator():
    user = get_user_model().objects.create_superuser("root", password="x-long-enough-passphrase")
    client = Client()
    client.force_login(user)
    return client


def _send(organization, subject, *, html="", pdf=b""):
    message = EmailMultiAlternatives(subject, f"Text of {subject}: https://example.com/x", None, ["a@b.nl"])
    if html:
        message.attach_alternative(html, "text/html")
    if pdf:
        message.attach("pack.pdf", pdf, "application/pdf")
    with mail_for(organization):
        message.send()
    return OutboxMessage.objects.order_by("-id").first()


def test_an_admin_reads_the_organisations_messages_newest_first_and_nothing_else(admin, org, other):
    ours = _send(org, "Ours, the first")
    _send(org, "Ours, the second")
    theirs = _send(other, "Theirs")
    nobodys = _send(None, "Reset your password")
    html = admin.get("/data/outbox/").content.decode()
    assert html.index("Ours, the second") < html.index("Ours, the first")
    assert "Theirs" not in html and "Reset your password" not in html
    assert admin.get(f"/data/outbox/{ours.pk}/").status_code == 200
    for message in (theirs, nobodys):
        assert admin.get(f"/data/outbox/{message.pk}/").status_code == 404
        assert admin.get(f"/data/outbox/{message.pk}/html/").status_code == 404


def test_another_organisations_admin_sees_nothing_and_a_member_is_refused(org, other):
    ours = _send(org, "Anna Alpha is due", html="<p>due</p>", pdf=b"%PDF-1")
    outsider = member_client(other, role=Membership.Role.ADMIN, username="outsider")
    assert "Anna Alpha" not in outsider.get("/data/outbox/").content.decode()
    attachment = ours.attachments.get()
    for url in (
        f"/data/outbox/{ours.pk}/",
        f"/data/outbox/{ours.pk}/html/",
        f"/data/outbox/{ours.pk}/attachments/{attachment.pk}/",
    ):
        assert outsider.get(url).status_code == 404, url
    member = member_client(org, username="julia", person=person("julia"))
    assert member.get("/data/outbox/").status_code == 403
    assert member.get(f"/data/outbox/{ours.pk}/").status_code == 403
    assert "/data/outbox/" not in member.get("/data/").content.decode()  # no tab, no link


def test_the_operator_reads_every_message_also_those_of_no_organisation(operator, org, other):
    _send(org, "Ours")
    _send(other, "Theirs")
    nobodys = _send(None, "Reset your password")
    operator.post("/organizations/", {"organization": org.pk})  # the operator chose an organisation
    html = operator.get("/data/outbox/").content.decode()
    assert "Ours" in html and "Theirs" in html and "Reset your password" in html
    assert "none (operator only)" in html
    assert operator.get(f"/data/outbox/{nobodys.pk}/").status_code == 200


def test_a_message_shows_its_text_its_sandboxed_html_and_downloads_its_attachment(admin, org):
    message = _send(
        org, "Review pack", html="<p>The <b>pack</b><script>alert(1)</script></p>", pdf=b"%PDF-1.7"
    )
    page = admin.get(f"/data/outbox/{message.pk}/").content.decode()
    assert "Text of Review pack" in page and 'href="https://example.com/x"' in page  # links in the text work
    assert f'<iframe class="mail-html" sandbox src="/data/outbox/{message.pk}/html/"' in page
    assert "<script>alert(1)</script>" not in page  # the HTML is never inlined into the page
    framed = admin.get(f"/data/outbox/{message.pk}/html/")
    assert framed.status_code == 200 and framed["Content-Security-Policy"] == HTML_CSP
    assert framed["X-Frame-Options"] == "SAMEORIGIN" and framed.content.startswith(b"<p>The <b>pack</b>")
    attachment = message.attachments.get()
    download = admin.get(f"/data/outbox/{message.pk}/attachments/{attachment.pk}/")
    assert download.status_code == 200 and download.content == b"%PDF-1.7"
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="pack.pdf"'
    text_only = _send(org, "Plain")
    assert admin.get(f"/data/outbox/{text_only.pk}/html/").status_code == 404
    assert admin.get(f"/data/outbox/{message.pk}/attachments/999999/").status_code == 404


def test_the_real_senders_land_in_the_outbox_with_their_organisation(admin, org):
    sanne = person("sanne")
    assert admin.post("/data/alerts/test/", {"target": "email"}).status_code == 302
    test_alert = OutboxMessage.objects.get(subject__startswith="leadpact test alert")
    assert test_alert.organization == org and test_alert.to == [sanne.email]
    response = admin.post(
        "/team/invite/",
        {"team": sanne.team.pk, "name": "Nina Nieuw", "email": "nina@example.com", "role": "member",
         "access": "member", "fte": "1", "start_date": "2026-12-01", "language": "en"},
    )  # fmt: skip
    assert response.status_code == 302
    invitation = OutboxMessage.objects.get(to=["nina@example.com"])
    assert invitation.organization == org and "/accounts/reset/" in invitation.body
    get_user_model().objects.filter(username="ops").update(email="ops@example.com")
    Client().post("/accounts/password_reset/", {"email": "ops@example.com"})
    reset = OutboxMessage.objects.get(to=["ops@example.com"])
    assert reset.organization is None  # its link opens the account: the operator's alone
    listing = admin.get("/data/outbox/").content.decode()
    assert "leadpact test alert" in listing and "nina@example.com" in listing
    assert "ops@example.com" not in listing


def test_the_data_and_alerts_pages_link_to_the_outbox_for_an_admin(admin):
    assert 'href="/data/outbox/"' in admin.get("/data/").content.decode()
    alerts = admin.get("/data/alerts/").content.decode()
    assert "Sent in development" in alerts and 'href="/data/outbox/"' in alerts


def test_with_smtp_the_page_says_new_mail_goes_out(admin, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    html = admin.get("/data/outbox/").content.decode()
    assert "new messages do not appear here" in html
    assert "Sent in development" not in admin.get("/data/alerts/").content.decode()


def test_an_old_message_keeps_the_date_its_sender_gave(admin, org):
    from email.utils import formatdate

    at = dt.datetime(2026, 10, 30, 8, 0, tzinfo=dt.UTC)
    message = EmailMultiAlternatives(
        "Old", "x", None, ["a@b.nl"], headers={"Date": formatdate(at.timestamp())}
    )
    with mail_for(org):
        message.send()
    assert "2026-10-30 09:00" in admin.get("/data/outbox/").content.decode()  # Amsterdam time


def test_a_delivered_alert_is_kept_for_the_leads_organisation_dated_by_the_worker(admin, org, other):
    from leadpact.measurement.alerts.services import alerts_deliver
    from leadpact.measurement.models import Alert
    from tests.measurement.scene import add_lead, local

    lead = add_lead(org, "anna", name="Anna Alpha", events=[("handed_over", local(2026, 10, 5, 10), {})])
    at = local(2026, 10, 5, 10, 50)
    Alert.objects.create(
        lead=lead,
        commitment_key="first-touch",
        threshold="0.8",
        recipient=person("julia"),
        role="owner",
        channel="email",
        address="julia.bos@example.com",
        subject="Anna Alpha: 80% of the first-touch window used",
        body="due at 11:00",
        created_at=at,
        deliver_at=at,
    )

    assert alerts_deliver(now=local(2026, 10, 5, 11), organization=other).sent == 0  # not its alert
    assert alerts_deliver(now=local(2026, 10, 5, 11), organization=org).sent == 1
    kept = OutboxMessage.objects.get()
    assert kept.organization == org and kept.to == ["julia.bos@example.com"]
    assert kept.sent_at == local(2026, 10, 5, 11)
    assert "Anna Alpha" in admin.get("/data/outbox/").content.decode()
