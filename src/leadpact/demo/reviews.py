"""The demo's reviews, written through the reviews services a person's actions use.

- a **monthly results review** of the agreement on the first Monday of the month (looking at the month
  before), from three months back, with both parties' leads and one of their people as attendees; and a
  **weekly operating review** on Tuesdays, planned but not yet held;
- each past monthly review has notes both ways (marketing → sales: campaigns coming, the trade fair, the
  student giveaway stopped; sales → marketing: objections, a competitor, lost reasons, lead-quality
  remarks), a question answered, support commitments checked off, the meeting's attendance, agenda notes,
  decisions and action items (some done, one overdue and carried to every next review), and is closed
  (its pack frozen);
- the next review is open: notes already posted for it, one question waiting for an answer.

Every date follows ``now`` (the demo moves with today); a series already there is left as it is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from leadpact.agreements.models import AgreementVersion, Status
from leadpact.demo._leads import AMS, FAIR_DAY, STUDENT_CAMPAIGN, demo_first_day
from leadpact.organization.models import Organization, Person
from leadpact.reviews.models import ActionItem, ExchangeNote, Review, ReviewSeries, SupportCommitment
from leadpact.reviews.schedule import series_occurrences
from leadpact.reviews.services import (
    action_item_add,
    action_item_done,
    agenda_note_add,
    attendance_set,
    decision_add,
    review_close,
    review_for_day,
    review_note_answer,
    review_note_post,
    series_create,
    support_check,
    support_commitment_add,
)

__all__ = ["MONTHLY", "WEEKLY", "demo_reviews_load"]

MONTHLY = "monthly-results"
WEEKLY = "weekly-operating"
M2S, S2M = "marketing_to_sales", "sales_to_marketing"
#: the series' attendees besides the party leads
PEOPLE = ("daan.bakker", "fleur.jansen", "julia.bos", "lotte.meijer")
#: a competitor the sales side names (invented)
COMPETITOR = "Cloudwerk"
RRULE, TIME = "FREQ=MONTHLY;BYDAY=1MO", dt.time(10, 0)


class _Demo:
    """The people, the series and the support commitments the script writes with."""

    def __init__(self, org: Organization, version: AgreementVersion, now: dt.datetime) -> None:
        self.now = now
        self.version = version
        everyone = Person.objects.filter(team__organization=org).select_related("team")
        self.people = {p.email.split("@")[0]: p for p in everyone}
        self.fair = demo_first_day(now) + dt.timedelta(days=FAIR_DAY)

    def __getitem__(self, name: str) -> Person:
        return self.people[name]


def _month_start(day: dt.date, back: int) -> dt.date:
    i = day.year * 12 + day.month - 1 - back
    return dt.date(i // 12, i % 12 + 1, 1)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=AMS)


def _note(
    d: _Demo,
    review: Review,
    author: str,
    direction: str,
    category: str,
    text: str,
    days_before: int,
    **kw: Any,
) -> ExchangeNote:
    at = min(review.starts_at - dt.timedelta(days=days_before, hours=2), d.now - dt.timedelta(hours=1))
    return review_note_post(
        author=d[author], direction=direction, category=category, text=text, now=at, review=review, **kw
    )


def _meeting(
    d: _Demo,
    review: Review,
    commitments: list[tuple[SupportCommitment, bool, str]],
    absent: tuple[str, ...] = (),
) -> dt.datetime:
    """Attendance and the support check-off, at the review's start; returns that time."""
    at = review.starts_at + dt.timedelta(minutes=5)
    runner = d["bram.degroot"]
    present = [p for p in review.series.attendees.all() if p.email.split("@")[0] not in absent]
    attendance_set(review=review, present=present, person=runner, now=at)
    for commitment, kept, note in commitments:
        support_check(review=review, commitment=commitment, kept=kept, person=runner, now=at, note=note)
    return at


def _done(d: _Demo, item: ActionItem, days_before_due: int) -> None:
    at = min(_at(item.due - dt.timedelta(days=days_before_due), 15), d.now - dt.timedelta(hours=1))
    if at > item.created_at:
        action_item_done(item=item, person=item.owner, now=at)


