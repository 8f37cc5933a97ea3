"""Read leads, events, handoff checks and upheld disputes into the engine's numpy frames.

One SQL query per table, integer columns only (times as microseconds since the epoch, kinds, flags,
cents and reason codes computed by the database), fetched in chunks straight into numpy arrays: no
ORM object per lead or event. The leads read are those handed over in ``[since, until)`` — with their
whole event log up to ``now`` — so a month's scorecard reads a month's leads, not the whole history.

The events come from the organisation's columnar snapshot (:mod:`._snapshot`: the chosen leads' ranges
of a sorted copy, plus the events stored since, read by id); ``events_from="database"`` reads them with
SQL instead (:func:`events_from_database`), the reference the snapshot is tested against.

The leads are chosen once — from the snapshot's ``handed_over`` events — and the other tables are read
by ranges of those ids (filtered here), not each through an ``IN (SELECT …)`` of its own. Every column
fetched costs ~0.4 s a million rows through Python's sqlite3, so flags, owners and definition results
are packed into few integers, and the ``missing_fields`` JSON is read only for checks that have any.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from django.db import connection

from leadpact.connectors.bounds import EARLIEST, LATEST
from leadpact.core._metrics_frames import NOT_CHECKED
from leadpact.core.metrics import EventFrame, EventKind, LeadFrame
from leadpact.leads._state import KIND_ORDER as EVENT_ORDER
from leadpact.measurement._snapshot import amount_cents_sql, snapshot_open, voided_target_sql

__all__ = ["KIND_CODES", "LoadedFrames", "frames_load", "kind_codes"]

IntArray = npt.NDArray[np.int64]

KIND_CODES: dict[str, int] = {
    "created": EventKind.CREATED,
    "handed_over": EventKind.HANDED_OVER,
    "assigned": EventKind.ASSIGNED,
    "contact_attempt": EventKind.CONTACT_ATTEMPT,
    "accepted": EventKind.ACCEPTED,
    "rejected": EventKind.REJECTED,
    "qualified": EventKind.QUALIFIED,
    "opportunity": EventKind.OPPORTUNITY,
    "won": EventKind.WON,
    "lost": EventKind.LOST,
    "recycled": EventKind.RECYCLED,
    "feedback": EventKind.FEEDBACK,
    "field_changed": EventKind.FIELD_CHANGED,
    "resumed": EventKind.RESUMED,
}
#: Codes an event frame's kind column has room for (6 bits): pause kinds take CUSTOM .. 63.
MAX_KIND_CODE = 63


def kind_codes(pause_kinds: Sequence[str] = ()) -> dict[str, int]:
    """Event kind → engine code: the fixed kinds, ``resumed``, then each pause kind (sorted, deduplicated)
    from :attr:`EventKind.CUSTOM` up. Any other stored kind reads as ``EventKind.CUSTOM - 1`` (31, no
    meaning) in an event frame, so it neither pauses nor stops a clock.

    >>> kind_codes(["waiting_on_customer"])["waiting_on_customer"] == EventKind.CUSTOM
    True
    """
    codes = dict(KIND_CODES)
    for name in sorted(set(pause_kinds) - set(KIND_CODES)):
        code = int(EventKind.CUSTOM) + len(codes) - len(KIND_CODES)
        if code > MAX_KIND_CODE:
            room = MAX_KIND_CODE - int(EventKind.CUSTOM) + 1
            raise ValueError(f"pause kinds: at most {room} are supported")
        codes[name] = code
    return codes


#: The code an event frame gives a stored kind :func:`kind_codes` does not know.
OTHER_KIND = int(EventKind.CUSTOM) - 1
UNKNOWN_REASON = 2000  # a reason code the agreement does not know (codes are 0..1999)
_CHUNK = 200_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_SLUG = re.compile(r"[a-z0-9]+([-_][a-z0-9]+)*")


@dataclass(frozen=True, slots=True)
class LoadedFrames:
    """The frames, plus what the service needs beside them."""

    events: EventFrame
    leads: LeadFrame
    checked_lead: IntArray  # the leads whose handoff was checked by a definition version …
    checked_version: IntArray  # … and that version's id
    # events measured without a value they carry (an amount no number, an instant out of range):
    # how many, and the first ten as (event id, why) — see Snapshot.unusable
    unusable: tuple[int, list[tuple[int, str]]] = (0, [])

    @property
    def definition_versions(self) -> dict[int, int]:
        """Lead id → the definition version id its handoff was checked by (built when asked: a year's
        million leads as a dict cost more than the read it comes from)."""
        return dict(zip(self.checked_lead.tolist(), self.checked_version.tolist(), strict=True))


def _case(column: str, mapping: Sequence[tuple[str, int]], default: str) -> str:
    if not mapping:
        return default
    for name, _ in mapping:  # names are slugs (agreement keys, event kinds): safe inside a literal
        if name and not _SLUG.fullmatch(name):
            raise ValueError(f"sql case: {name!r} is not a slug")
    whens = " ".join(f"WHEN '{name}' THEN {code}" for name, code in mapping)
    return f"CASE {column} {whens} ELSE {default} END"


def _us(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {column}) * 1000000 AS BIGINT)"
    # SQLite keeps 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC
    return (
        f"(CAST(ROUND((julianday(substr({column}, 1, 19)) - 2440587.5) * 86400) AS INTEGER) * 1000000"
        f" + CAST(substr({column} || '.000000', 21, 6) AS INTEGER))"
    )


def _json(column: str, key: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} ->> '{key}')"
    return f"json_extract({column}, '$.{key}')"


def _definition_met(key: str) -> str:
    """1 met, 0 missed, -1 not checked: the handoff check's ``definitions`` entry for ``key``, or for a
    row written before that column existed, its ``met`` when its definition version is ``key``'s."""
    if not _SLUG.fullmatch(key):
        raise ValueError(f"sql definition: {key!r} is not a slug")
    if connection.vendor == "postgresql":
        value = f"(c.definitions -> '{key}' ->> 'met')"
        met = f"WHEN {value} = 'true' THEN 1 WHEN {value} = 'false' THEN 0"
    else:
        value = f"json_extract(c.definitions, '$.\"{key}\".met')"
        met = f"WHEN {value} = 1 THEN 1 WHEN {value} = 0 THEN 0"
    fallback = f"WHEN dv.key = '{key}' THEN (CASE WHEN c.met THEN 1 ELSE 0 END)"
    return f"CASE {met} {fallback} ELSE {NOT_CHECKED} END"


