"""A columnar copy of every lead event of an organisation, on disk, kept current by event id.

Why: measuring a year reads every event of a million leads; through Python's sqlite3 that is ~25 s of
SQL and row fetching per call. The snapshot holds the same events as numpy columns (lead id,
``occurred_at`` in µs, kind, human flag, cents, reason code, event id), sorted the way the engine reads
them — by lead, time, then the leads app's order of kinds (``leads._state.KIND_ORDER``), then id — so a
period's events are a ``searchsorted`` range per lead. Kinds and reason codes are stored as names (a
vocabulary per snapshot), so any stored kind — a pause kind such as ``waiting_on_customer``, ``resumed``
— and any agreement's reason codes map to the engine's codes when read.

Layout: ``<DATA_DIR>/snapshots/<database>/org-<organization>/<token>/`` holds one ``.npy`` per column
and ``meta.json`` (vocabularies, counts, a CRC-32 per column). The ``EventSnapshot`` row of this data
folder (:func:`snapshot_place`) names the token: a recreated database has no row (or another token), so
it never picks up a stale file; a file is written under a fresh token, then the row points at it.
Processes sharing a data folder share the copy; machines sharing only the database each have their own
row and copy (one row for all made each machine rebuild over the other's on every use).

Why it stays right — the events table is append-only (no update, no delete), so the events are
exactly "the snapshot's events" plus "the events with ``id > upto_id``":

* The snapshot records ``upto_id`` (its highest event id) and ``events`` (how many it holds). On use,
  the events with ``id > upto_id`` are read with SQL (the *delta*), merged in memory, and when the
  delta is large (:data:`REWRITE_AT`) a new snapshot is written.
* SQLite serialises writers, and an event id is taken under the write lock (``AUTOINCREMENT``, or
  :func:`leadpact.leads._sql.allocate_ids` after the highest id ever used): every event committed after
  a read has a higher id than every event that read saw. So nothing can appear below ``upto_id`` later.
* PostgreSQL takes ids from a sequence outside the transaction: a transaction holding id 100 may
  commit after one holding 101 did, and after a snapshot with ``upto_id = 101`` was read — that event
  would be missed by ``id > upto_id`` forever. So on PostgreSQL each use also counts the events with
  ``id <= upto_id``: append-only means the count only grows, and equals ``events`` exactly when no late
  event appeared. A mismatch rebuilds. The delta is read *before* the count: if the count still
  matches, the snapshot plus that delta is exactly the table as the delta read saw it.
  (On SQLite the same count costs 1–1.5 s for 6 M events and can never differ, so it is not run.)
* Anything off — no row, no file, a column of the wrong type or length, a failing CRC, a vocabulary
  index out of range, unsorted leads — rebuilds from the database. A snapshot that cannot be written
  (read-only disk) is used from memory for this call: a slower call, never a wrong number.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import shutil
import threading
import time
import warnings
import zlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from leadpact.connectors.bounds import AMOUNT_LIMIT, EARLIEST, LATEST
from leadpact.core.metrics import EventFrame
from leadpact.leads._state import KIND_ORDER

__all__ = [
    "OUT_OF_RANGE_AT",
    "REWRITE_AT",
    "UNUSABLE_CENTS",
    "VOIDED",
    "EventColumns",
    "Snapshot",
    "amount_cents_sql",
    "snapshot_build",
    "snapshot_directory",
    "snapshot_open",
    "voided_target_sql",
]

log = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]

#: Kinds the read encodes in SQL (any other stored kind is read by name, separately).
_KNOWN_KINDS = (
    "created", "handed_over", "assigned", "contact_attempt", "accepted", "rejected", "qualified",
    "opportunity", "won", "lost", "recycled", "feedback", "field_changed", "resumed",
)  # fmt: skip
_KNOWN_SQL = ", ".join(f"'{name}'" for name in _KNOWN_KINDS)
_OTHER = 63
_REASON_KINDS = "('rejected', 'lost', 'feedback', 'won')"
_AMOUNT_KINDS = "('opportunity', 'won', 'lost')"
#: Reason column: -1 none (absent or empty), -2 present but never a code (JSON null, a number on SQLite).
NO_REASON = -1
ODD_REASON = -2
#: A delta this large (events read with SQL on every use) is merged into a new snapshot file.
REWRITE_AT = 20_000
_CHUNK = 200_000
_FORMAT = 1
_COLUMNS: dict[str, str] = {
    "lead": "<i8",
    "at": "<i8",
    "kind": "<i2",
    "human": "|b1",
    "cents": "<i8",
    "reason": "<i4",
    "event_id": "<i8",
}
#: ``cents`` of an amount that is there but no usable number (out of bounds, not a number — stored before
#: the bounds of ``connectors.bounds``, or by hand): measured as 0 and reported (``Snapshot.unusable``).
UNUSABLE_CENTS = -1
#: The correction event: its ``cents`` column holds the id of the event it voids; both are left out.
VOIDED = "voided"
#: ``at`` of an instant outside the bounds (1970 up to 2100, ``connectors.bounds``) or not an instant at all:
#: left out of every frame and reported.
OUT_OF_RANGE_AT = -(2**62)
_LOW_US = (EARLIEST - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
_HIGH_US = (LATEST - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
#: Databases whose ids may commit out of order, so each use counts the events up to ``upto_id``.
COUNT_CHECK = frozenset({"postgresql"})
_GRACE = dt.timedelta(minutes=10)  # an older snapshot may still be open in another process this long


@dataclass(frozen=True, slots=True)
class EventColumns:
    """Events as columns (any order unless said), kinds and reasons as indexes into their vocabularies.

    ``human`` is recorded for contact attempts, ``cents`` (≥ 0) for opportunity/won/lost and ``reason``
    for rejected/lost/feedback/won — what the engine reads of each kind.
    """

    lead: IntArray
    at: IntArray  # occurred_at, µs since the epoch (UTC)
    kind: npt.NDArray[np.int16]
    human: npt.NDArray[np.bool_]
    cents: IntArray
    reason: npt.NDArray[np.int32]
    event_id: IntArray
    kinds: tuple[str, ...]
    reasons: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.lead.shape[0])

    def columns(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _COLUMNS}

    def take(self, rows: Any) -> EventColumns:
        """The rows ``rows`` (an index array or a slice), same vocabularies."""
        return EventColumns(
            **{name: np.asarray(col[rows]) for name, col in self.columns().items()},
            kinds=self.kinds,
            reasons=self.reasons,
        )

    def rank(self) -> IntArray:
        """Each event's place in the leads app's order of kinds at one instant (unknown kinds last)."""
        lut = np.array([KIND_ORDER.get(name, 99) for name in self.kinds] or [99], dtype=np.int64)
        return lut[self.kind]

    def sorted(self) -> EventColumns:
        """By (lead, occurred_at, order of kinds, event id)."""
        if len(self) > 1 and np.any(self.event_id[1:] < self.event_id[:-1]):
            return self.take(np.argsort(self.event_id, kind="stable")).sorted()
        order = np.lexsort((self.rank(), self.at, self.lead))  # stable: ties keep id order
        return self.take(order)

    def recoded(self, kinds: Sequence[str], reasons: Sequence[str]) -> EventColumns:
        """The same events with indexes into ``kinds``/``reasons`` (which hold every name used here)."""
        kind_of = {name: i for i, name in enumerate(kinds)}
        reason_of = {name: i for i, name in enumerate(reasons)}
        k = np.array([kind_of[n] for n in self.kinds] or [0], dtype=np.int16)
        r = np.array([reason_of[n] for n in self.reasons] or [0], dtype=np.int32)
        reason = np.where(self.reason >= 0, r[np.maximum(self.reason, 0)], self.reason).astype(np.int32)
        return EventColumns(
            lead=self.lead,
            at=self.at,
            kind=k[self.kind],
            human=self.human,
            cents=self.cents,
            reason=reason,
            event_id=self.event_id,
            kinds=tuple(kinds),
            reasons=tuple(reasons),
        )

    def of_leads(self, lead_id: IntArray) -> tuple[EventColumns, IntArray]:
        """The events of the leads ``lead_id`` (sorted, unique) — needs ``self`` sorted by lead — and
        per lead how many there are (``searchsorted`` ranges, not a scan)."""
        lo = np.searchsorted(self.lead, lead_id, "left")
        hi = np.searchsorted(self.lead, lead_id, "right")
        counts = (hi - lo).astype(np.int64)
        # neighbouring leads' ranges touch (lead ids grow with time, and so do periods): copy whole runs
        some = counts > 0
        run_lo, run_hi = lo[some], hi[some]
        if run_lo.shape[0] == 0:
            return _empty(self.kinds, self.reasons), counts
        cut = np.flatnonzero(run_lo[1:] != run_hi[:-1]) + 1
        starts, ends = run_lo[np.r_[0, cut]], run_hi[np.r_[cut - 1, run_hi.shape[0] - 1]]
        if starts.shape[0] > 1024:
            return self.take(_ranges(lo, counts)), counts
        runs = [slice(int(a), int(b)) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
        if len(runs) == 1:  # one run (a year of consecutive leads): views, no copy of six million rows
            return self.take(runs[0]), counts
        return (
            EventColumns(
                **{name: np.concatenate([col[r] for r in runs]) for name, col in self.columns().items()},
                kinds=self.kinds,
                reasons=self.reasons,
            ),
            counts,
        )


def _ranges(lo: IntArray, counts: IntArray) -> IntArray:
    """The positions ``lo[i] .. lo[i] + counts[i] - 1`` of every range, in order."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.cumsum(counts) - counts
    positions: IntArray = np.arange(total, dtype=np.int64) + np.repeat(lo - starts, counts)
    return positions


