"""Each lead's SLA clocks in words and instants, for the pages: started, due, stopped, business time
taken, lateness, paused spans — one lead or one page of leads at a time.

The same rules as the vectorised clock pass (:func:`~leadpact.measurement.clocks.selectors.clocks_compute`):
the clock starts at the lead's last event of the clock's start kind, stops at the first stop event
after it (only human contact attempts stop a human-only clock), runs in the owner's calendar (the
person's hours and leave, else the owner team's), pauses from an event of a pause kind to the lead's next
event of another kind, and a lead that missed the covered definition at handoff has no clock. Voided
events do not count. Evaluated by :func:`leadpact.core.clocks.clock_for_lead`, exact like the pass.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from leadpact.agreements.models import AgreementVersion
from leadpact.agreements.services import agreement_version_document
from leadpact.core.agreement import Commitment
from leadpact.core.calendar import BusinessCalendar
from leadpact.core.clocks import ClockError, clock_for_lead
from leadpact.leads.models import HandoffCheck, Lead, LeadEvent
from leadpact.leads.selectors import events_voided
from leadpact.measurement.clocks.windows import business_window, clock_calendar
from leadpact.measurement.subjects import team_side
from leadpact.organization.models import Person, Team
from leadpact.organization.selectors import team_calendar

__all__ = ["ClockFacts", "lead_clock_facts"]


@dataclass(frozen=True, slots=True)
class ClockFacts:
    """One lead's clock for one commitment. ``state`` is ``running``, ``at_risk``, ``paused``,
    ``breached``, ``met``, ``not_started`` (no start event yet) or ``not_covered`` (the lead missed the
    commitment's definition at handoff, so the clock does not apply)."""

    commitment_key: str
    title: str
    state: str
    owner: Person | None = None
    started_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    stopped_at: dt.datetime | None = None
    elapsed: dt.timedelta | None = None
    window: dt.timedelta | None = None
    paused: dt.timedelta = dt.timedelta(0)
    pauses: tuple[tuple[dt.datetime, dt.datetime | None], ...] = ()
    fraction: float | None = None

    @property
    def lateness(self) -> dt.timedelta | None:
        """Business time beyond the window (None when within it or not started)."""
        if self.elapsed is None or self.window is None or self.elapsed <= self.window:
            return None
        return self.elapsed - self.window

    @property
    def left(self) -> dt.timedelta | None:
        """Business time left in the window of a running clock."""
        if self.elapsed is None or self.window is None or self.stopped_at is not None:
            return None
        return max(self.window - self.elapsed, dt.timedelta(0))


_ORDER = {"created": 0, "handed_over": 1, "assigned": 2}


def _pauses(
    events: Sequence[dict[str, Any]], kinds: Iterable[str], start: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime | None]]:
    pause_kinds = set(kinds)
    out: list[tuple[dt.datetime, dt.datetime | None]] = []
    opened: dt.datetime | None = None
    for e in events:
        if e["kind"] in pause_kinds:
            if opened is None:
                opened = e["occurred_at"]
        elif opened is not None:
            if e["occurred_at"] >= start:
                out.append((opened, e["occurred_at"]))
            opened = None
    if opened is not None:
        out.append((opened, None))
    return out


