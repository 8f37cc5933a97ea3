"""The cross-engine proof through the command line: an organisation loaded on SQLite, backed up, restored on
PostgreSQL, backed up there and restored on SQLite again — the same figures and a verified audit chain at
every step.

It runs ``leadpact`` in subprocesses against databases of its own (fresh SQLite data folders and a
PostgreSQL database it creates and drops), never the test database, so it runs once, in the SQLite half of
``make test``; it needs the PostgreSQL server that CI always has (``LEADPACT_TEST_PG_ADMIN`` to point
elsewhere).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg import sql

from tests.backup.helpers import months_before

ADMIN_URL = os.environ.get("LEADPACT_TEST_PG_ADMIN", "postgres://postgres@127.0.0.1:5432/postgres")
KEY = "cross-engine-test-audit-key-0123456789abcdef"  # one key for all three databases, as in production


def _leadpact(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "leadpact", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"leadpact {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@contextlib.contextmanager
def _postgresql_database(name: str) -> Iterator[str]:
    """A fresh PostgreSQL database for the block, dropped after it; yields its URL."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(ADMIN_URL)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _commands(env: dict[str, str], *commands: str) -> str:
    """Several ``leadpact`` commands in one process (``leadpact shell``: Django starts once, not per
    command); each is ``call_command`` with the command line's arguments."""
    calls = "; ".join(f"call_command({command})" for command in commands)
    return _leadpact(
        env, "shell", "--no-imports", "-c", f"from django.core.management import call_command; {calls}"
    )


def _measures(periods: list[str], now: str) -> list[str]:
    """``leadpact measure --period P --format json --evidence --now NOW`` for each period."""
    return [f"'measure', period={p!r}, format='json', evidence=True, now={now!r}" for p in periods]


def _figures(output: str, count: int) -> list[Any]:
    """The first ``count`` JSON documents that ``output`` begins with."""
    decoder = json.JSONDecoder()
    figures, at = [], 0
    for _ in range(count):
        while output[at].isspace():
            at += 1
        value, at = decoder.raw_decode(output, at)
        figures.append(value)
    return figures


def _verified(output: str) -> int:
    """How many entries ``audit verify`` (or ``restore``, which ends with it) found intact."""
    found = re.search(r"audit chain intact: (\d+) entries verified", output)
    assert found, output
    return int(found.group(1))


def _engine(path: Path) -> str:
    with gzip.open(path, "rt") as handle:
        return str(json.loads(handle.readline())["engine"])


@pytest.mark.own_postgresql
def test_sqlite_to_postgresql_and_back_keeps_every_figure_and_the_audit_chain(tmp_path):
    base = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"LEADPACT_AUDIT_KEY": KEY}
    first = base | {"LEADPACT_DATA_DIR": str(tmp_path / "first")}
    last = base | {"LEADPACT_DATA_DIR": str(tmp_path / "last")}
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    periods = months_before(now.astimezone(ZoneInfo("Europe/Amsterdam")), 3)[
        ::2
    ]  # a month the demo closed, and last month (still open)
    at = now.isoformat()

    _leadpact(first, "migrate", "-v0")
    (tmp_path / "last").mkdir(mode=0o700)  # a fresh SQLite database: the first one as migrated
    shutil.copyfile(tmp_path / "first" / "leadpact.sqlite3", tmp_path / "last" / "leadpact.sqlite3")
    from_sqlite = tmp_path / "from-sqlite.jsonl.gz"
    output = _commands(
        first,
        "'demo', leads=60, verbosity=0",
        *_measures(periods, at),
        f"'backup', output={str(from_sqlite)!r}",
    )
    before = _figures(output, len(periods))
    assert any(m["actual"] not in (None, "0") for f in before for m in f["measurements"])
    assert {m["closed"] for m in before[0]["measurements"]} == {True}  # stored figures, and
    assert {m["closed"] for m in before[1]["measurements"]} == {False}  # figures computed afresh
    assert _engine(from_sqlite) == "sqlite"

    from_postgresql = tmp_path / "from-postgresql.jsonl.gz"
    with _postgresql_database(f"leadpact_restore_{os.getpid()}") as url:
        middle = base | {"LEADPACT_DATA_DIR": str(tmp_path / "middle"), "DATABASE_URL": url}
        _leadpact(middle, "migrate", "-v0")
        restored = _leadpact(middle, "restore", str(from_sqlite))
        assert "from sqlite" in restored
        entries = _verified(restored)
        output = _commands(middle, *_measures(periods, at), f"'backup', output={str(from_postgresql)!r}")
        assert _figures(output, len(periods)) == before
    assert _engine(from_postgresql) == "postgresql"

    restored = _leadpact(last, "restore", str(from_postgresql))
    assert "from postgresql" in restored
    output = _commands(last, *_measures(periods, at), "'audit', 'verify'")
    assert _figures(output, len(periods)) == before
    assert _verified(restored) == _verified(output)
    # the chain went through both engines whole: the demo's entries, the first restore's and this one's
    # (each backup's own entry is written in its source database after the file was read)
    assert _verified(restored) == entries + 1
