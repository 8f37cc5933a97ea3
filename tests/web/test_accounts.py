"""Signing in: a real login for every member (not only staff), throttled, with password change and reset
by e-mail; the first login's file goes once its password is changed; the organisation picker."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from leadpact.organization.models import Membership, Organization
from leadpact.web.management.commands.start import ensure_first_user
from leadpact.web.passwords import FIRST_LOGIN_FILE
from tests.conftest import PASSWORD, member_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db):
    return Organization.objects.create(key="acme", name="Acme B.V.")


@pytest.fixture
def member(org):
    member_client(org, username="mila")
    user = get_user_model().objects.get(username="mila")
    user.email = "mila@example.com"
    user.save()
    return user


def sign_in(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password, **extra})


def test_a_member_who_is_not_staff_signs_in_and_lands_on_the_home_page(member):
    client = Client()
    assert not member.is_staff
    response = sign_in(client, "mila", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_wrong_password_says_so_on_the_page(member):
    response = sign_in(Client(), "mila", "not-it")
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_fifty_wrong_passwords_lock_the_login_and_the_right_one_is_refused_too(member, settings):
    client = Client()
    for _ in range(50):
        sign_in(client, "mila", "guess")
    response = sign_in(client, "mila", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # another person on the same address is not locked out by it
    member_client(Organization.objects.get(), username="noor")
    assert sign_in(Client(), "noor", PASSWORD).status_code == 302


def test_the_lockout_starts_at_the_configured_number_of_failures(member, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "mila", "guess")
    assert sign_in(client, "mila", PASSWORD).status_code == 302  # one short of the limit: still fine


def test_log_out_is_a_post_and_ends_the_session(member):
    client = Client()
    sign_in(client, "mila", PASSWORD)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


def test_changing_the_first_password_removes_the_first_login_file(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    name, password = ensure_first_user()
    assert (tmp_path / FIRST_LOGIN_FILE).exists()
    client = Client()
    sign_in(client, name, password)
    new = "a-new-passphrase-of-my-own"
    response = client.post(
        "/accounts/password_change/",
        {"old_password": password, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert not (tmp_path / FIRST_LOGIN_FILE).exists()
    assert ensure_first_user() == (name, None)


def test_a_too_short_new_password_is_refused_on_its_field(member):
    client = Client()
    sign_in(client, "mila", PASSWORD)
    response = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": "abc", "new_password2": "abc"},
    )
    assert response.status_code == 200
    assert 'class="field invalid"' in response.content.decode()


def test_a_password_is_reset_by_a_link_sent_by_email(member):
    response = Client().post("/accounts/password_reset/", {"email": "mila@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["mila@example.com"]
    link = re.search(r"http://testserver(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    client = Client()
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    new = "reset-passphrase-42-of-mine"
    done = client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    assert sign_in(Client(), "mila", new).status_code == 302
    # a link works once
    assert "no longer works" in Client().get(link, follow=True).content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(member):
    response = Client().post("/accounts/password_reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302 and mail.outbox == []


def test_a_member_of_two_organisations_chooses_one_and_cannot_choose_a_third(member, org):
    other = Organization.objects.create(key="beta", name="Beta B.V.")
    third = Organization.objects.create(key="gamma", name="Gamma B.V.")
    Membership.objects.create(user=member, organization=other)
    client = Client()
    sign_in(client, "mila", PASSWORD)
    first = client.get("/targets/")
    assert first.status_code == 302 and first["Location"].startswith("/organizations/?next=")
    picker = client.get("/organizations/").content.decode()
    assert "Acme B.V." in picker and "Beta B.V." in picker and "Gamma B.V." not in picker
    assert client.post("/organizations/", {"organization": third.pk}).status_code == 400
    chosen = client.post("/organizations/", {"organization": other.pk, "next": "/targets/"})
    assert chosen.status_code == 302 and chosen["Location"] == "/targets/"
    page = client.get("/targets/").content.decode()
    assert "Beta B.V." in page  # the header names the current organisation
    # an unsafe next is not followed
    away = client.post("/organizations/", {"organization": org.pk, "next": "https://evil.example/"})
    assert away["Location"] == "/"


def test_a_login_without_any_organisation_is_told_so(db):
    get_user_model().objects.create_user("lonely", password=PASSWORD)
    client = Client()
    sign_in(client, "lonely", PASSWORD)
    response = client.get("/", follow=True)
    assert "not a member of any organisation" in response.content.decode()
