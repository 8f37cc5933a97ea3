"""In the browser, by the right roles, in English and in Dutch: a rep works a lead (a contact attempt, a
rejection with a reason code, a dispute), the sales lead upholds the dispute, the marketing lead closes a
month and, when later data changes it, accepts the restatement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from leadpact.demo.services import demo_load
from leadpact.leads.models import LeadEvent, LeadState
from leadpact.measurement.closing.models import ClosedPeriod, Restatement
from leadpact.measurement.disputes.models import Dispute
from leadpact.organization.models import Organization
from tests.browser import chromium_page, sign_in
from tests.conftest import PASSWORD, member_client
from tests.measurement.scene import add_lead, local, person

WORDS = {
    "en": {
        "attempt": "Contact attempt recorded.",
        "rejected": "Rejected, with the reason code.",
        "disputed": "Dispute opened",
        "upheld": "Dispute upheld",
        "closed": "is closed",
        "accepted": "Restatement accepted",
        "my": "My page",
    },
    "nl": {
        "attempt": "Contactpoging vastgelegd.",
        "rejected": "Afgewezen, met de redencode.",
        "disputed": "Bezwaar ingediend",
        "upheld": "Bezwaar toegekend",
        "closed": "is afgesloten",
        "accepted": "Herziening geaccepteerd",
        "my": "Mijn pagina",
    },
}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "nl"])
def test_a_lead_worked_disputed_upheld_and_a_month_closed_and_restated(
    live_server, settings, tmp_path, language
):
    settings.DATA_DIR = tmp_path
    demo_load(with_leads=False)
    org = Organization.objects.get()
    now = timezone.now()
    events = [("handed_over", now - dt.timedelta(hours=2), {}), ("assigned", now - dt.timedelta(hours=2), {})]
    lead = add_lead(org, "b1", name="Browser Lead", events=events)
    for who in ("julia", "bram", "sanne"):
        member_client(org, username=who, person=person(who))
    words = WORDS[language]
    base = live_server.url
    with chromium_page(locale="nl-NL" if language == "nl" else "en-GB") as page:
        # the rep, on her page, opens the lead and works it
        sign_in(page, base, "julia", PASSWORD)
        assert words["my"] in page.locator("h1").inner_text()
        page.click("#leads >> text=Browser Lead")
        page.click("#act-attempt summary")
        page.select_option("#id_attempt-channel", "phone")
        page.click("#act-attempt [type=submit]")
        assert words["attempt"] in page.locator(".messages").inner_text()
        page.click("#act-decide summary")
        page.click("#act-decide form:nth-of-type(2) [type=submit]")  # no reason code: the browser refuses
        assert page.locator("#id_reject-reason_code").evaluate("e => e.validity.valueMissing")
        assert not LeadEvent.objects.filter(lead=lead, kind="rejected").exists()
        page.select_option("#id_reject-reason_code", "not_icp")
        page.click("#act-decide form:nth-of-type(2) [type=submit]")
        assert words["rejected"] in page.locator(".messages").inner_text()
        page.click("#act-dispute summary")
        page.fill("#id_dispute-reason", "A student, not a buyer")
        page.click("#act-dispute [type=submit]")
        assert words["disputed"] in page.locator(".messages").inner_text()
        state = LeadState.objects.get(lead=lead)
        assert (state.human_attempts, state.decision, state.reason_code) == (1, "rejected", "not_icp")
        assert LeadEvent.objects.filter(lead=lead, data__via="leadpact").count() == 2

        # the sales lead decides the dispute from the queue
        sign_in(page, base, "bram", PASSWORD, "/disputes/")
        item = page.locator(".queue li", has_text="Browser Lead")
        item.locator("input[value=upheld]").check()
        item.locator("[type=submit]").click()
        assert words["upheld"] in page.locator(".messages").inner_text()
        assert Dispute.objects.get(lead=lead).status == "upheld"

        # the marketing lead closes September after seeing what will be frozen
        sign_in(page, base, "sanne", PASSWORD, "/measure/?period=2026-09")
        page.click("#close-period")
        page.wait_for_selector("#frozen")
        page.check("#id_confirm")
        page.click("form [type=submit].primary")
        assert words["closed"] in page.locator(".messages").inner_text()
        assert ClosedPeriod.objects.filter(period="2026-09").exists()

        # a late lead changes September; the difference is recorded and the lead accepts it
        late = [("handed_over", local(2026, 9, 15, 10), {}), ("assigned", local(2026, 9, 15, 10, 5), {})]
        add_lead(org, "late", name="Late Lead", events=late)
        page.goto(f"{base}/measure/?period=2026-09")
        page.click("#restatement [type=submit]")
        page.click("main a[href^='/restatements/']")
        page.wait_for_selector("input[value=accept]")
        page.check("input[value=accept]")
        page.click(".decide [type=submit]")
        assert words["accepted"] in page.locator(".messages").inner_text()
        assert Restatement.objects.get().status == "accepted"