def _empty(kinds: Sequence[str] = (), reasons: Sequence[str] = ()) -> EventColumns:
    z = np.zeros(0, dtype=np.int64)
    return EventColumns(
        lead=z,
        at=z,
        kind=np.zeros(0, dtype=np.int16),
        human=np.zeros(0, dtype=np.bool_),
        cents=z,
        reason=np.zeros(0, dtype=np.int32),
        event_id=z,
        kinds=tuple(kinds),
        reasons=tuple(reasons),
    )


def merge(base: EventColumns, delta: EventColumns) -> EventColumns:
    """Both sorted, every ``delta`` id above every ``base`` id: the union, sorted, in ``base``'s vocabularies
    (extended by the names only ``delta`` uses)."""
    kinds = (*base.kinds, *(n for n in delta.kinds if n not in base.kinds))
    reasons = (*base.reasons, *(n for n in delta.reasons if n not in base.reasons))
    delta = delta.recoded(kinds, reasons)
    if len(base) == 0:
        return delta
    base = EventColumns(**base.columns(), kinds=kinds, reasons=reasons)
    if len(delta) == 0:
        return base
    # each delta event goes after the base events of its lead that sort before or level with it
    lo = np.searchsorted(base.lead, delta.lead, "left")
    counts = np.searchsorted(base.lead, delta.lead, "right") - lo
    rows = _ranges(lo, counts)
    owner = np.repeat(np.arange(len(delta), dtype=np.int64), counts)
    b_at, d_at = base.at[rows], delta.at[owner]
    rank_lut = np.array([KIND_ORDER.get(n, 99) for n in kinds] or [99], dtype=np.int64)
    b_rank, d_rank = rank_lut[base.kind[rows]], rank_lut[delta.kind[owner]]
    before = (b_at < d_at) | ((b_at == d_at) & (b_rank <= d_rank))
    at = lo + np.bincount(owner, weights=before, minlength=len(delta)).astype(np.int64)
    return EventColumns(
        **{name: np.insert(col, at, getattr(delta, name)) for name, col in base.columns().items()},
        kinds=kinds,
        reasons=reasons,
    )


