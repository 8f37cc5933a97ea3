"""SLA clocks per open lead and clocked commitment: one vectorised pass, persisted as ``LeadClock`` rows.

:func:`clocks_update` reads the events of the leads handed over in the look-back window (their ranges of
the organisation's event snapshot, :mod:`._snapshot`),
finds for every lead and clocked commitment of the version in force its start (the lead's latest
start event), its stop (the first stop event after it; a contact attempt stops a clock only when
human, if the clause says ``human_only``) and the routing delay (handed over → assigned), evaluates all
clocks of one calendar at once with :func:`leadpact.core.clocks.clocks_evaluate` (the owner's person
calendar; breach by elapsed business time, never by wall clock), writes the rows that changed in bulk
and queues an alert for every threshold newly crossed (:mod:`.alerts`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import transaction

from leadpact.agreements.models import AgreementVersion
from leadpact.agreements.services import agreement_version_document
from leadpact.core.calendar import BusinessCalendar
from leadpact.core.clocks import ClockFrame, ClockState, PauseIntervals, clocks_evaluate, pause_intervals
from leadpact.core.metrics import EventKind
from leadpact.measurement._frames import (
    KIND_CODES,
    _case,
    _fetch_ranges,
    _id_ranges,
    _member,
    _us,
    frames_load,
    kind_codes,
)
from leadpact.measurement._snapshot import snapshot_open
from leadpact.measurement.measure import business_window, clock_calendar, team_side
from leadpact.measurement.models import LeadClock
from leadpact.organization.models import Organization, Person, Team
from leadpact.organization.selectors import team_calendar

__all__ = ["ClockPass", "ClockUpdate", "clocks_compute", "clocks_update"]

IntArray = npt.NDArray[np.int64]
_NAT = np.iinfo(np.int64).min
_STATE = {s.value: s.label for s in ClockState}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class ClockPass:
    """The clocks of one commitment, as columns (``lead_id`` per row) with the thresholds crossed."""

    commitment_key: str
    owner_team: Team
    lead_id: IntArray
    owner: npt.NDArray[np.int32]
    routing_us: IntArray  # -1: not assigned (or not measured)
    window_us: IntArray  # per clock: a window in business days differs by start
    thresholds: tuple[Decimal, ...]
    frame: ClockFrame


@dataclass(frozen=True, slots=True)
class ClockUpdate:
    """What a pass did: clocks evaluated, rows written, alerts queued, seconds spent computing."""

    clocks: int
    written: int
    alerts: int
    compute_seconds: float


def _dt(us: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=int(us))


def _last_per_lead(positions: IntArray, lead: IntArray) -> IntArray:
    if positions.shape[0] == 0:
        return positions
    lead_of = lead[positions]
    last = np.ones(positions.shape[0], dtype=np.bool_)
    last[:-1] = lead_of[1:] != lead_of[:-1]
    return positions[last]


def _first_after(candidates: IntArray, starts: IntArray, lead: IntArray) -> IntArray:
    """Per start position, the first candidate position after it in the same lead (-1: none)."""
    if candidates.shape[0] == 0:
        return np.full(starts.shape[0], -1, dtype=np.int64)
    j = np.searchsorted(candidates, starts, side="right")
    ok = j < candidates.shape[0]
    found = np.where(ok, candidates[np.minimum(j, candidates.shape[0] - 1)], -1)
    ok &= lead[np.maximum(found, 0)] == lead[starts]
    return np.where(ok, found, -1)


def clocks_compute(
    *,
    version: AgreementVersion,
    now: dt.datetime,
    lookback: dt.timedelta = dt.timedelta(days=90),
    calendars: dict[int, BusinessCalendar] | None = None,
) -> list[ClockPass]:
    """Every clock of ``version``'s clocked commitments over the leads handed over in the look-back window."""
    doc = agreement_version_document(version)
    clocked = [c for c in doc.commitments if c.clock is not None]
    if not clocked:
        return []
    org = version.agreement.organization
    pause_names = sorted({k for c in clocked if c.clock is not None for k in c.clock.pause})
    codes = kind_codes(pause_names)
    loaded = frames_load(
        organization_id=org.pk,
        agreement_id=version.agreement_id,
        version_id=version.pk,
        since=now - lookback,
        until=now + dt.timedelta(microseconds=1),
        now=now,
        reason_codes=(),
        field_names=(),
        pause_kinds=pause_names,
        definition_keys=sorted({c.covers for c in clocked if c.covers}),
    )
    ev, leads = loaded.events, loaded.leads
    lead, kind, at = ev.lead, ev.kind, ev.occurred_at.view(np.int64)
    teams = {t.key: t for t in Team.objects.filter(organization=org, key__in=[p.key for p in doc.parties])}
    people = {
        p.pk: p
        for p in Person.objects.filter(team__in=list(teams.values()))
        .select_related("team")
        .prefetch_related("leave")
    }
    cache = {} if calendars is None else calendars
    assigned = np.flatnonzero(kind == EventKind.ASSIGNED)
    out: list[ClockPass] = []
    for c in clocked:
        assert c.clock is not None
        team = teams[c.owner]
        owner_col = leads.sales_owner if team_side(team) == "sales" else leads.marketing_owner
        start_code = KIND_CODES.get(c.clock.start, -1)
        starts = _last_per_lead(np.flatnonzero(kind == start_code), lead)
        covered = leads.definitions.get(c.covers) if c.covers else None
        if covered is not None:  # only the leads that did not miss the covered definition at handoff
            starts = starts[covered[lead[starts]] != 0]
        stop_codes = [KIND_CODES[k] for k in c.clock.stop if k in KIND_CODES]
        stop_mask = np.isin(kind, np.asarray(stop_codes, dtype=np.int16))
        if c.clock.human_only:
            stop_mask &= (kind != EventKind.CONTACT_ATTEMPT) | ev.human
        stops = _first_after(np.flatnonzero(stop_mask), starts, lead)
        start_us = at[starts]
        stop_us = np.where(stops >= 0, at[np.maximum(stops, 0)], _NAT)
        routed = (
            _first_after(assigned, starts, lead)
            if c.clock.start == "handed_over"
            else np.full_like(starts, -1)
        )
        owner = owner_col[lead[starts]]
        if -team.pk not in cache:
            cache[-team.pk] = team_calendar(team)
        team_cal = cache[-team.pk]
        window = business_window(c)
        thresholds = doc.thresholds_of(c)
        pause_codes = [codes[k] for k in c.clock.pause]
        pauses_all = pause_intervals(ev, pause_kinds=pause_codes) if pause_codes else None
        n = starts.shape[0]
        frames: list[tuple[IntArray, ClockFrame]] = []
        routing = np.full(n, -1, dtype=np.int64)
        for who in np.unique(owner):
            rows = np.flatnonzero(owner == who)
            p = people.get(int(who))
            if p is None:
                calendar = team_cal
            else:
                if p.pk not in cache:
                    cache[p.pk] = clock_calendar(p)
                calendar = cache[p.pk]
            pauses = _pauses_for(pauses_all, lead[starts[rows]])
            frame = clocks_evaluate(
                starts=start_us[rows].view("datetime64[us]"),
                stops=stop_us[rows].view("datetime64[us]"),
                pauses=pauses,
                window=window,
                thresholds=[float(t) for t in thresholds],
                calendar=calendar,
                now=now,
            )
            frames.append((rows, frame))
            r = routed[rows]
            has = r >= 0
            if has.any():
                ends = np.minimum(at[r[has]], int((now - _EPOCH) // dt.timedelta(microseconds=1)))
                lo = start_us[rows][has]
                span = calendar.elapsed_many(
                    lo.view("datetime64[us]"), np.maximum(ends, lo).view("datetime64[us]")
                )
                routing[rows[has]] = np.asarray(span).astype("timedelta64[us]").view(np.int64)
        merged = _merge(frames, n, tuple(float(t) for t in thresholds))
        out.append(
            ClockPass(
                commitment_key=c.key,
                owner_team=team,
                lead_id=leads.lead_id[lead[starts]],
                owner=owner,
                routing_us=routing,
                window_us=merged.window.view(np.int64),
                thresholds=thresholds,
                frame=merged,
            )
        )
    return out


def _pauses_for(pauses: PauseIntervals | None, lead_rows: IntArray) -> PauseIntervals:
    empty = np.zeros(0, dtype="datetime64[us]")
    if pauses is None or pauses.row.shape[0] == 0:
        return PauseIntervals(row=np.zeros(0, dtype=np.int64), start=empty, end=empty)
    order = np.argsort(lead_rows, kind="stable")
    pos = np.searchsorted(lead_rows[order], pauses.row)
    ok = (pos < lead_rows.shape[0]) & (
        lead_rows[order][np.minimum(pos, max(lead_rows.shape[0] - 1, 0))] == pauses.row
    )
    return PauseIntervals(row=order[pos[ok]], start=pauses.start[ok], end=pauses.end[ok])


def _merge(parts: Sequence[tuple[IntArray, ClockFrame]], n: int, thresholds: tuple[float, ...]) -> ClockFrame:
    """One frame in row order from the frames of each calendar group."""

    def col(name: str, dtype: Any, shape: tuple[int, ...] = ()) -> Any:
        out = np.zeros((n, *shape), dtype=dtype)
        for rows, frame in parts:
            out[rows] = getattr(frame, name)
        return out

    k = len(thresholds)
    return ClockFrame(
        started_at=col("started_at", "datetime64[us]"),
        stopped_at=col("stopped_at", "datetime64[us]"),
        due_at=col("due_at", "datetime64[us]"),
        elapsed=col("elapsed", "timedelta64[us]"),
        paused=col("paused", "timedelta64[us]"),
        fraction=col("fraction", np.float64),
        thresholds=thresholds,
        crossed=col("crossed", np.bool_, (k,)),
        level=col("level", np.int8),
        window=col("window", "timedelta64[us]"),
        paused_now=col("paused_now", np.bool_),
        state=col("state", np.int8),
    )


def clocks_update(
    *,
    now: dt.datetime,
    organization: Organization | None = None,
    lookback: dt.timedelta = dt.timedelta(days=90),
) -> ClockUpdate:
    """Recompute every clock of the versions in force, write what changed, queue alerts for new crossings."""
    import time

    from leadpact.measurement.alerts import alerts_queue

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


def _us_or_nat(value: dt.datetime | None) -> int:
    return _NAT if value is None else (value - _EPOCH) // dt.timedelta(microseconds=1)


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
    rows: list[LeadClock] = []
    for i in np.flatnonzero(changed).tolist():
        owner = int(p.owner[i])
        rows.append(
            LeadClock(
                lead_id=int(p.lead_id[i]),
                commitment_key=p.commitment_key,
                agreement_version_id=version.pk,
                owner_id=owner if owner >= 0 else None,
                started_at=_dt(started[i]),
                due_at=_dt(due[i]),
                stopped_at=None if stopped[i] == _NAT else _dt(stopped[i]),
                elapsed_us=int(elapsed[i]),
                paused_us=int(paused[i]),
                window_us=int(p.window_us[i]),
                level=int(f.level[i]),
                state=_STATE[int(f.state[i])],
                routing_us=int(p.routing_us[i]) if p.routing_us[i] >= 0 else None,
                updated_at=now,
            )
        )
    LeadClock.objects.bulk_create(
        rows,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["lead", "commitment_key"],
        update_fields=[
            "agreement_version",
            "owner",
            "started_at",
            "due_at",
            "stopped_at",
            "elapsed_us",
            "paused_us",
            "window_us",
            "level",
            "state",
            "routing_us",
            "updated_at",
        ],
    )
    return len(rows), previous
