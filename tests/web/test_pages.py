"""The agreements and targets pages: signed in, in English and Dutch, never a server error."""

from __future__ import annotations

import pytest
from django.test import Client

from leadpact.demo.services import demo_load
from leadpact.organization.models import Organization
from tests.conftest import member_client


@pytest.fixture
def demo(db):
    demo_load(with_leads=False)


@pytest.fixture
def client(demo):
    return member_client(Organization.objects.get())


def test_pages_require_login(db):
    for url in ("/", "/agreements/", "/targets/"):
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_agreement_list_shows_the_agreement_with_its_signatures(client, demo):
    html = client.get("/agreements/").content.decode()
    assert "Marketing–sales service level agreement" in html
    assert "Sanne de Vries" in html and "active" in html


def test_targets_page_shows_people_and_explanations(client, demo):
    html = client.get("/targets/?period=2026-10").content.decode()
    assert "<h1>Targets</h1>" in html and "October 2026" in html

    assert "Fleur Jansen" in html and "Capacity:" in html
    assert "2026-09" in html and "2026-11" in html


def test_targets_page_in_dutch(client, demo):
    client.post("/i18n/setlang/", {"language": "nl", "next": "/targets/"})
    html = client.get("/targets/?period=2026-10").content.decode()
    assert "Doelen" in html
    assert "De afspraak vraagt" in html


@pytest.mark.parametrize("period", ["October", "2026-13", "2026-W60", "'; drop table x;--", "2026-10-32"])
def test_a_bad_period_is_a_message_not_a_server_error(client, demo, period):
    response = client.get("/targets/", {"period": period})
    assert response.status_code == 400
    assert "Period" in response.content.decode()


def test_targets_without_any_agreement_says_what_to_do(db):
    empty = Organization.objects.create(key="empty", name="Empty B.V.")
    response = member_client(empty).get("/targets/")
    assert response.status_code == 200
    assert "no agreement" in response.content.decode().lower()


def test_agreement_page_shows_versions_changes_glossary_and_audit(client, demo):
    from leadpact.agreements.models import Agreement
    from leadpact.agreements.services import agreement_export, agreement_import

    agreement = Agreement.objects.get()
    v1 = agreement.versions.get(number=1)
    changed = agreement_export(version=v1).replace("      value: 1000\n", "      value: 1100\n", 1)
    agreement_import(organization=agreement.organization, yaml_text=changed, actor="test")
    html = client.get(f"/agreements/{agreement.pk}/").content.decode()
    assert "commitment mql-volume: target changed from 1000 a month to 1100 a month" in html
    assert "first version" in html
    assert "Marketing-qualified lead (MQL)" in html and "lead.score &gt;= 50" in html
    assert "version.sign" in html and "agreement.import" in html
    assert client.get(f"/agreements/{agreement.pk}/?version=2").status_code == 200
    assert client.get(f"/agreements/{agreement.pk}/?version=7").status_code == 404
    assert client.get("/agreements/999999/").status_code == 404
