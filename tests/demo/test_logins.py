"""The demo's logins: one per role, generated once, kept in the data folder (0600) until changed."""

from __future__ import annotations

import shutil

import pytest
from django.contrib.auth import get_user_model

from leadpact.demo.logins import DEMO_LOGINS, DEMO_LOGINS_FILE, demo_login_lines, demo_logins_ensure
from leadpact.organization.access import access_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def data_dir(settings, tmp_path):
    """A data folder of the test's own, with the audit key of the one the database was sealed with."""
    from leadpact.audit.seal import audit_key

    audit_key()  # made now in the shared folder if it is not there yet
    for key in settings.DATA_DIR.glob("audit.key"):
        shutil.copy2(key, tmp_path / key.name)
    settings.DATA_DIR = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; not the point here
    return tmp_path


def _kept(data_dir):
    return dict(line.split(" ", 1) for line in (data_dir / DEMO_LOGINS_FILE).read_text().splitlines())


def test_every_role_has_a_login_that_signs_in_with_the_role_it_names(demo, data_dir):
    org = demo.agreement.organization
    made = demo_logins_ensure(organization=org, actor="test")
    assert made == [x.username for x in DEMO_LOGINS]
    kept = _kept(data_dir)
    assert (data_dir / DEMO_LOGINS_FILE).stat().st_mode & 0o077 == 0
    roles = {}
    for login in DEMO_LOGINS:
        user = get_user_model().objects.get(username=login.username)
        assert user.check_password(kept[login.username]) and len(kept[login.username]) >= 12
        access = access_for(user, org)
        assert access is not None
        roles[login.username] = access.role
        if login.email:
            assert access.person is not None and access.person.email == login.email
    assert roles == {
        "revops": "admin",
        "sanne.devries": "lead",
        "bram.degroot": "lead",
        "noah.smit": "lead",
        "daan.bakker": "member",
        "lotte.meijer": "member",
        "julia.bos": "member",
        "ceo": "viewer",
    }


def test_loading_again_keeps_the_passwords_and_a_changed_one_is_no_longer_printed(demo, data_dir):
    org = demo.agreement.organization
    demo_logins_ensure(organization=org, actor="test")
    kept = _kept(data_dir)
    assert demo_logins_ensure(organization=org, actor="test") == []
    assert _kept(data_dir) == kept
    lines = "\n".join(demo_login_lines())
    for login in DEMO_LOGINS:
        assert f"password: {kept[login.username]}" in lines and login.what in lines

    user = get_user_model().objects.get(username="daan.bakker")
    user.set_password("a-passphrase-daan-chose")
    user.save()
    assert "daan.bakker" not in _kept(data_dir)
    daan = next(line for line in demo_login_lines() if "daan.bakker" in line)
    assert "password as you last set it" in daan and kept["daan.bakker"] not in daan

    # after a reset (the users gone) the kept passwords come back for the same names
    get_user_model().objects.filter(username="julia.bos").delete()
    demo_logins_ensure(organization=org, actor="test")
    assert get_user_model().objects.get(username="julia.bos").check_password(kept["julia.bos"])


def test_no_demo_prints_no_demo_logins(db, data_dir):
    assert demo_login_lines() == []