# ---- reading events with SQL (the whole table once, then by id) ---------------------------------------


def amount_cents_sql(data: str = "e.data") -> str:
    """SQL for an event's ``amount`` in whole cents (negative amounts as 0), 0 when there is none, and
    :data:`UNUSABLE_CENTS` when it is there but no number within ``connectors.bounds`` — whatever was
    stored, the expression never fails (no cast of text that is not a number, no overflow)."""
    limit = int(AMOUNT_LIMIT)
    if connection.vendor == "postgresql":
        text = f"({data} ->> 'amount')"
        kind = f"jsonb_typeof({data} -> 'amount')"
        number = f"CAST({text} AS NUMERIC)"
        cents = f"CAST(GREATEST(ROUND({number} * 100), 0) AS BIGINT)"
        return (
            f"(CASE WHEN {kind} IS NULL OR {kind} = 'null' THEN 0"
            f" WHEN {kind} = 'number' THEN (CASE WHEN ABS({number}) < {limit} THEN {cents} ELSE -1 END)"
            f" WHEN {kind} <> 'string' THEN -1 WHEN {text} = '' THEN 0"
            rf" WHEN length({text}) <= 40 AND {text} ~ '^-?[0-9]{{1,11}}(\.[0-9]*)?$' THEN {cents}"
            " ELSE -1 END)"
        )
    value = f"json_extract({data}, '$.amount')"
    kind = f"json_type({data}, '$.amount')"
    real = f"CAST({value} AS REAL)"
    cents = f"MAX(CAST(ROUND({real} * 100) AS INTEGER), 0)"
    return (
        f"(CASE WHEN {kind} IS NULL OR {kind} = 'null' THEN 0"
        f" WHEN {kind} IN ('integer', 'real') THEN (CASE WHEN ABS({real}) < {limit} THEN {cents} ELSE -1 END)"
        f" WHEN {kind} <> 'text' THEN -1 WHEN {value} = '' THEN 0"
        f" WHEN length({value}) <= 40 AND {value} NOT GLOB '*[^0-9.-]*' AND {value} GLOB '*[0-9]*'"
        f" AND ABS({real}) < {limit} THEN {cents}"
        " ELSE -1 END)"
    )


