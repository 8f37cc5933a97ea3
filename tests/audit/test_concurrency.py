"""Writers racing to append to the audit chain never fork it, and the sealed checkpoints keep count.

On PostgreSQL, threads write to the test database (the advisory lock serialises them).  SQLite's test
database is in memory with a shared cache, which refuses concurrent writers outright instead of waiting,
so on SQLite the race runs as separate processes on a database file — the way leadpact runs on SQLite
(WAL, ``BEGIN IMMEDIATE``, busy timeout).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
from django.db import connection, connections

from leadpact.audit._local import local_checkpoint
from leadpact.audit.models import AuditCheckpoint, AuditEntry
from leadpact.audit.selectors import audit_chain_verify
from leadpact.audit.services import audit_record
from tests.organization.factories import NOW, make_organization

WRITERS = 4
EACH = 8

_WRITER = """
import datetime as dt, os, sys
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "leadpact.settings"
django.setup()
from leadpact.audit.services import audit_record
from leadpact.organization.models import Organization
organization = Organization.objects.get()
for i in range({each}):
    audit_record(actor="writer-" + sys.argv[1], action="test.race", obj=organization,
                 at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC), after={{"i": i}})
"""

_SETUP = """
import os
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "leadpact.settings"
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from leadpact.organization.services import organization_create
organization_create(key="acme", name="Acme", actor="test")
"""

_CHECK = """
import json, os
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "leadpact.settings"
django.setup()
from leadpact.audit._local import local_checkpoint
from leadpact.audit.models import AuditCheckpoint, AuditEntry
from leadpact.audit.selectors import audit_chain_verify
result = audit_chain_verify()
checkpoint = AuditCheckpoint.objects.get()
print(json.dumps({"ok": result.ok, "checked": result.checked, "reason": result.reason,
                  "race": AuditEntry.objects.filter(action="test.race").count(),
                  "sealed": checkpoint.entries, "local": local_checkpoint(checkpoint.chain).entries}))
"""


def _race_processes_on_sqlite_file(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["LEADPACT_DATA_DIR"] = str(tmp_path)
    subprocess.run([sys.executable, "-c", _SETUP], env=env, check=True)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER.format(each=EACH), str(n)], env=env, stderr=subprocess.PIPE
        )
        for n in range(WRITERS)
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err.decode()
    out = subprocess.run([sys.executable, "-c", _CHECK], env=env, check=True, capture_output=True).stdout
    return json.loads(out)


def _race_threads_on_test_database() -> dict:
    organization = make_organization()
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(EACH):
                audit_record(
                    actor=f"writer-{n}", action="test.race", obj=organization, at=NOW, after={"i": i}
                )
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = audit_chain_verify()
    checkpoint = AuditCheckpoint.objects.get()
    local = local_checkpoint(checkpoint.chain)
    return {
        "ok": result.ok,
        "checked": result.checked,
        "reason": result.reason,
        "race": AuditEntry.objects.filter(action="test.race").count(),
        "sealed": checkpoint.entries,
        "local": local.entries if local else None,
    }


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_chain(tmp_path):
    if connection.vendor == "postgresql":
        result = _race_threads_on_test_database()
    else:
        result = _race_processes_on_sqlite_file(tmp_path)
    assert result["ok"], result["reason"]
    assert result["race"] == WRITERS * EACH
    assert result["checked"] == WRITERS * EACH + 1  # and the organisation's creation
    # the sealed checkpoint and this machine's copy (written by each writer after its commit) agree
    assert result["sealed"] == result["local"] == WRITERS * EACH + 1
