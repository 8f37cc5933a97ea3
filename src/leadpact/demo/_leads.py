"""A year of realistic lead traffic for the demo organisation, through the same store the API uses.

Deterministic from a seed and anchored on today: the traffic starts on the Monday about a year back
(never before 5 January 2026, when the demo's agreement is in force) and runs until ``now``, so open
leads with running clocks — some of them at risk — are always there.

The shape a real team has:

- arrivals by weekday (Monday busiest, weekends quiet) and by hour (morning and early-afternoon
  peaks, some evening traffic), a summer dip and a December lull;
- campaign peaks: the days after each webinar, the week of the trade fair;
- one campaign, a giveaway on social media, that attracts students: they ask for a demo, so they pass
  the MQL rule, and sales rejects them as "not a buyer" (and disputes some); marketing stops it after
  five weeks;
- only people in post, and not on leave, receive leads; a rep who leaves mid-year has their open leads
  reassigned on their last day (an ``assigned`` event to a colleague, the lead's sales owner changed);
- from the month the agreement took in the sales-development team, SDRs work a third of the standard
  MQLs, the account executives the rest and every demo and pricing request;
- per person differences: a fast and a slow rep, a marketer whose handoffs miss fields more often;
- rejections with reason codes (a few without: what the review should catch), dispositions, won
  deals with amounts in the scale of the agreement's targets.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from django.db import transaction

from leadpact.connectors.bounds import event_problems, lead_problems
from leadpact.connectors.records import EventRecord, LeadFields, LeadRecord
from leadpact.errors import ApplicationError
from leadpact.leads._handoff import HandoffChecker
from leadpact.leads._prepare import EventItem, event_item, lead_item, row_state
from leadpact.leads._sql import datetime_adapter, tuned_for_bulk
from leadpact.leads._store import PeopleIndex, store_items
from leadpact.leads.models import Lead
from leadpact.leads.services import leads_store
from leadpact.organization.models import Organization, Person

__all__ = [
    "STUDENT_CAMPAIGN",
    "StorePath",
    "demo_first_day",
    "demo_leads_expected",
    "demo_leads_load",
    "demo_sdr_from",
    "demo_year_shift",
]

SOURCE = "demo-crm"
AMS = ZoneInfo("Europe/Amsterdam")
EARLIEST = dt.date(2026, 1, 5)  # the first Monday the demo's first agreement version is in force
SEASON = {
    1: 0.95,
    2: 1.0,
    3: 1.05,
    4: 1.0,
    5: 1.0,
    6: 0.95,
    7: 0.75,
    8: 0.7,
    9: 1.05,
    10: 1.1,
    11: 1.05,
    12: 0.8,
}
#: leads a day by weekday (Monday first): about 290 a week, 54 a working day on average
WEEKDAY = (62.0, 60.0, 56.0, 52.0, 44.0, 8.0, 8.0)
#: the hour a lead arrives (local time): mornings and early afternoons, some evenings, few nights
HOURS = (1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 19, 16, 11, 13, 16, 15, 12, 9, 6, 5, 5, 4, 3, 2)
_HOUR_CUM = [sum(HOURS[: i + 1]) for i in range(24)]
COMPANIES = (
    "Bakker Logistiek",
    "Vos & Partners",
    "Hollandia Foods",
    "Zeeland Energie",
    "Brabant Metaal",
    "Delta Zorg",
    "Utrechtse Uitgeverij",
    "Friese Fietsen",
    "Maas Bouw",
    "Amstel Advies",
    "Gent Textiles",
    "Antwerp Shipping",
    "Leuven Labs",
    "Rijn Chemie",
    "Groningen Data",
    "Eindhoven Optics",
)
SCHOOLS = ("Hogeschool Utrecht", "Universiteit Leiden", "Hanze Groningen", "Fontys Eindhoven")
FIRST_NAMES = (
    "Jan",
    "Sophie",
    "Pieter",
    "Emma",
    "Lucas",
    "Julia",
    "Daan",
    "Tess",
    "Finn",
    "Noor",
    "Ruben",
    "Lieke",
    "Sven",
    "Iris",
    "Bas",
    "Femke",
)
LAST_NAMES = (
    "Jansen",
    "de Vries",
    "van Dijk",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Peeters",
    "Claes",
    "Wouters",
)
#: (source, campaign, weight on an ordinary day)
CAMPAIGNS = (
    ("webinar", "webinar-sla-2026", 1.0),
    ("content", "ebook-lead-scoring", 1.0),
    ("paid", "google-ads-nl", 1.0),
    ("organic", "blog", 1.0),
    ("event", "b2b-marketing-live", 0.5),
    ("paid", "linkedin-abm", 1.0),
)
#: the campaign that attracted students (its leads are rejected as "not a buyer"); it ran five weeks
STUDENT_CAMPAIGN = "student-giveaway"
STUDENT_START, STUDENT_WEEKS = 70, 5  # days after the first day; weeks
WEBINAR_EVERY = 42  # a webinar every six weeks (on a Thursday): its campaign peaks for three days
FAIR_DAY = 280  # the trade fair (about October when the traffic starts in January): a week's peak
TRIGGERS = (
    ("demo_request", 0.12),
    ("pricing_request", 0.08),
    ("content_download", 0.45),
    ("webinar", 0.25),
    ("newsletter", 0.10),
)
REJECT = (
    ("not_icp", 0.3),
    ("wrong_role", 0.15),
    ("duplicate", 0.1),
    ("insufficient_data", 0.1),
    ("no_budget", 0.1),
    ("existing_customer", 0.1),
    ("other_owner", 0.05),
    ("bad_timing", 0.1),
)
LOST = ("no_budget", "timeframe_too_long", "bad_timing", "no_response")
#: how long a person takes compared with the team (1 = the team's pace), by e-mail
SPEED = {
    "bram.degroot@example.com": 0.8,
    "julia.bos@example.com": 0.7,  # the fastest account executive
    "thijs.vos@example.com": 2.5,  # the slow one, who leaves in June
    "anouk.peters@example.com": 1.2,
    "lars.hendriks@example.com": 1.0,
    "yara.vandijk@example.com": 1.5,  # new, still learning
    "noah.smit@example.com": 0.9,
    "lotte.meijer@example.com": 0.6,
    "sem.deboer@example.com": 1.4,
    "eva.mulder@example.com": 1.1,
}
#: the share of a marketer's handoffs with every field of the data contract, by e-mail
COMPLETE = {
    "sanne.devries@example.com": 0.97,
    "daan.bakker@example.com": 0.95,
    "fleur.jansen@example.com": 0.88,  # her webinar imports miss the campaign
    "milan.visser@example.com": 0.92,
}


def demo_first_day(now: dt.datetime) -> dt.date:
    """The first day of the demo's traffic: the Monday about a year before ``now``, never before
    5 January 2026.

    >>> demo_first_day(dt.datetime(2026, 12, 3, tzinfo=dt.UTC))
    datetime.date(2026, 1, 5)
    >>> demo_first_day(dt.datetime(2027, 12, 3, tzinfo=dt.UTC))
    datetime.date(2026, 12, 7)
    """
    day = now.astimezone(AMS).date() - dt.timedelta(days=364)
    day += dt.timedelta(days=(7 - day.weekday()) % 7)
    return max(EARLIEST, day)


def demo_year_shift(now: dt.datetime) -> int:
    """Whole years to move the organisation's dates (starts, leave, the leaver) so that its story of
    2026 falls in the middle of the traffic: 0 until the traffic's middle leaves 2026.

    >>> demo_year_shift(dt.datetime(2026, 12, 3, tzinfo=dt.UTC))
    0
    >>> demo_year_shift(dt.datetime(2028, 3, 1, tzinfo=dt.UTC))
    1
    """
    return max(0, (demo_first_day(now) + dt.timedelta(days=182)).year - 2026)


def demo_sdr_from(now: dt.datetime) -> dt.date | None:
    """The day the agreement took in the sales-development team (its second version): the first of
    the month three months before ``now``'s month; ``None`` when the traffic is too short for it.

    >>> demo_sdr_from(dt.datetime(2026, 12, 3, tzinfo=dt.UTC))
    datetime.date(2026, 9, 1)
    >>> demo_sdr_from(dt.datetime(2026, 4, 1, tzinfo=dt.UTC)) is None
    True
    """
    today = now.astimezone(AMS).date()
    month = today.year * 12 + today.month - 1 - 3
    day = dt.date(month // 12, month % 12 + 1, 1)
    return day if day >= demo_first_day(now) + dt.timedelta(days=120) else None


def _daily(day: dt.date) -> float:
    return WEEKDAY[day.weekday()] * SEASON[day.month]


def demo_leads_expected(now: dt.datetime) -> float:
    """About how many leads the demo makes up to ``now`` at its natural size (without the students)."""
    first, last = demo_first_day(now), now.astimezone(AMS).date()
    return sum(_daily(first + dt.timedelta(days=d)) for d in range((last - first).days))


@dataclass(frozen=True, slots=True)
class _Staff:
    email: str
    team: str
    start: dt.date
    end: dt.date | None
    leave: tuple[tuple[dt.date, dt.date], ...]

    def available(self, day: dt.date) -> bool:
        """In post on ``day`` and not on leave."""
        if day < self.start or (self.end is not None and day >= self.end):
            return False
        return not any(first <= day < end for first, end in self.leave)

    def in_post(self, day: dt.date) -> bool:
        return day >= self.start and (self.end is None or day < self.end)


def _staff(organization: Organization, team: str) -> list[_Staff]:
    people = Person.objects.filter(team__organization=organization, team__key=team).order_by("pk")
    return [
        _Staff(
            p.email,
            team,
            p.start_date,
            p.end_date,
            tuple((x.first_day, x.end_day) for x in p.leave.order_by("first_day")),
        )
        for p in people.prefetch_related("leave")
    ]


def _available(staff: list[_Staff], day: dt.date) -> list[_Staff]:
    """Who receives leads on ``day``: in post and not on leave (in post, when everyone is away)."""
    return [s for s in staff if s.available(day)] or [s for s in staff if s.in_post(day)] or staff


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def _arrival(rng: random.Random, day: dt.date) -> dt.datetime:
    hour = bisect.bisect_right(_HOUR_CUM, rng.random() * _HOUR_CUM[-1])
    minute = rng.randrange(60)
    return dt.datetime.combine(day, dt.time(min(hour, 23), minute, rng.randrange(60)), tzinfo=AMS)


def _email(first: str, last: str, n: int, company: str) -> str:
    return f"{first.lower()}.{last.lower().replace(' ', '')}{n}@{company.split()[0].lower()}.example"


def _later(rng: random.Random, start: dt.datetime, hours: float) -> dt.datetime:
    return start + dt.timedelta(seconds=int(hours * 3600 * rng.uniform(0.5, 1.5)))


class _Traffic:
    """The generator's fixed inputs: the staff, the calendar of campaigns, the scale."""

    def __init__(self, organization: Organization, now: dt.datetime, scale: float) -> None:
        self.now = now
        self.first = demo_first_day(now)
        self.sdr_from = demo_sdr_from(now)
        self.scale = scale
        self.marketers = _staff(organization, "marketing")
        self.reps = _staff(organization, "sales")
        self.sdrs = _staff(organization, "sdr")
        self.students = (
            self.first + dt.timedelta(days=STUDENT_START),
            self.first + dt.timedelta(days=STUDENT_START + 7 * STUDENT_WEEKS),
        )

    def campaigns(self, day: dt.date) -> tuple[list[tuple[str, str]], list[float]]:
        offset = (day - self.first).days
        weights = []
        for source, _campaign, weight in CAMPAIGNS:
            if source == "webinar" and offset % WEBINAR_EVERY in (3, 4, 5):
                weight *= 4  # the days after a webinar: its registrations come in
            if source == "event" and 0 <= offset - FAIR_DAY < 7:
                weight *= 8
            weights.append(weight)
        return [(s, c) for s, c, _ in CAMPAIGNS], weights

    def reassign_to(self, rng: random.Random, leaver: _Staff) -> _Staff:
        assert leaver.end is not None
        return rng.choice([s for s in _available(self.reps, leaver.end) if s is not leaver])


