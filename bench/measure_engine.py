"""Measurement-engine benchmark: a year of measurements for a million leads, and one clock pass.

Data (synthetic, seeded): N leads (default 1,000,000) handed over uniformly through 2026, about six
events a lead (handoff, assignment, human and automated attempts, decisions, stages, amounts,
feedback, 5% recycled and handed over again), 40 people: 12 in marketing, 28 in sales, 6 of them
part-time (their own calendar). Team calendar: Europe/Amsterdam, Mon–Fri 09:00–17:00, Dutch holidays.

Measured (data generation excluded):

1. ``Frames`` preparation (sort, episodes) and every metric — volume, acceptance, decision latency,
   speed to lead (from handoff and from assignment), attempts within window, handoff and feedback
   completeness, conversion to qualified and to won, pipeline and won amounts — for every month ×
   (both teams + every person on their side): 12 × 42 × 11 measurements, first-use derived tables
   (business time for every handoff) included. Target: < 2 s in total.
2. One clock pass (``clocks_evaluate``) over 100,000 open leads, 10% with a pause. Target: < 1 s.

Run: ``.venv/bin/python bench/measure_engine.py [--leads 1000000] [--open 100000] [--seed 7]``
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import time
from datetime import UTC, datetime, timedelta

import numpy as np

from leadpact.core.calendar import BusinessCalendar
from leadpact.core.clocks import PauseIntervals, clocks_evaluate
from leadpact.core.metrics import (
    Calendars,
    EventFrame,
    EventKind,
    Frames,
    LeadFrame,
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

SPEC = {"timezone": "Europe/Amsterdam", "hours": {"mon-fri": ["09:00-17:00"]}, "holidays": {"country": "NL"}}
MARKETING = list(range(12))
SALES = list(range(12, 40))
PART_TIME = SALES[:6]
FIELDS = ("email", "phone", "company", "source", "score", "consent", "recent_touches")
YEAR_START = np.datetime64("2026-01-01T00:00", "us")
MINUTE = 60 * 10**6
K = EventKind


def synthesise(n: int, rng: np.random.Generator, *, shuffled: bool) -> tuple[EventFrame, LeadFrame]:
    year_us = 365 * 24 * 60 * MINUTE
    handoff = YEAR_START.astype(np.int64) + rng.integers(0, year_us, n)
    lead_ix = np.arange(n, dtype=np.int64)
    parts: list[tuple[np.ndarray, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(mask: np.ndarray, kind: int, at: np.ndarray, *, human=None, amount=None, reason=None) -> None:
        idx = lead_ix[mask]
        m = idx.shape[0]
        parts.append(
            (
                idx,
                kind,
                at[mask] if at.shape[0] == n else at,
                np.ones(m, bool) if human is None else human,
                np.zeros(m, np.int64) if amount is None else amount,
                np.full(m, -1, np.int32) if reason is None else reason,
            )
        )

    def later(base: np.ndarray, scale_minutes: float) -> np.ndarray:
        return base + (rng.exponential(scale_minutes, n) * MINUTE).astype(np.int64)

    everyone = np.ones(n, bool)
    add(everyone, K.CREATED, handoff - 5 * MINUTE)
    add(everyone, K.HANDED_OVER, handoff)
    assigned = later(handoff, 30)
    add(rng.random(n) < 0.95, K.ASSIGNED, assigned)
    first_try = later(assigned, 240)
    add(everyone, K.CONTACT_ATTEMPT, first_try)
    add(rng.random(n) < 0.6, K.CONTACT_ATTEMPT, later(first_try, 600))
    add(rng.random(n) < 0.2, K.CONTACT_ATTEMPT, later(first_try, 2000))
    auto = rng.random(n) < 0.3
    add(auto, K.CONTACT_ATTEMPT, later(handoff, 2), human=np.zeros(int(auto.sum()), bool))
    decided = later(handoff, 480)
    accept = rng.random(n) < 0.75
    reject = ~accept & (rng.random(n) < 0.8)
    add(accept, K.ACCEPTED, decided)
    add(reject, K.REJECTED, decided, reason=rng.integers(-1, 8, int(reject.sum())).astype(np.int32))
    qualified = accept & (rng.random(n) < 0.4)
    add(qualified, K.QUALIFIED, later(decided, 5000))
    opportunity = qualified & (rng.random(n) < 0.6)
    add(
        opportunity,
        K.OPPORTUNITY,
        later(decided, 9000),
        amount=rng.integers(100_00, 50_000_00, int(opportunity.sum())),
    )
    won = opportunity & (rng.random(n) < 0.4)
    lost = opportunity & ~won
    add(won, K.WON, later(decided, 30000), amount=rng.integers(100_00, 50_000_00, int(won.sum())))
    add(lost, K.LOST, later(decided, 30000), reason=rng.integers(-1, 8, int(lost.sum())).astype(np.int32))
    feedback = (reject | lost) & (rng.random(n) < 0.3)
    add(
        feedback,
        K.FEEDBACK,
        later(decided, 3000),
        reason=rng.integers(0, 8, int(feedback.sum())).astype(np.int32),
    )
    recycled = rng.random(n) < 0.05
    recycle_at = later(decided, 20000)
    add(recycled, K.RECYCLED, recycle_at)
    add(recycled, K.HANDED_OVER, recycle_at + 30 * 24 * 60 * MINUTE)

    lead_all = np.concatenate([p[0] for p in parts])
    at_all = np.concatenate([p[2] for p in parts])
    # as the service reads them (ORDER BY lead, occurred_at); --shuffled measures the sort as well
    order = rng.permutation(lead_all.shape[0]) if shuffled else np.lexsort((at_all, lead_all))
    events = EventFrame(
        lead=np.concatenate([p[0] for p in parts])[order],
        kind=np.concatenate([np.full(p[0].shape[0], p[1], np.int16) for p in parts])[order],
        occurred_at=np.concatenate([p[2] for p in parts]).view("datetime64[us]")[order],
        human=np.concatenate([p[3] for p in parts])[order],
        amount_cents=np.concatenate([p[4] for p in parts])[order],
        reason=np.concatenate([p[5] for p in parts])[order],
        actor=np.full(order.shape[0], -1, np.int32),
    )
    unowned = rng.random(n) < 0.01
    leads = LeadFrame(
        lead_id=lead_ix + 1_000_000,
        marketing_owner=np.where(unowned, -1, rng.choice(MARKETING, n)).astype(np.int32),
        sales_owner=np.where(unowned, -1, rng.choice(SALES, n)).astype(np.int32),
        met_definition=rng.random(n) < 0.9,
        disputed_upheld=rng.random(n) < 0.01,
        duplicate_of=np.where(rng.random(n) < 0.01, 0, -1),
        field_names=FIELDS,
        fields_present=rng.random((n, len(FIELDS))) < 0.97,
    )
    return events, leads


def months() -> list[tuple[datetime, datetime]]:
    firsts = [datetime(2026, m, 1, tzinfo=UTC) for m in range(1, 13)] + [datetime(2027, 1, 1, tzinfo=UTC)]
    return list(itertools.pairwise(firsts))


def clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def measure_year(
    events: EventFrame, leads: LeadFrame, calendars: Calendars, now: datetime
) -> dict[str, tuple[float, float] | int]:
    """Wall and CPU seconds per phase; CPU time is the fairer figure on a shared machine."""
    t0 = clocks()
    frames = Frames(events, leads, now=now)
    t1 = clocks()
    subjects = [Subject.team("marketing", MARKETING), Subject.team("sales", SALES)]
    subjects += [Subject.person("marketing", p) for p in MARKETING] + [
        Subject.person("sales", p) for p in SALES
    ]
    window = timedelta(hours=8)
    count = 0
    first_month = None
    for start, end in months():
        for subject in subjects:
            a = {"start": start, "end": end, "subject": subject}
            lead_volume(frames, target=200, expected_to_date=150, **a)
            acceptance_rate(frames, target=80, **a)
            decision_latency(frames, window=window, calendars=calendars, target=90, **a)
            speed_to_lead(frames, window=timedelta(hours=1), calendars=calendars, target=90, **a)
            speed_to_lead(
                frames, window=timedelta(hours=1), calendars=calendars, target=90, clock_start="assigned", **a
            )
            attempts_within(
                frames, window=timedelta(hours=80), attempts=3, calendars=calendars, target=70, **a
            )
            handoff_completeness(frames, target=100, **a)
            feedback_completeness(frames, target=100, **a)
            conversion(frames, stage="qualified", target=30, **a)
            conversion(frames, stage="won", target=5, **a)
            pipeline_amount(frames, target=1_000_000, **a)
            won_amount(frames, target=300_000, **a)
            count += 12
        if first_month is None:
            first_month = clocks()
    t2 = clocks()
    assert first_month is not None

    def span(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
        return b[0] - a[0], b[1] - a[1]

    return {
        "prepare (sort check, episodes)": span(t0, t1),
        "first month (+ derived tables)": span(t1, first_month),
        "other 11 months": span(first_month, t2),
        "total": span(t0, t2),
        "measurements": count,
    }


def clock_pass(n_open: int, calendar: BusinessCalendar, rng: np.random.Generator) -> tuple[float, float, int]:
    now = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    now64 = np.datetime64("2026-11-26T15:00", "us").astype(np.int64)
    starts = now64 - rng.integers(0, 14 * 24 * 60, n_open) * MINUTE
    paused = np.flatnonzero(rng.random(n_open) < 0.1)
    p_start = starts[paused] + rng.integers(0, 600, paused.shape[0]) * MINUTE
    p_end = p_start + rng.integers(10, 3000, paused.shape[0]) * MINUTE
    p_end = np.where(p_end > now64, np.iinfo(np.int64).min, p_end)  # still paused: NaT
    t0 = clocks()
    frame = clocks_evaluate(
        starts=starts.view("datetime64[us]"),
        stops=np.full(n_open, np.iinfo(np.int64).min).view("datetime64[us]"),
        pauses=PauseIntervals(
            row=paused.astype(np.int64),
            start=p_start.view("datetime64[us]"),
            end=p_end.view("datetime64[us]"),
        ),
        window=timedelta(hours=8),
        thresholds=(0.8, 1.0, 1.5),
        calendar=calendar,
        now=now,
    )
    t1 = clocks()
    return t1[0] - t0[0], t1[1] - t0[1], len(frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--shuffled", action="store_true", help="events in random order (prepare sorts them)")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    team = BusinessCalendar.from_spec(SPEC)
    part_time = BusinessCalendar.from_spec({**SPEC, "within": {"mon-thu": ["09:00-15:00"]}})
    calendars = Calendars(team, dict.fromkeys(PART_TIME, part_time))
    # warm the calendars' year tables (built once per process and calendar; not the engine's cost)
    for cal in (team, part_time):
        cal.elapsed_many(
            np.array(["2025-12-01", "2027-06-01"], "datetime64[us]"),
            np.array(["2027-06-01"] * 2, "datetime64[us]"),
        )

    g0 = time.perf_counter()
    events, leads = synthesise(args.leads, rng, shuffled=args.shuffled)
    g1 = time.perf_counter()
    machine = f"{platform.machine()}, {os.cpu_count()} cpus"
    print(f"python {platform.python_version()}, numpy {np.__version__}, {machine},")
    print(f"load average {os.getloadavg()[0]:.1f} (other processes share the machine: compare CPU seconds)")
    order = (
        "in random order (prepare sorts)"
        if args.shuffled
        else "sorted by lead, time (as read from the database)"
    )
    print(f"data: {len(leads):,} leads, {len(events):,} events {order}, 40 people (made in {g1 - g0:.1f} s)")
    figures = measure_year(events, leads, calendars, now=datetime(2027, 1, 15, tzinfo=UTC))
    print(f"year of measurements: {figures['measurements']:,} (12 months × 42 subjects × 12 metric calls)")
    print(f"  {'phase':<34} {'wall s':>8} {'cpu s':>8}")
    for key, value in figures.items():
        if isinstance(value, tuple):
            print(f"  {key:<34} {value[0]:8.3f} {value[1]:8.3f}")
    print(f"  {'target (total)':<34} {'< 2':>8}")
    wall, cpu, n = clock_pass(args.open, team, rng)
    print(f"clock pass: {n:,} open leads, 10% paused: {wall:.3f} s wall, {cpu:.3f} s cpu (target < 1 s)")


if __name__ == "__main__":
    main()
