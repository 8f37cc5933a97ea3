"""Every vectorised metric against a slow per-lead Python reference over random small frames.

The reference reads each lead's events one by one with the scalar calendar, following the rules in
the :mod:`leadpact.core.metrics` docstring; evidence must name exactly the same leads.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from leadpact.core.calendar import BusinessCalendar
from leadpact.core.durations import BusinessDuration
from leadpact.core.metrics import (
    Calendars,
    EventFrame,
    EventKind,
    Frames,
    LeadFrame,
    Measurement,
    Subject,
    acceptance_rate,
    attempts_within,
    conversion,
    decision_latency,
    feedback_completeness,
    handoff_completeness,
    lead_volume,
    pipeline_amount,
    speed_to_lead,
    won_amount,
)

TEAM_CAL = BusinessCalendar.from_spec(
    {"timezone": "UTC", "hours": {"mon-fri": ["09:00-12:00", "13:00-17:00"]}, "closed": ["2026-03-11"]}
)
PERSON_CAL = BusinessCalendar.from_spec(
    {"timezone": "Europe/Amsterdam", "hours": {"mon-thu": ["10:00-16:00"]}, "holidays": {"country": "NL"}}
)
CALENDARS = Calendars(TEAM_CAL, {1: PERSON_CAL})
BASE = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday; the events span about ten days
FIELDS = ("email", "phone")
K = EventKind
H = K.HANDED_OVER


@dataclass(frozen=True)
class Ev:
    lead: int
    kind: int
    at: datetime
    human: bool
    amount: int
    reason: int
    index: int


def grid(minutes: int) -> datetime:
    return BASE + timedelta(minutes=minutes)


moments = st.one_of(
    st.integers(min_value=0, max_value=9 * 24 * 4).map(lambda q: grid(15 * q)),
    st.tuples(st.integers(0, 9), st.integers(9 * 4, 17 * 4 - 1)).map(  # inside office hours, more often
        lambda dq: BASE.replace(hour=0) + timedelta(days=dq[0], minutes=15 * dq[1])
    ),
    st.tuples(st.integers(0, 9), st.integers(9 * 4, 17 * 4 - 1)).map(
        lambda dq: BASE.replace(hour=0) + timedelta(days=dq[0], minutes=15 * dq[1])
    ),
)
spans = st.sampled_from([timedelta(hours=5), timedelta(days=1), timedelta(days=4), timedelta(days=20)])
follow_ups = st.sampled_from([K.ASSIGNED, K.CONTACT_ATTEMPT, K.ACCEPTED, K.REJECTED])
kinds = st.sampled_from(
    [
        *(
            H,
            H,
            H,
            K.ASSIGNED,
            K.CONTACT_ATTEMPT,
            K.CONTACT_ATTEMPT,
            K.CONTACT_ATTEMPT,
            K.ACCEPTED,
            K.REJECTED,
        ),
        *(K.QUALIFIED, K.OPPORTUNITY, K.WON, K.LOST, K.RECYCLED, K.FEEDBACK, K.CREATED),
    ]
)


@st.composite
def worlds(draw: st.DrawFn) -> tuple[LeadFrame, list[Ev]]:
    n = draw(st.integers(min_value=2, max_value=7))
    owners = st.sampled_from([-1, 0, 1, 2])
    lead_rows = [
        {
            "lead_id": 100 + i,
            "marketing_owner": draw(owners),
            "sales_owner": draw(owners),
            "met_definition": draw(st.booleans()),
            "disputed_upheld": draw(st.booleans()),
            "duplicate_of": draw(st.sampled_from([-1, -1, -1, 100])),
            "missing": set(draw(st.lists(st.sampled_from(FIELDS), unique=True))),
        }
        for i in range(n)
    ]
    # each lead: a few handoffs, each followed by events a short (business-ish) time later, so that
    # decisions and attempts land exactly on, just before and just after the windows; plus noise
    offsets = st.sampled_from([0, 15, 30, 30, 30, 45, 60, 60, 60, 75, 90, 420, 1425, 1440, 1455, 1800, 4320])
    raw: list[tuple[int, int, datetime]] = []
    for lead in range(n):
        for _ in range(draw(st.integers(min_value=1, max_value=2))):
            handoff = draw(moments)
            raw.append((lead, int(H), handoff))
            for _ in range(draw(st.integers(min_value=1, max_value=5))):
                kind = int(draw(st.one_of(follow_ups, kinds)))
                raw.append((lead, kind, handoff + timedelta(minutes=draw(offsets))))
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        raw.append((draw(st.integers(min_value=0, max_value=n - 1)), int(draw(kinds)), draw(moments)))
    order = draw(st.permutations(range(len(raw))))
    events = [
        Ev(
            lead=raw[k][0],
            kind=raw[k][1],
            at=raw[k][2],
            human=draw(st.booleans()),
            amount=draw(st.integers(min_value=0, max_value=10**13)),
            reason=draw(st.sampled_from([-1, 0, 1, 2])),
            index=i,
        )
        for i, k in enumerate(order)
    ]
    return LeadFrame.from_rows(lead_rows, field_names=FIELDS), events


subjects = st.one_of(
    st.builds(
        Subject.team,
        st.sampled_from(["marketing", "sales"]),
        st.sampled_from([[0, 1, 2], [0, 1, 2], [1], [0, 2]]),
        unowned=st.sampled_from(["include", "exclude"]),
    ),
    st.builds(Subject.person, st.sampled_from(["marketing", "sales"]), st.sampled_from([0, 1, 2])),
)


# --- the reference --------------------------------------------------------------------------------------


class Ref:
    def __init__(self, leads: LeadFrame, events: list[Ev], now: datetime, subject: Subject) -> None:
        self.leads = leads
        self.now = now
        self.subject = subject
        self.seq: dict[int, list[Ev]] = {i: [] for i in range(len(leads))}
        for e in sorted(events, key=lambda e: (e.at, e.index)):
            if e.at <= now:
                self.seq[e.lead].append(e)

    def owner(self, lead: int) -> int:
        side = self.leads.marketing_owner if self.subject.side == "marketing" else self.leads.sales_owner
        return int(side[lead])

    def mine(self, lead: int) -> bool:
        owner = self.owner(lead)
        return owner in self.subject.people or (owner == -1 and self.subject.unowned == "include")

    def calendar(self, lead: int) -> BusinessCalendar:
        """The clocks run in the sales owner's calendar, whoever the subject is."""
        return PERSON_CAL if int(self.leads.sales_owner[lead]) == 1 else TEAM_CAL

    def lid(self, lead: int) -> int:
        return int(self.leads.lead_id[lead])

    def dup(self, lead: int) -> bool:
        return bool(self.leads.duplicate_of[lead] >= 0)

    def cohort(self, start: datetime, end: datetime) -> list[tuple[int, int]]:
        """(lead, index of its first handoff in [start, end)) for the subject's leads."""
        out = []
        for lead, seq in self.seq.items():
            if not self.mine(lead):
                continue
            for i, e in enumerate(seq):
                if e.kind == H and start <= e.at < end:
                    out.append((lead, i))
                    break
        return out

    def episode(self, lead: int, i: int) -> list[tuple[int, Ev]]:
        seq = self.seq[lead]
        out = []
        for j in range(i, len(seq)):
            if j > i and seq[j].kind == H:
                break
            out.append((j, seq[j]))
        return out

    def first(self, lead: int, i: int, pred: Callable[[int, Ev], bool]) -> tuple[int, Ev] | None:
        return next(((j, e) for j, e in self.episode(lead, i) if pred(j, e)), None)