def _first_review(d: _Demo, review: Review, lists: SupportCommitment, calendar: SupportCommitment) -> None:
    """The oldest held review: the student giveaway looked back on, the trade fair coming."""
    fair = f"{d.fair.day} {d.fair:%B}"
    _note(
        d,
        review,
        "sanne.devries",
        M2S,
        "other",
        "The student giveaway on social media is stopped for good: it brought students after the prize, "
        "not buyers. The leads sales disputed are out of our count.",
        6,
        campaign=STUDENT_CAMPAIGN,
    )
    _note(
        d,
        review,
        "daan.bakker",
        M2S,
        "campaign",
        f"The trade fair (Jaarbeurs Utrecht) starts on {fair}: expect a week of booth scans. We hand over "
        "only the visitors who asked for a demo at the stand.",
        5,
        campaign="trade-fair",
    )
    _note(
        d,
        review,
        "julia.bos",
        S2M,
        "lead_quality",
        "The giveaway leads: nine in ten were students who wanted the prize; we rejected them as not a "
        "buyer. Please keep prize campaigns away from the demo form.",
        4,
        campaign=STUDENT_CAMPAIGN,
    )
    _note(
        d,
        review,
        "bram.degroot",
        S2M,
        "objection",
        "Prospects keep asking whether we run on-premise. The website says nothing about it, so the first "
        "call starts with an objection.",
        3,
    )
    at = _meeting(d, review, [(lists, True, ""), (calendar, True, "")], absent=("fleur.jansen",))
    agenda_note_add(
        review=review,
        item="quality",
        text="The student giveaway: its disputes were upheld and the campaign has stopped.",
        author=d["sanne.devries"],
        now=at + dt.timedelta(minutes=15),
    )
    decision_add(
        review=review,
        text="Company size (at least 20 employees) goes into the MQL definition of the next version.",
        author=d["sanne.devries"],
        now=at + dt.timedelta(minutes=30),
    )
    item = action_item_add(
        review=review,
        owner=d["sanne.devries"],
        text="Draft the company-size rule for the MQL definition",
        due=review.day + dt.timedelta(days=14),
        author=d["bram.degroot"],
        now=at + dt.timedelta(minutes=32),
    )
    _done(d, item, 3)
    item = action_item_add(
        review=review,
        owner=d["bram.degroot"],
        text="Send marketing the lost reasons of the quarter",
        due=review.day + dt.timedelta(days=7),
        author=d["sanne.devries"],
        now=at + dt.timedelta(minutes=34),
        commitment=lists,
    )
    _done(d, item, 1)


def _second_review(d: _Demo, review: Review, lists: SupportCommitment, calendar: SupportCommitment) -> None:
    """A competitor and the lost reasons; the booth scans asked about; the overdue FAQ item."""
    _note(
        d,
        review,
        "fleur.jansen",
        M2S,
        "campaign",
        "Webinar 'Forecasting without spreadsheets' in three weeks; the invitations go out on Monday. The "
        "registrations come in as webinar leads, the questions asked in the chat in their context.",
        6,
        campaign="webinar",
    )
    _note(
        d,
        review,
        "daan.bakker",
        M2S,
        "content",
        "A new case study (a logistics customer, 40 % less time on the forecast) is in the sales folder.",
        5,
    )
    _note(
        d,
        review,
        "julia.bos",
        S2M,
        "competitor",
        f"Two deals lost to {COMPETITOR} this month, both on price: they offer a free first year.",
        4,
    )
    _note(
        d,
        review,
        "bram.degroot",
        S2M,
        "win_loss",
        "Lost reasons of the month: no budget first, then a timeframe too long, then no response after "
        "the demo.",
        3,
    )
    question = _note(
        d,
        review,
        "noah.smit",
        S2M,
        "other",
        "Will the booth scans of the trade fair come with the notes of whoever spoke to them at the stand?",
        2,
        question=True,
        campaign="trade-fair",
    )
    review_note_answer(
        note=question,
        person=d["daan.bakker"],
        answer="Yes: every scan carries the stand notes in the lead's context, and who spoke to them.",
        now=min(review.starts_at - dt.timedelta(days=1), d.now - dt.timedelta(minutes=30)),
    )
    at = _meeting(d, review, [(lists, True, ""), (calendar, False, "sent three days late")])
    decision_add(
        review=review,
        text="Booth scans without a demo request stay in nurture; they are not MQLs.",
        author=d["bram.degroot"],
        now=at + dt.timedelta(minutes=20),
    )
    decision_add(
        review=review,
        text=f"Marketing writes a battle card against {COMPETITOR}; sales reviews it.",
        author=d["sanne.devries"],
        now=at + dt.timedelta(minutes=25),
    )
    # open and overdue: it carries to every next review until done
    action_item_add(
        review=review,
        owner=d["daan.bakker"],
        text="Answer the on-premise question in the website FAQ",
        due=review.day + dt.timedelta(days=14),
        author=d["bram.degroot"],
        now=at + dt.timedelta(minutes=30),
    )
    item = action_item_add(
        review=review,
        owner=d["fleur.jansen"],
        text=f"Draft the battle card against {COMPETITOR}",
        due=review.day + dt.timedelta(days=10),
        author=d["sanne.devries"],
        now=at + dt.timedelta(minutes=32),
    )
    _done(d, item, 2)