def _json_type(column: str, key: str) -> str:
    if connection.vendor == "postgresql":
        return f"jsonb_typeof({column} -> '{key}')"
    return f"json_type({column}, '$.{key}')"


def _fetch(sql: str, params: Sequence[Any], width: int) -> npt.NDArray[np.int64]:
    parts: list[npt.NDArray[np.int64]] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        while True:
            rows = cursor.fetchmany(_CHUNK)
            if not rows:
                break
            flat = itertools.chain.from_iterable(rows)  # twice as fast as np.array(rows)
            parts.append(np.fromiter(flat, dtype=np.int64, count=len(rows) * width).reshape(-1, width))
    return np.concatenate(parts) if parts else np.zeros((0, width), dtype=np.int64)


#: Ids closer than this read as one range (rows in between are read and dropped: cheaper than a query).
_GAP = 1024
#: Ranges per query (two parameters each: well inside every backend's limit).
_RANGES_PER_QUERY = 250


def _id_ranges(ids: IntArray, gap: int = _GAP) -> list[tuple[int, int]]:
    """The sorted ids as ``[lo, hi]`` runs, neighbours at most ``gap`` apart merged.

    >>> _id_ranges(np.array([1, 2, 3, 5000, 5001]))
    [(1, 3), (5000, 5001)]
    """
    if ids.shape[0] == 0:
        return []
    cut = np.flatnonzero(np.diff(ids) > gap) + 1
    lo = ids[np.r_[0, cut]]
    hi = ids[np.r_[cut - 1, ids.shape[0] - 1]]
    return list(zip(lo.tolist(), hi.tolist(), strict=True))


