"""Disputes take upheld leads out of marketing's count; closed periods keep their numbers until restated."""

from __future__ import annotations

import pytest

from leadpact.audit.models import AuditEntry
from leadpact.errors import ApplicationError
from leadpact.measurement.closing import period_close, restatement_accept
from leadpact.measurement.disputes import dispute_decide, dispute_detail, dispute_open
from leadpact.measurement.measure import measure
from leadpact.measurement.models import Restatement
from leadpact.organization.models import Team
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
    b = add_lead(org, "late", events=[("handed_over", local(2026, 10, 30, 15), {})])
    later = volume(measure(version=demo, period="2026-10", now=local(2026, 11, 4, 9)))
    assert later.closed and later.actual == 1 and later.evidence["counted"].tolist() == [a.pk]
    restatement = Restatement.objects.get(pk=later.restatement_id)
    diff = {(d["commitment"], d["subject"], d["field"]): d for d in restatement.differences}
    team_key = ("mql-volume", later.subject, "actual")
    assert (diff[team_key]["stored"], diff[team_key]["recomputed"]) == ("1", "2")
    again = volume(measure(version=demo, period="2026-10", now=local(2026, 11, 4, 10)))
    assert again.restatement_id == restatement.pk  # the same difference is one restatement
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
    # time passing is data too: the pending clock breaches, and that is a new restatement
    noon = measure(version=demo, period="2026-10", now=local(2026, 11, 5, 9))
    assert volume(noon).restatement_id not in (None, restatement.pk)
