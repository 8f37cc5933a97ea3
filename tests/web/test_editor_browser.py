"""In Debian's Chromium, in English and in Dutch: a new organisation is set up, its agreement drafted from
the template (a rule tried live on its leads), proposed, signed by both team leaders and brought into force.

Set ``LEADPACT_SCREENSHOTS=DIR`` to keep a screenshot of every page at 1366 and 390 px wide.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from leadpact.agreements.models import AgreementVersion
from leadpact.leads.models import Lead
from leadpact.organization.models import Membership, Organization, Person
from tests.browser import chromium_page
from tests.conftest import PASSWORD

SHOTS = os.environ.get("LEADPACT_SCREENSHOTS")


def _shot(page, name: str) -> None:
    """Screenshots at desktop and phone width; the phone never scrolls sideways."""
    if not SHOTS:
        return
    folder = Path(SHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=width > 400)
        if width == 390:
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (name, overflow)
    page.set_viewport_size({"width": 1280, "height": 900})


def _sign_in(page, base: str, username: str, lang: str, next_url: str) -> None:
    page.goto(f"{base}/accounts/login/?next={next_url}")
    if lang != "en":
        page.select_option("select[name=language]", lang)
        page.wait_for_load_state()
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_load_state()


WORDS = {
    "en": {"sample": "of the latest 3 leads meet the rule", "proposed": "Waiting for the signature of"},
    "nl": {
        "sample": "van de laatste 3 leads voldoen aan de regel",
        "proposed": "Wacht op de handtekening van",
    },
}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_new_organisation_drafts_signs_and_activates_its_agreement(live_server, lang):
    users = get_user_model().objects
    users.create_superuser("root", password=PASSWORD)
    seller = users.create_user("sam", password=PASSWORD)
    base = live_server.url
    words = WORDS[lang]
    with chromium_page() as page:
        _sign_in(page, base, "root", lang, "/onboarding/")
        _shot(page, f"{lang}-onboarding-start")
        page.fill("#id_name", f"Zeewind {lang}")
        page.select_option("#id_country", "NL")
        page.click("form button.primary")
        page.wait_for_url("**/onboarding/teams/")
        _shot(page, f"{lang}-onboarding-teams")
        page.click("form.editor button.primary")
        page.wait_for_url("**/onboarding/people/")
        organization = Organization.objects.get(name=f"Zeewind {lang}")
        assert organization.teams.count() == 2

        for team, name, email, me in (
            ("marketing", "Mara Mertens", "mara@zeewind.nl", True),
            ("sales", "Sam Smit", "sam@zeewind.nl", False),
        ):
            page.select_option("#id_team", label=organization.teams.get(key=team).name)
            page.fill("#id_name", name)
            page.fill("#id_email", email)
            page.select_option("#id_role", "lead")
            page.fill("#id_start_date", "2026-01-05")
            if me:
                page.check("#id_me")
            page.click("form:has(#id_name) button.primary")
            page.wait_for_selector(f"td:has-text('{name}')")
        _shot(page, f"{lang}-onboarding-people")
        # Sam's login (the team page's invitation, built elsewhere, gives it in the product)
        sam = Person.objects.get(email="sam@zeewind.nl")
        sam.user = seller
        sam.save(update_fields=["user"])
        Membership.objects.create(user=seller, organization=organization)
        at = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC)
        for i, country in enumerate(("NL", "BE", "DE")):
            Lead.objects.create(
                organization=organization,
                name=f"Lead {i}",
                email=f"l{i}@x.nl",
                country=country,
                created_at=at,
                updated_at=at,
            )

        page.click("a.button.primary")  # next: the agreement
        page.wait_for_url("**/onboarding/agreement/")
        _shot(page, f"{lang}-onboarding-agreement")
        page.check(f"input[name=language][value={lang}]")
        page.click("form button.primary")
        page.wait_for_url("**/editor/*/")
        version = AgreementVersion.objects.get(agreement__organization=organization)
        assert version.document["agreement"]["language"] == lang
        _shot(page, f"{lang}-editor-draft")

        # a rule tried live on the organisation's three leads
        page.goto(f"{base}/editor/{version.pk}/definitions/")
        rule = page.locator("textarea[name='definitions-0-rule']")
        rule.fill('lead.email != "" && lead.country in ["NL", "BE"]')
        page.locator("fieldset").first.locator("button[data-check]").click()
        output = page.locator("fieldset").first.locator(".live-check output")
        output.filter(has_text=words["sample"]).wait_for()
        assert output.inner_text().startswith("2 ")
        _shot(page, f"{lang}-editor-definitions")

        # a commitment's target changed through its form
        page.goto(f"{base}/editor/{version.pk}/commitments/")
        page.fill("input[name='commitments-0-target_value']", "600")
        _shot(page, f"{lang}-editor-commitments")
        page.click("form.editor .actions button.primary")
        page.wait_for_url(f"**/editor/{version.pk}/")
        version.refresh_from_db()
        assert version.document["commitments"][0]["target"]["value"] == "600"
        page.goto(f"{base}/editor/{version.pk}/calendars/")
        _shot(page, f"{lang}-editor-calendars")
        page.goto(f"{base}/editor/{version.pk}/")

        page.click("form[action$='/propose/'] button")
        page.wait_for_selector(f"text={words['proposed']}")
        page.click("form[action$='/sign/'] button")
        page.wait_for_selector("#next li")
        _shot(page, f"{lang}-editor-proposed")
        page.click("header form.logout button")
        page.wait_for_load_state()

        _sign_in(page, base, "sam", lang, f"/editor/{version.pk}/")
        page.click("form[action$='/sign/'] button")
        page.wait_for_selector("form[action$='/activate/'] button")
        page.click("form[action$='/activate/'] button")
        page.wait_for_selector(".badge.active")
        _shot(page, f"{lang}-editor-active")
        version.refresh_from_db()
        assert version.status == "active"
        assert {s.signed_by.email for s in version.signatures.all()} == {"mara@zeewind.nl", "sam@zeewind.nl"}

        page.goto(f"{base}/measure/")
        page.wait_for_selector(".tile")
        _shot(page, f"{lang}-scorecard")