def _generate(
    traffic: _Traffic,
    rng: random.Random,
    twins: random.Random,
    notes: random.Random,
    moves: random.Random,
    source: str = SOURCE,
) -> Iterator[tuple[LeadRecord, list[EventRecord]]]:
    """The leads day by day. ``twins`` (its own generator, so the other figures stay as they are)
    makes about 1.5% of leads a person who came back through another form: the address of a recent
    lead, typed in capitals — the handoff check marks them as duplicates. ``notes`` gives most accepted
    leads that went nowhere a disposition with a reason code, some late and some never — the feedback
    commitment's evidence. ``moves`` picks who takes over the open leads of a rep who leaves."""
    now, day, n = traffic.now, traffic.first, 0
    today = now.astimezone(AMS).date()
    recent: list[str] = []
    while day <= today:
        expected = _daily(day) * traffic.scale
        student_days = traffic.students[0] <= day < traffic.students[1]
        students = 0
        if student_days:
            students = max(0, int(rng.gauss(10 * traffic.scale, (10 * traffic.scale) ** 0.5)))
            if day.weekday() >= 5:
                students //= 2
        campaigns, weights = traffic.campaigns(day)
        marketers = _available(traffic.marketers, day)
        reps = _available(traffic.reps, day)
        sdrs = _available(traffic.sdrs, day) if traffic.sdr_from and day >= traffic.sdr_from else []
        count = max(0, int(rng.gauss(expected, expected**0.5)))
        for i in range(count + students):
            n += 1
            created = _arrival(rng, day)
            if created >= now:
                continue
            student = i >= count
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            marketer = rng.choice(marketers)
            if student:
                source, campaign = "social", STUDENT_CAMPAIGN
                trigger, company = "demo_request", rng.choice(SCHOOLS)
                complete, job, score = True, "Student", int(rng.gauss(35, 10))
            else:
                source, campaign = rng.choices(campaigns, weights)[0]
                trigger = _pick(rng, TRIGGERS)
                complete = rng.random() < COMPLETE.get(marketer.email, 0.94)
                company = rng.choice(COMPANIES)
                job = rng.choice(
                    ("Marketing manager", "CMO", "Head of sales", "Operations", "Sales director")
                )
                score = int(rng.gauss(72, 14))
            urgent = trigger in ("demo_request", "pricing_request")
            rep = rng.choice(sdrs if sdrs and not urgent and rng.random() < 0.35 else reps)
            fields = LeadFields(
                name=f"{first} {last}",
                email=_email(first, last, n, company) if complete or rng.random() < 0.5 else "",
                company=company,
                country="NL" if student else rng.choices(["NL", "BE", "DE"], [0.78, 0.17, 0.05])[0],
                source=source,
                campaign=campaign if complete else "",
                score=min(100, max(0, score)),
                job_title=job,
                trigger=trigger,
                consent=student or rng.random() > 0.03,
                recent_touches=rng.randint(0, 12),
            )
            if fields.email:
                if twins.random() < 0.015 and recent and not student:
                    fields.email = twins.choice(recent).upper()
                else:
                    recent = [*recent[-199:], fields.email]
            lead = LeadRecord(source, f"D{n:07d}", fields, created, marketer.email, rep.email)
            events = _story(rng, notes, lead, created, rep, marketer, urgent=urgent, student=student)
            if rep.end is not None and any(e.occurred_at >= _gone(rep) for e in events[1:]):
                events = _reassigned(events, lead, rep, traffic.reassign_to(moves, rep))
            yield lead, [e for e in events if e.occurred_at < now]
        day += dt.timedelta(days=1)


