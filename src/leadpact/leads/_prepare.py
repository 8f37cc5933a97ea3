"""Leads and events as the store takes them: plain tuples made from connector records (no Django here).

The store (``_store.store_items``) works on these tuples, whichever way the records came in: the API and
webhooks make them in the request, a file import makes them in its reader process (``_reader``), so
the work of keying, hashing and shaping each event is done on the reader's core, and what crosses the
pipe is cheap to unpickle (tuples of text, numbers, UTC datetimes and small dicts).

>>> from datetime import datetime, UTC
>>> from leadpact.connectors.records import EventRecord
>>> e = event_item(EventRecord(source="hubspot", external_id="51", kind="lost", reason_code="price",
...                            occurred_at=datetime(2026, 11, 26, 13, 5, tzinfo=UTC)))
>>> e[2], e[5], len(e[6]), len(e[7])
('lost', {'reason_code': 'price'}, 64, 16)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any

from leadpact.connectors.records import LEAD_FIELDS, EventRecord, LeadRecord, instant_key_text
from leadpact.leads._state import EventFact, derive_state

__all__ = [
    "STATE_FIELDS",
    "EventItem",
    "LeadItem",
    "SqliteInstants",
    "adapt_json",
    "crm_key",
    "datetime_adapter_for",
    "event_data",
    "event_item",
    "finder",
    "key_digest",
    "lead_item",
    "lead_values",
    "person_crm_keys",
    "row_state",
    "sqlite_datetime",
]

#: ``(source, external_id, values, marketing_owner, sales_owner, created_at)``: ``values`` are the
#: non-empty field values (empty means: leave what is stored), owners as the source names them.
LeadItem = tuple[str, str, dict[str, Any], str, str, datetime | None]
#: ``(source, external_id, kind, occurred_at, actor, data, key, digest, data_json, occurred_db)``:
#: ``occurred_at`` in UTC, ``data`` the stored event's values (an assignment's ``owner_id`` resolved),
#: ``key`` the content's idempotency key, ``digest`` its 16 bytes, ``data_json`` the column's text and
#: ``occurred_db`` the instant as the database column takes it.
EventItem = tuple[str, str, str, datetime, str, dict[str, Any], str, bytes, str, Any]
#: The state cache's columns in the order :func:`row_state` gives them (``_store`` checks it).
STATE_FIELDS = (
    "stage", "owner_id", "owner_label", "handed_over_at", "handoffs", "decision", "decided_at", "reason_code",
    "first_attempt_at", "first_human_attempt_at", "attempts", "human_attempts", "outcome", "closed_at",
    "amount", "recycled", "events", "last_event_at",
)  # fmt: skip
_STATE_TIMES = frozenset(i for i, name in enumerate(STATE_FIELDS) if name.endswith("_at"))

_FIELDS = tuple(f for f in LEAD_FIELDS if f not in ("first_name", "last_name"))


_NOTHING: dict[str, Any] = {}
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def adapt_json(value: Any) -> str:
    """A JSON column's value: the text (what Django's JSONField writes on both SQLite and PostgreSQL)."""
    if value == _NOTHING and type(value) is dict:  # most events and leads carry no extra values
        return "{}"
    return _dumps(value)


def sqlite_datetime(value: datetime | None) -> Any:
    """An aware datetime as SQLite's column keeps it: the naive UTC text Django writes (``str()`` of it)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(" ")[:-6]


def same_datetime(value: datetime | None) -> Any:
    """An aware datetime as PostgreSQL's driver takes it: as it is."""
    return value


class SqliteInstants(dict[datetime | None, str | None]):
    """Aware instants -> the text SQLite's column keeps (:func:`sqlite_datetime`), each worked out once.

    Equal aware datetimes are the same instant, so the same UTC text; ``None`` stays ``None``.

    >>> texts = SqliteInstants()
    >>> texts[datetime(2026, 11, 26, 13, 5, 0, 250, tzinfo=UTC)], texts[None]
    ('2026-11-26 13:05:00.000250', None)
    """

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__()
        self[None] = None

    def __missing__(self, value: datetime) -> str:
        text = self[value] = value.astimezone(UTC).isoformat(" ")[:-6]  # sqlite_datetime, inlined
        return text


def datetime_adapter_for(sqlite: bool) -> Callable[[datetime | None], Any]:
    """Adapt instants for SQLite (:func:`sqlite_datetime`) or PostgreSQL (as they are), per row.

    The SQLite one is the lookup of a :class:`SqliteInstants` (a lead's creation, its events and its
    state share instants; :func:`event_item` fills in its event's from the key's text), so keep one per
    batch, not for ever.
    """
    if not sqlite:
        return same_datetime
    return SqliteInstants().__getitem__


def finder(names: dict[str, int | None]) -> Callable[[str], int | None]:
    """Find a person's id by name or e-mail (case-insensitive) in ``names`` (see ``_store.PeopleIndex``)."""
    get = names.get

    def find(text: str) -> int | None:
        return get(text.strip().casefold()) if text else None

    return find


