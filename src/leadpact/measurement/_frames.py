"""Read leads, events, handoff checks and upheld disputes into the engine's numpy frames.

One SQL query per table, integer columns only (times as microseconds since the epoch, kinds, flags,
cents and reason codes computed by the database), fetched in chunks straight into numpy arrays: no
ORM object per lead or event. The leads read are those handed over in ``[since, until)`` — with their
whole event log up to ``now`` — so a month's scorecard reads a month's leads, not the whole history.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection

from leadpact.core.metrics import EventFrame, EventKind, LeadFrame

__all__ = ["KIND_CODES", "LoadedFrames", "frames_load"]

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
}
# the leads app's tie-break for events at the same instant (leads._state.KIND_ORDER)
_KIND_ORDER = (
    "created", "field_changed", "handed_over", "assigned", "accepted", "rejected", "contact_attempt",
    "qualified", "opportunity", "won", "lost", "feedback", "recycled",
)  # fmt: skip  # fmt: skip
UNKNOWN_REASON = 2000  # a reason code the agreement does not know (codes are 0..1999)
_CHUNK = 200_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_SLUG = re.compile(r"[a-z0-9]+([-_][a-z0-9]+)*")


@dataclass(frozen=True, slots=True)
class LoadedFrames:
    """The frames, plus what the service needs beside them."""

    events: EventFrame
    leads: LeadFrame
    definition_versions: dict[int, int]  # lead id -> definition version id its handoff was checked by


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
            parts.append(np.array(rows, dtype=np.int64).reshape(-1, width))
    return np.concatenate(parts) if parts else np.zeros((0, width), dtype=np.int64)


def _micros(moment: dt.datetime) -> int:
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


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
) -> LoadedFrames:
    """The frames for the leads handed over in ``[since, until)`` (events known by ``now``)."""
    pg = connection.vendor == "postgresql"
    if len(reason_codes) >= UNKNOWN_REASON:
        raise ValueError(
            f"frames: {len(reason_codes)} reason codes, at most {UNKNOWN_REASON - 1} are supported"
        )
    chosen = (
        "SELECT DISTINCT lead_id FROM leads_leadevent WHERE organization_id = %s AND kind = 'handed_over'"
        " AND occurred_at >= %s AND occurred_at < %s AND occurred_at <= %s"
    )
    adapt = connection.ops.adapt_datetimefield_value
    since_db, until_db, now_db = adapt(since), adapt(until), adapt(now)
    chosen_params = [organization_id, since_db, until_db, now_db]

    lead_rows = _fetch(
        "SELECT id, COALESCE(marketing_owner_id, -1), COALESCE(sales_owner_id, -1) FROM leads_lead"  # noqa: S608 - constants and slugs only; values are bound
        f" WHERE id IN ({chosen}) ORDER BY id",
        chosen_params,
        3,
    )
    lead_id = lead_rows[:, 0]

    human = _json("e.data", "human")
    human_sql = f"CASE WHEN {human} = 'true' THEN 1 ELSE 0 END" if pg else f"COALESCE({human}, 0)"
    amount = _json("e.data", "amount")
    cents = (
        f"ROUND(CAST({amount} AS NUMERIC) * 100)"
        if pg
        else f"CAST(ROUND(CAST({amount} AS REAL) * 100) AS INTEGER)"
    )
    cents = f"CAST({cents} AS BIGINT)" if pg else cents
    reason = _json("e.data", "reason_code")
    reason_sql = _case(
        reason,
        [*((code, i) for i, code in enumerate(reason_codes)), ("", -1)],
        f"CASE WHEN {_json_type('e.data', 'reason_code')} IS NULL THEN -1 ELSE {UNKNOWN_REASON} END",
    )
    kind_sql = _case("e.kind", list(KIND_CODES.items()), str(int(EventKind.CUSTOM)))
    # kind, human, reason and cents packed in one integer: every column fetched costs a second a 6M rows
    packed = (
        f"{kind_sql}"
        f" + 64 * (CASE WHEN e.kind = 'contact_attempt' THEN {human_sql} ELSE 0 END)"
        f" + 128 * (CASE WHEN e.kind IN ('rejected', 'lost', 'feedback', 'won')"
        f" THEN {reason_sql} ELSE -1 END + 1)"
        f" + {1 << 18} * (CASE WHEN e.kind IN ('opportunity', 'won', 'lost')"
        f" THEN MAX(COALESCE({cents}, 0), 0) ELSE 0 END)"
    )
    if pg:
        packed = packed.replace("MAX(", "GREATEST(")
    event_rows = _fetch(
        f"SELECT e.lead_id, {_us('e.occurred_at')}, {packed}"  # noqa: S608 - constants and slugs only; values are bound
        " FROM leads_leadevent e WHERE e.organization_id = %s AND e.occurred_at <= %s"
        f" AND e.lead_id IN ({chosen})"
        " ORDER BY e.lead_id, e.occurred_at",
        [organization_id, now_db, *chosen_params],
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
        for i, name in enumerate(_KIND_ORDER):
            rank[KIND_CODES[name]] = i
        order = np.lexsort((rank[kind], at, lead_col))
        lead_col, at, bits, kind = lead_col[order], at[order], bits[order], kind[order]
    events = EventFrame(
        lead=np.searchsorted(lead_id, lead_col),
        kind=kind,
        occurred_at=at.astype("datetime64[us]"),
        human=((bits >> 6) & 1) != 0,
        amount_cents=bits >> 18,
        reason=(((bits >> 7) & 2047) - 1).astype(np.int32),
        actor=np.full(at.shape[0], -1, dtype=np.int32),
    )

    met = np.ones(lead_id.shape[0], dtype=np.bool_)
    present = np.ones((lead_id.shape[0], len(field_names)), dtype=np.bool_)
    definition_versions: dict[int, int] = {}
    # per lead, the check of its latest handoff (this version's check first when there are several)
    empty = "c.missing_fields = '[]'::jsonb" if pg else "c.missing_fields = '[]'"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.lead_id, CASE WHEN c.met THEN 1 ELSE 0 END, COALESCE(c.definition_version_id, -1),"  # noqa: S608 - constants and slugs only; values are bound
            f" CASE WHEN {empty} THEN NULL ELSE c.missing_fields END"
            " FROM leads_handoffcheck c"
            f" WHERE c.lead_id IN ({chosen}) ORDER BY c.lead_id, c.event_id,"
            " CASE WHEN c.agreement_version_id = %s THEN 1 ELSE 0 END",
            [*chosen_params, version_id],
        )
        checks = cursor.fetchall()
    if checks:
        c_lead = np.fromiter((r[0] for r in checks), dtype=np.int64, count=len(checks))
        c_met = np.fromiter((r[1] for r in checks), dtype=np.int64, count=len(checks)) != 0
        c_def = np.fromiter((r[2] for r in checks), dtype=np.int64, count=len(checks))
        last = np.ones(len(checks), dtype=np.bool_)  # the last check row of each lead
        last[:-1] = c_lead[1:] != c_lead[:-1]
        rows = np.searchsorted(lead_id, c_lead[last])
        met[rows] = c_met[last]
        column = {name: j for j, name in enumerate(field_names)}
        for i in np.flatnonzero(last).tolist():
            missing = checks[i][3]
            if missing is None:
                continue
            names = json.loads(missing) if isinstance(missing, str) else missing
            row = int(np.searchsorted(lead_id, c_lead[i]))
            for name in names:
                if name in column:
                    present[row, column[name]] = False
        has_def = last & (c_def >= 0)
        definition_versions = dict(zip(c_lead[has_def].tolist(), c_def[has_def].tolist(), strict=True))

    upheld = np.zeros(lead_id.shape[0], dtype=np.bool_)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT d.lead_id FROM measurement_dispute d"  # noqa: S608 - constants and slugs only; values are bound
            " JOIN agreements_agreementversion v ON v.id = d.agreement_version_id"
            f" WHERE d.status = 'upheld' AND v.agreement_id = %s AND d.lead_id IN ({chosen})",
            [agreement_id, *chosen_params],
        )
        ids = np.array([r[0] for r in cursor.fetchall()], dtype=np.int64)
    if ids.shape[0]:
        upheld[np.searchsorted(lead_id, ids)] = True

    leads = LeadFrame(
        lead_id=lead_id,
        marketing_owner=lead_rows[:, 1].astype(np.int32),
        sales_owner=lead_rows[:, 2].astype(np.int32),
        met_definition=met,
        disputed_upheld=upheld,
        duplicate_of=np.full(lead_id.shape[0], -1, dtype=np.int64),
        field_names=tuple(field_names),
        fields_present=present,
    )
    return LoadedFrames(events=events, leads=leads, definition_versions=definition_versions)