def _gone(person: _Staff) -> dt.datetime:
    """The moment a leaver's open leads move: 09:00 on their first day gone."""
    assert person.end is not None
    return dt.datetime.combine(person.end, dt.time(9), tzinfo=AMS)


def _reassigned(
    events: list[EventRecord], lead: LeadRecord, leaver: _Staff, heir: _Staff
) -> list[EventRecord]:
    """The leaver's lead, still open on their last day, goes to ``heir``: an ``assigned`` event then
    (the owner change a CRM sends), and whatever happens after it is the heir's."""
    at = _gone(leaver)
    lead.sales_owner = heir.email
    before = [e for e in events if e.occurred_at < at]
    after = [e for e in events if e.occurred_at >= at]
    for e in after:
        if e.actor == leaver.email:
            e.actor = heir.email
    moved = EventRecord(
        lead.source,
        lead.external_id,
        "assigned",
        at,
        actor=heir.email,
        data={"value": heir.email, "reason": "left"},
    )
    return [*before, moved, *after]


def _story(
    rng: random.Random,
    notes: random.Random,
    lead: LeadRecord,
    created: dt.datetime,
    rep: _Staff,
    marketer: _Staff,
    *,
    urgent: bool,
    student: bool,
) -> list[EventRecord]:
    """What happens to one lead: handoff, assignment, decision, attempts, disposition, the deal."""
    key, source = lead.external_id, lead.source
    events = [EventRecord(source, key, "created", created)]
    if rng.random() >= 0.87:
        return events  # not (yet) handed over: nurtured by marketing
    handed = _later(rng, created, 0.05)
    events.append(EventRecord(source, key, "handed_over", handed, actor=marketer.email))
    assigned = handed + dt.timedelta(seconds=rng.randint(20, 900))
    events.append(EventRecord(source, key, "assigned", assigned, actor=rep.email, data={"value": rep.email}))
    events.append(
        EventRecord(
            source,
            key,
            "contact_attempt",
            assigned,
            channel="email",
            human=False,
            data={"template": "welcome"},
        )
    )
    pace = SPEED.get(rep.email, 1.0)
    if handed.month == 8:
        pace *= 1.8  # the holiday backlog
    decided = _later(rng, assigned, rng.expovariate(1 / (5 * pace)) * (0.2 if urgent else 1))
    if student and rng.random() < 0.92:
        events.append(
            EventRecord(source, key, "rejected", decided, actor=rep.email, reason_code="not_a_buyer")
        )
        return events
    if rng.random() < 0.17:
        code = _pick(rng, REJECT) if rng.random() > 0.05 else ""
        events.append(EventRecord(source, key, "rejected", decided, actor=rep.email, reason_code=code))
        return events
    events.append(EventRecord(source, key, "accepted", decided, actor=rep.email))
    t = assigned if urgent else decided  # a high-intent lead is called before the decision
    for attempt in range(rng.choice((1, 2, 3, 4, 6, 6, 7))):
        gap = rng.expovariate(1 / ((0.6 if urgent else 6) * pace)) if attempt == 0 else rng.uniform(4, 40)
        t = _later(rng, t, gap)
        channel = rng.choice(("phone", "phone", "email", "linkedin"))
        events.append(
            EventRecord(source, key, "contact_attempt", t, actor=rep.email, channel=channel, human=True)
        )
    qualifies = rng.random() < 0.4
    if not qualifies and notes.random() < 0.9:
        # a disposition: mostly within the 15 business days, sometimes weeks later
        late = notes.random() < 0.12 * pace
        told = _later(notes, t, notes.uniform(200, 600) if late else notes.uniform(4, 90))
        events.append(
            EventRecord(source, key, "feedback", told, actor=rep.email, reason_code=notes.choice(LOST))
        )
    if not qualifies:
        return events
    t = _later(rng, t, 30)
    events.append(EventRecord(source, key, "qualified", t, actor=rep.email))
    if rng.random() < 0.5:
        # €600–€3,375 (about €2,000): the demo agreement's pipeline and won targets (€360k and €120k a
        # month) at its opportunity and win rates
        amount = Decimal(rng.randrange(600, 3_400, 25))
        t = _later(rng, t, 80)
        events.append(
            EventRecord(source, key, "opportunity", t, actor=rep.email, amount=amount, currency="EUR")
        )
        t = _later(rng, t, 300)
        if rng.random() < 0.35:
            events.append(EventRecord(source, key, "won", t, actor=rep.email, amount=amount, currency="EUR"))
        elif rng.random() < 0.6:
            events.append(
                EventRecord(
                    source,
                    key,
                    "lost",
                    t,
                    actor=rep.email,
                    amount=amount,
                    currency="EUR",
                    reason_code=rng.choice(LOST),
                )
            )
    return events


