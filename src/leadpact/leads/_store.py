"""Store a batch of lead records and events in bulk: the one write path of the API, imports and webhooks.

The caller holds the transaction (a batch is whole or nothing). Per batch a fixed number of queries,
whatever its size: existing source ids, existing events' keys, bulk inserts, one state upsert.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from django.db import IntegrityError, connection, transaction

from leadpact.connectors.bounds import event_problems, lead_problems
from leadpact.connectors.records import VOIDED, EventRecord, LeadRecord, voided_event_id
from leadpact.errors import ApplicationError
from leadpact.leads._handoff import Handoff, HandoffChecker
from leadpact.leads._identity import SUPERSEDED, match_stored, void_key
from leadpact.leads._prepare import (
    STATE_FIELDS,
    EventItem,
    LeadItem,
    crm_key,
    event_item,
    finder,
    key_digest,
    lead_item,
    person_crm_keys,
)
from leadpact.leads._sql import adapt_json, allocate_ids, datetime_adapter, in_values, insert_rows
from leadpact.leads._state import EventFact, StateValues, apply_events, derive_state
from leadpact.leads.models import Lead, LeadEvent, LeadSource, LeadState
from leadpact.organization.models import Organization, Person

__all__ = ["BatchOutcome", "ItemProblem", "PeopleIndex", "store_batch", "store_items", "store_retrying"]

T = TypeVar("T")
log = logging.getLogger(__name__)

_CHUNK = 900  # SQLite's default limit of bound parameters is 999 on old builds
_STATE_FIELDS = tuple(f.name for f in dataclasses.fields(StateValues) if f.name != "created_at")
_STATE_COLUMNS = _STATE_FIELDS
assert _STATE_FIELDS == STATE_FIELDS  # _save_states and _prepare.row_state write them in this order
_TEXT_FIELDS = ("name", "email", "phone", "company", "country", "source", "campaign", "job_title", "industry",
                "company_size", "trigger")  # fmt: skip
_LEAD_COLUMNS = (
    "id", "organization_id", *_TEXT_FIELDS, "score", "consent", "recent_touches", "extra",
    "marketing_owner_id", "sales_owner_id", "created_at", "updated_at",
)  # fmt: skip
_EVENT_COLUMNS = (
    "id", "organization_id", "lead_id", "kind", "occurred_at", "recorded_at", "actor_id", "actor_label",
    "source", "idempotency_key", "key_digest", "data",
)  # fmt: skip
_NO_OWNERS: dict[str, int] = {}
_VOIDED_ONLY = "a voided event is written only by voiding an event (leadpact events void)"
_EMPTY: dict[str, str] = {}


@dataclass(slots=True)
class _NewEvent:
    lead_id: int
    item: EventItem
    digest: bytes
    actor_id: int | None
    pk: int | None = None


@dataclass(frozen=True, slots=True)
class ItemProblem:
    """Something wrong with one item of a batch: ``what`` is ``lead`` or ``event``, ``index`` its position."""

    what: Literal["lead", "event"]
    index: int
    field: str
    reason: str


@dataclass(slots=True)
class BatchOutcome:
    """What a batch did: lead id per lead record and per event, whether each event was new, problems;
    how many leads and events it added (also without ids)."""

    lead_ids: list[int] = field(default_factory=list)
    leads_created: list[bool] = field(default_factory=list)
    event_ids: list[int | None] = field(default_factory=list)
    events_created: list[bool] = field(default_factory=list)
    problems: list[ItemProblem] = field(default_factory=list)
    leads_added: int = 0
    events_added: int = 0


class PeopleIndex:
    """People of an organisation by lower-cased name, e-mail and CRM user id (``<crm>:<id>``, see
    :func:`crm_key`); a key two people share matches nobody."""

    def __init__(self, organization: Organization) -> None:
        self._by: dict[str, int | None] = {}
        for pk, name, email, crm_ids in Person.objects.filter(team__organization=organization).values_list(
            "pk", "name", "email", "crm_ids"
        ):
            keys = {name.strip().casefold(), email.strip().casefold()}
            keys.update(person_crm_keys(crm_ids))
            for key in keys:
                if key:
                    self._by[key] = None if key in self._by and self._by[key] != pk else pk

        self.find = finder(self._by)
        """The person's id by name or e-mail, or None when no single person has it."""

    @property
    def names(self) -> dict[str, int | None]:
        """Lower-cased names and e-mails -> person id (None: shared by two people)."""
        return dict(self._by)

    def __contains__(self, text: str) -> bool:
        return self.find(text) is not None

    def find_owner(self, source: str, text: str) -> int | None:
        """The person a source names as an owner: by their user id in that CRM, else name or e-mail."""
        if not text:
            return None
        found = self.find(crm_key(source, text))
        return found if found is not None else self.find(text)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _existing_leads(organization: Organization, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    by_source: dict[str, list[str]] = {}
    for source, external_id in keys:
        by_source.setdefault(source, []).append(external_id)
    found: dict[tuple[str, str], int] = {}
    table = connection.ops.quote_name(LeadSource._meta.db_table)
    with connection.cursor() as cursor:  # raw SQL: the ORM's per-query overhead showed in the profile
        for source, ids in by_source.items():
            for chunk in _chunks(ids):
                within, params = in_values(chunk)
                cursor.execute(
                    f"SELECT external_id, lead_id FROM {table} WHERE organization_id = %s AND source = %s "  # noqa: S608
                    f"AND external_id {within}",
                    [organization.pk, source, *params],
                )
                for external_id, lead_id in cursor.fetchall():
                    found[(source, external_id)] = lead_id
    return found


def _existing_events(organization: Organization, keys: dict[str, bytes]) -> dict[str, int]:
    """The stored events' ids by idempotency key, for those of ``keys`` (key -> digest) stored already."""
    found: dict[str, int] = {}
    table = connection.ops.quote_name(LeadEvent._meta.db_table)
    by_digest = {digest: k for k, digest in keys.items()}
    digests = list(by_digest)
    with connection.cursor() as cursor:
        for chunk in _chunks(digests):
            within, params = in_values(chunk)
            cursor.execute(
                f"SELECT key_digest, id FROM {table} WHERE organization_id = %s "  # noqa: S608
                f"AND key_digest {within}",
                [organization.pk, *params],
            )
            for digest, pk in cursor.fetchall():
                found[by_digest[bytes(digest)]] = pk
    return found


def store_retrying(store: Callable[[], T], *, attempts: int = 3) -> T:
    """Run ``store`` in a savepoint (or a transaction); when another writer inserted the same new leads
    first (an ``IntegrityError`` on their source ids, as two imports of overlapping files meet on
    PostgreSQL), run it again: it finds them now and updates them instead. Up to ``attempts`` times."""
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                return store()
        except IntegrityError:
            if attempt == attempts:
                raise
            log.info("another writer stored the same leads first: attempt %s of %s", attempt + 1, attempts)
    raise AssertionError("unreachable")


def store_batch(
    *,
    organization: Organization,
    leads: Sequence[LeadRecord],
    events: Sequence[EventRecord],
    now: dt.datetime,
    people: PeopleIndex,
    checker: HandoffChecker,
    unknown_leads: Literal["create", "refuse"] = "create",
    keys: Sequence[str | None] | None = None,
    content_keys: Sequence[str] | None = None,
) -> BatchOutcome:
    """Upsert the leads (by source and external id; non-empty values overwrite), append the events that are
    new (by idempotency key), refresh the affected leads' state and check new handoffs. Call in a transaction.

    An owner given by a name or e-mail no person has is reported (field ``marketing_owner`` /
    ``sales_owner``) and left unset; the lead is stored. An event for a lead not known is refused with
    ``unknown_leads="refuse"``; with ``"create"`` a lead with only its source id is made for it.
    ``keys`` gives an idempotency key per event where the sender chose one (else the content's key);
    ``content_keys`` are the events' own ``idempotency_key`` values when the caller computed them already.
    """
    refused = [
        f"lead {i}: {field}: {reason}" for i, r in enumerate(leads) for field, reason in lead_problems(r)
    ] + [f"event {i}: {field}: {reason}" for i, e in enumerate(events) for field, reason in event_problems(e)]
    if refused:  # every edge checks the bounds first; this is the last line, for a caller that did not
        raise ApplicationError(
            "leads.bounds", f"{len(refused)} value(s) out of bounds, nothing stored: {'; '.join(refused[:3])}"
        )
    own = content_keys if content_keys is not None else [None] * len(events)
    adapt = datetime_adapter()
    find = people.find
    return store_items(
        organization=organization,
        leads=[lead_item(r) for r in leads],
        events=[event_item(e, k, find_owner=find, adapt=adapt) for e, k in zip(events, own, strict=True)],
        now=now,
        people=people,
        checker=checker,
        unknown_leads=unknown_leads,
        keys=keys,
    )


def store_items(
    *,
    organization: Organization,
    leads: Sequence[LeadItem],
    events: Sequence[EventItem],
    now: dt.datetime,
    people: PeopleIndex,
    checker: HandoffChecker,
    unknown_leads: Literal["create", "refuse"] = "create",
    keys: Sequence[str | None] | None = None,
    states: Mapping[tuple[str, str], tuple[Any, ...]] | None = None,
    want_ids: bool = True,
) -> BatchOutcome:
    """:func:`store_batch` for leads and events made by ``_prepare`` (the import's reader makes them).

    ``states`` are the states (``_prepare.row_state``) of leads whose every event of the batch came with
    them (a file's row); a lead that turns out to be new takes its state from there, not derived again.
    ``want_ids=False`` leaves the outcome's id lists empty (an import needs only its problems).
    """
    out = BatchOutcome()
    adapt_datetime = datetime_adapter()
    wanted = {(r[0], r[1]) for r in leads} | {(e[0], e[1]) for e in events}
    known = _existing_leads(organization, wanted)

    # --- leads -------------------------------------------------------------------------------------------
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    owners: dict[tuple[str, str], dict[str, int]] = {}
    created_at: dict[tuple[str, str], dt.datetime] = {}
    for index, (source, external_id, incoming, marketing_owner, sales_owner, created) in enumerate(leads):
        lk = (source, external_id)
        values = merged.get(lk)
        if values is None:
            merged[lk] = values = {}
        if incoming:
            if "extra" in incoming and "extra" in values:
                incoming = {**incoming, "extra": {**values["extra"], **incoming["extra"]}}
            values.update(incoming)
        for role, text in (("marketing_owner", marketing_owner), ("sales_owner", sales_owner)):
            if text:
                pk = people.find_owner(source, text)
                if pk is None:
                    out.problems.append(ItemProblem("lead", index, role, f"unknown owner {text!r}"))
                else:
                    owners.setdefault(lk, {})[f"{role}_id"] = pk
        if created is not None:
            earlier = created_at.get(lk)
            created_at[lk] = created if earlier is None or created < earlier else earlier
    if unknown_leads == "create":
        for e in events:
            lk = (e[0], e[1])
            if lk not in known:
                if lk not in merged:
                    merged[lk] = {}
                earlier = created_at.get(lk)
                created_at[lk] = e[3] if earlier is None or e[3] < earlier else earlier

    new_keys = [k for k in merged if k not in known]
    new_ids: set[int] = set()
    if new_keys:
        ids = allocate_ids(Lead, len(new_keys))
        org_id = organization.pk
        stamp = adapt_datetime(now)
        lead_rows: list[tuple[Any, ...]] = []
        for k, pk in zip(new_keys, ids, strict=True):
            values = merged[k]
            who = owners.get(k, _NO_OWNERS)
            lead_rows.append(
                (
                    pk,
                    org_id,
                    *[values.get(name, "") for name in _TEXT_FIELDS],
                    values.get("score"),
                    values.get("consent"),
                    values.get("recent_touches"),
                    adapt_json(values.get("extra", _EMPTY)),
                    who.get("marketing_owner_id"),
                    who.get("sales_owner_id"),
                    adapt_datetime(created_at.get(k, now)),
                    stamp,
                )
            )
        insert_rows(Lead, _LEAD_COLUMNS, lead_rows)
        source_ids = allocate_ids(LeadSource, len(new_keys))
        insert_rows(
            LeadSource,
            ("id", "organization_id", "lead_id", "source", "external_id"),
            [(sid, org_id, pk, k[0], k[1]) for sid, pk, k in zip(source_ids, ids, new_keys, strict=True)],
        )
        known.update(zip(new_keys, ids, strict=True))
        new_ids.update(ids)
        out.leads_added = len(ids)
    old_keys = [k for k in merged if known[k] not in new_ids and (merged[k] or owners.get(k))]
    if old_keys:
        _update_leads(old_keys, known, merged, owners, now)
    if want_ids:
        for r in leads:
            stored_id = known[(r[0], r[1])]
            out.lead_ids.append(stored_id)
            out.leads_created.append(stored_id in new_ids)

    # --- events ------------------------------------------------------------------------------------------
    given = keys if keys is not None else [None] * len(events)
    keyed: list[tuple[EventItem, str, bytes, int | None]] = []
    maybe_stored: list[str] = []
    digests: dict[str, bytes] = {}
    for e, chosen in zip(events, given, strict=True):
        target = known.get((e[0], e[1]))
        if chosen:
            ekey, digest = chosen, key_digest(chosen)
        else:
            ekey, digest = e[6], e[7]
        keyed.append((e, ekey, digest, target))
        # an event of a lead made in this batch cannot be stored already, unless the sender chose its key
        if target is not None and (chosen or target not in new_ids):
            maybe_stored.append(ekey)
            digests[ekey] = digest
    existing = _existing_events(organization, digests) if digests else {}
    # one fact reported by two sources at different precisions is one event (leads/_identity.py)
    identity = match_stored(organization.pk, keyed, existing, new_ids)
    for index, same_pk in identity.same.items():
        existing[keyed[index][1]] = same_pk
    ready: dict[int, tuple[Any, ...]] = {}  # new leads' states as the reader derived them
    if states:
        for lk, state_row in states.items():
            lead_pk = known.get(lk)
            if lead_pk is not None and lead_pk in new_ids:
                ready[lead_pk] = state_row
    derive = new_ids.difference(ready)
    fresh: dict[str, _NewEvent] = {}
    facts: dict[int, list[EventFact]] = {}
    for index, (ev, key, digest, lead_id) in enumerate(keyed):
        if lead_id is None:
            out.problems.append(ItemProblem("event", index, "external_id", f"no lead {ev[0]}:{ev[1]}"))
            continue
        if ev[2] == VOIDED:
            out.problems.append(ItemProblem("event", index, "kind", _VOIDED_ONLY))
            continue
        if key in existing or key in fresh or index in identity.repeats:
            continue
        actor = ev[4]
        actor_id = people.find(actor) if actor else None
        fresh[key] = _NewEvent(lead_id, ev, digest, actor_id)
        if lead_id in derive:
            facts.setdefault(lead_id, []).append(EventFact(ev[2], ev[3], key, actor_id, ev[5]))
    written = 0
    if fresh:
        event_ids = allocate_ids(LeadEvent, len(fresh))
        org_id = organization.pk
        stamp = adapt_datetime(now)
        event_rows: list[tuple[Any, ...]] = []
        for pk, (key, item) in zip(event_ids, fresh.items(), strict=True):
            item.pk = pk
            it = item.item
            event_rows.append(
                (
                    pk, org_id, item.lead_id, it[2], it[9], stamp, item.actor_id, it[4][:200], it[0], key,
                    item.digest, it[8],
                )
            )  # fmt: skip
        written = insert_rows(LeadEvent, _EVENT_COLUMNS, event_rows, conflict="ON CONFLICT DO NOTHING")
        out.events_added = written
        if written != len(event_rows):  # another writer stored some of them first: name the stored rows
            stored = _existing_events(organization, {k: item.digest for k, item in fresh.items()})
            for stored_key, stored_pk in stored.items():
                fresh[stored_key].pk = stored_pk
    if identity.supersede:
        _void_superseded(organization.pk, keyed, identity.supersede, fresh, adapt_datetime(now))
    problem_events = {p.index for p in out.problems if p.what == "event"}
    for index, (_, key, _digest, _lead) in enumerate(keyed if want_ids else ()):
        if index in problem_events:
            out.event_ids.append(None)
            out.events_created.append(False)
        elif index in identity.repeats:
            out.event_ids.append(fresh[keyed[identity.repeats[index]][1]].pk)
            out.events_created.append(False)
        elif key in existing:
            out.event_ids.append(existing[key])
            out.events_created.append(False)
        else:
            new_pk = fresh[key].pk
            assert new_pk is not None
            out.event_ids.append(new_pk)
            out.events_created.append(True)
            existing[key] = new_pk  # a repeat later in the batch is not new

    # --- state -------------------------------------------------------------------------------------------
    derived: dict[int, StateValues] = {}
    for new_id in derive:
        derived[new_id] = derive_state(facts.get(new_id, ()))
    arrivals: dict[int, list[EventFact]] = {}
    for key, item in fresh.items():
        if item.lead_id not in new_ids:
            arrivals.setdefault(item.lead_id, []).append(
                EventFact(item.item[2], item.item[3], key, item.actor_id, item.item[5])
            )
    if arrivals:
        # another writer stored some of these events first: its state has them, so rebuild from the log
        cached = _load_states(sorted(arrivals)) if written == len(fresh) else {}
        rebuild: list[int] = []
        for state_lead, arrived in arrivals.items():
            state = cached.get(state_lead)
            last = state.last_event_at if state is not None else None
            if (
                state is not None
                and last is not None
                and state_lead not in identity.voided_leads
                and all(f.occurred_at > last for f in arrived)
            ):
                derived[state_lead] = apply_events(state, arrived)  # every new event after the stored ones
            else:
                rebuild.append(state_lead)  # an out-of-order arrival: fold the whole log again
        derived.update(_derive_from_log(rebuild))
    if derived or ready:
        _save_states(derived, adapt_datetime, ready)

    # --- handoff checks ----------------------------------------------------------------------------------
    if checker.active:
        handoffs = [
            Handoff(item.pk, item.lead_id, item.item[3])
            for item in fresh.values()
            if item.item[2] == "handed_over" and item.pk is not None
        ]
        if handoffs:
            checker.check(handoffs, now=now)
    return out


def _void_superseded(
    organization_id: int,
    keyed: Sequence[tuple[EventItem, str, bytes, int | None]],
    supersede: dict[int, int],
    fresh: dict[str, _NewEvent],
    stamp: Any,
) -> None:
    """Void each stored event a more precise report replaced (``_identity``): a ``voided`` event naming it."""
    rows: list[tuple[Any, ...]] = []
    ids = allocate_ids(LeadEvent, len(supersede))
    for pk, (index, old) in zip(ids, supersede.items(), strict=True):
        item, key, _digest, lead_id = keyed[index]
        new = fresh.get(key)
        vkey = void_key(old)
        data = {"event_id": old, "kind": item[2], "reason": SUPERSEDED}
        if new is not None and new.pk is not None:
            data["by"] = new.pk
        # at the instant of the report that replaced it, so the log reads the same whenever it arrived
        rows.append(
            (pk, organization_id, lead_id, VOIDED, item[9], stamp, None, "", "leadpact", vkey,
             key_digest(vkey), adapt_json(data))
        )  # fmt: skip
    insert_rows(LeadEvent, _EVENT_COLUMNS, rows, conflict="ON CONFLICT DO NOTHING")


def _update_leads(
    keys: list[tuple[str, str]],
    known: dict[tuple[str, str], int],
    merged: dict[tuple[str, str], dict[str, Any]],
    owners: dict[tuple[str, str], dict[str, int]],
    now: dt.datetime,
) -> None:
    ids = [known[k] for k in keys]
    stored: dict[int, Lead] = {}
    for chunk in _chunks(ids):
        stored.update(Lead.objects.in_bulk(list(chunk)))
    changed: list[Lead] = []
    names: set[str] = set()
    for k in keys:
        lead = stored[known[k]]
        values = dict(merged[k])
        values.update(owners.get(k, {}))
        if "extra" in values:
            values["extra"] = {**(lead.extra or {}), **values["extra"]}
        diff = {n: v for n, v in values.items() if getattr(lead, n) != v}
        if diff:
            for n, v in diff.items():
                setattr(lead, n, v)
            lead.updated_at = now
            names.update(diff)
            changed.append(lead)
    if changed:
        Lead.objects.bulk_update(changed, [*sorted(names), "updated_at"], batch_size=200)


def _load_states(lead_ids: list[int]) -> dict[int, StateValues]:
    """The cached states of these leads, locked until the commit (PostgreSQL; SQLite has one writer)."""
    out: dict[int, StateValues] = {}
    for chunk in _chunks(lead_ids):
        rows = (
            LeadState.objects.select_for_update()
            .filter(lead_id__in=chunk)
            .order_by()
            .values_list("lead_id", *_STATE_FIELDS)
        )
        for row in rows:
            out[row[0]] = StateValues(**dict(zip(_STATE_FIELDS, row[1:], strict=True)))
    return out


def _derive_from_log(lead_ids: Iterable[int]) -> dict[int, StateValues]:
    """The states of these leads folded from every stored event but the voided ones (and the voids)."""
    ids = sorted(set(lead_ids))
    gathered: dict[int, list[tuple[int, EventFact]]] = {pk: [] for pk in ids}
    voided: set[int] = set()
    for chunk in _chunks(ids):
        rows = (
            LeadEvent.objects.filter(lead_id__in=chunk)
            .order_by()
            .values_list("id", "lead_id", "kind", "occurred_at", "idempotency_key", "actor_id", "data")
        )
        for pk, lead_id, kind, occurred_at, key, actor_id, data in rows:
            if kind == VOIDED:
                target = voided_event_id(data)
                if target is not None:
                    voided.add(target)
                continue
            gathered[lead_id].append((pk, EventFact(kind, occurred_at, key, actor_id, data or _EMPTY)))
    return {pk: derive_state(f for e, f in got if e not in voided) for pk, got in gathered.items()}


def _save_states(
    states: dict[int, StateValues],
    adapt_datetime: Any = None,
    ready: dict[int, tuple[Any, ...]] | None = None,
) -> None:
    """Upsert these leads' cached states; ``ready`` ones are column values already (``row_state``)."""
    a = adapt_datetime or datetime_adapter()
    # the order of _STATE_COLUMNS (checked where they are defined)
    rows = [
        (
            lead_id, v.stage, v.owner_id, v.owner_label, a(v.handed_over_at), v.handoffs, v.decision,
            a(v.decided_at), v.reason_code, a(v.first_attempt_at), a(v.first_human_attempt_at), v.attempts,
            v.human_attempts, v.outcome, a(v.closed_at), v.amount, v.recycled, v.events, a(v.last_event_at),
        )
        for lead_id, v in states.items()
    ]  # fmt: skip
    if ready:
        rows.extend((lead_id, *values) for lead_id, values in ready.items())
    quote = connection.ops.quote_name
    update = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in _STATE_COLUMNS)
    insert_rows(
        LeadState,
        ("lead_id", *_STATE_COLUMNS),
        rows,
        conflict=f"ON CONFLICT (lead_id) DO UPDATE SET {update}",
    )


def leads_refresh_state(lead_ids: Iterable[int]) -> None:
    """Rebuild the state cache of these leads from their events."""
    states = _derive_from_log(lead_ids)
    if states:
        _save_states(states)
