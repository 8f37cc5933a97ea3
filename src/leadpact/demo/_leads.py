"""Months of realistic lead traffic for the demo organisation, through the same store the API uses.

Deterministic (a fixed seed), so every fresh demo shows the same figures. Marketing hands over roughly
its target with a soft summer; sales mostly decides and calls within the agreed windows, with the misses
a real team has (a slow rep, a holiday backlog); rejections carry reason codes; some leads convert.
High-intent leads (a demo or pricing request) are called within the hour, the others within the day;
a few people come back with the same address and are marked as duplicates.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from decimal import Decimal
from zoneinfo import ZoneInfo

from leadpact.connectors.records import EventRecord, LeadFields, LeadRecord
from leadpact.leads.models import Lead
from leadpact.leads.services import leads_store
from leadpact.organization.models import Organization, Person

__all__ = ["demo_leads_load"]

SOURCE = "demo-crm"
AMS = ZoneInfo("Europe/Amsterdam")
FIRST = dt.date(2026, 1, 5)
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
CAMPAIGNS = (
    ("webinar", "webinar-sla-2026"),
    ("content", "ebook-lead-scoring"),
    ("paid", "google-ads-nl"),
    ("organic", "blog"),
    ("event", "b2b-marketing-live"),
    ("paid", "linkedin-abm"),
)
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


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def _office_time(rng: random.Random, day: dt.date) -> dt.datetime:
    minute = rng.randint(7 * 60, 21 * 60) if rng.random() < 0.8 else rng.randint(0, 24 * 60 - 1)
    return dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=AMS)


def _email(first: str, last: str, n: int, company: str) -> str:
    return f"{first.lower()}.{last.lower().replace(' ', '')}{n}@{company.split()[0].lower()}.example"


def _later(rng: random.Random, start: dt.datetime, hours: float) -> dt.datetime:
    return start + dt.timedelta(seconds=int(hours * 3600 * rng.uniform(0.5, 1.5)))


def _generate(
    rng: random.Random,
    marketers: list[Person],
    reps: list[Person],
    now: dt.datetime,
    twins: random.Random | None = None,
    notes: random.Random | None = None,
) -> Iterator[tuple[LeadRecord, list[EventRecord]]]:
    """The leads day by day. ``twins`` (its own generator, so the other figures stay as they were)
    makes about 1.5% of leads a person who came back through another form: the address of a recent
    lead, typed in capitals — the handoff check marks them as duplicates. ``notes`` (its own generator
    too) gives most accepted leads that went nowhere a disposition with a reason code, some of them late
    and some never — the feedback commitment's evidence."""
    day, n = FIRST, 0
    slow = reps[-1] if reps else None
    recent: list[str] = []
    while True:
        if day >= now.astimezone(AMS).date():
            return
        weekday = day.weekday() < 5
        expected = (54 if weekday else 10) * SEASON[day.month]
        for _ in range(max(0, int(rng.gauss(expected, expected**0.5)))):
            n += 1
            created = _office_time(rng, day)
            if created >= now:
                continue
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            source, campaign = rng.choice(CAMPAIGNS)
            trigger = _pick(rng, TRIGGERS)
            complete = rng.random() > 0.06
            company = rng.choice(COMPANIES)
            marketer = rng.choice(marketers)
            rep = rng.choice(reps)
            fields = LeadFields(
                name=f"{first} {last}",
                email=_email(first, last, n, company) if complete or rng.random() < 0.5 else "",
                company=company,
                country=rng.choices(["NL", "BE", "DE"], [0.78, 0.17, 0.05])[0],
                source=source,
                campaign=campaign if complete else "",
                score=int(min(100, max(0, rng.gauss(72, 14)))),
                job_title=rng.choice(("Marketing manager", "CMO", "Head of sales", "Operations", "Student")),
                trigger=trigger,
                consent=rng.random() > 0.03,
                recent_touches=rng.randint(0, 12),
            )
            if fields.email:
                if twins is not None and recent and twins.random() < 0.015:
                    fields.email = twins.choice(recent).upper()
                else:
                    recent = [*recent[-199:], fields.email]
            lead = LeadRecord(SOURCE, f"D{n:06d}", fields, created, marketer.email, rep.email)
            events = [EventRecord(SOURCE, lead.external_id, "created", created)]
            if rng.random() < 0.87:
                handed = _later(rng, created, 0.05)
                events.append(
                    EventRecord(SOURCE, lead.external_id, "handed_over", handed, actor=marketer.email)
                )
                assigned = handed + dt.timedelta(seconds=rng.randint(20, 900))
                events.append(EventRecord(SOURCE, lead.external_id, "assigned", assigned, actor=rep.email))
                events.append(
                    EventRecord(
                        SOURCE,
                        lead.external_id,
                        "contact_attempt",
                        assigned,
                        channel="email",
                        human=False,
                        data={"template": "welcome"},
                    )
                )
                pace = 3.0 if rep == slow else 1.0
                if handed.month == 8:
                    pace *= 1.8  # the holiday backlog
                # a demo or pricing request is picked up at once (same draws, so the rest stays as it was)
                urgent = trigger in ("demo_request", "pricing_request")
                decided = _later(rng, assigned, rng.expovariate(1 / (5 * pace)) * (0.2 if urgent else 1))
                rejected = rng.random() < 0.17
                if rejected:
                    code = _pick(rng, REJECT)
                    events.append(
                        EventRecord(
                            SOURCE,
                            lead.external_id,
                            "rejected",
                            decided,
                            actor=rep.email,
                            reason_code=code if rng.random() > 0.05 else "",
                        )
                    )
                else:
                    events.append(EventRecord(SOURCE, lead.external_id, "accepted", decided, actor=rep.email))
                    t = assigned if urgent else decided  # a high-intent lead is called before the decision
                    for attempt in range(rng.choice((1, 2, 3, 4, 6, 6, 7))):
                        gap = (
                            rng.expovariate(1 / ((0.6 if urgent else 6) * pace))
                            if attempt == 0
                            else rng.uniform(4, 40)
                        )
                        t = _later(rng, t, gap)
                        events.append(
                            EventRecord(
                                SOURCE,
                                lead.external_id,
                                "contact_attempt",
                                t,
                                actor=rep.email,
                                channel=rng.choice(("phone", "phone", "email", "linkedin")),
                                human=True,
                            )
                        )
                    qualifies = rng.random() < 0.4
                    if notes is not None and not qualifies and notes.random() < 0.9:
                        # a disposition: mostly within the 15 business days, sometimes weeks later
                        late = notes.random() < 0.12
                        told = _later(notes, t, notes.uniform(200, 600) if late else notes.uniform(4, 90))
                        events.append(
                            EventRecord(
                                SOURCE,
                                lead.external_id,
                                "feedback",
                                told,
                                actor=rep.email,
                                reason_code=notes.choice(LOST),
                            )
                        )
                    if qualifies:
                        t = _later(rng, t, 30)
                        events.append(EventRecord(SOURCE, lead.external_id, "qualified", t, actor=rep.email))
                        if rng.random() < 0.5:
                            # €600–€3,375 (about €2,000): the demo agreement's pipeline and won targets
                            # (€360k and €120k a month) at its opportunity and win rates. The bounds keep
                            # the draw (112 steps), so every other figure of the demo stays as it was.
                            amount = Decimal(rng.randrange(600, 3_400, 25))
                            t = _later(rng, t, 80)
                            events.append(
                                EventRecord(
                                    SOURCE,
                                    lead.external_id,
                                    "opportunity",
                                    t,
                                    actor=rep.email,
                                    amount=amount,
                                    currency="EUR",
                                )
                            )
                            t = _later(rng, t, 300)
                            if rng.random() < 0.35:
                                events.append(
                                    EventRecord(
                                        SOURCE,
                                        lead.external_id,
                                        "won",
                                        t,
                                        actor=rep.email,
                                        amount=amount,
                                        currency="EUR",
                                    )
                                )
                            elif rng.random() < 0.6:
                                events.append(
                                    EventRecord(
                                        SOURCE,
                                        lead.external_id,
                                        "lost",
                                        t,
                                        actor=rep.email,
                                        amount=amount,
                                        currency="EUR",
                                        reason_code=rng.choice(LOST),
                                    )
                                )
            yield lead, [e for e in events if e.occurred_at < now]
        day += dt.timedelta(days=1)


def demo_leads_load(organization: Organization, *, now: dt.datetime, batch: int = 1000) -> int:
    """Load the demo's leads up to ``now`` unless the organisation has leads already; return how many."""
    if Lead.objects.filter(organization=organization).exists():
        return 0
    rng = random.Random(2026)
    marketers = list(
        Person.objects.filter(team__organization=organization, team__key="marketing").order_by("pk")
    )
    reps = list(Person.objects.filter(team__organization=organization, team__key="sales").order_by("pk"))
    leads: list[LeadRecord] = []
    events: list[EventRecord] = []
    count = 0
    for lead, lead_events in _generate(rng, marketers, reps, now, random.Random(6202), random.Random(2027)):
        leads.append(lead)
        events.extend(lead_events)
        if len(leads) >= batch:
            leads_store(organization=organization, leads=leads, events=events, now=now)
            count += len(leads)
            leads, events = [], []
    if leads:
        leads_store(organization=organization, leads=leads, events=events, now=now)
        count += len(leads)
    return count
