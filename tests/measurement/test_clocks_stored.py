"""A clock pass compares the new clocks with the stored rows read as integers (``clocks._stored``): the
read equals the ORM's values, an unchanged pass writes nothing, and a row that differs in any compared
column — started, due, stopped (set or not), level, state, owner — is written again."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from leadpact.measurement.clocks.services import _NAT, _STATE, _stored, clocks_update
from leadpact.measurement.models import LeadClock
from leadpact.organization.models import Team
from tests.measurement.scene import NINE_TO_FIVE, add_lead, local

pytestmark = pytest.mark.django_db

KEY = "first-attempt-high-intent"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def us(value: dt.datetime | None) -> int:
    return _NAT if value is None else (value - EPOCH) // dt.timedelta(microseconds=1)


@pytest.fixture
def leads(demo):
    Team.objects.filter(key="sales").update(calendar=NINE_TO_FIVE)
    org = demo.agreement.organization
    running = add_lead(org, "run", events=[("handed_over", local(2026, 10, 6, 10), {})])
    met = add_lead(
        org,
        "met",
        events=[
            ("handed_over", local(2026, 10, 6, 10), {}),
            ("contact_attempt", local(2026, 10, 6, 10, 20, 0, 123456), {"human": True}),
        ],
    )
    clocks_update(now=local(2026, 10, 6, 10, 50))
    return running, met


def test_the_integer_read_equals_the_rows(leads):
    ids = np.array(sorted(lead.pk for lead in leads), dtype=np.int64)
    codes = {label: code for code, label in _STATE.items()}
    want = [
        (
            c.lead_id,
            c.level,
            codes[c.state],
            us(c.started_at),
            us(c.due_at),
            us(c.stopped_at),
            c.owner_id or -1,
        )
        for c in LeadClock.objects.filter(commitment_key=KEY, lead_id__in=ids.tolist()).order_by("lead_id")
    ]
    assert len(want) == 2 and any(row[5] == _NAT for row in want) and any(row[5] != _NAT for row in want)
    got = _stored(KEY, ids)
    assert sorted(map(tuple, got.tolist())) == want
    assert _stored(KEY, ids[:1]).shape == (1, 7)  # only the leads asked for


def test_a_pass_rewrites_exactly_the_rows_that_differ(leads):
    running, met = leads
    assert clocks_update(now=local(2026, 10, 6, 10, 51)).written == 0
    LeadClock.objects.filter(lead=running, commitment_key=KEY).update(due_at=local(2026, 10, 6, 11, 1))
    LeadClock.objects.filter(lead=met, commitment_key=KEY).update(stopped_at=None, owner=None)
    update = clocks_update(now=local(2026, 10, 6, 10, 52))
    assert update.written == 2
    assert LeadClock.objects.get(lead=running, commitment_key=KEY).due_at == local(2026, 10, 6, 11)
    assert LeadClock.objects.get(lead=met, commitment_key=KEY).stopped_at == local(
        2026, 10, 6, 10, 20, 0, 123456
    )
    assert clocks_update(now=local(2026, 10, 6, 10, 53)).written == 0
