"""The demo's money is in the scale of its own agreement: pipeline and won revenue near their targets."""

from __future__ import annotations

import datetime as dt

import pytest

from leadpact.agreements.models import AgreementVersion
from leadpact.demo.services import demo_load
from leadpact.measurement.scorecard.selectors import measure_periods

NOW = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_the_demo_s_amounts_are_in_the_scale_of_its_targets():
    """Pipeline once showed 830% (one rep 4220%): the demo drew deals of EUR 4,000-60,000 against an
    agreement whose EUR 360k pipeline and 120k won a month imply deals of about EUR 2,000 at its rates."""
    demo_load(now=NOW)
    version = AgreementVersion.objects.get(status="active")
    months = measure_periods(version=version, periods=["2026-02", "2026-03"], now=NOW)
    for month, results in months.items():
        for key in ("pipeline", "won-revenue"):
            team = next(r for r in results if r.commitment_key == key and r.subject_kind == "team")
            assert team.unit == "amount" and team.currency == "EUR"
            assert 0.5 < team.attainment < 1.6, (month, key, team.actual, team.target)