def _fetch_ranges(
    sql: str,
    column: str,
    ranges: list[tuple[int, int]],
    params: Sequence[Any],
    width: int,
    *,
    ordered: bool = True,
) -> npt.NDArray[np.int64]:
    """``_fetch`` of ``sql`` (ending in a ``WHERE`` clause) restricted to ``column`` in ``ranges``
    (ascending), a few hundred ranges per query, ordered by ``column`` when ``ordered``; rows the caller
    did not ask for (inside a merged range) are the caller's to drop."""
    parts = []
    for at in range(0, len(ranges), _RANGES_PER_QUERY):
        batch = ranges[at : at + _RANGES_PER_QUERY]
        where = " OR ".join([f"{column} BETWEEN %s AND %s"] * len(batch))
        bounds = [bound for pair in batch for bound in pair]
        order = f" ORDER BY {column}" if ordered else ""
        parts.append(_fetch(f"{sql} AND ({where}){order}", [*params, *bounds], width))
    return np.concatenate(parts) if parts else np.zeros((0, width), dtype=np.int64)


_OWNERS = "(COALESCE(marketing_owner_id, -1) + 1) * 4294967296 + (COALESCE(sales_owner_id, -1) + 1)"
#: Up to this many runs of consecutive chosen ids, the owners are read run by run without the ids …
_MAX_RUNS = 64
#: … and with more, the runs at least this long (the others' ids are read with them).
_LONG_RUN = 256


