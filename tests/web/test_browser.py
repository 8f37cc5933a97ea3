"""Browser tests: a person signs in and reads why their target is what it is, in Debian's Chromium."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from leadpact.demo.services import demo_load
from leadpact.web.management.commands.start import ensure_first_user
from tests.browser import chromium_page


def sign_in(page, base_url, name, password, next_url="/"):
    page.goto(f"{base_url}{next_url}")
    page.fill("#id_username", name)
    page.fill("#id_password", password)
    page.click("#login-form [type=submit]")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_sign_in_in_chromium(live_server, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    name, password = ensure_first_user()
    with chromium_page() as page:
        sign_in(page, live_server.url, name, password, "/admin/")
        page.wait_for_selector("#site-name")
        assert "Site administration" in page.content()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_marketer_reads_why_her_target_is_what_it_is(live_server, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    demo_load(with_leads=False)
    name, password = ensure_first_user()
    with chromium_page() as page:
        sign_in(page, live_server.url, name, password, "/targets/?period=2026-10")
        row = page.locator("#mql-volume tr", has_text="Fleur Jansen")
        row.locator("summary").click()
        text = row.locator("pre").inner_text()
        assert "0.8 FTE" in text and "leave taken out" in text and "largest remainder" in text
        page.select_option("select[name=language]", "nl")
        page.wait_for_selector("text=Doelen")
        row = page.locator("#mql-volume tr", has_text="Fleur Jansen")
        row.locator("summary").click()
        assert "verlof" in row.locator("pre").inner_text()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_lead_reads_the_agreement_its_glossary_and_trail(live_server, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    demo_load(with_leads=False)
    name, password = ensure_first_user()
    with chromium_page() as page:
        sign_in(page, live_server.url, name, password, "/agreements/")
        page.click("text=Marketing–sales service level agreement")
        page.wait_for_selector("#glossary")
        glossary = page.locator("#glossary").inner_text()
        assert "Marketing-qualified lead (MQL)" in glossary and "lead.score >= 50" in glossary
        assert "version.sign" in page.locator("#audit").inner_text()
        page.select_option("select[name=language]", "nl")
        page.wait_for_selector("text=Definities")
        assert "Auditspoor" in page.content()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_orm_calls_inside_the_browser_block_leave_no_connection_open(live_server):
    """Inside ``chromium_page`` the ORM runs in Playwright's context, on a connection of its own; the block
    closes it (left open, it outlived the test and kept PostgreSQL's test database from being dropped)."""
    from django.db import connections

    outside = connections["default"]
    with chromium_page() as page:
        page.goto(f"{live_server.url}/accounts/login/")
        get_user_model().objects.count()
        inside = connections["default"]
        assert inside.connection is not None
    assert inside is not outside  # the reason the block must close it
    # Django never closes SQLite's shared in-memory test database (its data would go); a server's is closed
    assert inside.connection is None or (inside.vendor == "sqlite" and inside.is_in_memory_db())
