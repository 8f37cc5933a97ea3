"""The data folder is its owner's alone (issue 11, point 8): folder 0700, every file in it 0600.

Run as a fresh process with the usual umask 022, the way an operator starts leadpact: the folder, the
SQLite database SQLite creates on first connect, its -wal/-shm files, the secret key, the audit key and
checkpoint and the first-login file.  A data folder left loose by an older version is tightened.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from leadpact.datadir import private_file_create

_FIRST_RUN = """
import os
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "leadpact.settings"
django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
from leadpact.organization.services import organization_create
from leadpact.web.management.commands.start import ensure_first_user
organization_create(key="acme", name="Acme", actor="test")
ensure_first_user()
with connection.cursor() as cursor:  # keep the connection, and so its -wal and -shm files, open
    cursor.execute("SELECT 1")
    print(sorted(os.listdir(os.environ["LEADPACT_DATA_DIR"])))
"""

_CONNECT = """
import os
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "leadpact.settings"
django.setup()
from django.db import connection
connection.ensure_connection()
"""


def _run(script: str, data: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    env["LEADPACT_DATA_DIR"] = str(data)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, umask=0o022, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_folder_and_its_files_are_the_owners_alone(tmp_path):
    data = tmp_path / "data"
    listed = _run(_FIRST_RUN, data)
    for name in (
        "leadpact.sqlite3",
        "leadpact.sqlite3-wal",
        "leadpact.sqlite3-shm",
        "secret_key",
        "audit.key",
    ):
        assert f"'{name}'" in listed
    assert _mode(data) == 0o700
    files = {p.name: _mode(p) for p in data.iterdir() if p.is_file()}
    assert {"leadpact.sqlite3", "secret_key", "audit.key", "audit.checkpoint", "first-login.txt"} <= set(
        files
    )
    assert files == dict.fromkeys(files, 0o600)
    # a data folder left loose by an older version is tightened by the next connection
    data.chmod(0o755)
    (data / "leadpact.sqlite3").chmod(0o644)
    _run(_CONNECT, data)
    assert (_mode(data), _mode(data / "leadpact.sqlite3")) == (0o700, 0o600)


def test_a_private_file_is_written_whole_once(tmp_path):
    path = tmp_path / "new" / "secret"
    assert private_file_create(path, "first\n") is True
    assert private_file_create(path, "second\n") is False
    assert path.read_text() == "first\n"
    assert (_mode(path), _mode(path.parent)) == (0o600, 0o700)
    assert [p.name for p in path.parent.iterdir()] == ["secret"]  # no temporary file left behind
