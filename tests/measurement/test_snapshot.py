"""The columnar event snapshot gives exactly the frames the direct SQL read gives — built, with a delta,
rewritten, after out-of-order and late events, with pause kinds, and after losing or garbling its file."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadpact.leads.models import Lead, LeadEvent
from leadpact.measurement import _snapshot
from leadpact.measurement._frames import frames_load
from leadpact.measurement._snapshot import EventColumns, merge, snapshot_directory, snapshot_open
from leadpact.measurement.models import EventSnapshot
from leadpact.organization.models import Organization

pytestmark = pytest.mark.django_db

UTC = dt.UTC
T0 = dt.datetime(2026, 10, 5, 9, tzinfo=UTC)
REASONS = ["not_icp", "no_budget"]
PAUSES = ["waiting_on_customer"]
_serial = itertools.count()


@pytest.fixture(autouse=True)
def _fresh_process_cache():
    _snapshot._VERIFIED.clear()
    yield
    _snapshot._VERIFIED.clear()


def org_new() -> Organization:
    n = next(_serial)
    return Organization.objects.create(key=f"snap-{n}", name=f"Snapshot {n}", timezone="Europe/Amsterdam")


def lead_new(org: Organization) -> Lead:
    return Lead.objects.create(organization=org, name="x", created_at=T0, updated_at=T0)


def ev(org: Organization, lead: Lead, kind: str, at: dt.datetime, **data) -> LeadEvent:
    n = next(_serial)
    return LeadEvent.objects.create(
        organization=org,
        lead=lead,
        kind=kind,
        occurred_at=at,
        recorded_at=at,
        source="test",
        idempotency_key=f"k{n}",
        data=data,
    )


def load(org: Organization, how: str, *, since=T0 - dt.timedelta(days=30), until=None, now=None):
    now = now or T0 + dt.timedelta(days=30)
    return frames_load(
        organization_id=org.pk,
        agreement_id=0,
        version_id=0,
        since=since,
        until=until or now + dt.timedelta(microseconds=1),
        now=now,
        reason_codes=REASONS,
        field_names=(),
        pause_kinds=PAUSES,
        events_from=how,
    )


def assert_same(org: Organization, **window) -> int:
    """The snapshot's frames equal the direct read's; returns the number of events compared."""
    got, want = load(org, "snapshot", **window), load(org, "database", **window)
    for name in ("lead", "kind", "occurred_at", "human", "amount_cents", "reason", "actor"):
        a, b = getattr(got.events, name), getattr(want.events, name)
        assert a.dtype == b.dtype, name
        assert np.array_equal(a, b), (name, a, b)
    assert np.array_equal(got.leads.lead_id, want.leads.lead_id)
    assert got.definition_versions == want.definition_versions
    return len(want.events)


def a_scene(org: Organization) -> list[Lead]:
    """Ties at one instant, every reason shape, amounts, human and automated attempts, a pause kind."""
    a, b, c = lead_new(org), lead_new(org), lead_new(org)
    h = dt.timedelta(hours=1)
    # created and handed over at the same instant, stored in the 'wrong' order: kind order decides
    ev(org, a, "handed_over", T0)
    ev(org, a, "created", T0)
    ev(org, a, "contact_attempt", T0 + h, human=True)
    ev(org, a, "contact_attempt", T0 + h, human=False)
    ev(org, a, "rejected", T0 + 2 * h, reason_code="no_budget")
    ev(org, a, "feedback", T0 + 3 * h, reason_code="")
    ev(org, a, "lost", T0 + 4 * h, reason_code="not_on_the_list", amount="12.5")
    ev(org, b, "handed_over", T0 + h)
    ev(org, b, "waiting_on_customer", T0 + 2 * h)
    ev(org, b, "resumed", T0 + 3 * h)
    ev(org, b, "rejected", T0 + 3 * h, reason_code=None)
    ev(org, b, "opportunity", T0 + 4 * h, amount="1000.00")
    ev(org, b, "won", T0 + 5 * h, amount="999.99", reason_code="not_icp")
    ev(org, c, "created", T0 - 40 * 24 * h)  # handed over before the window: not chosen
    ev(org, c, "handed_over", T0 - 39 * 24 * h)
    return [a, b, c]


def test_a_new_snapshot_gives_exactly_the_direct_read(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    org = org_new()
    a_scene(org)
    assert assert_same(org) == 13
    row = EventSnapshot.objects.get(organization=org)
    assert row.events == LeadEvent.objects.filter(organization=org).count() == 15
    assert (snapshot_directory(org.pk) / row.token / "meta.json").exists()
    # the kind order at one instant: created before handed over although stored after it
    frames = load(org, "snapshot")
    assert frames.events.kind[:2].tolist() == [0, 1]
    # a window, and 'now' in the middle of a lead's log
    assert assert_same(org, now=T0 + dt.timedelta(hours=2, minutes=30)) == 7
    assert assert_same(org, since=T0 + dt.timedelta(minutes=30), until=T0 + dt.timedelta(hours=2)) == 6


def test_late_and_out_of_order_events_are_read_as_a_delta_then_written(tmp_path, settings, monkeypatch):
    settings.DATA_DIR = tmp_path
    org = org_new()
    a, b, _ = a_scene(org)
    assert_same(org)
    first = EventSnapshot.objects.get(organization=org)
    # late: a new lead, and an older event of an old lead (new id, earlier occurred_at), one at a tie
    d = lead_new(org)
    ev(org, d, "handed_over", T0 + dt.timedelta(days=1))
    ev(org, a, "accepted", T0 - dt.timedelta(minutes=5))
    ev(org, a, "assigned", T0)  # ties with created/handed_over: goes between by kind order
    ev(org, b, "waiting_on_customer", T0 + dt.timedelta(hours=6))
    snap = snapshot_open(organization_id=org.pk)
    assert (len(snap.base), len(snap.delta)) == (15, 4)
    assert assert_same(org) == 17
    assert EventSnapshot.objects.get(organization=org).token == first.token  # small delta: not rewritten
    monkeypatch.setattr(_snapshot, "REWRITE_AT", 3)
    assert assert_same(org) == 17
    second = EventSnapshot.objects.get(organization=org)
    assert second.token != first.token
    assert (second.events, second.upto_id) == (19, LeadEvent.objects.filter(organization=org).latest("id").pk)
    snap = snapshot_open(organization_id=org.pk)
    assert (len(snap.base), len(snap.delta)) == (19, 0)
    assert assert_same(org) == 17


def test_a_deleted_or_garbled_file_or_an_unknown_token_rebuilds(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    org = org_new()
    a_scene(org)
    assert_same(org)
    row = EventSnapshot.objects.get(organization=org)
    directory = snapshot_directory(org.pk)
    # garbled: one byte of the times flipped (a new process: nothing verified yet)
    at = directory / row.token / "at.npy"
    data = bytearray(at.read_bytes())
    data[-3] ^= 0xFF
    at.write_bytes(bytes(data))
    assert assert_same(org) == 13
    rebuilt = EventSnapshot.objects.get(organization=org)
    assert rebuilt.token != row.token
    # garbled within this process, after it verified the file: its size or time changed, checked again
    meta = directory / rebuilt.token / "meta.json"
    meta.write_text(meta.read_text().replace('"events": 15', '"events": 14'))
    assert assert_same(org) == 13
    third = EventSnapshot.objects.get(organization=org)
    assert third.token != rebuilt.token
    # missing
    shutil.rmtree(directory / third.token)
    assert assert_same(org) == 13
    fourth = EventSnapshot.objects.get(organization=org)
    assert fourth.token != third.token
    # a recreated database: no row, the old files are not used
    EventSnapshot.objects.all().delete()
    ev(org, lead_new(org), "handed_over", T0)
    assert assert_same(org) == 14
    assert EventSnapshot.objects.get(organization=org).token != fourth.token


def test_an_event_committed_late_below_upto_id_rebuilds_where_ids_can_commit_out_of_order(
    tmp_path, settings, monkeypatch
):
    """PostgreSQL: a transaction holding id 100 may commit after a snapshot read 101. Simulated by
    storing an event under an id below the snapshot's ``upto_id`` that was left free."""
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(_snapshot, "COUNT_CHECK", frozenset({"sqlite", "postgresql"}))
    org = org_new()
    a, b, _ = a_scene(org)
    hole = ev(org, a, "assigned", T0 + dt.timedelta(minutes=1))
    free_id = hole.pk
    LeadEvent.objects.filter(pk=free_id)._raw_delete(using="default")  # the id a slow transaction holds
    ev(org, b, "accepted", T0 + dt.timedelta(hours=2))
    assert_same(org)
    row = EventSnapshot.objects.get(organization=org)
    assert row.upto_id > free_id
    late = LeadEvent(
        pk=free_id,
        organization=org,
        lead=a,
        kind="assigned",
        occurred_at=T0 + dt.timedelta(minutes=1),
        recorded_at=T0,
        source="test",
        idempotency_key="late",
    )
    late.save(force_insert=True)
    assert assert_same(org) == 15
    after = EventSnapshot.objects.get(organization=org)
    assert after.token != row.token and after.events == row.events + 1


