"""The production profile: `check --deploy` clean, a secret key and host names required, HTTPS enforced."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

# the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a server would not have it
_NOT_PASSED = ("DATABASE_URL", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")


def _leadpact(*args: str, tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in _NOT_PASSED}
    env.update(LEADPACT_DATA_DIR=str(tmp_path), LEADPACT_PRODUCTION="1", **extra)
    return subprocess.run(
        [sys.executable, "-m", "leadpact", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_in_production(tmp_path):
    done = _leadpact(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        tmp_path=tmp_path,
        SECRET_KEY=secrets.token_urlsafe(64),
        LEADPACT_ALLOWED_HOSTS="leadpact.example.com",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_production_without_a_secret_key_or_host_names_refuses_to_start(tmp_path):
    done = _leadpact("check", tmp_path=tmp_path, LEADPACT_ALLOWED_HOSTS="leadpact.example.com")
    assert done.returncode != 0 and "SECRET_KEY must be set" in done.stderr
    assert not (tmp_path / "secret_key").exists()  # never generated in production
    done = _leadpact("check", tmp_path=tmp_path, SECRET_KEY=secrets.token_urlsafe(64))
    assert done.returncode != 0 and "LEADPACT_ALLOWED_HOSTS" in done.stderr


def test_production_settings_are_what_the_profile_promises(tmp_path):
    script = (
        "import django, json; django.setup(); from django.conf import settings as s;"
        "print(json.dumps([s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS,"
        " s.SECURE_SSL_REDIRECT, s.ALLOWED_HOSTS, s.STORAGES['staticfiles']['BACKEND']]))"
    )
    env = {k: v for k, v in os.environ.items() if k not in _NOT_PASSED}
    env.update(
        LEADPACT_DATA_DIR=str(tmp_path),
        LEADPACT_PRODUCTION="1",
        SECRET_KEY=secrets.token_urlsafe(64),
        LEADPACT_ALLOWED_HOSTS="a.example.com,b.example.com",
        DJANGO_SETTINGS_MODULE="leadpact.settings",
    )
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        '[false, true, true, 31536000, true, ["a.example.com", "b.example.com"],'
        ' "whitenoise.storage.CompressedManifestStaticFilesStorage"]'
    )
