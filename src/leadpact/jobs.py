"""Which process does a job of the worker now: one claim per kind of job (and object), across processes.

Several ``leadpact worker`` processes may run against one database (README, "Scale-out"). Work whose rows
can be claimed one by one is claimed in the database itself — alerts by ``SELECT … FOR UPDATE SKIP
LOCKED`` (``measurement/alerts/services.py``), a review pack by a conditional ``UPDATE`` of its
``emailed_at`` (``reviews/services.py``). A *pass* over many rows — the SLA clocks, the closed periods'
restatements, the retention sweep, one pull connector's pages — is claimed as a whole here, so that one
process does it while the others go on with the rest:

- on PostgreSQL by a session-level advisory lock (the two-integer key space, apart from the audit
  chain's single 64-bit key), held until the pass ends and released by the server when the session
  does (a killed worker holds nothing);
- on SQLite (one machine by construction) by an ``flock`` on a file in the data folder, released by the
  kernel when the process ends.

>>> with job_claim("clocks") as mine:  # doctest: +SKIP
...     if mine:
...         clocks_update(now=now)
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from django.conf import settings
from django.db import DatabaseError, connection

__all__ = ["JOBS", "Job", "job_claim"]

Job = Literal["clocks", "pull", "restatements", "retention"]
#: The first half of each job's advisory-lock key (the second is the object's id, 0 for a whole pass).
JOBS: dict[str, int] = {
    "clocks": 0x1EAD_0001,
    "pull": 0x1EAD_0002,
    "restatements": 0x1EAD_0003,
    "retention": 0x1EAD_0004,
}


@contextlib.contextmanager
def job_claim(job: Job, key: int = 0, *, wait: bool = False) -> Iterator[bool]:
    """Hold the claim on ``job`` (for object ``key``) while the block runs; yields whether it is ours.

    ``wait=False`` (the worker): another process holding it yields ``False`` at once — that process does
    the pass. ``wait=True`` (a command run by hand): waits for it, then yields ``True``.
    """
    kind, key = JOBS[job], key % 2**31  # PostgreSQL's two-key form takes 32-bit integers
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if wait:
                cursor.execute("SELECT pg_advisory_lock(%s, %s)", [kind, key])
                mine = True
            else:
                cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [kind, key])
                mine = bool(cursor.fetchone()[0])
        try:
            yield mine
        finally:
            if mine:
                # a broken connection has lost the lock with its session: nothing to release then
                with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [kind, key])
        return
    yield from _file_claim(job, key, wait=wait)


def _file_claim(job: Job, key: int, *, wait: bool) -> Iterator[bool]:
    db = str(connection.settings_dict.get("NAME", ""))
    name = f"{job}-{key}-{hashlib.sha256(db.encode()).hexdigest()[:12]}.lock"
    folder = Path(settings.DATA_DIR) / "jobs"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
