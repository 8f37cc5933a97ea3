"""The SLA clocks of a version computed from the events: one vectorised pass, per clocked commitment.

:func:`clocks_compute` reads the events of the leads handed over in the look-back window (their ranges
of the organisation's event snapshot, :mod:`leadpact.measurement._snapshot`), finds for every lead and
clocked commitment its start (the lead's latest start event), its stop (the first stop event after it;
a contact attempt stops a clock only when human, if the clause says ``human_only``) and the routing
delay (handed over → assigned), and evaluates all clocks of one calendar at once with
:func:`leadpact.core.clocks.clocks_evaluate` (the owner's person calendar; breach by elapsed business
time, never by wall clock). It writes nothing: :mod:`.services` stores the rows and queues the alerts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from leadpact.agreements.models import AgreementVersion
from leadpact.agreements.services import agreement_version_document
from leadpact.core.calendar import BusinessCalendar
from leadpact.core.clocks import ClockFrame, PauseIntervals, clocks_evaluate, pause_intervals
from leadpact.core.metrics import EventKind
from leadpact.measurement._frames import KIND_CODES, frames_load, kind_codes
from leadpact.measurement.clocks.windows import business_window, clock_calendar
from leadpact.measurement.subjects import team_side
from leadpact.organization.models import Person, Team
from leadpact.organization.selectors import team_calendar

__all__ = ["ClockPass", "clocks_compute"]

IntArray = npt.NDArray[np.int64]
_NAT = np.iinfo(np.int64).min
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
