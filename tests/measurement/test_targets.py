"""Every commitment of the active agreement has a target for every period, team and person — and the
database path gives exactly what the core arithmetic gives for the same organisation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from leadpact.audit.models import AuditEntry
from leadpact.core.agreement import agreement_load_yaml, agreement_template
from leadpact.core.allocation import Member, split_target
from leadpact.core.calendar import BusinessCalendar
from leadpact.core.periods import Period
from leadpact.core.targets import TargetRule
from leadpact.demo import demo_organisation
from leadpact.demo.services import demo_load
from leadpact.errors import ApplicationError
from leadpact.measurement.targets.selectors import commitment_targets, version_period_targets
from leadpact.measurement.targets.services import target_override_set
from leadpact.organization.models import Person


def test_every_commitment_has_a_target_for_every_month_team_and_person(demo):
    doc = agreement_load_yaml(agreement_template("en"))
    months = version_period_targets(version=demo, first=Period.parse("2026-01"), last=Period.parse("2026-12"))
    assert list(months) == [f"2026-{m:02d}" for m in range(1, 13)]
    for month, rows in months.items():
        period = Period.parse(month)
        assert [r.commitment.key for r in rows] == [c.key for c in doc.commitments]
        for row in rows:
            assert row.explanation.render("en") and row.explanation.render("nl")
            if row.commitment.split != "capacity":
                continue
            in_team = Person.objects.filter(team=row.team, start_date__lt=period.end).exclude(
                end_date__lte=period.start
            )
            assert sorted(p.person.pk for p in row.people) == sorted(in_team.values_list("pk", flat=True))
            if row.splits:
                assert sum(p.value for p in row.people) == row.value
            else:
                assert all(p.value == row.value for p in row.people)


def test_database_path_equals_core_arithmetic_on_the_demo_organisation(demo):
    period = Period.parse("2026-08")  # summer: leave, a part-timer and a starter in ramp
    doc = agreement_load_yaml(agreement_template("en"))
    commitment = doc.commitment("mql-volume")
    team_data = next(t for t in demo_organisation()["teams"] if t["key"] == commitment.owner)
    calendar = BusinessCalendar.from_spec(team_data["calendar"])
    rule = TargetRule.from_spec(
        {"value": commitment.target.value, "unit": "count", "per": commitment.target.per},
        calendar=calendar,
        basis=doc.settings.basis,
        normalisation=doc.settings.normalisation,
        start=doc.info.effective_from,
    )
    members = [Member.from_spec(p) for p in team_data["people"]]
    expected = split_target(rule, period, members, ramp=doc.settings.ramp).allocation.values()

    row = next(r for r in commitment_targets(version=demo, period=period) if r.commitment.key == "mql-volume")
    got = {p.person.email: p.value for p in row.people}
    assert got == expected
    assert row.value == sum(expected.values())


def test_percentage_targets_hold_for_everyone_alike(demo):
    rows = commitment_targets(version=demo, period=Period.parse("2026-02"))
    decision = next(r for r in rows if r.commitment.key == "mql-decision")
    assert decision.unit == "percent"
    assert not decision.splits
    assert all(p.value == decision.value for p in decision.people)
    assert "every person alike" in decision.explanation.render("en")
    assert "iedereen gelijk" in decision.explanation.render("nl")


def test_a_shorter_month_gets_a_smaller_fair_target(demo):
    feb, mar = (
        next(
            r
            for r in commitment_targets(version=demo, period=Period.parse(m))
            if r.commitment.key == "mql-volume"
        )
        for m in ("2026-02", "2026-03")
    )
    assert feb.basis_days == 20 and mar.basis_days == 22
    assert feb.value < mar.value
    assert feb.exact / feb.basis_days == mar.exact / mar.basis_days  # same rate per business day


def test_override_keeps_the_team_total_and_is_audited(demo):
    period = Period.parse("2026-10")
    before = next(
        r for r in commitment_targets(version=demo, period=period) if r.commitment.key == "mql-volume"
    )
    person = before.people[0].person
    entries = AuditEntry.objects.count()
    target_override_set(
        agreement=demo.agreement,
        commitment_key="mql-volume",
        period="2026-10",
        person=person,
        value=Decimal(100),
        reason="half of October on the trade fair",
        actor="test",
    )
    after = next(
        r for r in commitment_targets(version=demo, period=period) if r.commitment.key == "mql-volume"
    )
    mine = next(p for p in after.people if p.person == person)
    assert mine.value == 100 and mine.overridden
    assert "Set by hand to 100" in mine.explanation.render("en")
    assert sum(p.value for p in after.people) == after.value == before.value
    others_before = {p.person.pk: p.value for p in before.people if p.person != person}
    others_after = {p.person.pk: p.value for p in after.people if p.person != person}
    assert sum(others_after.values()) == sum(others_before.values()) + before.people[0].value - 100
    entry = AuditEntry.objects.order_by("-id").first()
    assert AuditEntry.objects.count() == entries + 1
    assert entry.action == "target.override"
    assert entry.after["value"] == "100" and entry.after["reason"] == "half of October on the trade fair"


@pytest.mark.parametrize(
    ("period", "value", "reason", "code"),
    [
        ("2026-13", Decimal(1), "why", "target_override.period"),
        ("2026-10", Decimal(1), "  ", "target_override.reason"),
        ("2026-10", Decimal(-1), "why", "target_override.value"),
    ],
)
def test_override_refuses_bad_input_and_writes_nothing(demo, period, value, reason, code):
    person = Person.objects.filter(team__key="marketing").first()
    entries = AuditEntry.objects.count()
    with pytest.raises(ApplicationError) as error:
        target_override_set(
            agreement=demo.agreement,
            commitment_key="mql-volume",
            period=period,
            person=person,
            value=value,
            reason=reason,
            actor="test",
        )
    assert error.value.code == code
    assert AuditEntry.objects.count() == entries


def test_demo_load_twice_changes_nothing(demo):
    people, entries = Person.objects.count(), AuditEntry.objects.count()
    summary = demo_load(with_leads=False)
    assert "(0 new)" in summary and "active" in summary
    assert (Person.objects.count(), AuditEntry.objects.count()) == (people, entries)


def test_demo_agreement_is_in_force_from_its_effective_date(demo):
    from leadpact.agreements.selectors import agreement_version_at

    ams = dt.timezone(dt.timedelta(hours=1))
    assert (
        agreement_version_at(agreement=demo.agreement, instant=dt.datetime(2026, 1, 1, 0, 0, tzinfo=ams))
        == demo
    )
    assert (
        agreement_version_at(agreement=demo.agreement, instant=dt.datetime(2025, 12, 31, 23, 0, tzinfo=ams))
        is None
    )