def test_an_organisation_without_events_has_an_empty_snapshot(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    org = org_new()
    assert assert_same(org) == 0
    assert EventSnapshot.objects.get(organization=org).events == 0
    ev(org, lead_new(org), "handed_over", T0)
    assert assert_same(org) == 1


KINDS = ["created", "handed_over", "assigned", "contact_attempt", "accepted", "rejected", "lost", "won",
         "feedback", "opportunity", "waiting_on_customer", "resumed", "paused_by_crm"]  # fmt: skip
event_st = st.tuples(
    st.integers(0, 3),  # lead
    st.sampled_from(KINDS),
    st.integers(0, 6),  # hour: few values, many ties
    st.sampled_from([None, "", "not_icp", "no_budget", "odd"]),
    st.sampled_from([None, "0", "12.34", "500"]),
    st.booleans(),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=st.lists(event_st, max_size=12),
    later=st.lists(event_st, max_size=8),
    now_hour=st.integers(0, 8),
)
def test_any_events_in_two_batches_read_the_same_as_sql(tmp_path, settings, first, later, now_hour):
    settings.DATA_DIR = tmp_path
    org = org_new()
    leads = [lead_new(org) for _ in range(4)]
    now = T0 + dt.timedelta(hours=now_hour)

    def store(batch):
        for lead, kind, hour, reason, amount, human in batch:
            data = {"human": human}
            if reason is not None:
                data["reason_code"] = reason
            if amount is not None:
                data["amount"] = amount
            ev(org, leads[lead], kind, T0 + dt.timedelta(hours=hour), **data)

    store([(i, "handed_over", 0, None, None, False) for i in range(3)])
    store(first)
    assert_same(org, now=now)
    store(later)
    assert_same(org, now=now)


def columns(rows) -> EventColumns:
    rows = sorted(rows, key=lambda r: r[-1])
    kinds = ("created", "handed_over", "accepted", "waiting")
    return EventColumns(
        lead=np.array([r[0] for r in rows], dtype=np.int64),
        at=np.array([r[1] for r in rows], dtype=np.int64),
        kind=np.array([r[2] for r in rows], dtype=np.int16),
        human=np.zeros(len(rows), dtype=np.bool_),
        cents=np.zeros(len(rows), dtype=np.int64),
        reason=np.full(len(rows), -1, dtype=np.int32),
        event_id=np.array([r[3] for r in rows], dtype=np.int64),
        kinds=kinds,
        reasons=(),
    ).sorted()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3), st.integers(0, 3)), max_size=40), st.data())
