"""A weekly review series on the demo agreement, and a few leads in October 2026."""

from __future__ import annotations

import datetime as dt

import pytest

from leadpact.reviews.services import series_create
from tests.measurement.scene import add_lead, local


@pytest.fixture
def series(demo):
    return series_create(
        agreement=demo.agreement,
        key="weekly",
        name="Weekly operating review",
        rrule="FREQ=WEEKLY;BYDAY=MO",
        starts_on=dt.date(2026, 1, 5),
        time=dt.time(10, 0),
        actor="test",
        now=local(2026, 1, 1, 9),
    )


def october_leads(org, n: int = 4) -> list:
    """``n`` leads handed over in October 2026; every other one rejected as not ICP."""
    leads = []
    for i in range(n):
        day = local(2026, 10, 5 + i, 10)
        events = [("handed_over", day, {}), ("assigned", day + dt.timedelta(minutes=5), {})]
        if i % 2:
            events.append(("rejected", day + dt.timedelta(hours=2), {"reason_code": "not_icp"}))
        else:
            events.append(("accepted", day + dt.timedelta(hours=2), {}))
        leads.append(
            add_lead(org, f"oct{i}", name=f"Lead {i}", source="webinar", campaign="w-26", events=events)
        )
    return leads
