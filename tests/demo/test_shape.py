"""The demo's year: who receives leads, the leaver, the SDR team, the student campaign, the clocks, the
history — and that it is the same year for the same seed and day."""

from __future__ import annotations

import datetime as dt
import doctest
import random
from collections import Counter

import pytest

from leadpact.agreements.models import AgreementVersion
from leadpact.demo import _leads
from leadpact.demo._imports import FAIR_FILE, FAIR_ROWS, REEXPORT_FILE
from leadpact.demo._leads import AMS, STUDENT_CAMPAIGN, _generate, _Traffic, demo_sdr_from
from leadpact.demo.services import demo_load
from leadpact.leads.imports import import_job_report_csv
from leadpact.leads.models import ImportJob, Lead, LeadEvent
from leadpact.measurement.closing.models import ClosedPeriod, Restatement
from leadpact.measurement.disputes.models import Dispute
from leadpact.measurement.models import LeadClock
from leadpact.organization.models import Organization, Person
from leadpact.outbox.models import OutboxMessage
from leadpact.reviews.models import Review

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def test_the_dates_doctests():
    assert doctest.testmod(_leads).failed == 0


def _available(person: Person, day: dt.date) -> bool:
    if day < person.start_date or (person.end_date and day >= person.end_date):
        return False
    return not any(x.first_day <= day < x.end_day for x in person.leave.all())


