"""Writes of the SLA clocks: store what a clock pass found as ``LeadClock`` rows, queue the alerts.

:func:`clocks_update` runs :func:`~leadpact.measurement.clocks.selectors.clocks_compute` for every
version in force, writes the rows that changed in bulk and queues an alert for every threshold newly
crossed (:mod:`leadpact.measurement.alerts.services`), the two in one transaction per commitment.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction

from leadpact.agreements.models import AgreementVersion
from leadpact.core.clocks import ClockState
from leadpact.leads._sql import datetime_adapter, insert_rows
from leadpact.measurement._frames import _case, _fetch_ranges, _id_ranges, _member, _us
from leadpact.measurement._snapshot import snapshot_open
from leadpact.measurement.alerts.services import alerts_queue
from leadpact.measurement.clocks.models import LeadClock
from leadpact.measurement.clocks.selectors import ClockPass, clocks_compute
from leadpact.organization.models import Organization

__all__ = ["ClockUpdate", "clocks_update"]

IntArray = npt.NDArray[np.int64]
_NAT = np.iinfo(np.int64).min
_STATE = {s.value: s.label for s in ClockState}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: the columns :func:`_write` gives, in its order (the id is the table's own: a new clock takes the next)
_CLOCK_COLUMNS = (
    "lead_id", "commitment_key", "agreement_version_id", "owner_id", "started_at", "due_at", "stopped_at",
    "elapsed_us", "paused_us", "window_us", "level", "state", "routing_us", "updated_at",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ClockUpdate:
    """What a pass did: clocks evaluated, rows written, alerts queued, seconds spent computing."""

    clocks: int
    written: int
    alerts: int
    compute_seconds: float


def _dt(us: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=int(us))


def clocks_update(
    *,
    now: dt.datetime,
    organization: Organization | None = None,
    lookback: dt.timedelta = dt.timedelta(days=90),
) -> ClockUpdate:
    """Recompute every clock of the versions in force, write what changed, queue alerts for new crossings."""
    versions = AgreementVersion.objects.filter(status=AgreementVersion.Status.ACTIVE).select_related(
        "agreement__organization"
    )
    if organization is not None:
        versions = versions.filter(agreement__organization=organization)
    clocks = written = alerts = 0
    compute = 0.0
    for version in versions:
        started = time.perf_counter()
        passes = clocks_compute(version=version, now=now, lookback=lookback)
        compute += time.perf_counter() - started
        # a lead whose handoff was voided has no clock any more: its stored one goes (voids are rare)
        voided = snapshot_open(organization_id=version.agreement.organization_id).voided_leads()
        for p in passes:
            clocks += len(p.lead_id)
            # the new levels and the alerts they call for commit together: a crash loses neither
            with transaction.atomic():
                w, previous = _write(version, p, now)
                written += w
                alerts += alerts_queue(version=version, clock_pass=p, previous_level=previous, now=now)
                stale = voided[~np.isin(voided, p.lead_id)].tolist()
                if stale:
                    LeadClock.objects.filter(commitment_key=p.commitment_key, lead_id__in=stale).delete()
    return ClockUpdate(clocks=clocks, written=written, alerts=alerts, compute_seconds=compute)


def _stored(commitment_key: str, lead_id: IntArray) -> npt.NDArray[np.int64]:
    """The stored clocks of ``commitment_key`` for the leads ``lead_id`` (sorted, unique): per row lead id,
    level, state code, started, due and stopped (µs, NaT for none) and owner (-1: none).

    Integers straight from SQL (a third of a million rows through the ORM's datetime conversion took
    seconds): level, state and the stopped-is-null flag are packed in one column.
    """
    state_sql = _case("state", [(label, code) for code, label in _STATE.items()], "127")
    rows = _fetch_ranges(
        f"SELECT lead_id, level * 2048 + ({state_sql}) * 2 + CASE WHEN stopped_at IS NULL THEN 1 ELSE 0 END,"  # noqa: S608 - constants only; values are bound
        f" {_us('started_at')}, {_us('due_at')}, COALESCE({_us('stopped_at')}, 0), COALESCE(owner_id, -1)"
        " FROM measurement_leadclock WHERE commitment_key = %s",
        "lead_id",
        _id_ranges(lead_id),
        [commitment_key],
        6,
        ordered=False,
    )
    rows = rows[_member(rows[:, 0], lead_id)]
    packed = rows[:, 1]
    stopped = np.where(packed & 1, _NAT, rows[:, 4])
    columns = (rows[:, 0], packed >> 11, (packed >> 1) & 1023, rows[:, 2], rows[:, 3], stopped, rows[:, 5])
    return np.stack(columns, axis=1) if rows.shape[0] else np.zeros((0, 7), dtype=np.int64)


def _write(version: AgreementVersion, p: ClockPass, now: dt.datetime) -> tuple[int, IntArray]:
    """Upsert the clocks whose state changed; returns their number and each clock's previous level (-1: new).

    A change is a new clock or a different state, level, start, due, stop or owner; a running clock
    whose only change is its elapsed time is not rewritten (``elapsed_us`` is as of ``updated_at``).
    """
    f = p.frame
    n = len(p.lead_id)
    previous = np.full(n, -1, dtype=np.int64)
    changed = np.ones(n, dtype=np.bool_)
    due = f.due_at.view(np.int64)
    stopped = f.stopped_at.view(np.int64)
    elapsed = f.elapsed.view(np.int64)
    paused = f.paused.view(np.int64)
    started = f.started_at.view(np.int64)
    stored = _stored(p.commitment_key, p.lead_id)
    if stored.shape[0]:
        at = np.searchsorted(p.lead_id, stored[:, 0])
        previous[at] = stored[:, 1]
        same = (
            (stored[:, 1] == f.level[at])
            & (stored[:, 2] == f.state[at])
            & (stored[:, 3] == started[at])
            & (stored[:, 4] == due[at])
            & (stored[:, 5] == stopped[at])
            & (stored[:, 6] == p.owner[at])
        )
        changed[at[same]] = False
    # the rows by the bulk path (``leads._sql.insert_rows``: COPY and one set-based upsert on PostgreSQL):
    # through ``bulk_create`` a million-lead organisation's ~2 million clocks took minutes of field
    # preparation alone
    adapt = datetime_adapter()
    version_id, key, stamp = version.pk, p.commitment_key, adapt(now)
    rows: list[tuple[object, ...]] = []
    for i in np.flatnonzero(changed).tolist():
        owner = int(p.owner[i])
        routing = int(p.routing_us[i])
        rows.append(
            (
                int(p.lead_id[i]), key, version_id, owner if owner >= 0 else None, adapt(_dt(started[i])),
                adapt(_dt(due[i])), None if stopped[i] == _NAT else adapt(_dt(stopped[i])), int(elapsed[i]),
                int(paused[i]), int(p.window_us[i]), int(f.level[i]), _STATE[int(f.state[i])],
                routing if routing >= 0 else None, stamp,
            )
        )  # fmt: skip
    quote = connection.ops.quote_name
    update = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in _CLOCK_COLUMNS[2:])
    insert_rows(
        LeadClock,
        _CLOCK_COLUMNS,
        rows,
        conflict=f"ON CONFLICT (lead_id, commitment_key) DO UPDATE SET {update}",
    )
    return len(rows), previous
