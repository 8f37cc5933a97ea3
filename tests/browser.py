"""Playwright driving Debian's Chromium (never a downloaded browser)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections
from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium_page(*, locale: str = "en-GB") -> Iterator[Page]:
    # Playwright's sync API runs an event loop; Django refuses ORM calls from async contexts unless told.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
            yield context.new_page()
        finally:
            browser.close()
            # ORM calls made inside the block ran in Playwright's context, with a database connection of
            # their own: close it here, or it outlives the test (and, on PostgreSQL, the test database)
            connections.close_all()


def sign_in(page: Page, base: str, user: str, password: str, next_url: str = "/") -> None:
    """Sign in on the login page as ``user`` (after leaving any earlier session) and land on ``next_url``."""
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("#id_username", user)
    page.fill("#id_password", password)
    page.click("#login-form [type=submit]")
    page.wait_for_load_state()
