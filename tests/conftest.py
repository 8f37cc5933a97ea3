"""Shared fixtures and helpers."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from leadpact.agreements.models import AgreementVersion
from leadpact.demo.services import demo_load
from leadpact.organization.models import Membership, Organization, Person

PASSWORD = "a-long-enough-passphrase"


def pytest_configure(config):
    """Passwords hashed by MD5 in the tests, as Django's testing guide advises: the production hasher
    (PBKDF2, a million rounds: ~0.5 s a hash on the build machine) made the suite minutes longer and is
    not what these tests test. Commands run in subprocesses (``leadpact start``, …) keep the real one."""
    from django.conf import settings
    from django.contrib.auth import hashers

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    hashers.get_hashers.cache_clear()
    hashers.get_hashers_by_algorithm.cache_clear()


@pytest.fixture
def demo(db):
    """The demo organisation and its agreement in force, loaded through the same services as ``leadpact
    start`` (without its months of leads): the active agreement version."""
    demo_load(with_leads=False)
    return AgreementVersion.objects.select_related("agreement__organization").get(status="active")


def member_client(
    organization: Organization,
    *,
    role: str = Membership.Role.MEMBER,
    username: str = "reader",
    person: Person | None = None,
) -> Client:
    """A browser-less client signed in as a user with ``role`` in ``organization`` (and, when given, the
    login of ``person``: a party lead when the person leads their team)."""
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.set_password(PASSWORD)
    user.save()
    Membership.objects.update_or_create(user=user, organization=organization, defaults={"role": role})
    if person is not None:
        person.user = user
        person.save(update_fields=["user"])
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def _no_connection_left_behind(request):
    """A test that commits (a transactional or browser test) leaves no database connection behind.

    A connection opened in another thread or context (a live server's request thread, a server started in a
    thread, Playwright's context) and not closed outlives the test: it is garbage-collected in some later
    test (a ResourceWarning there, an error under ``filterwarnings = error``) and on PostgreSQL keeps the
    test database from being dropped. During a browser test each request closes its connection; after any
    such test, on PostgreSQL, wait until the other sessions have ended, and fail *this* test, naming what
    the connection last ran, when one is still open — so a leak is found where it is made.
    """
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    committing = bool(names & {"live_server", "transactional_db"}) or bool(
        marker and marker.kwargs.get("transaction")
    )
    if not committing:
        yield
        return
    from django.db import connection, connections

    blocker = request.getfixturevalue("django_db_blocker")
    settings_dict = connections.settings["default"]
    kept = settings_dict.get("CONN_MAX_AGE", 0)
    if "live_server" in names:
        settings_dict["CONN_MAX_AGE"] = 0
    try:
        yield
    finally:
        settings_dict["CONN_MAX_AGE"] = kept
    if connection.vendor != "postgresql":
        return
    others = (
        "SELECT pid, state, left(query, 160) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    )
    left: list = []
    deadline = time.monotonic() + 30
    with blocker.unblock(), connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(others)
            left = cursor.fetchall()
            if not left:
                return
            time.sleep(0.1)
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
    pytest.fail(f"the test left database connections open (ended now): {left}")


def pytest_collection_modifyitems(config, items):
    """Split the work of ``make test``'s two halves, run side by side on SQLite and on PostgreSQL.

    On PostgreSQL, run only the tests that touch the database: a test that never opens a database
    connection (the engine's arithmetic, parsers, property tests) gives the same answer on both, so the
    SQLite run is its run. A test marked ``own_postgresql`` brings its own PostgreSQL databases (it runs
    leadpact in subprocesses) and touches no test database: it runs once, in the PostgreSQL half, which has
    the lighter load. Browser tests (Chromium driving the live server through every page flow) run once,
    in the SQLite half: the pages' reads and writes they go through run on PostgreSQL in the page tests
    there, and twice they cost CI's time limit four minutes. ``LEADPACT_TEST_HALF`` (set by the Makefile)
    says which half this is; without it (a plain ``pytest``) and with ``LEADPACT_TEST_ALL=1`` every test
    runs.
    """
    import os

    half = os.environ.get("LEADPACT_TEST_HALF")
    if half is None or os.environ.get("LEADPACT_TEST_ALL") == "1":
        return
    database = {"_django_db_helper", "db", "transactional_db", "live_server"}

    def runs_here(item) -> bool:
        own = item.get_closest_marker("own_postgresql") is not None
        if half == "sqlite":
            return not own
        if item.get_closest_marker("browser") is not None:
            return False
        uses = item.get_closest_marker("django_db") is not None or database & set(
            getattr(item, "fixturenames", ())
        )
        return own or bool(uses)

    kept = [item for item in items if runs_here(item)]
    skipped = [item for item in items if not runs_here(item)]
    if skipped:
        config.hook.pytest_deselected(items=skipped)
        items[:] = kept
