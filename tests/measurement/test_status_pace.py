"""The scorecard's truth: the target line for expected-to-date, statuses at their edges, people who left."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.management import call_command

from leadpact.agreements.services import agreement_export, agreement_import
from leadpact.core.pacing import pace_target
from leadpact.core.periods import Period
from leadpact.measurement.scorecard.selectors import measure, measure_evidence
from leadpact.measurement.targets.selectors import commitment_targets
from leadpact.organization.models import Person, Team
from tests.agreements.helpers import sign_all
from tests.measurement.scene import add_lead, local, person

pytestmark = pytest.mark.django_db


def by(results, key, kind="team", pk=None):
    return next(
        r
        for r in results
        if r.commitment_key == key and r.subject_kind == kind and (pk is None or r.subject_id == pk)
    )


@pytest.fixture
def from_16_feb(demo):
    """Version 2 of the demo agreement, effective from Monday 16 February 2026."""
    text = agreement_export(version=demo).replace("effective_from: 2026-01-01", "effective_from: 2026-02-16")
    assert "2026-02-16" in text
    org = demo.agreement.organization
    version = agreement_import(organization=org, yaml_text=text, actor="test", now=local(2026, 1, 20, 9))
    leads = tuple(Person.objects.filter(team__key__in=["marketing", "sales"], role="lead").order_by("pk"))
    return sign_all(version, leads, local(2026, 1, 20, 9))  # in force from its effective date


def test_before_the_agreement_is_in_force_nothing_is_expected_and_the_status_says_so(from_16_feb):
    org = from_16_feb.agreement.organization
    add_lead(org, "early", events=[("handed_over", local(2026, 2, 10, 10), {})])
    on_11th = measure(
        version=from_16_feb, period="2026-02", now=dt.datetime.fromisoformat("2026-02-11T12:00+01:00")
    )
    volume = by(on_11th, "mql-volume")
    assert volume.status == "not_in_force" and volume.pace is None
    assert volume.expected_to_date == 0 and volume.elapsed == 0
    assert volume.actual == 0  # the lead of the 10th was handed over before the agreement: not counted
    assert {r.status for r in on_11th} == {"not_in_force"}
    # the target counts only the days in force: 10 of February's 20 business days
    full = commitment_targets(version=from_16_feb, period=Period.parse("2026-03"))[0]
    assert 0 < volume.target < full.value * Decimal("0.6")


def test_a_month_before_the_agreement_is_not_in_force_not_zero_of_zero_met(from_16_feb):
    january = measure(version=from_16_feb, period="2026-01", now=local(2026, 3, 1, 12))
    assert january and {r.status for r in january} == {"not_in_force"}
    assert all(r.actual is None and r.sample_size == 0 and r.pace is None for r in january)


def test_expected_to_date_follows_the_target_line_of_core_pacing(from_16_feb):
    now = local(2026, 2, 18, 13, 0)
    results = measure(version=from_16_feb, period="2026-02", now=now)
    volume = by(results, "mql-volume")
    rule = commitment_targets(version=from_16_feb, period=Period.parse("2026-02"))[0].rule
    line = pace_target(rule, Period.parse("2026-02"), now=now, actual=0)
    assert line.elapsed > 0
    assert volume.elapsed == Decimal(line.elapsed.numerator) / Decimal(line.elapsed.denominator)
    exact = Fraction(volume.target) * line.elapsed
    assert abs(Fraction(volume.expected_to_date) - exact) < Fraction(1, 10**20)
    # two and a half business days of ten: a quarter of the line, not 18 of 28 calendar days
    assert volume.elapsed < Decimal("0.3")
    assert volume.status in ("behind", "at_risk") and volume.pace == 0
    assert volume.projected == 0 and volume.remaining == volume.target


def test_a_person_s_line_is_their_capacity_not_the_team_s(demo):
    """Fleur (0.8 FTE, Mon, Tue, Thu, Fri) has nothing expected on a Wednesday she does not work."""
    fleur = person("fleur")
    tue = by(
        measure(version=demo, period="2026-10", now=local(2026, 10, 7, 0, 0)),
        "mql-volume",
        "person",
        fleur.pk,
    )
    wed = by(
        measure(version=demo, period="2026-10", now=local(2026, 10, 8, 0, 0)),
        "mql-volume",
        "person",
        fleur.pk,
    )
    assert tue.expected_to_date == wed.expected_to_date > 0
    team_tue = by(measure(version=demo, period="2026-10", now=local(2026, 10, 7, 0, 0)), "mql-volume")
    team_wed = by(measure(version=demo, period="2026-10", now=local(2026, 10, 8, 0, 0)), "mql-volume")
    assert team_wed.expected_to_date > team_tue.expected_to_date


def test_met_behind_and_cannot_be_met_on_the_scorecard(demo):
    org = demo.agreement.organization
    for i in range(21):
        add_lead(
            org,
            f"h{i}",
            campaign="" if i == 0 else "x",
            events=[("handed_over", local(2026, 10, 1, 10, i), {})],
        )
    on_the_3rd = measure(version=demo, period="2026-10", now=local(2026, 10, 3, 12))
    handoff = by(on_the_3rd, "handoff-data")
    assert handoff.actual == Decimal(2000) / 21 and handoff.status == "cannot_be_met"
    assert handoff.pace == handoff.attainment
    after = measure(version=demo, period="2026-10", now=local(2026, 11, 2, 12))
    assert by(after, "handoff-data").status == "breached"


def test_measure_json_gains_pace_and_its_words(demo):
    org = demo.agreement.organization
    add_lead(org, "a", events=[("handed_over", local(2026, 10, 5, 10), {})])
    out = io.StringIO()
    call_command(
        "measure", "--period", "2026-10", "--now", "2026-10-14T12:00+02:00", "--format", "json", stdout=out
    )
    rows = json.loads(out.getvalue())["measurements"]
    volume = next(r for r in rows if r["commitment"] == "mql-volume" and r["subject"].startswith("team:"))
    assert Decimal(volume["pace"]) == Decimal(volume["actual"]) / Decimal(volume["expected_to_date"])
    assert Decimal(volume["remaining"]) == Decimal(volume["target"]) - 1
    assert 0 < Decimal(volume["elapsed"]) < 1 and volume["currency"] == ""
    pipeline = next(r for r in rows if r["commitment"] == "pipeline" and r["subject"].startswith("team:"))
    assert pipeline["currency"] == "EUR" and pipeline["pace"] == "0"


def test_leads_of_people_outside_their_working_dates_have_their_own_row_and_count_in_the_team(demo):
    """Thijs left on 1 June; Yara starts on 14 September. Their leads from outside those dates are
    nobody's in post: the team counts them, their own rows do not, a row of their own shows them."""
    org = demo.agreement.organization
    sales = Team.objects.get(key="sales")
    thijs, yara, julia = person("thijs"), person("yara"), person("julia")
    events = [
        ("handed_over", local(2026, 9, 8, 10), {}),
        ("opportunity", local(2026, 9, 9, 10), {"amount": "100"}),
    ]
    add_lead(org, "gone", rep="thijs.vos@example.com", events=events)
    add_lead(org, "early", rep="yara.vandijk@example.com", events=events)
    add_lead(org, "ok", rep="julia.bos@example.com", events=events)
    add_lead(org, "in-post", rep="yara.vandijk@example.com", events=[
        ("handed_over", local(2026, 9, 15, 10), {}), ("opportunity", local(2026, 9, 16, 10), {"amount": "7"}),
    ])  # fmt: skip
    results = measure(version=demo, period="2026-09", now=local(2026, 10, 2, 12))
    team = by(results, "pipeline")
    outside = by(results, "pipeline", "outside")
    assert team.actual == 307 and outside.actual == 200
    assert by(results, "pipeline", "person", yara.pk).actual == 7
    assert by(results, "pipeline", "person", julia.pk).actual == 100
    assert not [r for r in results if r.subject_kind == "person" and r.subject_id == thijs.pk]
    assert (outside.subject, outside.status, outside.attainment) == (f"outside:{sales.pk}", "no_target", None)
    people = [r.actual for r in results if r.commitment_key == "pipeline" and r.subject_kind == "person"]
    assert sum(people) + outside.actual == team.actual
    # the decision clocks too: the team counts all four leads (none decided), the row outside two
    assert by(results, "mql-decision").sample_size == 4
    assert sorted(by(results, "mql-decision", "outside").evidence_ids()["breached"]) == sorted(
        int(i) for i in outside.evidence["counted"]
    )
    found = measure_evidence(
        version=demo, period=Period.parse("2026-09"), commitment_key="pipeline",
        subject=f"outside:{sales.pk}", now=local(2026, 10, 2, 12),
    )  # fmt: skip
    assert found is not None
    assert {lead.pk for lead in found[1][0].leads} == {int(i) for i in outside.evidence["counted"]}