#: how ``demo_leads_load`` stores its batches: ``bulk`` as a file import does (the store's plain items made
#: once, a new lead's state from its own events, no ids asked back, SQLite tuned for a bulk load, the
#: people and the handoff checker read once); ``store`` through :func:`leads_store` batch by batch, as
#: the API does. The same checks (bounds, owners, handoff rules, duplicates) and the same rows either way.
StorePath = Literal["bulk", "store"]


def demo_leads_load(
    organization: Organization,
    *,
    now: dt.datetime,
    leads: int | None = None,
    seed: int = 2026,
    batch: int | None = None,
    progress: Callable[[int], None] | None = None,
    path: StorePath = "bulk",
    source: str = SOURCE,
    more: bool = False,
) -> int:
    """Load the demo's leads up to ``now`` unless the organisation has leads already; return how many.

    ``leads`` scales the traffic to about that many leads (``None``: the natural size, about 13,000 a
    year); ``progress`` is told how many leads each stored batch held (``batch`` of them, 1,000 at the
    natural size, 10,000 from about 50,000 leads); ``path`` is how the batches are stored
    (:data:`StorePath`). ``more`` adds the traffic to an organisation that has leads already, as from
    another ``source`` (a second CRM: its own ids and events; its people's addresses are duplicates).
    """
    if not more and Lead.objects.filter(organization=organization).exists():
        return 0
    scale = 1.0 if leads is None else leads / max(1.0, demo_leads_expected(now))
    batch = batch or (10_000 if scale > 4 else 1000)  # the benchmark size: fewer, larger transactions
    traffic = _Traffic(organization, now, scale)
    rngs = (random.Random(seed), random.Random(seed + 4176), random.Random(seed + 1), random.Random(seed + 2))
    store = _BulkStore(organization, now) if path == "bulk" else None
    records: list[LeadRecord] = []
    events: list[EventRecord] = []
    count = 0

    def flush() -> None:
        nonlocal count, records, events
        if store is not None:
            store.store(records, events)
        else:
            leads_store(organization=organization, leads=records, events=events, now=now)
        count += len(records)
        if progress is not None:
            progress(len(records))
        records, events = [], []

    with tuned_for_bulk() if store is not None else contextlib.nullcontext():
        for lead, lead_events in _generate(traffic, *rngs, source=source):
            records.append(lead)
            events.extend(lead_events)
            if len(records) >= batch:
                flush()
        if records:
            flush()
    return count