def voided_target_sql(data: str = "e.data") -> str:
    """SQL for the id a ``voided`` event names (``data.event_id``), 0 when it names none."""
    if connection.vendor == "postgresql":
        text = f"({data} ->> 'event_id')"
        return f"(CASE WHEN {text} ~ '^[0-9]{{1,18}}$' THEN CAST({text} AS BIGINT) ELSE 0 END)"
    value = f"json_extract({data}, '$.event_id')"
    return f"(CASE WHEN json_type({data}, '$.event_id') = 'integer' THEN {value} ELSE 0 END)"


def _sql_parts() -> dict[str, str]:
    if connection.vendor == "postgresql":
        reason = "(e.data ->> 'reason_code')"
        return {
            "at": "CASE WHEN e.occurred_at >= TIMESTAMPTZ '1970-01-01 00:00:00+00'"
            " AND e.occurred_at < TIMESTAMPTZ '2100-01-01 00:00:00+00'"
            f" THEN CAST(EXTRACT(EPOCH FROM e.occurred_at) * 1000000 AS BIGINT) ELSE {OUT_OF_RANGE_AT} END",
            "human": "(e.data -> 'human') = 'true'::jsonb",
            "cents": amount_cents_sql(),
            "target": voided_target_sql(),
            "state": f"CASE WHEN (e.data -> 'reason_code') IS NULL THEN 0 WHEN {reason} IS NULL THEN 2"
            f" WHEN {reason} = '' THEN 0 ELSE 1 END",
            "reason": reason,
        }
    reason_type = "json_type(e.data, '$.reason_code')"
    reason = "json_extract(e.data, '$.reason_code')"
    return {
        # 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC, parsed by numpy: 3× faster than julianday() in SQL; an
        # expression, not the bare column, so Django's datetime converter does not parse each row in Python
        "at": "(e.occurred_at || '')",
        "human": "json_type(e.data, '$.human') = 'true'",
        "cents": amount_cents_sql(),
        "target": voided_target_sql(),
        "state": f"CASE WHEN {reason_type} IS NULL THEN 0 WHEN {reason_type} = 'text'"
        f" THEN (CASE WHEN {reason} = '' THEN 0 ELSE 1 END) ELSE 2 END",
        "reason": f"CASE WHEN {reason_type} = 'text' THEN {reason} END",
    }