#: Salesforce ids are 18 characters in the API and 15 in reports: the first 15 are the id.
_SALESFORCE_ID_LENGTH = 15


def crm_key(source: str, user_id: str) -> str:
    """How a CRM user id is looked up among people: ``<source>:<id>``, lower-cased (a Salesforce id by its
    15-character form, which reports and the API share).

    >>> crm_key("salesforce", "0055g00000AAAAAAA1"), crm_key("hubspot", " 7301 ")
    ('salesforce:0055g00000aaaaa', 'hubspot:7301')
    """
    text = user_id.strip()
    crm = source.split("_", 1)[0]
    if crm == "salesforce" and len(text) == 18:
        text = text[:_SALESFORCE_ID_LENGTH]
    return f"{crm}:{text}".casefold()


def person_crm_keys(crm_ids: object) -> set[str]:
    """The lookup keys (:func:`crm_key`) of a person's ``crm_ids`` (``{"hubspot": "7301", ...}``)."""
    if not isinstance(crm_ids, dict):
        return set()
    return {
        crm_key(str(crm), str(value))
        for crm, value in crm_ids.items()
        if isinstance(value, str | int) and str(value).strip()
    }


def key_digest(idempotency_key: str) -> bytes:
    """The first 16 bytes of the sha256 of an idempotency key: what the unique index holds."""
    return sha256(idempotency_key.encode()).digest()[:16]


def lead_values(record: LeadRecord) -> dict[str, Any]:
    """The non-empty field values a record carries (empty means: leave what is stored)."""
    f = record.fields
    out: dict[str, Any] = {}
    for name in _FIELDS:
        value = getattr(f, name)
        if value is not None and value != "":
            out[name] = value
    if f.extra:
        out["extra"] = dict(f.extra)
    return out


def event_data(record: EventRecord) -> dict[str, Any]:
    """The ``data`` JSON of a stored event: the kind's values that are set (amount as decimal text)."""
    data: dict[str, Any] = dict(record.data)
    if record.channel:
        data["channel"] = record.channel
    if record.human is not None:
        data["human"] = record.human
    if record.reason_code:
        data["reason_code"] = record.reason_code
    if record.reason:
        data["reason"] = record.reason
    if record.amount is not None:
        data["amount"] = format(record.amount, "f")
    if record.currency:
        data["currency"] = record.currency
    if record.source_ref:
        data["source_ref"] = record.source_ref
    if record.precision and record.precision != "microsecond":
        data["precision"] = record.precision
    return data


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def lead_item(record: LeadRecord) -> LeadItem:
    """The lead record as the store takes it."""
    return (
        record.source,
        record.external_id,
        lead_values(record),
        record.marketing_owner,
        record.sales_owner,
        _utc(record.created_at),
    )


def event_item(
    record: EventRecord,
    key: str | None = None,
    *,
    find_owner: Callable[[str], int | None] | None = None,
    adapt: Callable[[datetime | None], Any] = same_datetime,
) -> EventItem:
    """The event record as the store takes it; ``key`` when it was computed already (its content key).

    ``find_owner`` resolves an assignment's ``value`` (a person's name or e-mail) to the person's id,
    stored as the event's ``owner_id``; ``adapt`` makes the instant the database column's value.
    """
    at = record.occurred_at.astimezone(UTC)
    if not key:
        instant = instant_key_text(at)
        key = record.key_at(instant)
        texts = getattr(adapt, "__self__", None)
        if type(texts) is SqliteInstants and at not in texts and at.year >= 1000:
            # SQLite's text is the key's instant spelled with a space and, when there are any, microseconds
            texts[at] = f"{instant[:10]} {instant[11:26] if at.microsecond else instant[11:19]}"
    data = event_data(record)
    if find_owner is not None and record.kind == "assigned" and "value" in data:
        # the new owner as the source names them: a user id of that CRM, else a name or e-mail
        owner = find_owner(crm_key(record.source, str(data["value"])))
        if owner is None:
            owner = find_owner(str(data["value"]))
        if owner is not None:
            data["owner_id"] = owner
    return (
        record.source, record.external_id, record.kind, at, record.actor, data, key, key_digest(key),
        adapt_json(data), adapt(at),
    )  # fmt: skip


def row_state(events: tuple[EventItem, ...], adapt: Callable[[datetime | None], Any]) -> tuple[Any, ...]:
    """The state a new lead has after these events (its first row's), as the cache's column values.

    The events are taken once each by key, as the store appends them.
    """
    facts: dict[str, EventFact] = {}
    for e in events:
        if e[6] not in facts:
            facts[e[6]] = EventFact(e[2], e[3], e[6], None, e[5])
    state = derive_state(facts.values())
    values = [getattr(state, name) for name in STATE_FIELDS]
    for i in _STATE_TIMES:
        values[i] = adapt(values[i])
    return tuple(values)
