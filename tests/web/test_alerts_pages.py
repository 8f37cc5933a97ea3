"""Alerts: who gets which warning, chat webhooks, a test alert through the outbox's sender, the person's
quiet hours; everyone reads, organisation admins change."""

from __future__ import annotations

import json

import pytest
from django.core import mail

from leadpact.measurement.alerts import services as alert_services
from leadpact.measurement.alerts.models import AlertWebhook
from leadpact.organization.models import Membership, Organization, Team
from tests.conftest import member_client
from tests.measurement.scene import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(demo):
    return demo.agreement.organization


@pytest.fixture
def admin(org):
    return member_client(org, role=Membership.Role.ADMIN, username="ops", person=person("sanne"))


@pytest.fixture
def posted(monkeypatch):
    """What the alert sender posted to chat webhooks (no network in tests)."""
    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(
        alert_services, "webhook_post", lambda url, body: sent.append((url, json.loads(body)))
    )
    return sent


def test_every_clock_commitment_shows_its_thresholds_and_who_hears(admin, org, demo):
    from leadpact.agreements.services import agreement_version_document

    doc = agreement_version_document(demo)
    clocked = [c for c in doc.commitments if c.clock is not None]
    assert clocked
    html = admin.get("/data/alerts/").content.decode()
    for commitment in clocked:
        assert commitment.title in html
        for threshold in doc.thresholds_of(commitment):
            assert f"{int(threshold * 100)}%" in html
    assert "the lead&#x27;s owner" in html and "the team lead (" in html


def test_an_admin_adds_a_team_webhook_and_it_shows_without_its_secret_path(admin, org, monkeypatch):
    monkeypatch.setattr(alert_services, "webhook_addresses", lambda url: None)
    sales = Team.objects.get(organization=org, key="sales")
    url = "https://hooks.slack.com/services/T000/B000/very-secret-path"
    response = admin.post("/data/alerts/", {"team": str(sales.pk), "url": url, "active": "on"})
    assert response.status_code == 302
    hook = AlertWebhook.objects.get(organization=org, team=sales)
    assert hook.url == url and hook.active
    html = admin.get("/data/alerts/").content.decode()
    assert "https://hooks.slack.com/…" in html and "very-secret-path" not in html
    # the same team again changes its webhook, it does not add a second
    admin.post("/data/alerts/", {"team": str(sales.pk), "url": url + "2", "active": ""})
    hook.refresh_from_db()
    assert AlertWebhook.objects.filter(organization=org).count() == 1 and not hook.active


def test_a_private_address_is_refused_on_the_field(admin, org):
    response = admin.post("/data/alerts/", {"team": "", "url": "http://127.0.0.1:8080/hook", "active": "on"})
    assert response.status_code == 400
    assert 'class="field invalid"' in response.content.decode()
    assert not AlertWebhook.objects.filter(organization=org).exists()


def test_a_test_alert_goes_by_the_same_sender_to_email_and_to_the_webhook(admin, org, posted):
    hook = AlertWebhook.objects.create(organization=org, url="https://hooks.example.com/x")
    response = admin.post("/data/alerts/test/", {"target": "email"})
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == [person("sanne").email] and "test alert" in message.subject
    admin.post("/data/alerts/test/", {"target": f"webhook:{hook.pk}"})
    assert posted == [(hook.url, {"text": posted[0][1]["text"]})]
    assert "test alert" in posted[0][1]["text"]
    page = admin.get("/data/alerts/").content.decode()
    assert "A test alert was sent to https://hooks.example.com/…" in page


def test_a_refused_test_says_why(admin, org):
    hook = AlertWebhook.objects.create(organization=org, url="http://127.0.0.1:1/x")
    page = admin.get(admin.post("/data/alerts/test/", {"target": f"webhook:{hook.pk}"})["Location"])
    assert "The test alert was not sent" in page.content.decode()


def test_the_person_sees_their_own_quiet_hours(org):
    julia = person("julia")
    client = member_client(org, username="julia", person=julia)
    html = client.get("/data/alerts/").content.decode()
    assert "Your quiet hours" in html
    assert "09:00" in html or "08:30" in html or "quiet all day" in html
    assert "Alerts reach you only in your working hours" in html


@pytest.mark.parametrize("role", [Membership.Role.MEMBER, Membership.Role.VIEWER])
def test_members_and_viewers_read_but_cannot_change_or_test(org, posted, role):
    hook = AlertWebhook.objects.create(organization=org, url="https://hooks.example.com/x")
    client = member_client(org, role=role, username=f"u-{role}")
    page = client.get("/data/alerts/")
    assert page.status_code == 200 and "Save the webhook" not in page.content.decode()
    assert client.post("/data/alerts/", {"team": "", "url": "https://x.example.com/"}).status_code == 403
    assert client.post(f"/data/alerts/webhooks/{hook.pk}/delete/").status_code == 403
    assert client.post("/data/alerts/test/", {"target": f"webhook:{hook.pk}"}).status_code == 403
    assert AlertWebhook.objects.filter(organization=org).count() == 1 and not posted and not mail.outbox


def test_another_organisations_webhook_is_not_found(org, posted):
    hook = AlertWebhook.objects.create(organization=org, url="https://hooks.example.com/secret")
    other = Organization.objects.create(key="other", name="Other B.V.")
    outsider = member_client(other, role=Membership.Role.ADMIN, username="outsider")
    assert outsider.post(f"/data/alerts/webhooks/{hook.pk}/delete/").status_code == 404
    outsider.post("/data/alerts/test/", {"target": f"webhook:{hook.pk}"})
    assert not posted and AlertWebhook.objects.filter(pk=hook.pk).exists()
    assert "hooks.example.com" not in outsider.get("/data/alerts/").content.decode()


def test_an_admin_removes_a_webhook(admin, org):
    hook = AlertWebhook.objects.create(organization=org, url="https://hooks.example.com/x")
    assert admin.post(f"/data/alerts/webhooks/{hook.pk}/delete/").status_code == 302
    assert not AlertWebhook.objects.filter(pk=hook.pk).exists()
