"""What measurement knows about each lead: the definition each commitment covers (checked at handoff,
one row per handoff), duplicates, and pause kinds from the API to ``leadpact measure`` and the clocks."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from leadpact.leads.models import HandoffCheck, Lead
from leadpact.leads.services import api_token_create
from leadpact.measurement.clocks.selectors import clocks_compute
from leadpact.measurement.scorecard.results import NOT_CHECKED_BUCKET
from leadpact.measurement.scorecard.selectors import measure
from leadpact.organization.models import Team
from tests.conftest import member_client
from tests.measurement.scene import add_lead, local, paused_version

pytestmark = pytest.mark.django_db


def team_row(results, key):
    return next(r for r in results if r.commitment_key == key and r.subject_kind == "team")


def every_lead(result) -> set[int]:
    return {int(i) for k, ids in result.evidence.items() if k != NOT_CHECKED_BUCKET for i in ids}


@pytest.fixture
def three(demo):
    """A high-intent MQL, a standard MQL (both called after 3.5 business hours) and a German lead."""
    org = demo.agreement.organization
    handed, called = local(2026, 10, 5, 10), local(2026, 10, 5, 14)
    steps = [("handed_over", handed, {}), ("contact_attempt", called, {"human": True})]
    hi = add_lead(org, "hi", trigger="demo_request", events=steps)
    std = add_lead(org, "std", trigger="webinar", events=steps)
    de = add_lead(org, "de", country="DE", trigger="webinar", events=steps)
    return hi, std, de


def test_each_commitment_measures_the_leads_of_the_definition_it_covers(demo, three):
    hi, std, de = three
    results = measure(version=demo, period="2026-10", now=local(2026, 10, 15, 12))
    high = team_row(results, "first-attempt-high-intent")
    standard = team_row(results, "first-attempt-standard")
    # the high-intent lead waited 3.5 business hours: a breach of the 1-hour window, and only there
    assert every_lead(high) == {hi.pk} and high.evidence["breached"].tolist() == [hi.pk]
    assert every_lead(standard) == {std.pk} and standard.evidence["counted"].tolist() == [std.pk]
    assert high.definition_versions == {"mql-high-intent": 1}
    # commitments covering mql keep the German lead out; the volume names it as excluded
    assert de.pk not in every_lead(team_row(results, "handoff-data"))
    volume = team_row(results, "mql-volume")
    assert sorted(volume.evidence["counted"].tolist()) == sorted([hi.pk, std.pk])
    assert volume.evidence["excluded_definition"].tolist() == [de.pk]
    # a commitment without a rule to check (contact-attempts covers sal) measures every handed-over lead
    assert {hi.pk, std.pk, de.pk} <= every_lead(team_row(results, "contact-attempts"))
    assert all(len(r.evidence[NOT_CHECKED_BUCKET]) == 0 for r in results if NOT_CHECKED_BUCKET in r.evidence)


def test_one_check_row_per_handoff_holds_every_covered_definition(demo, three):
    hi, std, de = three
    assert HandoffCheck.objects.count() == 3
    check = HandoffCheck.objects.select_related("definition_version").get(lead=hi)
    assert check.met and check.definition_version.key == "mql"  # the volume's definition, as before
    assert set(check.definitions) == {"mql", "mql-high-intent", "mql-standard", "sal"}
    assert check.definitions["mql-high-intent"]["met"] is True
    assert check.definitions["mql-standard"]["met"] is False and check.definitions["mql-standard"]["failed"]
    assert check.definitions["sal"] == {
        "version": check.definitions["sal"]["version"],
        "met": True,
        "failed": [],
    }
    standard = HandoffCheck.objects.get(lead=std).definitions
    assert (standard["mql-high-intent"]["met"], standard["mql-standard"]["met"]) == (False, True)
    german = HandoffCheck.objects.get(lead=de)
    assert not german.met and not german.definitions["mql-high-intent"]["met"]


def test_a_lead_checked_before_per_definition_results_is_measured_and_named_not_checked(demo, three):
    hi, std, _de = three
    HandoffCheck.objects.filter(lead__in=[hi, std]).update(definitions={})  # rows as written before
    results = measure(version=demo, period="2026-10", now=local(2026, 10, 15, 12))
    high = team_row(results, "first-attempt-high-intent")
    # not checked against mql-high-intent: measured (as before), and said so
    assert every_lead(high) == {hi.pk, std.pk}
    assert sorted(high.evidence[NOT_CHECKED_BUCKET].tolist()) == sorted([hi.pk, std.pk])
    # the old row's own definition (mql) still counts as checked
    volume = team_row(results, "mql-volume")
    assert NOT_CHECKED_BUCKET not in volume.evidence
    assert sorted(volume.evidence["counted"].tolist()) == sorted([hi.pk, std.pk])


def test_the_evidence_page_shows_each_commitment_its_own_leads(demo, three):
    hi, std, _de = three
    client = member_client(demo.agreement.organization)
    sales = Team.objects.get(key="sales")
    for key, mine, other in (("first-attempt-high-intent", hi, std), ("first-attempt-standard", std, hi)):
        page = client.get(f"/measure/evidence/?commitment={key}&period=2026-10&subject=team:{sales.pk}")
        assert page.status_code == 200
        text = page.content.decode()
        assert f'href="/leads/{mine.pk}/"' in text and f'href="/leads/{other.pk}/"' not in text


def test_a_later_lead_with_the_same_address_is_a_duplicate_and_leaves_the_volume(demo):
    org = demo.agreement.organization
    first = add_lead(org, "first", email="Anna@Boer.nl", events=[("handed_over", local(2026, 10, 5, 10), {})])
    again = add_lead(org, "again", email="anna@boer.NL", events=[("handed_over", local(2026, 10, 7, 10), {})])
    other = add_lead(org, "other", email="bert@boer.nl", events=[("handed_over", local(2026, 10, 7, 11), {})])
    assert Lead.objects.get(pk=again.pk).duplicate_of_id == first.pk
    assert Lead.objects.get(pk=first.pk).duplicate_of_id is None
    assert Lead.objects.get(pk=other.pk).duplicate_of_id is None
    volume = team_row(measure(version=demo, period="2026-10", now=local(2026, 10, 15, 12)), "mql-volume")
    assert sorted(volume.evidence["counted"].tolist()) == sorted([first.pk, other.pk])
    assert volume.evidence["excluded_duplicate"].tolist() == [again.pk]


def test_a_twin_arriving_late_makes_the_later_lead_the_duplicate(demo):
    org = demo.agreement.organization
    later = add_lead(org, "later", email="c@d.nl", events=[("handed_over", local(2026, 10, 8, 10), {})])
    earlier = add_lead(org, "earlier", email="C@D.NL", events=[("handed_over", local(2026, 10, 6, 10), {})])
    assert Lead.objects.get(pk=later.pk).duplicate_of_id == earlier.pk
    assert Lead.objects.get(pk=earlier.pk).duplicate_of_id is None


def test_a_lead_never_handed_over_makes_no_duplicate_and_a_mark_by_hand_stays(demo):
    org = demo.agreement.organization
    add_lead(org, "subscriber", email="e@f.nl", events=[("created", local(2026, 10, 1, 9), {})])
    mql = add_lead(org, "mql", email="e@f.nl", events=[("handed_over", local(2026, 10, 6, 10), {})])
    assert Lead.objects.get(pk=mql.pk).duplicate_of_id is None  # the first handoff of that person
    chosen = add_lead(org, "chosen", email="g@h.nl", events=[("created", local(2026, 10, 1, 9), {})])
    Lead.objects.filter(pk=mql.pk).update(duplicate_of=chosen)
    add_lead(org, "late", email="e@f.nl", events=[("handed_over", local(2026, 10, 2, 10), {})])
    assert Lead.objects.get(pk=mql.pk).duplicate_of_id == chosen.pk  # never overwritten


# --- pause kinds, end to end ----------------------------------------------------------------------------


def api(client: Client, token: str, path: str, body) -> tuple[int, dict]:
    response = client.post(
        path, data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    return response.status_code, response.json()


def test_a_pause_sent_through_the_api_moves_the_deadline_and_the_measurement(demo):
    version = paused_version(demo, now=local(2026, 10, 1, 0))
    org = demo.agreement.organization
    _, token = api_token_create(organization=org, name="crm", scope="write", actor="test")
    client = Client()
    for ext in ("paused", "plain"):
        lead = {
            "source": "crm", "external_id": ext, "email": f"{ext}@b.nl", "country": "NL", "consent": True,
            "score": 80, "name": ext, "company": "C", "trigger": "demo_request",
            "sales_owner": "julia.bos@example.com", "marketing_owner": "daan.bakker@example.com",
        }  # fmt: skip
        assert api(client, token, "/api/leads", lead)[0] == 201

    def ev(ext: str, kind: str, at: str, **kw):
        return {"source": "crm", "external_id": ext, "kind": kind, "occurred_at": at, **kw}

    # Monday 5 October (Amsterdam, 09:00-12:30 and 13:00-17:30): handed over at 9, waiting on the customer
    # from 9:15 to 11:15 (two business hours), called at 11:50 — 50 active minutes of a 60-minute window
    events = [
        ev("paused", "handed_over", "2026-10-05T09:00:00+02:00"),
        ev("paused", "waiting_on_customer", "2026-10-05T09:15:00+02:00"),
        ev("paused", "resumed", "2026-10-05T11:15:00+02:00"),
        ev("paused", "contact_attempt", "2026-10-05T11:50:00+02:00", human=True, channel="phone"),
        ev("plain", "handed_over", "2026-10-05T09:00:00+02:00"),
        ev("plain", "contact_attempt", "2026-10-05T11:50:00+02:00", human=True, channel="phone"),
    ]
    status, body = api(client, token, "/api/events/batch", {"events": events})
    assert status == 200, body
    paused, plain = (Lead.objects.get(sources__external_id=x) for x in ("paused", "plain"))
    shown = client.get(f"/api/leads/{paused.pk}", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    (check,) = shown["handoff_checks"]
    assert check["definitions"]["mql-high-intent"]["met"] is True and "(mql v1)" in check["definition"]

    # the clocks: the paused lead's deadline is two business hours later (10:00 → 12:00)
    passes = {p.commitment_key: p for p in clocks_compute(version=version, now=local(2026, 10, 5, 11, 30))}
    high = passes["first-attempt-high-intent"]
    due = dict(zip(high.lead_id.tolist(), high.frame.due_at.tolist(), strict=True))
    assert due[paused.pk] == dt.datetime(2026, 10, 5, 10)  # UTC: 12:00 in Amsterdam
    assert due[plain.pk] == dt.datetime(2026, 10, 5, 8)  # 10:00 in Amsterdam

    # leadpact measure: the paused lead is within its window, the other breached
    out = StringIO()
    call_command(
        "measure", "--period", "2026-10", "--format", "json", "--evidence", "--team", "sales",
        "--now", "2026-10-15T12:00:00+02:00", stdout=out,
    )  # fmt: skip
    rows = json.loads(out.getvalue())["measurements"]
    row = next(
        r for r in rows if r["commitment"] == "first-attempt-high-intent" and r["subject"].startswith("team")
    )
    assert row["evidence"]["counted"] == [paused.pk]
    assert row["evidence"]["breached"] == [plain.pk]
    assert row["figures"]["median_seconds"] is not None


def test_an_undeclared_kind_is_refused_naming_the_field_and_the_allowed_kinds(demo):
    paused_version(demo, now=local(2026, 10, 1, 0))
    org = demo.agreement.organization
    _, token = api_token_create(organization=org, name="crm", scope="write", actor="test")
    client = Client()
    lead = {"source": "crm", "external_id": "k", "email": "k@b.nl"}
    assert api(client, token, "/api/leads", lead)[0] == 201
    at = "2026-10-05T09:00:00+02:00"
    status, body = api(client, token, "/api/events", {**lead, "kind": "on_hold", "occurred_at": at})
    assert status == 422
    error = body["errors"][0]
    assert error["field"] == "kind" and "'on_hold'" in error["reason"]
    assert "waiting_on_customer" in error["reason"] and "resumed" in error["reason"]
    # the valid rest of a batch is stored
    batch = [
        {"source": "crm", "external_id": "k", "kind": kind, "occurred_at": at}
        for kind in ("waiting_on_customer", "Not A Kind", "on_hold", "resumed")
    ]
    status, body = api(client, token, "/api/events/batch", {"events": batch})
    assert status == 422
    assert sorted((e["index"], e["field"]) for e in body["errors"]) == [(1, "kind"), (2, "kind")]
    assert sorted(r["index"] for r in body["results"]) == [0, 3]
    assert sorted(Lead.objects.get(sources__external_id="k").events.values_list("kind", flat=True)) == [
        "resumed",
        "waiting_on_customer",
    ]


@pytest.mark.parametrize("size", [4, 60])
def test_duplicates_cost_two_reads_and_one_write_per_batch_whatever_its_size(demo, size):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from leadpact.connectors.records import EventRecord, LeadFields, LeadRecord
    from leadpact.leads._handoff import HandoffChecker
    from leadpact.leads.services import leads_store

    org = demo.agreement.organization
    at = local(2026, 10, 5, 10)
    firsts = [LeadRecord("api", f"f{i}", LeadFields(email=f"p{i}@b.nl"), at) for i in range(size)]
    twins = [LeadRecord("api", f"t{i}", LeadFields(email=f"P{i}@B.nl"), at) for i in range(size)]
    leads_store(
        organization=org,
        leads=firsts,
        events=[EventRecord("api", r.external_id, "handed_over", at) for r in firsts],
        now=at,
    )
    later = local(2026, 10, 6, 10)
    leads_store(organization=org, leads=twins, events=[], now=later)
    leads_store(
        organization=org,
        leads=[],
        events=[EventRecord("api", r.external_id, "handed_over", later) for r in twins],
        now=later,
    )
    twin_ids = Lead.objects.filter(sources__external_id__startswith="t")
    assert twin_ids.filter(duplicate_of__isnull=False).count() == size
    # a new batch over the same addresses: nothing left to mark, and never a query per lead
    Lead.objects.filter(pk__in=twin_ids).update(duplicate_of=None)
    checker = HandoffChecker(org)
    emails = dict(Lead.objects.filter(organization=org).values_list("id", "email"))
    with CaptureQueriesContext(connection) as queries:
        marked = checker.mark_duplicates(emails)
    assert marked == size
    assert len(queries) == 3  # the addresses shared, those leads' first handoffs, the marks
    # addresses nobody else has: the first read finds none shared, and nothing more is asked
    with CaptureQueriesContext(connection) as queries:
        assert checker.mark_duplicates({0: "nobody-else@example.nl", 1: "nor-this-one@example.nl"}) == 0
    assert len(queries) == 1
