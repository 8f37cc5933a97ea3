"""The metric registry: every commitment kind has its metric, and a new metric is a count of a few lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from leadpact.core.agreement import COMMITMENT_KINDS, agreement_load_yaml, agreement_template
from leadpact.core.calendar import BusinessCalendar
from leadpact.core.metrics import (
    METRICS,
    Calendars,
    EventFrame,
    EventKind,
    Frames,
    LeadFrame,
    MetricInputs,
    Scope,
    Subject,
    Tally,
    metric,
    metric_for,
)

T = datetime(2026, 3, 10, 10, tzinfo=UTC)
MARCH = {"start": datetime(2026, 3, 1, tzinfo=UTC), "end": datetime(2026, 4, 1, tzinfo=UTC)}
CAL = BusinessCalendar.from_spec({"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}})


def frames() -> Frames:
    events = EventFrame.from_rows(
        [
            (0, EventKind.HANDED_OVER, T),
            (0, EventKind.ACCEPTED, T + timedelta(hours=1)),
            (1, EventKind.HANDED_OVER, T),
            (1, EventKind.REJECTED, T + timedelta(hours=2)),
            (2, EventKind.HANDED_OVER, T),
        ]
    )
    leads = LeadFrame.from_rows([{"lead_id": 7, "marketing_owner": 1}, {"lead_id": 8}, {"lead_id": 9}])
    return Frames(events, leads, now=T + timedelta(days=1))


def test_every_commitment_kind_has_one_metric():
    kinds = [m.kind for m in METRICS.values()]
    assert sorted(kinds) == sorted(COMMITMENT_KINDS)
    for kind in COMMITMENT_KINDS:
        assert metric_for(kind).kind == kind
    assert metric_for("no-such-kind") is None


def test_a_new_metric_is_a_count_and_the_registry_does_the_rest():
    @metric("undecided_share", unit="percent", kind="volume")  # type: ignore[arg-type]
    def undecided_share(scope: Scope) -> Tally:
        """Handoffs without an accept or reject yet ÷ handoffs, in percent."""
        rows, dups = scope.handoffs()
        decided = scope.frames.first_in_episode(
            (scope.frames.ev_kind == EventKind.ACCEPTED) | (scope.frames.ev_kind == EventKind.REJECTED)
        )
        open_ = decided[rows] < 0
        lead = scope.frames.h_lead
        n = int(rows.shape[0])
        share = Decimal(int(open_.sum()) * 100) / Decimal(n)
        return Tally(share, n, {"counted": lead[rows[open_]], "excluded_duplicate": dups}, {})

    try:
        m = undecided_share(
            frames(), subject=Subject.team("marketing", [1], unowned="include"), target=50, **MARCH
        )
        assert (m.metric, m.unit, m.sample_size) == ("undecided_share", "percent", 3)
        assert m.actual == Decimal(100) / 3
        assert m.evidence["counted"].tolist() == [9]
        assert m.status == "not_enough_data"  # a percentage of 3 leads, below the minimum sample
        assert undecided_share.__doc__.startswith("Handoffs without")
        with pytest.raises(ValueError, match="registered already"):
            metric("undecided_share", unit="percent", kind="volume")(undecided_share.count)  # type: ignore[arg-type]
    finally:
        del METRICS["undecided_share"]


def test_a_commitment_becomes_the_metric_s_parameters():
    doc = agreement_load_yaml(agreement_template("en"))
    calendars = Calendars(CAL, {})
    for c in doc.commitments:
        found = metric_for(c.kind)
        inputs = MetricInputs(
            unit=c.target.unit,
            window=timedelta(hours=1) if c.clock else None,
            calendars=lambda: calendars,
            reason_codes=len(doc.reason_codes),
        )
        params = found.for_commitment(c, inputs)
        assert params is not None, c.key
        if c.clock is not None:
            assert params["window"] == timedelta(hours=1) and params["calendars"] is calendars
    attempts = doc.commitment("contact-attempts")
    params = metric_for("attempts").for_commitment(
        attempts, MetricInputs(unit="percent", window=timedelta(hours=1), calendars=lambda: calendars)
    )
    assert (params["attempts"], params["clock_start"]) == (6, "accepted")
    handoff = metric_for("handoff").for_commitment(
        doc.commitment("handoff-data"), MetricInputs(unit="percent")
    )
    assert handoff["fields"][:3] == ["name", "email", "company"]
    decision = metric_for("decision").for_commitment(
        doc.commitment("mql-decision"),
        MetricInputs(unit="duration", window=timedelta(hours=8), calendars=lambda: calendars),
    )
    assert decision["headline"] == "median"
    # a clocked commitment measured without its window cannot be measured: None, never a guess
    assert (
        metric_for("decision").for_commitment(doc.commitment("mql-decision"), MetricInputs(unit="percent"))
        is None
    )
