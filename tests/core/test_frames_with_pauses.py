"""``Frames.with_pauses`` shares the sorted events and episodes of frames without pauses: measuring on it
equals measuring on frames built with those pause kinds, even after the base frames measured (their
derived tables must not leak into the paused ones) — and it leaves the base frames' figures alone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from leadpact.core.metrics import (
    EventKind,
    Frames,
    attempts_within,
    decision_latency,
    feedback_completeness,
    speed_to_lead,
)
from tests.core.test_metrics_reference import BD, CALENDARS, build, common

K = EventKind


def figures(frames: Frames, start: Any, end: Any, subject: Any, window: Any) -> list[Any]:
    args = {"start": start, "end": end, "subject": subject, "window": window, "calendars": CALENDARS}
    out = [
        decision_latency(frames, target=90, **args),
        speed_to_lead(frames, target=90, **args),
        attempts_within(frames, target=90, attempts=2, **args),
        feedback_completeness(frames, target=100, clock_start="accepted", **args),
    ]
    return [
        (m.actual, m.sample_size, dict(m.figures), {k: list(v) for k, v in m.evidence.items()}) for m in out
    ]


@settings(max_examples=60, deadline=None)
@given(
    **common,
    window=st.sampled_from([timedelta(hours=1), timedelta(hours=30), BD("1bd"), BD("2bd")]),
    pause=st.sampled_from([K.CONTACT_ATTEMPT, K.ASSIGNED, K.FEEDBACK]),
)
def test_shared_frames_measure_as_frames_built_with_the_pauses(world, period, now, subject, window, pause):
    leads, events = world
    start, end = period
    base = build(leads, events, now)
    before = figures(base, start, end, subject, window)  # fills the base frames' derived tables
    shared = base.with_pauses([int(pause)])
    fresh = build(leads, events, now, (int(pause),))
    assert figures(shared, start, end, subject, window) == figures(fresh, start, end, subject, window)
    assert figures(base, start, end, subject, window) == before
    assert base.with_pauses([]) is base
