"""The demo's reviews: a monthly series with its held reviews closed, notes both ways, an overdue action
item carried over, and the next review open — all moving with the day the demo is loaded."""

from __future__ import annotations

import datetime as dt

import pytest

from leadpact.demo._leads import AMS, STUDENT_CAMPAIGN
from leadpact.demo.reviews import MONTHLY, WEEKLY, demo_reviews_load
from leadpact.demo.services import demo_load
from leadpact.organization.models import Organization, Person
from leadpact.reviews.models import (
    ActionItem,
    Attendance,
    Decision,
    ExchangeNote,
    Review,
    ReviewSeries,
    SupportCheck,
)
from leadpact.reviews.selectors import action_items_carried, overdue_action_items
from tests.conftest import member_client

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def _first_monday(year: int, month: int) -> dt.date:
    day = dt.date(year, month, 1)
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


@pytest.mark.django_db
def test_the_demo_holds_reviews_closed_with_notes_both_ways_and_the_next_one_open():
    demo_load(now=NOW, leads=2000)
    org = Organization.objects.get()
    series = ReviewSeries.objects.get(key=MONTHLY)
    assert ReviewSeries.objects.filter(key=WEEKLY).exists()
    teams = set(series.attendees.values_list("team__key", flat=True))
    assert {"marketing", "sales"} <= teams

    # the three first Mondays before today are held and closed, each with its frozen pack
    today = NOW.astimezone(AMS).date()
    reviews = list(Review.objects.filter(series=series).order_by("day"))
    held = [r for r in reviews if r.day < today]
    assert [r.day for r in held] == [_first_monday(2026, m) for m in (9, 10, 11)]
    for review in held:
        assert review.is_closed and review.closed_at is not None and review.closed_at <= NOW
        assert review.pack is not None and review.pack["day"] == review.day.isoformat()
        assert review.pack["period"] == f"{review.day.year}-{review.day.month - 1:02d}"  # the month before
        assert review.pack["scorecard"], "a frozen pack holds the scorecards"
        directions = {n.direction for n in ExchangeNote.objects.filter(review=review)}
        assert directions == {"marketing_to_sales", "sales_to_marketing"}
        assert len(review.pack["notes"]["marketing_to_sales"]) >= 2
        assert len(review.pack["notes"]["sales_to_marketing"]) >= 2
        assert Attendance.objects.filter(review=review, present=True).count() >= 3
        assert SupportCheck.objects.filter(review=review).count() == 2
        assert Decision.objects.filter(review=review).exists()
        assert all(n.created_at < review.starts_at for n in ExchangeNote.objects.filter(review=review))
    assert set(SupportCheck.objects.values_list("kept", flat=True)) == {True, False}

    # what the notes say: the student giveaway stopped, the trade fair, a competitor, lost reasons
    notes = ExchangeNote.objects.filter(review__series=series)
    assert notes.filter(direction="marketing_to_sales", campaign=STUDENT_CAMPAIGN).exists()
    assert notes.filter(direction="sales_to_marketing", category="lead_quality", campaign=STUDENT_CAMPAIGN)
    assert notes.filter(direction="marketing_to_sales", campaign="trade-fair").exists()
    assert {"objection", "competitor", "win_loss"} <= set(notes.values_list("category", flat=True))
    answered = notes.filter(question=True).exclude(answer="")
    assert answered.exists() and all(n.answered_at < n.review.starts_at for n in answered)

    # action items: some done, one overdue, carried from the review that raised it to the next ones
    items = ActionItem.objects.filter(review__series=series)
    assert items.filter(status="done").count() >= 3
    daan = Person.objects.get(email="daan.bakker@example.com")
    overdue = list(overdue_action_items(daan, today=today))
    assert len(overdue) == 1 and overdue[0].due < today and overdue[0].review.day < held[-1].day
    assert overdue[0] in action_items_carried(held[-1])
    assert held[-1].pack is not None
    assert overdue[0].text in [a["text"] for a in held[-1].pack["actions"]]

    # the next review: open, notes already posted for it, a question waiting
    following = [r for r in reviews if r.day >= today]
    assert [r.day for r in following] == [_first_monday(2026, 12)]
    upcoming = following[0]
    assert not upcoming.is_closed and upcoming.pack is None
    assert ExchangeNote.objects.filter(review=upcoming, question=True, answer="").exists()
    assert not ExchangeNote.objects.filter(created_at__gte=NOW).exists()
    assert not ActionItem.objects.filter(done_at__gte=NOW).exists()

    sanne = Person.objects.get(email="sanne.devries@example.com")
    client = member_client(org, username="sanne.devries", person=sanne)
    page = client.get(f"/reviews/{series.pk}/{upcoming.day.isoformat()}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "sales development" in body.lower() and overdue[0].text in body
    closed = client.get(f"/reviews/{series.pk}/{held[-1].day.isoformat()}/")
    assert closed.status_code == 200 and "EU hosting" in closed.content.decode()

    # loading again adds nothing
    counts = (Review.objects.count(), ExchangeNote.objects.count(), ActionItem.objects.count())
    demo_reviews_load(org, now=NOW + dt.timedelta(hours=1))
    assert (Review.objects.count(), ExchangeNote.objects.count(), ActionItem.objects.count()) == counts


@pytest.mark.django_db
def test_the_reviews_move_with_the_day_they_are_loaded(demo):
    """Later in a month (four first Mondays in the last months), still the last three held are written."""
    org = demo.agreement.organization
    now = dt.datetime(2027, 3, 10, 9, 0, tzinfo=dt.UTC)
    demo_reviews_load(org, now=now)
    series = ReviewSeries.objects.get(key=MONTHLY)
    assert series.starts_on == dt.date(2027, 1, 1)
    reviews = list(Review.objects.filter(series=series).order_by("day"))
    held = [_first_monday(2027, m) for m in (1, 2, 3)]
    assert [r.day for r in reviews] == [*held, _first_monday(2027, 4)]
    assert [r.is_closed for r in reviews] == [True, True, True, False]
    daan = Person.objects.get(email="daan.bakker@example.com")
    assert [i.due for i in overdue_action_items(daan, today=now.date())] == [held[1] + dt.timedelta(days=14)]
