"""The review pages: series, review with its pack, notes both ways, the meeting, downloads and the feed."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from django.template.loader import render_to_string
from django.test import Client

from leadpact.organization.models import Membership, Person
from leadpact.reviews.models import ActionItem, Decision, ExchangeNote, Review, ReviewSeries
from leadpact.reviews.selectors import overdue_action_items
from leadpact.reviews.services import action_item_add, review_for_day
from tests.conftest import member_client
from tests.reviews.conftest import october_leads

pytestmark = pytest.mark.django_db

DAY = "2026-10-19"


def _person(start: str) -> Person:
    return Person.objects.get(email__startswith=start)


@pytest.fixture
def lead_client(demo):
    """Sanne, marketing's team lead: she runs reviews."""
    return member_client(demo.agreement.organization, username="sanne", person=_person("sanne"))


@pytest.fixture
def rep_client(demo):
    """Julia, a sales rep: she posts notes and answers, but does not run the review."""
    return member_client(demo.agreement.organization, username="julia", person=_person("julia"))


def test_a_lead_creates_a_series_and_a_bad_rule_is_refused_on_its_field(lead_client, rep_client):
    page = lead_client.get("/reviews/")
    assert page.status_code == 200 and "New review series" in page.content.decode()
    bad = lead_client.post(
        "/reviews/",
        {
            "name": "Monthly",
            "key": "monthly",
            "rrule": "FREQ=SOMETIMES",
            "starts_on": "2026-01-06",
            "time": "10:00",
            "duration_minutes": 60,
            "period_kind": "last_month",
        },
    )
    assert bad.status_code == 400 and "FREQ=SOMETIMES" in bad.content.decode()
    assert not ReviewSeries.objects.exists()
    made = lead_client.post(
        "/reviews/",
        {
            "name": "Monthly results",
            "key": "monthly",
            "rrule": "FREQ=MONTHLY;BYDAY=1TU",
            "starts_on": "2026-01-06",
            "time": "10:00",
            "duration_minutes": 60,
            "period_kind": "last_month",
        },
    )
    series = ReviewSeries.objects.get(key="monthly")
    assert made.status_code == 302 and made["Location"] == f"/reviews/{series.pk}/"
    assert series.attendees.filter(email__startswith="bram").exists()  # both sides attend
    assert "Monthly results" in lead_client.get("/reviews/").content.decode()
    assert rep_client.post("/reviews/", {"name": "x"}).status_code == 403


def test_notes_both_ways_a_question_and_its_answer_land_on_the_review(series, rep_client, lead_client, demo):
    url = f"/reviews/{series.pk}/{DAY}/"
    response = rep_client.post(
        url + "note/",
        {
            "direction": "sales_to_marketing",
            "category": "competitor",
            "text": "Acme undercuts us by 20%",
            "question": "on",
        },
    )
    assert response.status_code == 302
    note = ExchangeNote.objects.get()
    assert (note.author, note.question, note.review.day) == (_person("julia"), True, dt.date(2026, 10, 19))
    wrong = rep_client.post(
        url + "note/", {"direction": "sales_to_marketing", "category": "campaign", "text": "x"}
    )
    assert wrong.status_code == 400 and "does not belong to sales_to_marketing" in wrong.content.decode()
    missing = rep_client.post(
        url + "note/",
        {"direction": "marketing_to_sales", "category": "campaign", "text": "x", "lead": 999999},
    )
    assert missing.status_code == 400 and "Lead 999999 is not found" in missing.content.decode()
    page = lead_client.get(url).content.decode()
    assert "Acme undercuts us by 20%" in page and "Question, not answered yet." in page
    assert lead_client.post(url + f"answer/{note.pk}/", {"answer": "Battlecard on Friday"}).status_code == 302
    note.refresh_from_db()
    assert (note.answer, note.answered_by) == ("Battlecard on Friday", _person("sanne"))
    viewer = member_client(demo.agreement.organization, role=Membership.Role.VIEWER, username="viewer")
    assert viewer.post(url + "note/", {"direction": "marketing_to_sales"}).status_code == 403
    assert viewer.get(url).status_code == 200