def _micros_of(texts: Sequence[Any]) -> IntArray:
    """SQLite's UTC datetime texts (or datetimes) as µs since the epoch."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            parsed: IntArray = np.array(texts, dtype="datetime64[us]").view(np.int64)
            return parsed
    except (ValueError, TypeError, DeprecationWarning, UserWarning):
        out = np.empty(len(texts), dtype=np.int64)
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        for i, value in enumerate(texts):
            try:
                moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=dt.UTC)
                out[i] = (moment - epoch) // dt.timedelta(microseconds=1)
            except (ValueError, TypeError, OverflowError):  # not an instant at all: left out, reported
                out[i] = OUT_OF_RANGE_AT
        return out


def events_read(*, organization_id: int, after_id: int = 0) -> EventColumns:
    """Every event of the organisation with ``id > after_id``, in id order, straight from the database."""
    p = _sql_parts()
    kind_case = " ".join(f"WHEN '{name}' THEN {i}" for i, name in enumerate(_KNOWN_KINDS))
    packed = (
        f"(CASE e.kind {kind_case} ELSE {_OTHER} END)"
        f" + 64 * (CASE WHEN e.kind = 'contact_attempt' AND {p['human']} THEN 1 ELSE 0 END)"
        f" + 128 * (CASE WHEN e.kind IN {_REASON_KINDS} THEN {p['state']} ELSE 0 END)"
        f" + 512 * (CASE WHEN e.kind IN {_AMOUNT_KINDS} THEN {p['cents']}"
        f" WHEN e.kind = '{VOIDED}' THEN {p['target']} ELSE 0 END)"
    )
    # SQLite: '+' keeps the planner off the organisation's indexes (a scan of them all, then a sort):
    # the id range of the table itself is what a delta wants
    where = ("+" if connection.vendor == "sqlite" else "") + "e.organization_id = %s AND e.id > %s"
    params = [organization_id, after_id]
    ids: list[IntArray] = []
    leads: list[IntArray] = []
    ats: list[IntArray] = []
    bits: list[IntArray] = []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.id, e.lead_id, {p['at']}, {packed} FROM leads_leadevent e"  # noqa: S608 - constants only; values are bound
            f" WHERE {where} ORDER BY e.id",
            params,
        )
        while rows := cursor.fetchmany(_CHUNK):
            # a list per column: zip(*rows) costs 20× more on 200,000 rows
            ids.append(np.array([r[0] for r in rows], dtype=np.int64))
            leads.append(np.array([r[1] for r in rows], dtype=np.int64))
            times = [r[2] for r in rows]
            pg = connection.vendor == "postgresql"
            ats.append(np.array(times, dtype=np.int64) if pg else _micros_of(times))
            bits.append(np.array([r[3] for r in rows], dtype=np.int64))
    if not ids:
        return _empty(_KNOWN_KINDS)
    event_id, packed_bits = np.concatenate(ids), np.concatenate(bits)
    kind = (packed_bits & 63).astype(np.int16)
    state = (packed_bits >> 7) & 3
    kinds = list(_KNOWN_KINDS)
    other = np.flatnonzero(kind == _OTHER)
    if other.shape[0]:  # kinds without a code in SQL (pause kinds …): read by name
        names = _by_id(
            "SELECT e.id, e.kind FROM leads_leadevent e"  # noqa: S608 - constants only; values are bound
            f" WHERE {where} AND e.id <= %s AND e.kind NOT IN ({_KNOWN_SQL})",
            [*params, int(event_id[-1])],
            event_id,
            other,
        )
        index = {name: len(_KNOWN_KINDS) + i for i, name in enumerate(dict.fromkeys(names))}
        kinds.extend(index)
        kind[other] = [index[n] for n in names]
    reason = np.where(state == 2, ODD_REASON, NO_REASON).astype(np.int32)
    texts = np.flatnonzero(state == 1)
    reasons: list[str] = []
    if texts.shape[0]:
        values = _by_id(
            f"SELECT e.id, {p['reason']} FROM leads_leadevent e"  # noqa: S608 - constants only; values are bound
            f" WHERE {where} AND e.id <= %s AND e.kind IN {_REASON_KINDS}",
            [*params, int(event_id[-1])],
            event_id,
            texts,
        )
        index = {name: i for i, name in enumerate(dict.fromkeys(values))}
        reasons = list(index)
        reason[texts] = [index[v] for v in values]
    return EventColumns(
        lead=np.concatenate(leads),
        at=np.concatenate(ats),
        kind=kind,
        human=((packed_bits >> 6) & 1) != 0,
        cents=packed_bits >> 9,
        reason=reason,
        event_id=event_id,
        kinds=tuple(kinds),
        reasons=tuple(reasons),
    )


def _by_id(sql: str, params: Sequence[Any], event_id: IntArray, wanted: IntArray) -> list[str]:
    """The text column of ``sql`` for the events at positions ``wanted`` of ``event_id`` (sorted)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        found = dict(cursor.fetchall())
    missing = [int(i) for i in event_id[wanted] if int(i) not in found or found[int(i)] is None]
    if missing:
        raise SnapshotError(f"events {missing[:5]}: a second read did not find them as the first did")
    return [str(found[int(i)]) for i in event_id[wanted]]


class SnapshotError(RuntimeError):
    """The snapshot (or a read building it) is not what it should be: rebuild."""


# ---- the file and its row ------------------------------------------------------------------------------


_PLACES: dict[Path, str] = {}
_PLACES_LOCK = threading.Lock()
#: A row of another data folder not rewritten this long belongs to a machine that is gone: removed.
_PLACE_GONE = dt.timedelta(days=30)


def snapshot_place() -> str:
    """This data folder's name among those sharing the database: random, made once, kept in the folder
    (``snapshots/place``), so every process of one machine shares one copy and each machine has its own."""
    root = Path(settings.DATA_DIR) / "snapshots"
    with _PLACES_LOCK:
        known = _PLACES.get(root)
        if known is not None:
            return known
        path = root / "place"
        try:
            root.mkdir(parents=True, exist_ok=True)
            if not path.exists():  # the first process names it (whole, by a link); the others read it
                draft = root / f".place-{secrets.token_hex(8)}"
                draft.write_text(secrets.token_hex(16))
                with contextlib.suppress(FileExistsError):
                    os.link(draft, path)
                draft.unlink()
            name = path.read_text().strip()
        except OSError as error:  # a read-only folder: a name for this process alone
            log.warning("snapshot place not kept in %s: %s", path, error)
            name = ""
        if len(name) != 32:
            name = secrets.token_hex(16)
        _PLACES[root] = name
        return name


def snapshot_directory(organization_id: int) -> Path:
    """Where an organisation's snapshots of this database live."""
    db = connection.settings_dict
    key = f"{connection.vendor}:{db.get('HOST', '')}:{db.get('PORT', '')}:{db.get('NAME', '')}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return Path(settings.DATA_DIR) / "snapshots" / digest / f"org-{organization_id}"


