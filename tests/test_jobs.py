"""A worker's pass is claimed across processes: while another process holds a job (another database
session on PostgreSQL, another open lock file on SQLite), ``job_claim`` says so at once, the worker skips
its pass, a pull connector is not read twice; other jobs and other objects stay free."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from leadpact.jobs import JOBS, job_claim
from leadpact.leads.models import PullConnector
from leadpact.leads.pull import pull_connector_run
from tests.organization.factories import make_organization

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def held_elsewhere(job: str, key: int = 0) -> Iterator[None]:
    """The claim, held as another process would hold it."""
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        dsn = f"host={db['HOST']} port={db['PORT'] or 5432} user={db['USER']} dbname={db['NAME']}"
        with psycopg.connect(dsn + (f" password={db['PASSWORD']}" if db["PASSWORD"] else "")) as other:
            other.execute("SELECT pg_advisory_lock(%s, %s)", [JOBS[job], key])
            yield
        return
    name = hashlib.sha256(str(connection.settings_dict.get("NAME", "")).encode()).hexdigest()[:12]
    folder = Path(settings.DATA_DIR) / "jobs"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"{job}-{key}-{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def test_a_job_held_elsewhere_is_refused_at_once_and_free_again_after():
    with held_elsewhere("clocks"):
        with job_claim("clocks") as mine:
            assert mine is False
        with job_claim("retention") as mine, job_claim("pull", 7) as other:
            assert mine is True and other is True  # other jobs, other objects: free
    with job_claim("clocks") as mine:
        assert mine is True


def test_the_worker_skips_the_clock_pass_another_worker_holds(demo):
    out = StringIO()
    with held_elsewhere("clocks"):
        call_command(
            "worker", "--once", "--restate-every", "0", "--now", "2026-10-06T11:00:00+02:00", stdout=out
        )
    assert "clocks: another worker's pass" in out.getvalue()
    out = StringIO()
    call_command("worker", "--once", "--restate-every", "0", "--now", "2026-10-06T11:00:00+02:00", stdout=out)
    assert "clocks: another" not in out.getvalue() and " clocks " in out.getvalue()


def test_a_pull_connector_being_read_elsewhere_is_not_read_again():
    row = PullConnector.objects.create(
        organization=make_organization(),
        kind="hubspot",
        name="crm",
        token_sealed="unused",
        cursor="2026-10-01T00:00:00+00:00",
        created_at=dt.datetime(2026, 10, 1, tzinfo=dt.UTC),
    )
    with held_elsewhere("pull", row.pk):
        outcome = pull_connector_run(row)
    assert outcome.notes == ["another process is reading this connector now"] and outcome.pages == 0
    row.refresh_from_db()
    assert row.last_run_at is None  # nothing ran, nothing recorded