def test_the_meeting_records_and_closing_freezes_and_carries_open_items(
    series, lead_client, rep_client, demo
):
    october_leads(demo.agreement.organization, n=2)
    url = f"/reviews/{series.pk}/{DAY}/"
    meeting = url + "meeting/"
    julia, sanne = _person("julia"), _person("sanne")
    assert rep_client.post(meeting, {"what": "decision", "text": "x"}).status_code == 403
    assert (
        lead_client.post(meeting, {"what": "attendance", "present": [julia.pk, sanne.pk]}).status_code == 302
    )
    assert (
        lead_client.post(meeting, {"what": "decision", "text": "Webinar leads go to SDR first"}).status_code
        == 302
    )
    assert (
        lead_client.post(
            meeting, {"what": "agenda_note", "item": "quality", "text": "Students again"}
        ).status_code
        == 302
    )
    bad = lead_client.post(
        meeting, {"what": "action", "text": "Call back", "owner": julia.pk, "due": "someday"}
    )
    assert bad.status_code == 400 and "Enter a valid date." in bad.content.decode()
    added = lead_client.post(
        meeting, {"what": "action", "text": "Send lost reasons", "owner": julia.pk, "due": "2026-10-23"}
    )
    assert added.status_code == 302
    assert lead_client.post(meeting, {"what": "close"}).status_code == 302
    review = Review.objects.get(day=dt.date(2026, 10, 19))
    assert (review.status, review.closed_by) == ("closed", sanne)
    assert review.pack["minutes"]["decisions"] == [
        {"text": "Webinar leads go to SDR first", "author": sanne.name}
    ]
    after = lead_client.post(meeting, {"what": "decision", "text": "late"})
    assert after.status_code == 400 and "is closed" in after.content.decode()
    assert Decision.objects.count() == 1
    following = lead_client.get(f"/reviews/{series.pk}/2026-10-26/").content.decode()
    assert "Send lost reasons" in following and "overdue" in following  # due the 23rd, still open on the 26th
    item = ActionItem.objects.get()
    assert list(overdue_action_items(julia, today=dt.date(2026, 10, 24))) == [item]
    html = render_to_string(
        "reviews/_overdue_actions.html",
        {"overdue_actions": overdue_action_items(julia, today=dt.date(2026, 10, 24))},
    )
    assert "Overdue action items" in html and "Send lost reasons" in html
    assert f"/reviews/{series.pk}/{DAY}/" in html
    assert rep_client.post(f"/reviews/actions/{item.pk}/done/", {"next": url}).status_code == 302  # the owner
    item.refresh_from_db()
    assert item.status == "done" and not overdue_action_items(julia, today=dt.date(2026, 10, 24)).exists()


def test_only_the_owner_or_who_runs_reviews_marks_an_action_done(series, demo):
    review = review_for_day(series=series, day=dt.date(2026, 10, 19))
    sanne = _person("sanne")
    item = action_item_add(
        review=review,
        owner=sanne,
        text="Brief sales",
        due=dt.date(2026, 10, 23),
        author=sanne,
        now=review.starts_at,
    )
    other = member_client(demo.agreement.organization, username="daan", person=_person("daan"))
    assert other.post(f"/reviews/actions/{item.pk}/done/").status_code == 403
    item.refresh_from_db()
    assert item.status == "open"


def test_the_feed_opens_without_login_by_its_secret_and_a_new_secret_closes_the_old(series, lead_client):
    token = series.feed_token
    anonymous = Client()
    feed = anonymous.get(f"/reviews/feed/{token}.ics")
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    assert icalendar.Calendar.from_ical(feed.content).walk("VEVENT")
    assert (
        anonymous.get(f"/reviews/{series.pk}/calendar.ics").status_code == 302
    )  # the download needs a login
    assert lead_client.get(f"/reviews/{series.pk}/calendar.ics").status_code == 200
    page = lead_client.get(f"/reviews/{series.pk}/").content.decode()
    assert (token in page and "moved from" in page) or token in page
    assert lead_client.post(f"/reviews/{series.pk}/feed/rotate/").status_code == 302
    series.refresh_from_db()
    assert series.feed_token != token
    assert anonymous.get(f"/reviews/feed/{token}.ics").status_code == 404
    assert anonymous.get(f"/reviews/feed/{series.feed_token}.ics").status_code == 200


def test_the_pack_downloads_as_pdf_markdown_and_html(series, lead_client):
    url = f"/reviews/{series.pk}/{DAY}/pack"
    pdf = lead_client.get(url + ".pdf")
    assert (
        pdf.status_code == 200
        and pdf.content.startswith(b"%PDF-")
        and pdf["Content-Type"] == "application/pdf"
    )
    md = lead_client.get(url + ".md?lang=nl")
    assert md.status_code == 200 and md.content.decode().startswith(
        "# Weekly operating review — 19 oktober 2026"
    )
    assert lead_client.get(url + ".html").content.decode().startswith("<!doctype html>")
    assert lead_client.get(url + ".exe").status_code == 404
    assert lead_client.get(f"/reviews/{series.pk}/2026-10-20/").status_code == 404  # no review that day
    assert lead_client.get(f"/reviews/{series.pk}/2026-04-06/").status_code == 302  # moved: Easter Monday
    assert lead_client.get(f"/reviews/{series.pk}/{DAY}/").status_code == 200
    assert not Review.objects.exists()  # reading a review, its pack or its downloads writes nothing
