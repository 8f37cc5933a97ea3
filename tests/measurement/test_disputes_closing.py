"""Disputes take upheld leads out of marketing's count; closed periods keep their numbers until restated."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadpact.audit.models import AuditEntry
from leadpact.errors import ApplicationError
from leadpact.measurement.closing.services import period_close, restatement_accept, restatement_record
from leadpact.measurement.disputes.selectors import dispute_detail
from leadpact.measurement.disputes.services import dispute_decide, dispute_open
from leadpact.measurement.models import ClosedMeasurement, ClosedPeriod, Restatement
from leadpact.measurement.scorecard.selectors import measure
from leadpact.organization.models import Team
from tests.conftest import member_client
from tests.measurement.scene import add_lead, local, person

pytestmark = pytest.mark.django_db


def volume(results):
    return next(r for r in results if r.commitment_key == "mql-volume" and r.subject_kind == "team")


def test_an_upheld_dispute_leaves_the_count_and_a_rejected_one_does_not(demo):
    org = demo.agreement.organization
    a = add_lead(org, "a", events=[("handed_over", local(2026, 10, 5, 10), {})])
    b = add_lead(org, "b", events=[("handed_over", local(2026, 10, 5, 11), {})])
    julia, bram, sanne, daan = person("julia"), person("bram"), person("sanne"), person("daan")
    now = local(2026, 10, 6, 12)
    d1 = dispute_open(
        lead=a, commitment_key="mql-volume", opened_by=julia, reason="student, not a buyer", now=now
    )
    d2 = dispute_open(lead=b, commitment_key="mql-volume", opened_by=julia, reason="duplicate", now=now)
    with pytest.raises(ApplicationError, match="open dispute"):
        dispute_open(lead=a, commitment_key="mql-volume", opened_by=julia, reason="again", now=now)
    with pytest.raises(ApplicationError, match="not in a sales party"):
        dispute_open(lead=a, commitment_key="handoff-data", opened_by=daan, reason="x", now=now)
    with pytest.raises(ApplicationError, match="only a team lead"):
        dispute_decide(dispute=d1, decided_by=julia, status="upheld", now=now)
    detail = dispute_detail(d1)
    assert detail.check is not None and detail.check.met and detail.dispute.definition_version.key == "mql"
    dispute_decide(dispute=d1, decided_by=sanne, status="upheld", note="agreed", now=now)
    dispute_decide(dispute=d2, decided_by=bram, status="rejected", now=now)
    team = volume(measure(version=demo, period="2026-10", now=now))
    assert team.evidence["counted"].tolist() == [b.pk]
    assert team.evidence["excluded_disputed"].tolist() == [a.pk]
    assert AuditEntry.objects.filter(action__startswith="dispute.").count() == 4


def test_a_late_event_restates_a_closed_period_until_a_party_lead_accepts(demo):
    org = demo.agreement.organization
    a = add_lead(org, "a", events=[("handed_over", local(2026, 10, 5, 10), {})])
    sanne, julia = person("sanne"), person("julia")
    closed_at = local(2026, 11, 2, 9)
    with pytest.raises(ApplicationError, match="not the lead"):
        period_close(version=demo, period="2026-10", actor=julia, now=closed_at)
    period_close(version=demo, period="2026-10", actor=sanne, now=closed_at)
    with pytest.raises(ApplicationError, match="closed already"):
        period_close(version=demo, period="2026-10", actor=sanne, now=closed_at)
    same = volume(measure(version=demo, period="2026-10", now=local(2026, 11, 3, 9)))
    assert same.closed and same.restatement_id is None and same.actual == 1

    # a handoff in October that arrives in November
    # a standard MQL (no demo or pricing request): first-attempt-standard's 24-hour clock measures it
    b = add_lead(org, "late", trigger="webinar", events=[("handed_over", local(2026, 10, 30, 15), {})])
    later = volume(measure(version=demo, period="2026-10", now=local(2026, 11, 4, 9)))
    assert later.closed and later.actual == 1 and later.evidence["counted"].tolist() == [a.pk]
    # reading writes nothing: the explicit action records the difference
    assert later.restatement_id is None and not Restatement.objects.exists()
    recorded = restatement_record(version=demo, period="2026-10", now=local(2026, 11, 4, 9))
    later = volume(measure(version=demo, period="2026-10", now=local(2026, 11, 4, 9)))
    restatement = Restatement.objects.get(pk=later.restatement_id)
    assert restatement == recorded
    diff = {(d["commitment"], d["subject"], d["field"]): d for d in restatement.differences}
    team_key = ("mql-volume", later.subject, "actual")
    assert (diff[team_key]["stored"], diff[team_key]["recomputed"]) == ("1", "2")
    again = restatement_record(version=demo, period="2026-10", now=local(2026, 11, 4, 10))
    assert again == restatement  # the same difference is one restatement
    marketing = Team.objects.get(key="marketing")
    part = volume(measure(version=demo, period="2026-10", subject=marketing, now=local(2026, 11, 4, 10)))
    assert (part.actual, part.restatement_id) == (1, restatement.pk)  # a part shows, never restates
    assert Restatement.objects.count() == 1

    with pytest.raises(ApplicationError, match="not the lead"):
        restatement_accept(restatement=restatement, person=julia, now=local(2026, 11, 5, 9))
    restatement_accept(restatement=restatement, person=sanne, now=local(2026, 11, 4, 10, 15))
    # (measured before lead b's 24-hour first-attempt clock runs out on 4 November at noon)
    after = volume(measure(version=demo, period="2026-10", now=local(2026, 11, 4, 10, 30)))
    assert after.actual == 2 and sorted(after.evidence["counted"].tolist()) == sorted([a.pk, b.pk])
    assert after.restatement_id is None, Restatement.objects.get(pk=after.restatement_id).differences
    assert AuditEntry.objects.filter(action__in=["period.close", "restatement.accept"]).count() == 2
    # time passing is data too: the pending clock breaches, and that is a new restatement once recorded
    noon = local(2026, 11, 5, 9)
    assert volume(measure(version=demo, period="2026-10", now=noon)).restatement_id is None
    newer = restatement_record(version=demo, period="2026-10", now=noon)
    assert newer is not None and newer.pk != restatement.pk
    assert volume(measure(version=demo, period="2026-10", now=noon)).restatement_id == newer.pk


def _rows() -> tuple[int, int, int]:
    return Restatement.objects.count(), ClosedPeriod.objects.count(), ClosedMeasurement.objects.count()


def test_a_get_of_a_closed_period_with_a_late_event_writes_nothing_yet_shows_the_difference(demo):
    org = demo.agreement.organization
    add_lead(org, "a", events=[("handed_over", local(2026, 10, 5, 10), {})])
    period_close(version=demo, period="2026-10", actor=person("sanne"), now=local(2026, 11, 2, 9))
    add_lead(org, "late", trigger="webinar", events=[("handed_over", local(2026, 10, 30, 15), {})])
    client = member_client(org, person=person("sanne"))  # a party lead: the page offers to record it
    marketing = Team.objects.get(key="marketing")

    before = _rows()
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/measure/?period=2026-10")
        client.get(f"/measure/evidence/?commitment=mql-volume&period=2026-10&subject=team:{marketing.pk}")
        call_command("measure", "--period", "2026-10", stdout=io.StringIO())
    assert page.status_code == 200
    assert _rows() == before and before[:2] == (0, 1)
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE")
    ]
    assert not [w for w in writes if "measurement_" in w], writes
    section = page.content.decode().split('id="restatement"')[1].split("</section>")[0]
    row = f'<td>{marketing.name}</td><td>actual</td><td class="num">1</td><td class="num">2</td>'
    assert row in section  # stored 1, recomputed 2, computed on the fly
    assert "Record as a restatement" in section

    # the button: a POST records it, once; the page then names it
    response = client.post("/measure/?period=2026-10")
    assert response.status_code == 302 and response["Location"] == "/measure/?period=2026-10"
    client.post("/measure/?period=2026-10")
    assert Restatement.objects.filter(status="pending").count() == Restatement.objects.count() == 1
    html = client.get("/measure/?period=2026-10").content.decode()
    assert "a restatement awaits a party lead" in html and "Record as a restatement" not in html


def test_only_a_party_lead_records_a_restatement_from_the_page(demo):
    org = demo.agreement.organization
    add_lead(org, "a", events=[("handed_over", local(2026, 10, 5, 10), {})])
    period_close(version=demo, period="2026-10", actor=person("sanne"), now=local(2026, 11, 2, 9))
    add_lead(org, "late", trigger="webinar", events=[("handed_over", local(2026, 10, 30, 15), {})])
    member = member_client(org, username="member")
    assert "Record as a restatement" not in member.get("/measure/?period=2026-10").content.decode()
    assert member.post("/measure/?period=2026-10").status_code == 403
    assert Restatement.objects.count() == 0


def test_close_period_restate_records_the_difference_and_says_so(demo):
    org = demo.agreement.organization
    add_lead(org, "a", events=[("handed_over", local(2026, 10, 5, 10), {})])
    sanne = person("sanne").email
    out = io.StringIO()
    call_command("close_period", "--period", "2026-11", "--by", sanne, "--restate", stdout=out)
    assert "nothing to restate" in out.getvalue()  # November is not closed
    call_command("close_period", "--period", "2026-10", "--by", sanne, stdout=io.StringIO())
    add_lead(org, "late", trigger="webinar", events=[("handed_over", local(2026, 10, 30, 15), {})])
    assert not Restatement.objects.exists()
    out = io.StringIO()
    call_command("close_period", "--period", "2026-10", "--by", sanne, "--restate", stdout=out)
    pending = Restatement.objects.get(status="pending")
    assert f"restatement {pending.pk} pending" in out.getvalue()


def test_the_worker_records_a_closed_periods_late_data_once(demo):
    """Late data reaches a party lead without anyone opening the page: the worker records it."""
    org = demo.agreement.organization
    add_lead(org, "a", events=[("handed_over", local(2026, 10, 5, 10), {})])
    period_close(version=demo, period="2026-10", actor=person("sanne"), now=local(2026, 11, 2, 9))

    def worker(at):
        out = io.StringIO()
        call_command("worker", "--once", "--now", at.isoformat(), stdout=out)
        return out.getvalue()

    assert "restatements pending 0" in worker(local(2026, 11, 3, 9))
    assert not Restatement.objects.exists()
    add_lead(org, "late", trigger="webinar", events=[("handed_over", local(2026, 10, 30, 15), {})])
    assert "restatements pending 1" in worker(local(2026, 11, 4, 9))
    assert "restatements pending 1" in worker(local(2026, 11, 4, 9))  # the same difference: the same one
    restatement = Restatement.objects.get()
    assert restatement.status == Restatement.Status.PENDING
    moved = [
        (d["stored"], d["recomputed"])
        for d in restatement.differences
        if (d["commitment"], d["field"]) == ("mql-volume", "actual")
    ]
    assert ("1", "2") in moved  # the team's volume: the late handoff