def _third_review(d: _Demo, review: Review, lists: SupportCommitment, calendar: SupportCommitment) -> None:
    """The trade fair's leads; a scoring change; EU hosting."""
    _note(
        d,
        review,
        "sanne.devries",
        M2S,
        "scoring",
        "Scoring: job titles with 'student' or 'intern' score 0 from the first of next month.",
        5,
    )
    _note(
        d,
        review,
        "daan.bakker",
        M2S,
        "campaign",
        "The year-end campaign 'Plan next year' starts in two weeks: e-mail to the customer base first, "
        "paid social a week later. Expect a peak of pricing-page visits.",
        4,
        campaign="year-end",
    )
    _note(
        d,
        review,
        "julia.bos",
        S2M,
        "lead_quality",
        "The fair's leads are good: most of those who asked for a demo at the stand booked one.",
        3,
        campaign="trade-fair",
    )
    _note(
        d,
        review,
        "lotte.meijer",
        S2M,
        "content_request",
        "A one-pager on EU hosting and data residency for the first call, please: it comes up every day.",
        3,
    )
    question = _note(
        d,
        review,
        "bram.degroot",
        S2M,
        "other",
        "Can marketing send the visitors who did not turn up for their demo a follow-up?",
        2,
        question=True,
    )
    review_note_answer(
        note=question,
        person=d["sanne.devries"],
        answer="Yes, a reminder with the recording of the fair talk goes out this week.",
        now=min(review.starts_at - dt.timedelta(days=1), d.now - dt.timedelta(minutes=30)),
    )
    at = _meeting(d, review, [(lists, False, "not sent yet"), (calendar, True, "")], absent=("julia.bos",))
    agenda_note_add(
        review=review,
        item="actions",
        text="The on-premise FAQ is still open: carried to the next review.",
        author=d["bram.degroot"],
        now=at + dt.timedelta(minutes=10),
    )
    decision_add(
        review=review,
        text="Student and intern titles score 0 from the first of next month.",
        author=d["sanne.devries"],
        now=at + dt.timedelta(minutes=20),
    )
    action_item_add(
        review=review,
        owner=d["fleur.jansen"],
        text="Write the EU-hosting one-pager for the first call",
        due=review.day + dt.timedelta(days=21),
        author=d["bram.degroot"],
        now=at + dt.timedelta(minutes=25),
    )
    item = action_item_add(
        review=review,
        owner=d["julia.bos"],
        text="Call back the fair's visitors who asked for a price",
        due=review.day + dt.timedelta(days=5),
        author=d["bram.degroot"],
        now=at + dt.timedelta(minutes=28),
    )
    _done(d, item, 2)