def test_merging_a_delta_is_sorting_everything(rows, data):
    cut = data.draw(st.integers(0, len(rows)))
    with_ids = [(*r, i) for i, r in enumerate(rows)]  # ids in arrival order: the delta's are higher
    merged = merge(columns(with_ids[:cut]), columns(with_ids[cut:]))
    whole = columns(with_ids)
    for name in ("lead", "at", "kind", "event_id"):
        assert getattr(merged, name).tolist() == getattr(whole, name).tolist()


def test_two_machines_sharing_the_database_keep_a_copy_each_instead_of_rebuilding_over_each_other(
    tmp_path, settings
):
    """Scale-out: two data folders (two machines) on one database. Each opens its own copy; taking turns
    rebuilds nothing after each one's first build, and both read exactly the direct read."""
    org = org_new()
    a_scene(org)
    rebuilt: dict[str, list[bool]] = {"one": [], "two": []}
    for _ in range(3):
        for machine in ("one", "two"):
            settings.DATA_DIR = tmp_path / machine
            rebuilt[machine].append(snapshot_open(organization_id=org.pk).rebuilt)
            assert assert_same(org) == 13
    assert rebuilt == {"one": [True, False, False], "two": [True, False, False]}
    rows = EventSnapshot.objects.filter(organization=org)
    assert rows.count() == 2 and len({row.place for row in rows}) == 2
    assert (tmp_path / "one" / "snapshots" / "place").read_text() != (
        tmp_path / "two" / "snapshots" / "place"
    ).read_text()