def _write(directory: Path, token: str, columns: EventColumns, meta: dict[str, Any]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".partial-{token}"
    partial.mkdir()
    try:
        crc: dict[str, int] = {}
        for name, dtype in _COLUMNS.items():
            array: Any = np.ascontiguousarray(getattr(columns, name), dtype=dtype)
            np.save(partial / f"{name}.npy", array, allow_pickle=False)
            crc[name] = zlib.crc32(memoryview(array))
        full = {
            **meta,
            "format": _FORMAT,
            "token": token,
            "kinds": list(columns.kinds),
            "reasons": list(columns.reasons),
            "crc32": crc,
        }
        (partial / "meta.json").write_text(json.dumps(full))
        partial.rename(directory / token)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


# per process: a file's CRCs are checked once, while its size and modification time stay the same
_VERIFIED: OrderedDict[Path, tuple[tuple[int, ...], EventColumns]] = OrderedDict()
_VERIFIED_LOCK = threading.Lock()


def _stamp(path: Path) -> tuple[int, ...]:
    files = [path / f"{name}.npy" for name in _COLUMNS] + [path / "meta.json"]
    return tuple(v for f in files for s in [f.stat()] for v in (s.st_size, s.st_mtime_ns, s.st_ino))


def _read(path: Path, *, organization_id: int, upto_id: int, events: int) -> EventColumns:
    """The snapshot at ``path`` (memory-mapped), checked against its row; :class:`SnapshotError` if off."""
    try:
        stamp = _stamp(path)
    except OSError as error:
        raise SnapshotError(f"{path}: {error}") from error
    with _VERIFIED_LOCK:
        known = _VERIFIED.get(path)
        if known is not None and known[0] == stamp:
            _VERIFIED.move_to_end(path)
            return known[1]
    try:
        meta = json.loads((path / "meta.json").read_text())
        expected = {
            "format": _FORMAT,
            "token": path.name,
            "organization": organization_id,
            "upto_id": upto_id,
            "events": events,
        }
        if any(meta.get(k) != v for k, v in expected.items()):
            raise SnapshotError(f"{path}: meta.json does not match its row")
        arrays: dict[str, Any] = {}
        for name, dtype in _COLUMNS.items():
            array = np.load(path / f"{name}.npy", mmap_mode="r" if events else None, allow_pickle=False)
            if array.dtype != np.dtype(dtype) or array.shape != (events,):
                raise SnapshotError(f"{path}: column {name} is {array.dtype}{array.shape}")
            if zlib.crc32(memoryview(array)) != meta["crc32"][name]:
                raise SnapshotError(f"{path}: column {name} fails its CRC-32")
            arrays[name] = array
        columns = EventColumns(**arrays, kinds=tuple(meta["kinds"]), reasons=tuple(meta["reasons"]))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SnapshotError(f"{path}: {error}") from error
    lead = columns.lead
    if events and (
        np.any(lead[1:] < lead[:-1])
        or int(columns.kind.min()) < 0
        or int(columns.kind.max()) >= len(columns.kinds)
        or int(columns.reason.min()) < ODD_REASON
        or int(columns.reason.max()) >= max(len(columns.reasons), 1)
        or int(columns.event_id.max()) != upto_id
    ):
        raise SnapshotError(f"{path}: columns out of order or out of range")
    with _VERIFIED_LOCK:
        _VERIFIED[path] = (stamp, columns)
        while len(_VERIFIED) > 4:
            _VERIFIED.popitem(last=False)
    return columns


def _count_upto(organization_id: int, upto_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM leads_leadevent WHERE organization_id = %s AND id <= %s",
            [organization_id, upto_id],
        )
        return int(cursor.fetchone()[0])


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An organisation's events as of one moment: the stored ``base`` plus the ``delta`` read since."""

    organization_id: int
    base: EventColumns
    delta: EventColumns  # sorted; in the base's vocabularies
    token: str
    rebuilt: bool

    def __len__(self) -> int:
        return len(self.base) + len(self.delta)

    def of_leads(self, lead_id: IntArray) -> tuple[EventColumns, IntArray]:
        """The events of the leads ``lead_id`` (sorted, unique), sorted, and how many each lead has."""
        events, counts = self.base.of_leads(lead_id)
        if len(self.delta):
            more, extra = self.delta.of_leads(lead_id)
            if len(more):
                events, counts = merge(events, more), counts + extra
        return events, counts

    def voided(self) -> IntArray:
        """The ids (sorted, unique) of the events a ``voided`` event voids: left out of every frame."""
        parts = [
            columns.cents[columns.kind == columns.kinds.index(VOIDED)]
            for columns in (self.base, self.delta)
            if len(columns) and VOIDED in columns.kinds
        ]
        return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def voided_leads(self) -> IntArray:
        """The leads (sorted, unique) with an event that is voided: whose stored clocks may be stale."""
        voided = self.voided()
        if not voided.shape[0]:
            return voided
        parts = [c.lead[np.isin(c.event_id, voided)] for c in (self.base, self.delta) if len(c)]
        return np.unique(np.concatenate(parts))

    def unusable(self) -> tuple[int, list[tuple[int, str]]]:
        """Events measured without a stored value they carry, as ``(how many, [(event id, why)…])``, the
        first ten listed: an amount that is no usable number (counted as 0), an instant outside
        1970–2100 (the event left out). Voided events are not listed: voiding is the remedy."""
        voided = self.voided()
        found: list[tuple[int, str]] = []
        total = 0
        for columns in (self.base, self.delta):
            if not len(columns):
                continue
            amounts = [columns.kinds.index(k) for k in ("opportunity", "won", "lost") if k in columns.kinds]
            bad_amount = (columns.cents == UNUSABLE_CENTS) & np.isin(columns.kind, amounts)
            bad_at = (columns.at < _LOW_US) | (columns.at >= _HIGH_US)
            rows = np.flatnonzero(bad_amount | bad_at)
            if voided.shape[0] and rows.shape[0]:
                rows = rows[~np.isin(columns.event_id[rows], voided)]
            total += int(rows.shape[0])
            for i in rows[: max(10 - len(found), 0)].tolist():
                why = (
                    "occurred_at is out of range (1970 up to 2100)"
                    if bad_at[i]
                    else "amount is no usable number"
                )
                found.append((int(columns.event_id[i]), why))
        return total, sorted(found)

    def handed_over_leads(self, since_us: int, until_us: int) -> IntArray:
        """The leads (sorted, unique) with a ``handed_over`` event in ``[since_us, until_us)`` (µs):
        the leads a period measures, without asking the database (one pass over the kind and time
        columns instead of an ``IN`` subquery repeated by every read of the leads' other tables).
        A voided handoff does not count."""
        return self.leads_with(("handed_over",), since_us, until_us)

    def leads_with(self, kinds: Sequence[str], since_us: int, until_us: int) -> IntArray:
        """The leads (sorted, unique) with an event of one of ``kinds`` in ``[since_us, until_us)`` (µs);
        voided events do not count."""
        parts: list[IntArray] = []
        voided = self.voided()
        for columns in (self.base, self.delta):  # each sorted by lead
            codes = [columns.kinds.index(k) for k in kinds if k in columns.kinds]
            if not len(columns) or not codes:
                continue
            hit = columns.kind == codes[0]
            for code in codes[1:]:
                hit |= columns.kind == code
            hit &= columns.at >= since_us
            hit &= columns.at < until_us
            if voided.shape[0]:
                rows = np.flatnonzero(hit)
                hit[rows[np.isin(columns.event_id[rows], voided)]] = False
            parts.append(columns.lead[hit])
        if not parts:
            return np.zeros(0, dtype=np.int64)
        # sorted already (np.unique would hash a million ids): drop the repeats
        leads = parts[0] if len(parts) == 1 else np.sort(np.concatenate(parts), kind="stable")
        first = np.ones(leads.shape[0], dtype=np.bool_)
        first[1:] = leads[1:] != leads[:-1]
        return leads[first].astype(np.int64, copy=False)

    def frame(
        self,
        *,
        lead_id: IntArray,
        now: dt.datetime,
        kind_codes: Mapping[str, int],
        other_kind: int,
        reason_codes: Sequence[str],
        unknown_reason: int,
    ) -> EventFrame:
        """The engine's event frame of the leads ``lead_id`` (sorted, unique): events up to ``now``,
        kinds as ``kind_codes`` (``other_kind`` for the rest), reasons as indexes into ``reason_codes``
        (``unknown_reason`` for a code the agreement does not know)."""
        events, counts = self.of_leads(lead_id)
        row = np.repeat(np.arange(lead_id.shape[0], dtype=np.int64), counts)
        keep = events.at <= (now - _EPOCH) // dt.timedelta(microseconds=1)
        keep &= events.at >= _LOW_US  # out of range or no instant at all: left out (and reported)
        voided = self.voided()
        if voided.shape[0]:  # the voided events and the voids themselves
            keep &= ~np.isin(events.event_id, voided)
            keep &= events.kind != events.kinds.index(VOIDED)
        if not keep.all():
            events, row = events.take(keep), row[keep]
        kind_lut = np.array([kind_codes.get(n, other_kind) for n in events.kinds] or [0], dtype=np.int16)
        position: dict[str, int] = {}
        for i, code in enumerate(reason_codes):
            position.setdefault(code, i)
        reason_lut = np.array(
            [NO_REASON if n == "" else position.get(n, unknown_reason) for n in events.reasons] or [0],
            dtype=np.int32,
        )
        reason = np.where(
            events.reason >= 0,
            reason_lut[np.maximum(events.reason, 0)],
            np.where(events.reason == ODD_REASON, unknown_reason, NO_REASON),
        )
        return EventFrame(
            lead=row,
            kind=kind_lut[events.kind],
            occurred_at=events.at.view("datetime64[us]"),
            human=events.human,
            amount_cents=np.maximum(events.cents, 0),  # an unusable amount counts as none
            reason=reason.astype(np.int32),
            actor=np.full(len(events), -1, dtype=np.int32),
        )


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def snapshot_build(*, organization_id: int) -> Snapshot:
    """Read every event of the organisation, write a new snapshot and point the row at it."""
    from leadpact.measurement.models import EventSnapshot

    columns = events_read(organization_id=organization_id).sorted()
    previous = EventSnapshot.objects.filter(
        organization_id=organization_id, place=snapshot_place()
    ).values_list("token", flat=True)
    token = _store(organization_id, columns, replacing=next(iter(previous), None))
    return Snapshot(organization_id, columns, _empty(columns.kinds, columns.reasons), token, rebuilt=True)


def _store(organization_id: int, columns: EventColumns, *, replacing: str | None) -> str:
    """Write ``columns`` under a new token and register it (unless another process replaced ``replacing``
    meanwhile); returns the token, or ``""`` when the file could not be written."""
    from leadpact.measurement.models import EventSnapshot

    token = secrets.token_hex(16)
    upto = int(columns.event_id.max()) if len(columns) else 0
    directory = snapshot_directory(organization_id)
    try:
        _write(
            directory,
            token,
            columns,
            {"organization": organization_id, "upto_id": upto, "events": len(columns)},
        )
    except OSError as error:
        log.warning("event snapshot of organisation %s not written: %s", organization_id, error)
        return ""
    built = dt.datetime.now(dt.UTC)
    values = {"token": token, "upto_id": upto, "events": len(columns), "built_at": built}
    try:
        with transaction.atomic():
            place = snapshot_place()
            if replacing is None:
                EventSnapshot.objects.create(organization_id=organization_id, place=place, **values)
                registered = True
            else:
                registered = bool(
                    EventSnapshot.objects.filter(
                        organization_id=organization_id, place=place, token=replacing
                    ).update(**values)
                )
            EventSnapshot.objects.filter(
                organization_id=organization_id, built_at__lt=built - _PLACE_GONE
            ).exclude(place=place).delete()
    except IntegrityError:  # another process registered one first: theirs stands
        registered = False
    if not registered:
        shutil.rmtree(directory / token, ignore_errors=True)
        return ""
    _collect(directory, keep=token)
    return token


def _collect(directory: Path, *, keep: str) -> None:
    """Remove the older snapshots (and partial writes) of the organisation, past a grace period."""
    cutoff = time.time() - _GRACE.total_seconds()
    for entry in directory.iterdir():
        if entry.name != keep and entry.is_dir():
            with contextlib.suppress(OSError):
                if entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry, ignore_errors=True)