def test_the_accountability_map_has_every_team_and_loses_people_on_their_end_date(demo):
    from leadpact.measurement.accountability.selectors import (
        accountability_map,
        accountability_people,
        accountability_person_find,
    )

    thijs, noah = person("thijs"), person("noah")
    before = accountability_people(version=demo, on=dt.date(2026, 5, 31))
    after = accountability_people(version=demo, on=dt.date(2026, 6, 1))
    assert thijs in before and thijs not in after
    assert {p.team.key for p in after} == {"marketing", "sdr", "sales"}
    assert accountability_person_find(version=demo, pk=thijs.pk, on=dt.date(2026, 6, 1)) is None
    assert accountability_person_find(version=demo, pk=noah.pk, on=dt.date(2026, 6, 1)) == noah
    # sales development is no party: it owns nothing and depends on what is owed to sales
    sdr = accountability_map(person=noah, version=demo, period=Period.parse("2026-10"))
    assert sdr.owns == ()
    assert {o.key for o in sdr.depends_on} == {"mql-volume", "handoff-data", "acceptance-rate"}


def test_every_status_has_words():
    from leadpact.measurement.scorecard.results import STATUS_LABELS, STATUSES

    assert set(STATUS_LABELS) == set(STATUSES)
    assert str(STATUS_LABELS["cannot_be_met"]) == "cannot be met any more"