@pytest.mark.django_db
def test_a_year_that_moves_with_today_and_shows_every_part_of_the_product(settings):
    settings.EMAIL_BACKEND = "leadpact.outbox.backend.EmailBackend"  # as `leadpact start` has it
    demo_load(now=NOW, leads=2000)
    people = {p.email: p for p in Person.objects.prefetch_related("leave").select_related("team")}
    by_pk = {p.pk: p for p in people.values()}
    thijs = people["thijs.vos@example.com"]
    sdr_from = demo_sdr_from(NOW)
    assert sdr_from == dt.date(2026, 8, 1)

    # only people in post and not on leave receive leads; the leaver's open leads moved on his last day
    moved = 0
    for e in LeadEvent.objects.filter(kind="assigned").select_related("lead"):
        day = e.occurred_at.astimezone(AMS).date()
        owner = by_pk[e.data["owner_id"]]
        if e.data.get("reason") == "left":
            moved += 1
            assert e.occurred_at == dt.datetime(2026, 6, 1, 9, tzinfo=AMS)
            assert owner != thijs and owner.team.key == "sales" and e.lead.sales_owner == owner
        else:
            assert _available(owner, day), (owner.name, day)
            assert owner.team.key == "sales" or day >= sdr_from
    assert moved > 0
    assert not LeadEvent.objects.filter(
        actor_id=thijs.pk, occurred_at__gte=dt.datetime(2026, 6, 1, 9, tzinfo=AMS)
    ).exists()
    for lead in Lead.objects.filter(sources__source="demo-crm").select_related("marketing_owner").iterator():
        assert _available(lead.marketing_owner, lead.created_at.astimezone(AMS).date())

    # the sales-development team works leads from version 2 on, and is a party of it
    owners = Counter(Lead.objects.values_list("sales_owner__team__key", flat=True))
    assert owners["sdr"] > 0.1 * owners["sales"]
    versions = {v.number: v for v in AgreementVersion.objects.all()}
    assert [versions[n].status for n in (1, 2, 3)] == ["superseded", "active", "proposed"]
    assert versions[2].parties.filter(key="sdr").exists()
    assert versions[3].signatures.count() == 1  # marketing signed; sales and sales development have not

    # the student campaign: five weeks, rejected as not a buyer
    students = Lead.objects.filter(campaign=STUDENT_CAMPAIGN)
    days = {lead.created_at.astimezone(AMS).date() for lead in students}
    assert len(students) > 20 and (max(days) - min(days)).days < 35
    rejected = LeadEvent.objects.filter(lead__in=students, kind="rejected", data__reason_code="not_a_buyer")
    assert rejected.count() > 0.8 * students.filter(events__kind="handed_over").count()

    # arrivals: Monday busier than Friday, weekends quiet, few leads at night, a summer dip
    created = [t.astimezone(AMS) for t in Lead.objects.values_list("created_at", flat=True)]
    weekday = Counter(t.weekday() for t in created)
    assert weekday[0] > weekday[4] > 3 * weekday[5]
    hours = Counter(t.hour for t in created)
    assert hours[10] > 5 * hours[3]
    months = Counter(t.month for t in created)
    assert months[8] < 0.8 * months[10]

    # speed differs per person: Julia decides faster than Thijs did
    def median_hours(person):
        gaps = []
        for lead in Lead.objects.filter(sales_owner=person)[:300]:
            events = {e.kind: e.occurred_at for e in lead.events.all()}
            if "assigned" in events and "accepted" in events:
                gaps.append((events["accepted"] - events["assigned"]).total_seconds() / 3600)
        return sorted(gaps)[len(gaps) // 2]

    assert median_hours(people["julia.bos@example.com"]) < median_hours(thijs)

    # won deals with amounts; open leads with running clocks, some at risk
    won = LeadEvent.objects.filter(kind="won")
    assert won.exists() and all(float(e.data["amount"]) >= 600 for e in won)
    states = Counter(LeadClock.objects.values_list("state", flat=True))
    assert states["running"] > 0 and states["at_risk"] + states["breached"] > 0

    # history: disputes of each outcome, closed months, one restatement waiting
    assert Counter(Dispute.objects.values_list("status", flat=True)).keys() == {"upheld", "rejected", "open"}
    assert ClosedPeriod.objects.count() == 4
    assert Restatement.objects.filter(status="pending").count() == 1

    # the import history, through the real importer: the fair's HubSpot export with its problem rows,
    # five weeks back, and the same contacts exported again a week later, which added nothing
    fair, again = ImportJob.objects.order_by("started_at")
    assert (fair.file_name, again.file_name) == (FAIR_FILE, REEXPORT_FILE)
    assert fair.started_at.astimezone(AMS) == dt.datetime(2026, 10, 19, 10, 12, tzinfo=AMS)
    assert again.started_at.astimezone(AMS) == dt.datetime(2026, 10, 26, 14, 40, tzinfo=AMS)  # after DST
    for job in (fair, again):
        assert (job.status, job.preset, job.rows_read) == ("completed", "hubspot", FAIR_ROWS)
        reasons = sorted(job.problems.values_list("column", "reason"))
        assert [column for column, _reason in reasons] == [
            "Contact owner", "Create Date", "HubSpot Score", "Record ID"
        ]  # fmt: skip
        assert "unknown owner 'Hans Kramer' on 3 row(s)" in reasons[0][1]
        assert import_job_report_csv(job).count("\n") == 1 + 4  # the problems CSV has them all
    assert fair.leads_added == fair.rows_imported == Lead.objects.filter(sources__source="hubspot").count()
    assert fair.leads_added > 200 and fair.events_added >= fair.leads_added
    assert (again.rows_imported, again.leads_added, again.events_added) == (fair.rows_imported, 0, 0)
    imported = Lead.objects.filter(sources__source="hubspot")
    assert not LeadEvent.objects.filter(lead__in=imported, kind="handed_over").exists()  # nurtured: no clock

    # the outbox: the worker's services mailed the last held monthly review's pack the day before it
    packs = OutboxMessage.objects.filter(subject__startswith="Review pack").order_by("sent_at")
    held = Review.objects.filter(series__key="monthly-results", status="closed").order_by("day")[2:]
    assert len(held) == 1
    assert [m.subject.rsplit(" ", 1)[1] for m in packs] == [r.day.isoformat() for r in held]
    for message, review in zip(packs, held, strict=True):
        assert message.sent_at == review.starts_at - dt.timedelta(hours=24) + dt.timedelta(minutes=4)
        assert message.organization == Organization.objects.get() and message.html.startswith("<!")
        assert len(message.to) >= 5 and review.emailed_at == message.sent_at
        pdf = message.attachments.get()
        assert pdf.content_type == "application/pdf" and bytes(pdf.content).startswith(b"%PDF-")

    # loading again adds nothing
    counts = (Lead.objects.count(), LeadEvent.objects.count(), Dispute.objects.count())
    messages = (ImportJob.objects.count(), OutboxMessage.objects.count())
    assert "(0 new)" in demo_load(now=NOW + dt.timedelta(hours=1), leads=2000)
    assert (Lead.objects.count(), LeadEvent.objects.count(), Dispute.objects.count()) == counts
    assert (ImportJob.objects.count(), OutboxMessage.objects.count()) == messages

    # the same seed and day make the same leads
    org = Organization.objects.get()

    def first_leads():
        traffic = _Traffic(org, NOW, 0.2)
        rngs = (random.Random(1), random.Random(2), random.Random(3), random.Random(4))
        out = []
        for lead, events in _generate(traffic, *rngs):
            out.append(
                (lead.external_id, lead.fields.email, lead.sales_owner, [e.idempotency_key for e in events])
            )
            if len(out) == 200:
                return out
        return out

    assert first_leads() == first_leads()