def _next_review(d: _Demo, review: Review) -> None:
    """Notes posted for the review to come, one question still open."""
    _note(
        d,
        review,
        "fleur.jansen",
        M2S,
        "campaign",
        "The year-end campaign is live: expect more pricing-page leads until the holidays.",
        3,
        campaign="year-end",
    )
    _note(
        d,
        review,
        "julia.bos",
        S2M,
        "competitor",
        f"{COMPETITOR} came up again in two demos this week; the battle card helped.",
        2,
    )
    _note(
        d,
        review,
        "noah.smit",
        S2M,
        "other",
        "With the higher MQL target of the proposed version: do sales development's shares change too?",
        1,
        question=True,
    )


#: the script of the held reviews, oldest first (the last three held are written and closed)
SCRIPT = (_first_review, _second_review, _third_review)


@transaction.atomic
def demo_reviews_load(org: Organization, *, now: dt.datetime) -> None:
    """The review series, their held reviews (closed) and the next one (open), unless already there."""
    version = AgreementVersion.objects.filter(agreement__organization=org, status=Status.ACTIVE).first()
    if version is None or ReviewSeries.objects.filter(agreement=version.agreement, key=MONTHLY).exists():
        return
    d = _Demo(org, version, now)
    agreement = version.agreement
    sanne, bram = d["sanne.devries"], d["bram.degroot"]
    assert sanne.user is not None
    today = now.astimezone(AMS).date()
    # the series starts the month of the third review held before now (the script writes three)
    probe = ReviewSeries(
        agreement=agreement, rrule=RRULE, starts_on=_month_start(today, 4), time=TIME, duration_minutes=60
    )
    held = [o for o in series_occurrences(probe, before=today + dt.timedelta(days=1)) if o.ends_at <= now]
    starts_on = held[-len(SCRIPT)].planned.replace(day=1) if len(held) >= len(SCRIPT) else probe.starts_on
    created = _at(starts_on - dt.timedelta(days=10), 11)
    parties = set(version.parties.values_list("pk", flat=True))
    leads = [p for p in d.people.values() if p.role == Person.Role.LEAD and p.team_id in parties]
    others = [d[name] for name in PEOPLE if d[name].team_id in parties]
    monthly = series_create(
        agreement=agreement,
        key=MONTHLY,
        name="Monthly results review",
        rrule=RRULE,
        starts_on=starts_on,
        time=TIME,
        duration_minutes=60,
        attendees=sorted([*leads, *others], key=lambda p: (p.team.key, p.name)),
        period_kind="last_month",
        actor=sanne.user,
        now=created,
    )
    series_create(
        agreement=agreement,
        key=WEEKLY,
        name="Weekly operating review",
        rrule="FREQ=WEEKLY;BYDAY=TU",
        starts_on=today - dt.timedelta(days=today.weekday()),
        time=dt.time(9, 30),
        duration_minutes=30,
        attendees=sorted(leads, key=lambda p: p.team.key),
        period_kind="week",
        send_before_hours=0,
        actor=sanne.user,
        now=min(created + dt.timedelta(days=60), now),
    )
    lists = support_commitment_add(
        agreement=agreement,
        side=bram.team,
        text="Sales gives marketing the month's lost reasons before each monthly review",
        cadence="monthly",
        series=monthly,
        actor=sanne.user,
        now=created,
    )
    calendar = support_commitment_add(
        agreement=agreement,
        side=sanne.team,
        text="Marketing shares the campaign calendar a week before each month starts",
        cadence="monthly",
        series=monthly,
        actor=sanne.user,
        now=created,
    )

    occurrences = list(series_occurrences(monthly, before=today + dt.timedelta(days=45)))
    held = [o for o in occurrences if o.ends_at <= now]
    assert len(held) <= len(SCRIPT)
    following = next((o for o in occurrences if o.ends_at > now), None)
    for write, occurrence in zip(SCRIPT[-len(held) :] if held else (), held, strict=True):
        review = review_for_day(series=monthly, day=occurrence.day)
        write(d, review, lists, calendar)
        closed = min(review.starts_at + dt.timedelta(minutes=65), now)
        review_close(review=review, person=bram, now=closed)
    if following is not None:
        _next_review(d, review_for_day(series=monthly, day=following.day))
