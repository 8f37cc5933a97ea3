"""In Chromium: a series is made, a rep posts a question for the coming review, the lead answers it,
records a decision and an action item and closes the review; the next review carries the open action
item (overdue by then) and takes the next note; the owner marks the item done."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from leadpact.demo.services import demo_load
from leadpact.organization.models import Membership, Organization, Person
from leadpact.reviews.models import ActionItem, ExchangeNote, Review, ReviewSeries
from leadpact.reviews.schedule import series_occurrences
from tests.browser import chromium_page
from tests.conftest import PASSWORD


def _login(person_email: str, username: str) -> None:
    user = get_user_model().objects.create_user(username, password=PASSWORD)
    person = Person.objects.get(email=person_email)
    person.user = user
    person.save(update_fields=["user"])
    Membership.objects.create(user=user, organization=Organization.objects.get(), role=Membership.Role.MEMBER)


def _sign_in(page, base, username, next_url):
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_notes_and_action_items_flow_from_one_review_to_the_next(live_server, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    demo_load(with_leads=False)
    _login("sanne.devries@example.com", "sanne")
    _login("julia.bos@example.com", "julia")
    base = live_server.url
    today = timezone.localdate()
    with chromium_page() as page:
        # Sanne (marketing's team lead) makes a weekly series
        _sign_in(page, base, "sanne", "/reviews/")
        page.fill("#id_name", "Weekly operating review")
        page.fill("#id_key", "weekly")
        page.fill("#id_rrule", "FREQ=WEEKLY;BYDAY=MO,TH")
        page.fill("#id_starts_on", (today - dt.timedelta(days=14)).isoformat())
        page.fill("#id_time", "10:00")
        page.click("#new-series [type=submit]")
        page.wait_for_selector("#coming")
        series = ReviewSeries.objects.get(key="weekly")
        first, second = list(series_occurrences(series, after=today + dt.timedelta(days=1)))[:2]

        # Julia (a sales rep) asks marketing a question for the coming review
        _sign_in(page, base, "julia", f"/reviews/{series.pk}/")
        page.click(f"#coming a[href$='/{first.day.isoformat()}/']")
        page.click("#post-note summary")
        page.select_option("#id_direction", "sales_to_marketing")
        page.select_option("#id_category", "competitor")
        page.fill("#id_text", "Acme undercuts us by 20% in retail")
        page.check("#id_question")
        page.click("#post-note [type=submit]")
        page.wait_for_selector("text=Note posted.")
        assert "Question, not answered yet." in page.locator("#item-sales_to_marketing").inner_text()
        assert page.locator("#meeting form").count() == 0  # she does not run the review

        # Sanne answers, records the meeting and closes it
        _sign_in(page, base, "sanne", f"/reviews/{series.pk}/{first.day.isoformat()}/")
        page.fill("#item-sales_to_marketing textarea[name=answer]", "A battlecard by Friday")
        page.click("#item-sales_to_marketing .answer [type=submit]")
        page.wait_for_selector("text=A battlecard by Friday")
        page.fill("#meeting textarea[name=text] >> nth=1", "Retail leads get the battlecard first")
        page.click("text=Record the decision")
        page.wait_for_selector("#decisions >> text=Retail leads get the battlecard first")
        julia = Person.objects.get(email="julia.bos@example.com")
        add = page.locator("#add-action")
        add.locator("input[name=text]").fill("Send the lost reasons of retail deals")
        add.locator("select[name=owner]").select_option(str(julia.pk))
        add.locator("input[name=due]").fill((first.day + dt.timedelta(days=1)).isoformat())
        add.locator("[type=submit]").click()
        page.wait_for_selector("#new-actions >> text=Send the lost reasons of retail deals")
        page.click("text=Close the review")
        page.wait_for_selector("text=The review is closed")
        assert Review.objects.get(series=series, day=first.day).status == "closed"
        assert page.locator("#post-note").count() == 0

        # the next review: the open action item is carried, overdue by then
        page.click("a[rel=next]")
        page.wait_for_url(f"**/{second.day.isoformat()}/")
        carried = page.locator("#item-actions").inner_text()
        assert "Send the lost reasons of retail deals" in carried and "overdue" in carried

        # Julia posts the next note there and marks her action item done
        _sign_in(page, base, "julia", f"/reviews/{series.pk}/{second.day.isoformat()}/")
        page.click("#post-note summary")
        page.select_option("#id_direction", "sales_to_marketing")
        page.select_option("#id_category", "content_request")
        page.fill("#id_text", "A one-pager on retail integrations")
        page.click("#post-note [type=submit]")
        page.wait_for_selector("#item-sales_to_marketing >> text=A one-pager on retail integrations")
        page.click("#item-actions button:has-text('Mark done')")
        page.wait_for_selector("#item-actions td:has-text('✓ done')")  # the page after the redirect
        assert ActionItem.objects.get().status == "done"
        # the first review's frozen pack still shows its own note, not the later one
        page.goto(f"{base}/reviews/{series.pk}/{first.day.isoformat()}/")
        notes = page.locator("#item-sales_to_marketing").inner_text()
        assert "Acme undercuts us" in notes and "one-pager" not in notes
        page.wait_for_load_state("networkidle")  # no request of the live server left running
        assert [n.review.day for n in ExchangeNote.objects.order_by("id")] == [first.day, second.day]