class _BulkStore:
    """The demo's batches by the import's path (``_store.store_items``), each in its own transaction."""

    def __init__(self, organization: Organization, now: dt.datetime) -> None:
        self.organization = organization
        self.now = now
        self.people = PeopleIndex(organization)
        self.checker = HandoffChecker(organization)
        self.adapt = datetime_adapter()

    def store(self, records: list[LeadRecord], events: list[EventRecord]) -> None:
        # the bounds every edge checks (``store_batch`` does the same): generated data passes them
        refused = [f"lead {r.external_id}: {f}: {why}" for r in records for f, why in lead_problems(r)]
        refused += [f"event {e.external_id}: {f}: {why}" for e in events for f, why in event_problems(e)]
        if refused:
            raise ApplicationError("demo.bounds", f"demo: {len(refused)} out of bounds: {refused[:3]}")
        find, adapt = self.people.find, self.adapt
        items = [event_item(e, find_owner=find, adapt=adapt) for e in events]
        by_lead: dict[tuple[str, str], list[EventItem]] = {}
        for item in items:
            by_lead.setdefault((item[0], item[1]), []).append(item)
        # every event of a lead comes in its lead's batch: its state is derived from them here, once
        states = {k: row_state(tuple(v), adapt) for k, v in by_lead.items()}
        with transaction.atomic():
            outcome = store_items(
                organization=self.organization,
                leads=[lead_item(r) for r in records],
                events=items,
                now=self.now,
                people=self.people,
                checker=self.checker,
                states=states,
                want_ids=False,
            )
        if outcome.problems:  # the demo names only people it has: a problem here is a bug in the demo
            p = outcome.problems[0]
            raise ApplicationError("demo.store", f"demo: {p.what} {p.index}: {p.field}: {p.reason}")