def _leads_load(organization_id: int, chosen: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """The leads of ``chosen`` (sorted, unique) that exist in the organisation: ids, marketing and sales
    owners (-1: none).

    Fetching a column costs ~0.4 s a million rows, so the common case (a period's leads are a few runs
    of consecutive ids) fetches one: both owners packed in one integer, a query per run, in id order.
    As many rows as ids in a run means every id of it was found (ids are unique), so row ``i`` is the
    run's ``i``-th id. The longest runs are read so; the ids outside them (a period's few older leads
    with an opportunity in it, a lead gone, another organisation's) are read with their ids.
    ``+organization_id``: SQLite would otherwise walk the (organisation, created) index and sort a
    million rows by id, where the primary key's range is already in order.
    """
    runs = _id_ranges(chosen, gap=1)
    if len(runs) > _MAX_RUNS:  # the long runs by run (a query each); the scattered rest by id
        long = [r for r in runs if r[1] - r[0] + 1 >= _LONG_RUN]
        runs = sorted(sorted(long, key=lambda r: r[0] - r[1])[:_MAX_RUNS])
    found: list[tuple[IntArray, IntArray]] = []
    covered = np.zeros(chosen.shape[0], dtype=np.bool_)
    for lo, hi in runs:
        packed = _fetch(
            f"SELECT {_OWNERS} FROM leads_lead WHERE +organization_id = %s"  # noqa: S608 - constants only
            " AND id >= %s AND id <= %s ORDER BY id",
            [organization_id, lo, hi],
            1,
        )[:, 0]
        a, b = np.searchsorted(chosen, lo, "left"), np.searchsorted(chosen, hi, "right")
        if packed.shape[0] == b - a:
            found.append((chosen[a:b], packed))
            covered[a:b] = True
    rest = chosen[~covered]
    if rest.shape[0]:
        rows = _fetch_ranges(
            f"SELECT id, {_OWNERS} FROM leads_lead WHERE +organization_id = %s",  # noqa: S608 - constants only
            "id",
            _id_ranges(rest),
            [organization_id],
            2,
            ordered=False,
        )
        rows = rows[_member(rows[:, 0], rest)]
        found.append((rows[:, 0], rows[:, 1]))
    if not found:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    ids = np.concatenate([f[0] for f in found])
    packed = np.concatenate([f[1] for f in found])
    if len(found) > 1:
        order = np.argsort(ids, kind="stable")
        ids, packed = ids[order], packed[order]
    return np.ascontiguousarray(ids), (packed >> 32) - 1, (packed & 0xFFFFFFFF) - 1


def _member(values: IntArray, ids: IntArray) -> npt.NDArray[np.bool_]:
    """Per value, whether it is one of the sorted unique ``ids``."""
    at = np.searchsorted(ids, values)
    found: npt.NDArray[np.bool_] = at < ids.shape[0]
    found[found] = ids[at[found]] == values[found]
    return found


def _bounds_db() -> list[Any]:
    """The instants every input must lie between (``connectors.bounds``), as the database takes them."""
    adapt = connection.ops.adapt_datetimefield_value
    return [adapt(EARLIEST), adapt(LATEST)]


def _voided_db(organization_id: int) -> IntArray:
    """The ids (sorted, unique) of the organisation's voided events, straight from the database."""
    return np.unique(
        _fetch(
            f"SELECT {voided_target_sql('v.data')} FROM leads_leadevent v"  # noqa: S608 - constants only
            " WHERE v.organization_id = %s AND v.kind = 'voided'",
            [organization_id],
            1,
        )[:, 0]
    )


def _micros(moment: dt.datetime) -> int:
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


def events_from_database(
    *,
    organization_id: int,
    chosen: str,
    chosen_params: Sequence[Any],
    lead_id: IntArray,
    now_db: Any,
    reason_codes: Sequence[str],
    pause_kinds: Sequence[str],
) -> EventFrame:
    """The event frame of the leads ``chosen`` (a subquery) straight from SQL: the reference the snapshot
    is tested against (``frames_load(events_from="database")``). Ties at one instant sort by the leads
    app's order of kinds, then by id."""
    pg = connection.vendor == "postgresql"
    human_sql = (
        "CASE WHEN (e.data -> 'human') = 'true'::jsonb THEN 1 ELSE 0 END"
        if pg
        else "CASE WHEN json_type(e.data, '$.human') = 'true' THEN 1 ELSE 0 END"
    )
    cents = amount_cents_sql("e.data")  # -1 for an amount that is no usable number: counted as none
    reason = _json("e.data", "reason_code")
    reason_sql = _case(
        reason,
        [*((code, i) for i, code in enumerate(reason_codes)), ("", -1)],
        f"CASE WHEN {_json_type('e.data', 'reason_code')} IS NULL THEN -1 ELSE {UNKNOWN_REASON} END",
    )
    kind_sql = _case("e.kind", list(kind_codes(pause_kinds).items()), str(OTHER_KIND))
    # kind, human, reason and cents packed in one integer: every column fetched costs a second a 6M rows
    packed = (
        f"{kind_sql}"
        f" + 64 * (CASE WHEN e.kind = 'contact_attempt' THEN {human_sql} ELSE 0 END)"
        f" + 128 * (CASE WHEN e.kind IN ('rejected', 'lost', 'feedback', 'won')"
        f" THEN {reason_sql} ELSE -1 END + 1)"
        f" + {1 << 18} * (CASE WHEN e.kind IN ('opportunity', 'won', 'lost')"
        f" THEN MAX({cents}, 0) ELSE 0 END)"
    )
    if pg:
        packed = packed.replace("MAX(", "GREATEST(")
    event_rows = _fetch(
        f"SELECT e.lead_id, {_us('e.occurred_at')}, {packed}"  # noqa: S608 - constants and slugs only; values are bound
        " FROM leads_leadevent e WHERE e.organization_id = %s AND e.occurred_at <= %s"
        # instants outside the bounds, voided events and the voids: left out, as the snapshot does
        " AND e.occurred_at >= %s AND e.occurred_at < %s AND e.kind <> 'voided'"
        " AND NOT EXISTS (SELECT 1 FROM leads_leadevent v WHERE v.lead_id = e.lead_id AND v.kind = 'voided'"
        f" AND {voided_target_sql('v.data')} = e.id)"
        f" AND e.lead_id IN ({chosen})"
        " ORDER BY e.lead_id, e.occurred_at, e.id",
        [organization_id, now_db, *_bounds_db(), *chosen_params],
        3,
    )
    at = event_rows[:, 1]
    bits = event_rows[:, 2]
    kind = (bits & 63).astype(np.int16)
    lead_col = event_rows[:, 0]
    # the same instant: the leads app's order of kinds (created before handed over …), as it derives state
    tie = (lead_col[1:] == lead_col[:-1]) & (at[1:] == at[:-1])
    if tie.any():
        rank = np.full(64, 99, dtype=np.int64)
        for name, code in KIND_CODES.items():
            rank[code] = EVENT_ORDER.get(name, 99)
        order = np.lexsort((rank[kind], at, lead_col))
        lead_col, at, bits, kind = lead_col[order], at[order], bits[order], kind[order]
    return EventFrame(
        lead=np.searchsorted(lead_id, lead_col),
        kind=kind,
        occurred_at=at.astype("datetime64[us]"),
        human=((bits >> 6) & 1) != 0,
        amount_cents=bits >> 18,
        reason=(((bits >> 7) & 2047) - 1).astype(np.int32),
        actor=np.full(at.shape[0], -1, dtype=np.int32),
    )


def frames_load(
    *,
    organization_id: int,
    agreement_id: int,
    version_id: int,
    since: dt.datetime,
    until: dt.datetime,
    now: dt.datetime,
    reason_codes: Sequence[str],
    field_names: Sequence[str],
    definition_keys: Sequence[str] = (),
    pause_kinds: Sequence[str] = (),
    events_from: Literal["snapshot", "database"] = "snapshot",
    also_with: Sequence[str] = (),
) -> LoadedFrames:
    """The frames for the leads handed over in ``[since, until)`` (events known by ``now``).

    ``also_with``: event kinds whose leads are read too when such an event falls in ``[since, until)``
    (the event-based metrics — amounts, feedback — count a period's events of leads handed over
    before it; without them a month's pipeline depended on which other months were measured with it).

    ``definition_keys``: the definitions whose result at handoff the lead frame carries
    (``LeadFrame.definitions``); ``pause_kinds``: the event kinds read as pause codes (:func:`kind_codes`).

    The leads are chosen once (from the snapshot, or with SQL for ``events_from="database"``); the
    other tables are then read by ranges of those ids and filtered here, not through an ``IN`` subquery
    each (which made every read repeat the choice).
    """
    if len(reason_codes) >= UNKNOWN_REASON:
        raise ValueError(
            f"frames: {len(reason_codes)} reason codes, at most {UNKNOWN_REASON - 1} are supported"
        )
    kinds = ["handed_over", *(k for k in dict.fromkeys(also_with) if k != "handed_over")]
    for name in kinds:  # names go into the SQL as literals: slugs only
        if not _SLUG.fullmatch(name):
            raise ValueError(f"frames: event kind {name!r} is not a slug")
    chosen = (
        "SELECT DISTINCT lead_id FROM leads_leadevent c WHERE organization_id = %s"  # noqa: S608 - slugs only
        f" AND kind IN ({', '.join(repr(k) for k in kinds)})"
        " AND occurred_at >= %s AND occurred_at < %s AND occurred_at <= %s"
        " AND NOT EXISTS (SELECT 1 FROM leads_leadevent v WHERE v.lead_id = c.lead_id AND v.kind = 'voided'"
        f" AND {voided_target_sql('v.data')} = c.id)"
        # an event of another kind counts for a lead handed over by then (a handoff not voided)
        " AND (c.kind = 'handed_over' OR EXISTS (SELECT 1 FROM leads_leadevent h WHERE h.lead_id = c.lead_id"
        " AND h.kind = 'handed_over' AND h.occurred_at < %s AND h.occurred_at <= %s"
        " AND NOT EXISTS (SELECT 1 FROM leads_leadevent w WHERE w.lead_id = h.lead_id AND w.kind = 'voided'"
        f" AND {voided_target_sql('w.data')} = h.id)))"
    )
    adapt = connection.ops.adapt_datetimefield_value
    chosen_params = [organization_id, adapt(since), adapt(until), adapt(now), adapt(until), adapt(now)]
    snapshot = None
    if events_from == "database":
        chosen_ids = np.unique(_fetch(chosen, chosen_params, 1)[:, 0])
    else:
        snapshot = snapshot_open(organization_id=organization_id)
        bound = min(_micros(until), _micros(now) + 1)
        chosen_ids = snapshot.handed_over_leads(_micros(since), bound)
        if len(kinds) > 1:  # events of other kinds count for leads handed over by then
            extra = snapshot.leads_with(kinds[1:], _micros(since), bound)
            handed_over = snapshot.handed_over_leads(np.iinfo(np.int64).min, bound)
            chosen_ids = np.union1d(chosen_ids, extra[np.isin(extra, handed_over)]).astype(np.int64)

    lead_id, marketing_owner, sales_owner = _leads_load(organization_id, chosen_ids)

    if snapshot is None:
        events = events_from_database(
            organization_id=organization_id,
            chosen=chosen,
            chosen_params=chosen_params,
            lead_id=lead_id,
            now_db=chosen_params[3],
            reason_codes=reason_codes,
            pause_kinds=pause_kinds,
        )
    else:
        events = snapshot.frame(
            lead_id=lead_id,
            now=now,
            kind_codes=kind_codes(pause_kinds),
            other_kind=OTHER_KIND,
            reason_codes=reason_codes,
            unknown_reason=UNKNOWN_REASON,
        )

    keys = [k for k in dict.fromkeys(definition_keys) if k]
    voided = snapshot.voided() if snapshot is not None else _voided_db(organization_id)
    checks = _checks_load(lead_id, version_id=version_id, field_names=field_names, keys=keys, voided=voided)

    # duplicates: the earlier lead each one duplicates (Lead.duplicate_of), -1 for none; read through
    # the partial index of marked leads, not lead by lead
    duplicate_of = np.full(lead_id.shape[0], -1, dtype=np.int64)
    if lead_id.shape[0]:
        marked = _fetch(
            # "+": through the partial index of marked leads, not the organisation's million
            "SELECT id, duplicate_of_id FROM leads_lead WHERE duplicate_of_id IS NOT NULL"
            " AND +organization_id = %s AND +id >= %s AND +id <= %s",
            [organization_id, int(lead_id[0]), int(lead_id[-1])],
            2,
        )
        marked = marked[_member(marked[:, 0], lead_id)]
        duplicate_of[np.searchsorted(lead_id, marked[:, 0])] = marked[:, 1]

    upheld_ids = _fetch(
        "SELECT DISTINCT d.lead_id FROM measurement_dispute d"
        " JOIN agreements_agreementversion v ON v.id = d.agreement_version_id"
        " WHERE d.status = 'upheld' AND v.agreement_id = %s",
        [agreement_id],
        1,
    )[:, 0]
    upheld = _member(lead_id, np.unique(upheld_ids))

    leads = LeadFrame(
        lead_id=lead_id,
        marketing_owner=marketing_owner.astype(np.int32),
        sales_owner=sales_owner.astype(np.int32),
        met_definition=checks.met,
        disputed_upheld=upheld,
        duplicate_of=duplicate_of,
        field_names=tuple(field_names),
        fields_present=checks.present,
        definitions=checks.definitions,
    )
    return LoadedFrames(
        events=events,
        leads=leads,
        checked_lead=checks.checked_lead,
        checked_version=checks.checked_version,
        unusable=snapshot.unusable() if snapshot is not None else (0, []),
    )


@dataclass(frozen=True, slots=True)
class _Checks:
    met: npt.NDArray[np.bool_]
    present: npt.NDArray[np.bool_]
    definitions: dict[str, npt.NDArray[np.int8]]
    checked_lead: IntArray
    checked_version: IntArray


#: Definition results packed per integer column (two bits each: not checked, missed, met).
_KEYS_PER_COLUMN = 30
#: Chosen leads at least this share of all checks: the checks are read in one pass over the table.
_WHOLE_TABLE_SHARE = 0.5
#: Up to this many definitions share the flags column (34 bits of flags and version, 2 bits each).
_FOLD_KEYS = 14


def _checks_load(
    lead_id: IntArray,
    *,
    version_id: int,
    field_names: Sequence[str],
    keys: list[str],
    voided: IntArray | None = None,
) -> _Checks:
    """Per lead, the check of its latest handoff (this version's check first when there are several):
    met, the contract fields present, each definition's result and the definition version.

    One integer row per check (its order and its flags packed), so a million checks fetch in about a
    second; the ``missing_fields`` JSON is read and decoded only for the checks that have any, each
    distinct list once.
    """
    n = lead_id.shape[0]
    met = np.ones(n, dtype=np.bool_)
    present = np.ones((n, len(field_names)), dtype=np.bool_)
    definitions = {k: np.full(n, NOT_CHECKED, dtype=np.int8) for k in keys}
    none = np.zeros(0, dtype=np.int64)
    if n == 0:
        return _Checks(met, present, definitions, none, none)
    pg = connection.vendor == "postgresql"
    empty = "c.missing_fields = '[]'::jsonb" if pg else "c.missing_fields = '[]'"
    has_missing = f"CASE WHEN c.missing_fields IS NULL OR {empty} THEN 0 ELSE 2 END" if field_names else "0"
    flags = (
        f"(COALESCE(c.definition_version_id, -1) + 1) * 4 + CASE WHEN c.met THEN 1 ELSE 0 END + {has_missing}"
    )
    chunks = [keys[at : at + _KEYS_PER_COLUMN] for at in range(0, len(keys), _KEYS_PER_COLUMN)]
    packed = [
        " + ".join(f"CAST({_definition_met(key)} + 1 AS BIGINT) * {4**j}" for j, key in enumerate(c))
        for c in chunks
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM leads_handoffcheck")
        total = cursor.fetchone()[0]
        cursor.execute("SELECT MAX(id) FROM agreements_definitionversion")
        top_version = cursor.fetchone()[0] or 0
    # a few definitions fold into the flags column (one column fewer to fetch: ~0.3 s a million rows)
    fold = len(keys) <= _FOLD_KEYS and top_version < 2**31
    if fold and packed:
        flags, packed = f"({flags}) * {4 ** len(keys)} + {packed[0]}", []
    join = " LEFT JOIN agreements_definitionversion dv ON dv.id = c.definition_version_id" if keys else ""
    # most of the table wanted (a year): one pass over it beats walking the lead index
    whole = n >= _WHOLE_TABLE_SHARE * total
    rows = _fetch_ranges(
        "SELECT c.lead_id, c.event_id * 2 + CASE WHEN c.agreement_version_id = %s THEN 1 ELSE 0 END,"  # noqa: S608 - constants and slugs only; values are bound
        f" c.id, {flags}"
        + "".join(f", {p}" for p in packed)
        + f" FROM leads_handoffcheck c{join} WHERE 1 = 1",
        "c.lead_id + 0" if whole else "c.lead_id",  # "+ 0": not through the index
        [(int(lead_id[0]), int(lead_id[-1]))] if whole else _id_ranges(lead_id),
        [version_id],
        4 + len(packed),
        ordered=False,
    )
    keep = _member(rows[:, 0], lead_id)
    if voided is not None and voided.shape[0]:  # the check of a voided handoff does not count
        keep &= ~np.isin(rows[:, 1] >> 1, voided)
    if not keep.all():
        rows = rows[keep]
    if rows.shape[0] == 0:
        return _Checks(met, present, definitions, none, none)
    # one check per lead, in lead order (the usual case): nothing to choose
    if rows.shape[0] > 1 and not bool((rows[1:, 0] > rows[:-1, 0]).all()):
        rows = rows[np.lexsort((rows[:, 2], rows[:, 1], rows[:, 0]))]
        last = np.ones(rows.shape[0], dtype=np.bool_)  # the last check row of each lead
        last[:-1] = rows[1:, 0] != rows[:-1, 0]
        rows = rows[last]
    at = np.searchsorted(lead_id, rows[:, 0])
    bits = rows[:, 3]
    if fold:
        columns = [bits & (4 ** len(keys) - 1)]
        bits = bits >> (2 * len(keys))
    else:
        columns = [rows[:, 4 + k] for k in range(len(chunks))]
    met[at] = (bits & 1) != 0
    for j, key in enumerate(keys):
        column = columns[j // _KEYS_PER_COLUMN] >> (2 * (j % _KEYS_PER_COLUMN))
        definitions[key][at] = ((column & 3) - 1).astype(np.int8)
    version = (bits >> 2) - 1
    has_version = version >= 0
    with_missing = (bits & 2) != 0
    if with_missing.any():
        _missing_load(present, field_names, check_id=rows[with_missing, 2], row=at[with_missing])
    return _Checks(
        met, present, definitions, np.ascontiguousarray(rows[has_version, 0]), version[has_version]
    )


def _missing_load(
    present: npt.NDArray[np.bool_], field_names: Sequence[str], *, check_id: IntArray, row: IntArray
) -> None:
    """Mark the fields each check ``check_id`` found missing as absent in ``present[row]``."""
    order = np.argsort(check_id)
    check_id, row = check_id[order], row[order]
    texts: list[Any] = []
    ids: list[int] = []
    empty = "missing_fields = '[]'::jsonb" if connection.vendor == "postgresql" else "missing_fields = '[]'"
    ranges = _id_ranges(check_id)  # checks of one import have neighbouring ids
    for at in range(0, len(ranges), _RANGES_PER_QUERY):
        batch = ranges[at : at + _RANGES_PER_QUERY]
        where = " OR ".join(["id BETWEEN %s AND %s"] * len(batch))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, missing_fields FROM leads_handoffcheck"  # noqa: S608 - constants only; values are bound
                f" WHERE missing_fields IS NOT NULL AND NOT ({empty}) AND ({where})",
                [bound for pair in batch for bound in pair],
            )
            for check, missing in cursor.fetchall():
                ids.append(check)
                texts.append(missing)
    found = np.array(ids, dtype=np.int64)
    wanted = np.flatnonzero(_member(found, check_id))
    rows = row[np.searchsorted(check_id, found[wanted])]
    code_of: dict[str, int] = {}
    codes = np.fromiter(
        (
            code_of.setdefault(t if isinstance(t, str) else json.dumps(t), len(code_of))
            for t in (texts[k] for k in wanted.tolist())
        ),
        dtype=np.int64,
        count=wanted.shape[0],
    )
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(code_of) + 1))
    column_of = {name: j for j, name in enumerate(field_names)}
    for text, code in code_of.items():  # each distinct list of missing fields decoded once
        names = json.loads(text) or ()
        columns = [column_of[name] for name in dict.fromkeys(names) if name in column_of]
        if columns:
            these = rows[order[bounds[code] : bounds[code + 1]]]
            present[np.ix_(these, np.array(columns, dtype=np.int64))] = False