def rank(values: list[timedelta], p: int) -> Decimal | None:
    if not values:
        return None
    k = math.ceil(Decimal(p) * len(values) / 100)
    return Decimal(sorted(values)[k - 1] // timedelta(microseconds=1)) / 1_000_000


def pct(num: int, den: int) -> Decimal | None:
    return None if den == 0 else Decimal(num * 100) / Decimal(den)


def assert_same(got: Measurement, actual: Decimal | None, sample: int, evidence: dict[str, set[int]]) -> None:
    assert got.actual == actual
    assert got.sample_size == sample
    got_evidence = {k: set(v.tolist()) for k, v in got.evidence.items() if len(v)}
    assert got_evidence == {k: v for k, v in evidence.items() if v}
    assert len(got.evidence.get("counted", ())) == len(evidence.get("counted", ()))


def span(cal: BusinessCalendar, begin: datetime, window: timedelta | BusinessDuration) -> timedelta:
    """The window from ``begin``: fixed, or the business time to the same time ``N`` business days on."""
    if isinstance(window, timedelta):
        return window
    if window.business_days is None:
        return timedelta(minutes=window.amount)
    return cal.elapsed(begin, cal.add_business_days(begin, window.business_days))


BD = BusinessDuration.parse
REASONS = {K.FEEDBACK, K.REJECTED, K.LOST, K.WON}  # events that carry feedback's reason code


def bucket(evidence: dict[str, set[int]], key: str, lead_id: int) -> None:
    evidence.setdefault(key, set()).add(lead_id)


def build(leads: LeadFrame, events: list[Ev], now: datetime, pause_kinds: tuple[int, ...] = ()) -> Frames:
    rows = [(e.lead, e.kind, e.at, e.human, e.amount, e.reason) for e in events]
    return Frames(EventFrame.from_rows(rows), leads, now=now, pause_kinds=pause_kinds)


# --- the properties ----------------------------------------------------------------------------------------

common = {
    "world": worlds(),
    "period": st.tuples(moments, spans).map(lambda p: (p[0] - p[1] / 2, p[0] + p[1] / 2)),
    "now": moments.map(lambda m: m + timedelta(days=2)),
    "subject": subjects,
}


@settings(max_examples=150, deadline=None)
@given(**common)
def test_volume_acceptance_handoff_and_conversion(world: Any, period: Any, now: Any, subject: Subject):
    leads, events = world
    start, end = period
    frames = build(leads, events, now)
    ref = Ref(leads, events, now, subject)
    cohort = ref.cohort(start, end)

    ev: dict[str, set[int]] = {}
    for lead, i in cohort:
        lid = ref.lid(lead)
        if ref.dup(lead):
            bucket(ev, "excluded_duplicate", lid)
        elif leads.disputed_upheld[lead]:
            bucket(ev, "excluded_disputed", lid)
        elif not leads.met_definition[lead]:
            bucket(ev, "excluded_definition", lid)
        elif any(e.kind == K.RECYCLED for e in ref.seq[lead][:i]):
            bucket(ev, "recycled", lid)
        else:
            bucket(ev, "counted", lid)
    got = lead_volume(frames, start=start, end=end, subject=subject, target=5)
    assert_same(got, Decimal(len(ev.get("counted", ()))), len(cohort), ev)
    assert got.figures["recycled"] == len(ev.get("recycled", ()))

    ev = {}
    for lead, i in cohort:
        lid = ref.lid(lead)
        if ref.dup(lead):
            bucket(ev, "excluded_duplicate", lid)
            continue
        decision = ref.first(lead, i, lambda _, e: e.kind in (K.ACCEPTED, K.REJECTED))
        if decision is None:
            bucket(ev, "undecided", lid)
        else:
            bucket(ev, "counted" if decision[1].kind == K.ACCEPTED else "rejected", lid)
    n_acc, n_rej = len(ev.get("counted", ())), len(ev.get("rejected", ()))
    got = acceptance_rate(frames, start=start, end=end, subject=subject, target=80)
    assert_same(got, pct(n_acc, n_acc + n_rej), n_acc + n_rej, ev)

    ev = {}
    missing = dict.fromkeys(FIELDS, 0)
    kept = 0
    for lead, _ in cohort:
        lid = ref.lid(lead)
        if ref.dup(lead):
            bucket(ev, "excluded_duplicate", lid)
            continue
        kept += 1
        absent = [f for j, f in enumerate(FIELDS) if not leads.fields_present[lead, j]]
        for f in absent:
            bucket(ev, f"missing_field:{f}", lid)
            missing[f] += 1
        if not absent:
            bucket(ev, "counted", lid)
    got = handoff_completeness(frames, start=start, end=end, subject=subject, target=100)
    assert_same(got, pct(len(ev.get("counted", ())), kept), kept, ev)
    assert {f: got.figures[f"missing:{f}"] for f in FIELDS} == missing

    stages = (
        ("accepted", {K.ACCEPTED, K.QUALIFIED, K.OPPORTUNITY, K.WON}),
        ("qualified", {K.QUALIFIED, K.OPPORTUNITY, K.WON}),
        ("opportunity", {K.OPPORTUNITY, K.WON}),
        ("won", {K.WON}),
    )
    for stage, reach in stages:
        ev = {}
        kept = 0
        for lead, i in cohort:
            lid = ref.lid(lead)
            if ref.dup(lead):
                bucket(ev, "excluded_duplicate", lid)
                continue
            kept += 1
            reached = any(e.kind in reach for e in ref.seq[lead][i + 1 :])
            bucket(ev, "counted" if reached else "not_converted", lid)
        got = conversion(frames, start=start, end=end, subject=subject, stage=stage, target=10)  # type: ignore[arg-type]
        assert_same(got, pct(len(ev.get("counted", ())), kept), kept, ev)


@settings(max_examples=150, deadline=None)
@given(
    **common,
    window=st.sampled_from(
        [
            timedelta(minutes=30),
            timedelta(hours=1),
            timedelta(hours=1),
            timedelta(hours=30),
            BD("1bd"),
            BD("2bd"),
        ]
    ),
    clock_start=st.sampled_from(["handed_over", "assigned"]),
)
def test_decision_latency_and_speed_to_lead(world, period, now, subject, window, clock_start):
    leads, events = world
    start, end = period
    frames = build(leads, events, now)
    ref = Ref(leads, events, now, subject)
    cohort = ref.cohort(start, end)

    def clock(
        lead: int, begin: datetime, stop: Ev | None, ev: dict[str, set[int]], durations: list[timedelta]
    ):
        cal = ref.calendar(lead)
        w = span(cal, begin, window)
        if stop is not None:
            took = cal.elapsed(begin, stop.at)
            durations.append(took)
            bucket(ev, "counted" if took <= w else "breached", ref.lid(lead))
        else:
            bucket(ev, "breached" if cal.elapsed(begin, max(now, begin)) > w else "pending", ref.lid(lead))

    ev: dict[str, set[int]] = {}
    durations: list[timedelta] = []
    for lead, i in cohort:
        if ref.dup(lead):
            bucket(ev, "excluded_duplicate", ref.lid(lead))
            continue
        decision = ref.first(lead, i, lambda _, e: e.kind in (K.ACCEPTED, K.REJECTED))
        clock(lead, ref.seq[lead][i].at, None if decision is None else decision[1], ev, durations)
    n_in, n_out = len(ev.get("counted", ())), len(ev.get("breached", ()))
    got = decision_latency(
        frames, start=start, end=end, subject=subject, window=window, calendars=CALENDARS, target=90
    )
    assert_same(got, pct(n_in, n_in + n_out), n_in + n_out, ev)
    assert (got.figures["median_seconds"], got.figures["p90_seconds"]) == (
        rank(durations, 50),
        rank(durations, 90),
    )
    got_median = decision_latency(
        frames, start=start, end=end, subject=subject, window=window, calendars=CALENDARS, target=3600,
        headline="median",
    )  # fmt: skip
    assert got_median.actual == rank(durations, 50)
    assert got_median.unit == "duration"

    ev = {}
    durations = []
    routing: list[timedelta] = []
    rep: list[timedelta] = []
    for lead, i in cohort:
        if ref.dup(lead):
            bucket(ev, "excluded_duplicate", ref.lid(lead))
            continue
        cal = ref.calendar(lead)
        handoff = ref.seq[lead][i]
        assigned = ref.first(lead, i, lambda _, e: e.kind == K.ASSIGNED)
        human = ref.first(lead, i, lambda _, e: e.kind == K.CONTACT_ATTEMPT and e.human)
        after_pos = -1 if assigned is None else assigned[0]
        after = (
            None
            if assigned is None
            else ref.first(
                lead, i, lambda j, e, a=after_pos: j > a and e.kind == K.CONTACT_ATTEMPT and e.human
            )
        )
        if assigned is not None:
            routing.append(cal.elapsed(handoff.at, assigned[1].at))
            if after is not None:
                rep.append(cal.elapsed(assigned[1].at, after[1].at))
        if clock_start == "handed_over":
            clock(lead, handoff.at, None if human is None else human[1], ev, durations)
        elif assigned is None:
            bucket(ev, "not_started", ref.lid(lead))
        else:
            clock(lead, assigned[1].at, None if after is None else after[1], ev, durations)
    n_in, n_out = len(ev.get("counted", ())), len(ev.get("breached", ()))
    got = speed_to_lead(
        frames, start=start, end=end, subject=subject, window=window, calendars=CALENDARS, target=90,
        clock_start=clock_start,
    )  # fmt: skip
    assert_same(got, pct(n_in, n_in + n_out), n_in + n_out, ev)
    assert (got.figures["median_seconds"], got.figures["p90_seconds"]) == (
        rank(durations, 50),
        rank(durations, 90),
    )
    assert (got.figures["routing_median_seconds"], got.figures["routing_p90_seconds"]) == (
        rank(routing, 50),
        rank(routing, 90),
    )
    assert (got.figures["rep_median_seconds"], got.figures["rep_p90_seconds"]) == (
        rank(rep, 50),
        rank(rep, 90),
    )


@settings(max_examples=150, deadline=None)
@given(
    **common,
    window=st.sampled_from(
        [timedelta(minutes=45), timedelta(hours=1), timedelta(hours=30), BD("1bd"), BD("3bd")]
    ),
    attempts=st.integers(min_value=1, max_value=3),
    clock_start=st.sampled_from(["handed_over", "assigned", "accepted"]),
)
def test_attempts_within_the_window(world, period, now, subject, window, attempts, clock_start):
    leads, events = world
    start, end = period
    frames = build(leads, events, now)
    ref = Ref(leads, events, now, subject)
    starter = {"handed_over": H, "assigned": K.ASSIGNED, "accepted": K.ACCEPTED}[clock_start]
    ev: dict[str, set[int]] = {}
    worked_n = 0
    for lead, i in ref.cohort(start, end):
        lid = ref.lid(lead)
        if ref.dup(lead):
            bucket(ev, "excluded_duplicate", lid)
            continue
        begin = ref.first(lead, i, lambda _, e: e.kind == starter)
        if begin is None:
            bucket(ev, "not_started", lid)
            continue
        cal = ref.calendar(lead)
        tries = [
            e for j, e in ref.episode(lead, i) if j > begin[0] and e.kind == K.CONTACT_ATTEMPT and e.human
        ]
        if not tries:
            bucket(ev, "not_worked", lid)
            continue
        worked_n += 1
        w = span(cal, begin[1].at, window)
        inside = sum(1 for e in tries if cal.elapsed(begin[1].at, e.at) <= w)
        if inside >= attempts:
            bucket(ev, "counted", lid)
        elif cal.elapsed(begin[1].at, max(now, begin[1].at)) > w:
            bucket(ev, "breached", lid)
        else:
            bucket(ev, "pending", lid)
    n_ok, n_short = len(ev.get("counted", ())), len(ev.get("breached", ()))
    got = attempts_within(
        frames, start=start, end=end, subject=subject, window=window, attempts=attempts, calendars=CALENDARS,
        target=90, clock_start=clock_start,
    )  # fmt: skip
    assert_same(got, pct(n_ok, n_ok + n_short), n_ok + n_short, ev)
    assert got.figures["worked"] == worked_n


@settings(max_examples=150, deadline=None)
@given(**common, valid=st.sampled_from([None, (0, 2)]))
def test_feedback_and_amounts(world, period, now, subject, valid):
    leads, events = world
    start, end = period
    frames = build(leads, events, now)
    ref = Ref(leads, events, now, subject)

    def ok(reason: int) -> bool:
        return reason >= 0 if valid is None else reason in valid

    def last_in_period(lead: int, kinds: set[int]) -> tuple[int, Ev] | None:
        hits = [(j, e) for j, e in enumerate(ref.seq[lead]) if e.kind in kinds and start <= e.at < end]
        return hits[-1] if hits else None

    ev: dict[str, set[int]] = {}
    n = 0
    for lead in ref.seq:
        closing = last_in_period(lead, {K.REJECTED, K.LOST, K.WON}) if ref.mine(lead) else None
        if closing is None:
            continue
        if ref.dup(lead):
            bucket(ev, "excluded_duplicate", ref.lid(lead))
            continue
        n += 1
        j, e = closing
        later = any(f.kind == K.FEEDBACK and ok(f.reason) for f in ref.seq[lead][j + 1 :])
        bucket(ev, "counted" if ok(e.reason) or later else "missing_reason", ref.lid(lead))
    got = feedback_completeness(
        frames, start=start, end=end, subject=subject, target=100, valid_reasons=valid
    )
    assert_same(got, pct(len(ev.get("counted", ())), n), n, ev)

    for kind, metric in ((K.OPPORTUNITY, pipeline_amount), (K.WON, won_amount)):
        ev = {}
        cents = 0
        for lead in ref.seq:
            hit = last_in_period(lead, {kind}) if ref.mine(lead) else None
            if hit is None:
                continue
            if ref.dup(lead):
                bucket(ev, "excluded_duplicate", ref.lid(lead))
                continue
            cents += hit[1].amount
            bucket(ev, "counted", ref.lid(lead))
        got = metric(frames, start=start, end=end, subject=subject, target=Decimal("1000.00"))
        assert_same(got, Decimal(cents) / 100, len(ev.get("counted", ())), ev)
        assert got.figures["cents"] == cents


@settings(max_examples=150, deadline=None)
@given(
    **common,
    valid=st.sampled_from([None, (0, 2)]),
    window=st.sampled_from([timedelta(hours=1), timedelta(hours=30), BD("1bd"), BD("2bd")]),
    clock_start=st.sampled_from(["handed_over", "accepted"]),
    paused=st.booleans(),
)
def test_feedback_within_the_window(world, period, now, subject, valid, window, clock_start, paused):
    """With the commitment's clock: a valid reason (feedback or a closing event) within the window."""
    leads, events = world
    start, end = period
    pause_kind = K.CONTACT_ATTEMPT  # any kind can be a pause kind in the engine (a frequent one here)
    frames = build(leads, events, now, (int(pause_kind),) if paused else ())
    ref = Ref(leads, events, now, subject)
    starter = {"handed_over": H, "accepted": K.ACCEPTED}[clock_start]

    def ok(reason: int) -> bool:
        return reason >= 0 if valid is None else reason in valid

    def paused_time(lead: int, i: int, begin: datetime, until: datetime) -> timedelta:
        if not paused:
            return timedelta(0)
        cal, total = ref.calendar(lead), timedelta(0)
        episode = ref.episode(lead, i)
        seq = ref.seq[lead]
        for n, (j, e) in enumerate(episode):
            if e.kind != pause_kind or (n > 0 and episode[n - 1][1].kind == pause_kind):
                continue
            following = next((f for f in seq[j + 1 :] if f.kind != pause_kind), None)
            a = min(max(e.at, begin), until)
            b = min(max(until if following is None else min(following.at, until), begin), until)
            total += cal.elapsed(a, b)
        return total

    ev: dict[str, set[int]] = {}
    for lead, i in ref.cohort(start, end):
        lid = ref.lid(lead)
        if ref.dup(lead):
            bucket(ev, "excluded_duplicate", lid)
            continue
        begin = ref.first(lead, i, lambda _, e: e.kind == starter)
        if begin is None:
            bucket(ev, "not_started", lid)
            continue
        cal = ref.calendar(lead)
        given_at = ref.first(lead, i, lambda j, e, b=begin[0]: j > b and e.kind in REASONS and ok(e.reason))
        until = max(begin[1].at, now if given_at is None else given_at[1].at)
        took = cal.elapsed(begin[1].at, until) - paused_time(lead, i, begin[1].at, until)
        over = took > span(cal, begin[1].at, window)
        if given_at is not None:
            bucket(ev, "late_reason" if over else "counted", lid)
        else:
            bucket(ev, "missing_reason" if over else "pending", lid)
    got = feedback_completeness(
        frames, start=start, end=end, subject=subject, target=100, valid_reasons=valid, window=window,
        calendars=CALENDARS, clock_start=clock_start,
    )  # fmt: skip
    n_ok = len(ev.get("counted", ()))
    sample = n_ok + len(ev.get("late_reason", ())) + len(ev.get("missing_reason", ()))
    assert_same(got, pct(n_ok, sample), sample, ev)
    assert got.figures["pending"] == len(ev.get("pending", ()))


@settings(max_examples=100, deadline=None)
@given(**common)
def test_events_in_database_order_measure_the_same_as_events_in_any_order(world, period, now, subject):
    leads, events = world
    start, end = period
    in_order = sorted(events, key=lambda e: (e.lead, e.at, e.index))
    args = {"start": start, "end": end, "subject": subject}
    for moment in (now, BASE + timedelta(days=30)):  # the second keeps every event: no copy at all
        got = []
        for frames in (build(leads, events, moment), build(leads, in_order, moment)):
            got.append(
                (
                    frames.ev_at.tolist(),
                    frames.ev_kind.tolist(),
                    ids_of(lead_volume(frames, target=1, **args)),
                    ids_of(
                        decision_latency(
                            frames, window=timedelta(hours=1), calendars=CALENDARS, target=1, **args
                        )
                    ),
                    ids_of(feedback_completeness(frames, target=1, **args)),
                )
            )
        assert got[0] == got[1]


def ids_of(m: Measurement) -> dict[str, list[int]]:
    return {k: sorted(v.tolist()) for k, v in m.evidence.items() if len(v)}
