"""What the charts read: a commitment's trend over periods, and its pacing day by day in one period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from leadpact.measurement.closing.services import period_close
from leadpact.measurement.scorecard.selectors import measure, measure_pacing, measure_trend
from leadpact.organization.models import Team
from tests.measurement.scene import add_lead, local, person

pytestmark = pytest.mark.django_db


def team_row(results, key):
    return next(r for r in results if r.commitment_key == key and r.subject_kind == "team")


@pytest.fixture
def traffic(demo):
    """Handoffs on a few days of September and October (Daan markets, Julia sells)."""
    org = demo.agreement.organization
    days = [(9, 14), (9, 15), (9, 15), (10, 1), (10, 2), (10, 2), (10, 5), (10, 6)]
    for i, (month, day) in enumerate(days):
        add_lead(org, f"t{i}", events=[("handed_over", local(2026, month, day, 10), {})])
    return demo


def test_the_trend_is_each_period_s_figure_oldest_first(traffic):
    marketing = Team.objects.get(key="marketing")
    now = local(2026, 10, 7, 12)
    trend = measure_trend(
        version=traffic, commitment_key="mql-volume", subject=f"team:{marketing.pk}", last="2026-10", now=now
    )
    assert [p.period for p in trend] == [f"2025-{m:02d}" for m in (11, 12)] + [
        f"2026-{m:02d}" for m in range(1, 11)
    ]
    assert [p.actual for p in trend[-3:]] == [0, 3, 5]
    for point in trend[-3:]:
        alone = team_row(measure(version=traffic, period=point.period, now=now), "mql-volume")
        assert (point.actual, point.target, point.status) == (alone.actual, alone.target, alone.status)
    assert trend[0].status == "not_in_force"  # the demo agreement runs from January 2026
    person_trend = measure_trend(
        version=traffic, commitment_key="mql-volume", subject=f"person:{person('daan').pk}", last="2026-10",
        now=now, count=2,
    )  # fmt: skip
    assert [p.actual for p in person_trend] == [3, 5]
    unknown = measure_trend(
        version=traffic, commitment_key="mql-volume", subject="team:0", last="2026-10", now=now
    )
    assert all(p.result is None for p in unknown)


def test_a_closed_period_in_the_trend_is_its_stored_figure(traffic):
    marketing = Team.objects.get(key="marketing")
    period_close(version=traffic, period="2026-09", actor=person("sanne"), now=local(2026, 10, 1, 9))
    add_lead(traffic.agreement.organization, "late", events=[("handed_over", local(2026, 9, 30, 10), {})])
    trend = measure_trend(
        version=traffic, commitment_key="mql-volume", subject=f"team:{marketing.pk}", last="2026-10",
        now=local(2026, 10, 7, 12), count=2,
    )  # fmt: skip
    assert trend[0].result.closed and trend[0].actual == 3  # the late lead shows as a restatement, not here
    assert not trend[1].result.closed


def test_the_pacing_series_is_the_figure_at_each_day_s_end_against_the_target_line(traffic):
    marketing = Team.objects.get(key="marketing")
    now = local(2026, 10, 5, 15)
    series = measure_pacing(
        version=traffic,
        period="2026-10",
        commitment_key="mql-volume",
        subject=f"team:{marketing.pk}",
        now=now,
    )
    days = {d.day.day: d for d in series.days}
    assert len(series.days) == 31
    assert [days[n].actual for n in range(1, 6)] == [1, 3, 3, 3, 4]  # the 6th's lead is after now
    assert all(days[n].actual is None for n in range(6, 32))
    assert series.result.actual == days[5].actual == 4
    assert not days[3].basis and not days[4].basis and days[5].basis  # a weekend carries no target
    assert days[3].expected == days[4].expected == days[2].expected
    assert days[31].expected == series.result.target
    assert days[1].expected < days[2].expected < series.result.target
    # expected up to now is the scorecard's own: between the 2nd's end and the 5th's end
    assert days[2].expected < series.result.expected_to_date < days[5].expected


def test_a_percentage_s_pacing_line_is_its_target(traffic):
    sales = Team.objects.get(key="sales")
    series = measure_pacing(
        version=traffic, period="2026-10", commitment_key="mql-decision", subject=f"team:{sales.pk}",
        now=local(2026, 10, 20, 12),
    )  # fmt: skip
    assert {d.expected for d in series.days} == {Decimal(100)}
    assert series.days[0].actual is None or series.days[0].actual >= 0
    assert measure_pacing(
        version=traffic, period="2026-10", commitment_key="no-such", subject=f"team:{sales.pk}",
        now=local(2026, 10, 20, 12),
    ) is None  # fmt: skip


def test_pacing_before_the_period_has_no_actuals(traffic):
    marketing = Team.objects.get(key="marketing")
    series = measure_pacing(
        version=traffic, period="2026-11", commitment_key="mql-volume", subject=f"team:{marketing.pk}",
        now=dt.datetime(2026, 10, 20, tzinfo=dt.UTC),
    )  # fmt: skip
    assert series.days and all(d.actual is None for d in series.days)
    assert series.result.expected_to_date == 0
