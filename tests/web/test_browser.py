"""Browser test: a person signs in to the admin in Debian's Chromium."""

from __future__ import annotations

import pytest

from leadpact.web.management.commands.start import ensure_first_user
from tests.browser import chromium_page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_sign_in_in_chromium(live_server, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    name, password = ensure_first_user()
    with chromium_page() as page:
        page.goto(f"{live_server.url}/")
        page.fill("#id_username", name)
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_selector("#site-name")
        assert "Site administration" in page.content()
