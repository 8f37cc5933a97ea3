"""The start command: database prepared, first user created with a generated password, login works."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from leadpact.web.management.commands.start import FIRST_LOGIN_FILE, ensure_first_user


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_start_creates_first_user_and_prints_login(data_dir):
    out = io.StringIO()
    call_command("start", "--no-serve", stdout=out)
    text = out.getvalue()
    assert "http://127.0.0.1:8000/" in text
    username, _, password = (data_dir / FIRST_LOGIN_FILE).read_text().partition("\n")
    password = password.strip()
    assert f"log in as: {username}   password: {password}" in text
    assert len(password) >= 12
    user = get_user_model().objects.get(username=username)
    assert user.is_superuser and user.check_password(password)
    assert (data_dir / FIRST_LOGIN_FILE).stat().st_mode & 0o077 == 0


@pytest.mark.django_db
def test_first_user_is_made_once_and_password_differs_per_install(data_dir, tmp_path_factory, settings):
    name, first = ensure_first_user()
    again_name, again = ensure_first_user()
    assert (again_name, again) == (name, first)
    assert get_user_model().objects.count() == 1
    get_user_model().objects.all().delete()
    settings.DATA_DIR = tmp_path_factory.mktemp("other")
    _, second = ensure_first_user()
    assert first != second


@pytest.mark.django_db
def test_changed_password_is_no_longer_printed(data_dir):
    name, _ = ensure_first_user()
    user = get_user_model().objects.get(username=name)
    user.set_password("a-new-passphrase-of-mine")
    user.save()
    assert ensure_first_user() == (name, None)


@pytest.mark.django_db
def test_signed_in_admin_page_works(data_dir):
    name, password = ensure_first_user()
    client = Client()
    assert client.get("/admin/").status_code == 302
    signed_in = client.post("/accounts/login/", {"username": name, "password": password, "next": "/admin/"})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/admin/"
    response = client.get("/admin/")
    assert response.status_code == 200
    assert b"Site administration" in response.content


@pytest.mark.django_db
def test_home_requires_login():
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"