def snapshot_open(*, organization_id: int) -> Snapshot:
    """The organisation's events as of now: the stored snapshot plus what came since, checked; rebuilt
    from the database when anything is off, rewritten when what came since is large."""
    from leadpact.measurement.models import EventSnapshot

    row = EventSnapshot.objects.filter(organization_id=organization_id, place=snapshot_place()).first()
    if row is None:
        return snapshot_build(organization_id=organization_id)
    path = snapshot_directory(organization_id) / row.token
    try:
        base = _read(path, organization_id=organization_id, upto_id=row.upto_id, events=row.events)
        # the delta first, then the count: see the module docstring
        fresh = events_read(organization_id=organization_id, after_id=row.upto_id)
        if connection.vendor in COUNT_CHECK and _count_upto(organization_id, row.upto_id) != row.events:
            raise SnapshotError(f"organisation {organization_id}: events below id {row.upto_id} changed")
    except SnapshotError as error:
        log.info("event snapshot rebuilt: %s", error)
        with _VERIFIED_LOCK:
            _VERIFIED.pop(path, None)
        return snapshot_build(organization_id=organization_id)
    kinds = (*base.kinds, *(n for n in fresh.kinds if n not in base.kinds))
    reasons = (*base.reasons, *(n for n in fresh.reasons if n not in base.reasons))
    delta = fresh.sorted().recoded(kinds, reasons)
    base = EventColumns(**base.columns(), kinds=kinds, reasons=reasons)
    if len(delta) >= REWRITE_AT:
        merged = merge(base, delta)
        token = _store(organization_id, merged, replacing=row.token)
        return Snapshot(organization_id, merged, _empty(kinds, reasons), token or row.token, rebuilt=False)
    return Snapshot(organization_id, base, delta, row.token, rebuilt=False)
