"""measure(): every commitment × period × subject, with evidence that is exactly the counted leads."""

from __future__ import annotations

from decimal import Decimal

import pytest

from leadpact.measurement.scorecard.results import result_data
from leadpact.measurement.scorecard.selectors import measure, measure_periods
from leadpact.organization.models import Team
from tests.measurement.scene import add_lead, local, person

pytestmark = pytest.mark.django_db


def by(results, key, subject=None):
    rows = [r for r in results if r.commitment_key == key]
    if subject is None:
        return next(r for r in rows if r.subject_kind == "team")
    return next(r for r in rows if r.subject_kind == "person" and r.subject_id == subject.pk)


def test_volume_counts_the_leads_that_met_the_definition_and_says_why_the_others_did_not(demo):
    org = demo.agreement.organization
    daan, fleur = person("daan"), person("fleur")
    ok = add_lead(org, "ok", events=[("handed_over", local(2026, 10, 5, 10), {})])
    ok2 = add_lead(
        org, "ok2", marketer="fleur.jansen@example.com", events=[("handed_over", local(2026, 10, 6, 10), {})]
    )
    bad = add_lead(org, "bad", country="DE", events=[("handed_over", local(2026, 10, 7, 10), {})])
    add_lead(org, "sept", events=[("handed_over", local(2026, 9, 30, 10), {})])
    results = measure(version=demo, period="2026-10", now=local(2026, 10, 15, 12))
    team = by(results, "mql-volume")
    assert team.actual == 2
    assert sorted(team.evidence["counted"].tolist()) == sorted([ok.pk, ok2.pk])
    assert team.evidence["excluded_definition"].tolist() == [bad.pk]
    assert by(results, "mql-volume", daan).evidence["counted"].tolist() == [ok.pk]
    assert by(results, "mql-volume", fleur).actual == 1
    assert team.agreement_version == demo.number
    assert set(team.definition_versions) == {"mql"}
    assert team.target > 0 and Decimal(0) < team.expected_to_date < team.target
    assert team.status in ("behind", "at_risk")
    data = result_data(team)
    assert data["evidence"]["counted"] == team.evidence["counted"].tolist()
    # every person of the owner team has a row, every commitment a team row
    assert {r.commitment_key for r in results if r.subject_kind == "team"} == {
        "mql-volume",
        "handoff-data",
        "acceptance-rate",
        "mql-decision",
        "first-attempt-high-intent",
        "first-attempt-standard",
        "contact-attempts",
        "feedback",
        "mql-to-sql",
        "pipeline",
        "won-revenue",
    }


def test_subject_narrows_and_percentages_below_min_sample_say_not_enough_data(demo):
    org = demo.agreement.organization
    add_lead(
        org,
        "a",
        events=[("handed_over", local(2026, 10, 5, 10), {}), ("accepted", local(2026, 10, 5, 11), {})],
    )
    sales = Team.objects.get(key="sales")
    results = measure(version=demo, period="2026-10", subject=sales, now=local(2026, 10, 15, 12))
    assert {r.commitment_key for r in results} <= {
        "mql-decision",
        "first-attempt-high-intent",
        "first-attempt-standard",
        "contact-attempts",
        "feedback",
        "mql-to-sql",
        "pipeline",
        "won-revenue",
    }
    decision = by(results, "mql-decision")
    assert decision.sample_size == 1 and decision.status == "not_enough_data"
    julia = person("julia")
    mine = measure(version=demo, period="2026-10", subject=julia, now=local(2026, 10, 15, 12))
    assert {r.subject_id for r in mine} == {julia.pk}


def test_a_months_amounts_count_its_events_whatever_else_is_measured_with_it(demo):
    """An opportunity in October of a lead handed over in September is October's pipeline: the same
    figure whether October is measured alone or with September (it once depended on that)."""
    org = demo.agreement.organization
    add_lead(
        org,
        "sept",
        events=[
            ("handed_over", local(2026, 9, 28, 10), {}),
            ("accepted", local(2026, 9, 28, 11), {}),
            ("opportunity", local(2026, 10, 2, 10), {"amount": "1500.50"}),
            ("won", local(2026, 10, 20, 10), {"amount": "1500.50"}),
        ],
    )
    add_lead(
        org,
        "oct",
        events=[
            ("handed_over", local(2026, 10, 5, 10), {}),
            ("opportunity", local(2026, 10, 6, 10), {"amount": "99"}),
        ],
    )
    now = local(2026, 11, 2, 12)
    alone = measure(version=demo, period="2026-10", now=now)
    together = measure_periods(version=demo, periods=["2026-09", "2026-10"], now=now)
    for key, expected in (("pipeline", Decimal("1599.50")), ("won-revenue", Decimal("1500.50"))):
        assert by(alone, key).actual == by(together["2026-10"], key).actual == expected
        assert by(alone, key, person("julia")).actual == expected
    assert by(together["2026-09"], "pipeline").actual == 0
    # the cohort figures still count only the month's handoffs
    assert by(alone, "mql-volume").actual == 1