def lead_clock_facts(
    *,
    version: AgreementVersion,
    leads: Sequence[Lead],
    now: dt.datetime,
    commitment_keys: Sequence[str] | None = None,
) -> dict[int, list[ClockFacts]]:
    """Lead id → its clocks (every clocked commitment of ``version``, or those in ``commitment_keys``)."""
    doc = agreement_version_document(version)
    clocked: list[Commitment] = [
        c
        for c in doc.commitments
        if c.clock is not None and (commitment_keys is None or c.key in commitment_keys)
    ]
    out: dict[int, list[ClockFacts]] = {lead.pk: [] for lead in leads}
    if not clocked or not leads:
        return out
    ids = [lead.pk for lead in leads]
    voided = events_voided(ids)
    by_lead: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = LeadEvent.objects.filter(lead_id__in=ids).values("id", "lead_id", "kind", "occurred_at", "data")
    for row in rows:
        if row["id"] not in voided and row["kind"] != "voided":
            by_lead[row["lead_id"]].append(dict(row))

    for events in by_lead.values():
        events.sort(key=lambda e: (e["occurred_at"], _ORDER.get(e["kind"], 5), e["id"]))
    checks: dict[int, dict[str, Any]] = {}
    for check in HandoffCheck.objects.filter(lead_id__in=ids).order_by("lead_id", "id"):
        checks[check.lead_id] = check.definitions or {}
    teams = {t.key: t for t in Team.objects.filter(organization=version.agreement.organization)}
    owners = {
        p.pk: p
        for p in Person.objects.filter(
            pk__in={o for lead in leads for o in (lead.marketing_owner_id, lead.sales_owner_id) if o}
        )
        .select_related("team")
        .prefetch_related("leave")
    }
    calendars: dict[int, BusinessCalendar] = {}
    for lead in leads:
        events = by_lead.get(lead.pk, [])
        for c in clocked:
            out[lead.pk].append(
                _facts(c, doc, lead, events, checks.get(lead.pk), teams, owners, calendars, now)
            )
    return out


def _facts(
    c: Commitment,
    doc: Any,
    lead: Lead,
    events: list[dict[str, Any]],
    definitions: dict[str, Any] | None,
    teams: dict[str, Team],
    owners: dict[int, Person],
    calendars: dict[int, BusinessCalendar],
    now: dt.datetime,
) -> ClockFacts:
    assert c.clock is not None
    team = teams.get(c.owner)
    side = team_side(team) if team is not None else "sales"
    owner_id = lead.sales_owner_id if side == "sales" else lead.marketing_owner_id
    owner = owners.get(owner_id) if owner_id else None
    base = functools.partial(ClockFacts, commitment_key=c.key, title=c.title, owner=owner)
    if c.covers and definitions and c.covers in definitions and not definitions[c.covers].get("met", True):
        return base(state="not_covered")
    starts = [e for e in events if e["kind"] == c.clock.start and e["occurred_at"] <= now]
    if not starts:
        return base(state="not_started")
    start = starts[-1]
    stop_kinds = set(c.clock.stop)
    stop = next(
        (
            e
            for e in events
            if e["kind"] in stop_kinds
            and (e["occurred_at"], e["id"]) > (start["occurred_at"], start["id"])
            and not (
                c.clock.human_only
                and e["kind"] == "contact_attempt"
                and (e["data"] or {}).get("human") is False
            )
        ),
        None,
    )
    if owner is not None:
        if owner.pk not in calendars:
            calendars[owner.pk] = clock_calendar(owner)
        calendar = calendars[owner.pk]
    else:
        key = -(team.pk if team is not None else 0)
        if key not in calendars:
            calendars[key] = team_calendar(team) if team is not None else BusinessCalendar.from_spec({})
        calendar = calendars[key]
    pauses = _pauses(events, c.clock.pause, start["occurred_at"]) if c.clock.pause else []
    try:
        clock = clock_for_lead(
            started_at=start["occurred_at"],
            stopped_at=None if stop is None else stop["occurred_at"],
            pauses=pauses,
            window=business_window(c),
            thresholds=[float(t) for t in doc.thresholds_of(c)],
            calendar=calendar,
            now=now,
        )
    except ClockError:
        return base(state="not_started", started_at=start["occurred_at"])
    return base(
        state=clock.state.label,
        started_at=clock.started_at,
        due_at=clock.due_at,
        stopped_at=clock.stopped_at,
        elapsed=clock.elapsed,
        window=clock.window,
        paused=clock.paused,
        pauses=tuple(pauses),
        fraction=clock.fraction,
    )
