"""The Content-Security-Policy holds in a real browser: the main pages, the admin and the API docs load in
Chromium without a single violation (no inline script, no style attribute, nothing from elsewhere)."""

from __future__ import annotations

import pytest

from leadpact.agreements.models import AgreementVersion
from leadpact.demo.services import demo_load
from leadpact.web.management.commands.start import ensure_first_user
from tests.browser import chromium_page

PAGES = [
    "/",
    "/targets/?period=2026-10",
    "/measure/",
    "/measure/mql-volume/",
    "/accountability/",
    "/organizations/",
    "/admin/",
    "/admin/leads/lead/",
    "/api/docs",
]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_main_pages_load_without_a_csp_violation(live_server, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    demo_load(with_leads=False)
    agreement = AgreementVersion.objects.get(status="active").agreement
    name, password = ensure_first_user()
    violations: list[str] = []
    with chromium_page() as page:
        page.on(
            "console",
            lambda message: (
                violations.append(f"{page.url}: {message.text}")
                if "Content Security Policy" in message.text
                else None
            ),
        )
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", name)
        page.fill("#id_password", password)
        page.click("#login-form [type=submit]")
        page.wait_for_load_state("networkidle")
        for path in [*PAGES, f"/agreements/{agreement.pk}/"]:
            response = page.goto(f"{live_server.url}{path}")
            assert response is not None and response.status == 200, path
            assert "script-src 'self'" in response.headers["content-security-policy"]
            page.wait_for_load_state("networkidle")
        page.goto(f"{live_server.url}/api/docs")
        title = page.wait_for_selector(".swagger-ui .info .title", state="attached", timeout=20_000)
        assert title is not None and "leadpact" in title.inner_text()  # its scripts ran under the policy
    assert violations == []
