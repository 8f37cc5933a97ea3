"""A series' occurrences in the agreement's calendars, its pack against the measurements, closing."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import icalendar
import pytest
from django.core.management import CommandError, call_command

from leadpact.errors import ApplicationError
from leadpact.measurement.scorecard.selectors import measure
from leadpact.organization.models import Person
from leadpact.reviews.ics import series_ics
from leadpact.reviews.models import Review
from leadpact.reviews.schedule import rrule_check, series_occurrences
from leadpact.reviews.selectors import pack_figures, review_as_of, review_pack, review_period
from leadpact.reviews.services import review_close, review_for_day, series_create
from tests.measurement.scene import add_lead, local
from tests.reviews.conftest import october_leads

pytestmark = pytest.mark.django_db


def test_a_monday_on_a_public_holiday_moves_to_the_next_business_day_and_says_why(series):
    days = {
        o.planned: o
        for o in series_occurrences(series, after=dt.date(2026, 4, 1), before=dt.date(2026, 6, 1))
    }
    easter = days[dt.date(2026, 4, 6)]
    assert (easter.day, easter.reason, easter.moved) == (dt.date(2026, 4, 7), "Easter Monday", True)
    assert days[dt.date(2026, 5, 25)].day == dt.date(2026, 5, 26)  # Whit Monday
    assert days[dt.date(2026, 4, 13)].moved is False
    assert easter.starts_at == local(2026, 4, 7, 10)
    review = review_for_day(series=series, day=dt.date(2026, 4, 6))  # the planned day finds it too
    assert (review.day, review.moved_from, review.moved_reason) == (
        dt.date(2026, 4, 7),
        dt.date(2026, 4, 6),
        "Easter Monday",
    )
    assert review_for_day(series=series, day=dt.date(2026, 4, 7)).pk == review.pk
    with pytest.raises(ApplicationError, match="does not meet on 2026-04-08"):
        review_for_day(series=series, day=dt.date(2026, 4, 8))


def test_a_monthly_rule_on_a_holiday_moves_too_and_every_occurrence_is_a_day_both_sides_work(demo):
    monthly = series_create(
        agreement=demo.agreement,
        key="monthly",
        name="Monthly results",
        rrule="FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25",
        starts_on=dt.date(2026, 1, 1),
        time=dt.time(14, 0),
        actor="test",
        now=local(2026, 1, 1, 9),
    )
    found = list(series_occurrences(monthly, before=dt.date(2028, 1, 1)))
    # 25 Dec 2026 (Fri, Christmas) → 28 Dec (26th is Boxing Day on Saturday); 2027: Saturday → Monday 27th
    assert [(o.planned, o.day) for o in found] == [
        (dt.date(2026, 12, 25), dt.date(2026, 12, 28)),
        (dt.date(2027, 12, 25), dt.date(2027, 12, 27)),
    ]


@pytest.mark.parametrize("rule", ["", "FREQ=SOMETIMES", "FREQ=HOURLY", "DTSTART:20260101\nRRULE:FREQ=DAILY"])
def test_a_rule_that_is_no_meeting_recurrence_is_refused_on_its_field(rule):
    with pytest.raises(ApplicationError) as caught:
        rrule_check(rule)
    assert caught.value.extra == {"field": "rrule"}


def test_the_pack_shows_the_figures_measure_gives_at_the_review_start(series, demo):
    october_leads(demo.agreement.organization)
    review = review_for_day(series=series, day=dt.date(2026, 10, 19))
    now = local(2026, 12, 1, 12)
    pack = review_pack(review=review, now=now)
    as_of = review_as_of(review, now)
    assert as_of == local(2026, 10, 19, 10)
    expected = {
        (r.commitment_key, r.subject): (r.actual, r.target, r.status, r.sample_size)
        for r in measure(version=demo, period=review_period(review), now=as_of)
        if r.subject_kind == "team"
    }
    got = {
        (row["commitment"], row["subject"]): (
            None if row["actual"] is None else __import__("decimal").Decimal(row["actual"]),
            __import__("decimal").Decimal(row["target"]),
            row["status"],
            row["sample_size"],
        )
        for row in pack_figures(pack)
    }
    assert got == expected
    volume = next(row for row in pack_figures(pack) if row["commitment"] == "mql-volume")
    assert volume["actual"] == "4"  # four handed over before the 19th
    assert len(volume["trend"]) == 6 and volume["trend"][-1]["actual"] == "4"
    assert volume["pacing"] and volume["pacing"][0][0] == "2026-10-01"
    quality = pack["quality"]
    assert (quality["decided"], quality["rejected"]) == (4, 2)
    assert quality["by_source"] == [
        {"reason": "not_icp", "source": "webinar", "campaign": "w-26", "count": 2}
    ]
    assert [e["name"] for e in quality["examples"]] == ["Lead 3", "Lead 1"]
    assert pack["exceptions"]["leave"]  # Fleur's leave in October is named
    assert {t["commitment"] for t in pack["targets"]} == {k for k, _ in expected}
    assert all(t["en"] and t["nl"] and t["en"] != t["nl"] for t in pack["targets"])


def test_a_coming_review_is_measured_now_and_compared_with_the_one_before(series, demo):
    october_leads(demo.agreement.organization, n=2)
    first = review_for_day(series=series, day=dt.date(2026, 10, 12))
    review_close(
        review=first, person=Person.objects.get(email__startswith="sanne"), now=local(2026, 10, 12, 11)
    )
    coming = review_for_day(series=series, day=dt.date(2026, 10, 26))
    now = local(2026, 10, 20, 9)
    pack = review_pack(review=coming, now=now)
    assert pack["as_of"] == now.isoformat()
    assert pack["previous"]["day"] == "2026-10-12" and pack["previous"]["closed"] is True
    key = next(k for k in pack["previous"]["rows"] if k.startswith("mql-volume|"))
    assert pack["previous"]["rows"][key]["actual"] == "2"


def test_a_closed_reviews_pack_does_not_change_when_a_late_event_arrives(series, demo):
    org = demo.agreement.organization
    october_leads(org, n=2)
    review = review_for_day(series=series, day=dt.date(2026, 10, 19))
    sanne = Person.objects.get(email__startswith="sanne")
    closed = review_close(review=review, person=sanne, now=local(2026, 10, 19, 11))
    frozen = Review.objects.get(pk=closed.pk).pack
    assert (closed.closed_by, closed.status) == (sanne, "closed")
    # a late lead: handed over on the 12th, recorded long after the meeting
    add_lead(org, "late", events=[("handed_over", local(2026, 10, 12, 10), {})])
    assert review_pack(review=Review.objects.get(pk=review.pk), now=local(2026, 12, 1, 9)) == frozen
    volume = next(r for r in pack_figures(frozen) if r["commitment"] == "mql-volume")
    fresh = next(
        r
        for r in measure(version=demo, period="2026-10", now=local(2026, 10, 19, 10))
        if r.commitment_key == "mql-volume" and r.subject_kind == "team"
    )
    assert (volume["actual"], str(fresh.actual)) == ("2", "3")  # the data moved; the pack did not
    with pytest.raises(ApplicationError, match="is closed"):
        review_close(review=review, person=sanne, now=local(2026, 10, 19, 12))


def test_the_ics_parses_back_with_the_rule_and_the_moved_instances(series):
    data = series_ics(series, now=local(2026, 3, 1, 9))
    calendar = icalendar.Calendar.from_ical(data)
    events = calendar.walk("VEVENT")
    master = next(e for e in events if "RRULE" in e)
    assert master["RRULE"].to_ical() == b"FREQ=WEEKLY;BYDAY=MO"
    assert master.decoded("DTSTART") == local(2026, 1, 5, 10)
    assert master.decoded("DTEND") - master.decoded("DTSTART") == dt.timedelta(minutes=45)
    moved = {e.decoded("RECURRENCE-ID"): e.decoded("DTSTART") for e in events if "RECURRENCE-ID" in e}
    assert moved[local(2026, 4, 6, 10)] == local(2026, 4, 7, 10)  # Easter Monday
    assert moved[local(2026, 4, 27, 10)] == local(2026, 4, 28, 10)  # King's Day
    assert all(e["UID"] == master["UID"] for e in events)
    attendees = {str(a) for a in master.get("ATTENDEE")}
    assert "mailto:sanne.devries@example.com" in attendees and "mailto:bram.degroot@example.com" in attendees
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Europe/Amsterdam"


def _pack(*options: str, now: str | None = "2026-12-01T09:00+01:00") -> str:
    """``leadpact review pack`` of the weekly series' review of 19 October 2026: its stdout."""
    out = StringIO()
    moment = ("--now", now) if now else ()
    review = ("review", "pack", "--series", "weekly", "--date", "2026-10-19")
    call_command(*review, *options, *moment, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_cli_writes_the_pack_in_each_format_and_the_calendar(series, demo, tmp_path):
    october_leads(demo.agreement.organization, n=2)
    text = _pack("--format", "md")
    assert text.startswith("# Weekly operating review — 19 October 2026")
    assert "19 October 2026, 10:00" in text
    assert "## 10. Targets in plain words" in text
    dutch = _pack("--format", "md", "--lang", "nl")
    assert "Begint 19 oktober 2026, 10:00." in dutch
    assert "## 1. Scorekaarten van beide kanten" in dutch and "## 10. Doelen in gewone woorden" in dutch
    pdf = tmp_path / "pack.pdf"
    _pack("--format", "pdf", "--output", str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF-")
    html = tmp_path / "pack.html"
    _pack("--format", "html", "--output", str(html), now=None)
    assert "<svg" in html.read_text()
    ics = tmp_path / "weekly.ics"
    call_command("review", "ics", "--series", "weekly", "--output", str(ics))
    assert icalendar.Calendar.from_ical(ics.read_bytes()).walk("VEVENT")
    with pytest.raises(CommandError, match="does not meet on 2026-10-20"):
        call_command("review", "pack", "--series", "weekly", "--date", "2026-10-20")
    with pytest.raises(CommandError, match="no review series 'nope'"):
        call_command("review", "pack", "--series", "nope", "--date", "2026-10-20")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("review", "pack", "--series", "weekly", "--date", "20 Oct")
