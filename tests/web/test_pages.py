"""The agreements and targets pages: signed in, in English and Dutch, never a server error."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from leadpact.web.demo import demo_load


@pytest.fixture
def client(db):
    user = get_user_model().objects.create_user("reader", password="a-long-enough-passphrase")
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def demo(db):
    demo_load()


def test_pages_require_login(db):
    for url in ("/", "/targets/"):
        response = Client().get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_home_lists_the_agreement_with_its_signatures(client, demo):
    html = client.get("/").content.decode()
    assert "Marketing–sales service level agreement" in html
    assert "Sanne de Vries" in html and "active" in html


def test_targets_page_shows_people_and_explanations(client, demo):
    html = client.get("/targets/?period=2026-10").content.decode()
    assert "Targets · 2026-10" in html
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


def test_targets_without_any_agreement_says_what_to_do(client):
    response = client.get("/targets/")
    assert response.status_code == 200
    assert "choose the organisation" in response.content.decode()
