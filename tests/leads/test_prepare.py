"""The store's tuples: an event's key and database instant are the same whichever way they are made."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from leadpact.connectors.records import EventRecord
from leadpact.leads._prepare import datetime_adapter_for, event_item, sqlite_datetime

_OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
_INSTANTS = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31)),
    _OFFSETS,
)


def _record(at: datetime, kind: str = "won") -> EventRecord:
    return EventRecord(source="hubspot", external_id="51", kind=kind, occurred_at=at, reason="budget")


@given(_INSTANTS)
def test_the_sqlite_text_made_from_the_key_is_what_sqlite_datetime_gives(at: datetime) -> None:
    """The key's instant spelled for SQLite: same text as Django writes, same key as the record's own."""
    record = _record(at)
    item = event_item(record, adapt=datetime_adapter_for(True))
    assert item[6] == record.idempotency_key
    assert item[9] == sqlite_datetime(at)
    assert item[3] == at and item[3].tzinfo is UTC


@given(_INSTANTS, st.sampled_from(["created", "handed_over", "lost"]))
def test_an_instant_adapted_before_or_a_key_given_changes_nothing(at: datetime, kind: str) -> None:
    """A batch's instants are shared: whatever adapted one first, every event gets the same values."""
    record = _record(at, kind)
    adapt = datetime_adapter_for(True)
    assert adapt(at) == sqlite_datetime(at)  # the state or the lead's creation adapted it first
    first = event_item(record, adapt=adapt)
    again = event_item(record, record.idempotency_key, adapt=adapt)
    fresh = event_item(record, adapt=datetime_adapter_for(True))
    assert first == again == fresh
    assert adapt(None) is None


@given(_INSTANTS)
def test_postgresql_takes_the_instant_as_it_is(at: datetime) -> None:
    item = event_item(_record(at), adapt=datetime_adapter_for(False))
    assert item[9] == at and item[9].utcoffset() == timedelta(0)
    assert item[6] == _record(at).idempotency_key
