"""The measurement engine on hand-built leads: each rule once, with the exact leads as evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadpact.core.calendar import BusinessCalendar
from leadpact.core.metrics import (
    Calendars,
    EventFrame,
    EventKind,
    FrameError,
    Frames,
    LeadFrame,
    Measurement,
    StatusRules,
    Subject,
    acceptance_rate,
    attempts_within,
    conversion,
    decision_latency,
    feedback_completeness,
    handoff_completeness,
    lead_volume,
    nearest_rank,
    pipeline_amount,
    speed_to_lead,
    won_amount,
)

K = EventKind
OFFICE = BusinessCalendar.from_spec({"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}})
LATE_SHIFT = BusinessCalendar.from_spec({"timezone": "UTC", "hours": {"mon-fri": ["12:00-20:00"]}})
CALENDARS = Calendars(OFFICE, {7: LATE_SHIFT})
MARCH = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
LATER = datetime(2026, 5, 1, tzinfo=UTC)
FRI_1630 = datetime(2026, 3, 6, 16, 30, tzinfo=UTC)
MON_0930 = datetime(2026, 3, 9, 9, 30, tzinfo=UTC)
MON_0900 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
SALES = Subject.team("sales", [1, 2, 7])
MARKETING = Subject.team("marketing", [1, 2])
US = timedelta(microseconds=1)


def ids(m: Measurement) -> dict[str, list[int]]:
    return {k: sorted(v.tolist()) for k, v in m.evidence.items() if len(v)}


def frames(rows: list[tuple], leads: list[dict], *, now: datetime = LATER, fields=()) -> Frames:
    return Frames(EventFrame.from_rows(rows), LeadFrame.from_rows(leads, field_names=fields), now=now)


def lead(lead_id: int, **kw: object) -> dict:
    return {"lead_id": lead_id, "marketing_owner": 1, "sales_owner": 2, **kw}


class TestLeadVolume:
    def test_exclusions_and_recycled_leads_are_counted_apart(self):
        t = datetime(2026, 3, 10, 10, tzinfo=UTC)
        f = frames(
            [(i, K.HANDED_OVER, t) for i in range(5)]
            + [(4, K.RECYCLED, t - timedelta(days=20)), (0, K.HANDED_OVER, t + HOUR)],
            [
                lead(10),
                lead(11, met_definition=False),
                lead(12, disputed_upheld=True, met_definition=False),
                lead(13, duplicate_of=10, disputed_upheld=True),
                lead(14),
            ],
        )
        m = lead_volume(f, start=MARCH[0], end=MARCH[1], subject=MARKETING, target=2)
        assert m.actual == 1  # lead 10 once, though handed over twice
        assert ids(m) == {
            "counted": [10],
            "excluded_definition": [11],
            "excluded_disputed": [12],
            "excluded_duplicate": [13],
            "recycled": [14],
        }
        assert m.sample_size == 5
        assert m.status == "breached"  # the period is over and 1 < 2
        assert m.attainment == Decimal("0.5")

    def test_the_period_is_half_open(self):
        f = frames(
            [(0, K.HANDED_OVER, MARCH[0]), (1, K.HANDED_OVER, MARCH[1]), (2, K.HANDED_OVER, MARCH[1] - US)],
            [lead(10), lead(11), lead(12)],
        )
        m = lead_volume(f, start=MARCH[0], end=MARCH[1], subject=MARKETING, target=1)
        assert ids(m) == {"counted": [10, 12]}

    def test_a_lead_handed_over_again_after_recycling_in_the_same_period_counts_once_as_new(self):
        t = datetime(2026, 3, 10, 10, tzinfo=UTC)
        f = frames(
            [(0, K.HANDED_OVER, t), (0, K.RECYCLED, t + HOUR), (0, K.HANDED_OVER, t + 2 * HOUR)], [lead(10)]
        )
        assert ids(lead_volume(f, start=MARCH[0], end=MARCH[1], subject=MARKETING, target=1)) == {
            "counted": [10]
        }
        april = (MARCH[1], LATER)
        g = frames(
            [(0, K.HANDED_OVER, t), (0, K.RECYCLED, t + HOUR), (0, K.HANDED_OVER, MARCH[1])], [lead(10)]
        )
        assert ids(lead_volume(g, start=april[0], end=april[1], subject=MARKETING, target=1)) == {
            "recycled": [10]
        }

    def test_subjects_person_team_and_unowned(self):
        t = datetime(2026, 3, 10, 10, tzinfo=UTC)
        f = frames(
            [(i, K.HANDED_OVER, t) for i in range(3)],
            [lead(10, marketing_owner=1), lead(11, marketing_owner=2), lead(12, marketing_owner=-1)],
        )
        args = {"start": MARCH[0], "end": MARCH[1], "target": 1}
        assert ids(lead_volume(f, subject=Subject.person("marketing", 2), **args)) == {"counted": [11]}
        assert ids(lead_volume(f, subject=MARKETING, **args)) == {"counted": [10, 11, 12]}
        team_only = Subject.team("marketing", [1, 2], unowned="exclude")
        assert ids(lead_volume(f, subject=team_only, **args)) == {"counted": [10, 11]}

    def test_pacing_inside_the_period(self):
        t = datetime(2026, 3, 10, 10, tzinfo=UTC)
        f = frames([(i, K.HANDED_OVER, t) for i in range(9)], [lead(10 + i) for i in range(9)], now=t + HOUR)
        args = {"start": MARCH[0], "end": MARCH[1], "subject": MARKETING, "target": 30}
        assert lead_volume(f, expected_to_date=9, **args).status == "on_track"
        assert lead_volume(f, expected_to_date=10, **args).status == "behind"  # pace 0.9
        assert lead_volume(f, expected_to_date=12, **args).status == "at_risk"  # pace 0.75
        assert lead_volume(f, **{**args, "target": 9}).status == "met"

    def test_events_after_now_are_not_yet_known(self):
        t = datetime(2026, 3, 10, 10, tzinfo=UTC)
        f = frames([(0, K.HANDED_OVER, t), (1, K.HANDED_OVER, t + HOUR)], [lead(10), lead(11)], now=t)
        assert ids(lead_volume(f, start=MARCH[0], end=MARCH[1], subject=MARKETING, target=1)) == {
            "counted": [10]
        }


class TestDecisions:
    def test_acceptance_rate_over_decided_leads(self):
        t = datetime(2026, 3, 10, 10, tzinfo=UTC)
        f = frames(
            [(i, K.HANDED_OVER, t) for i in range(4)]
            + [(0, K.ACCEPTED, t + HOUR), (1, K.REJECTED, t + HOUR, False, 0, 3), (2, K.ACCEPTED, t + HOUR)]
            + [(0, K.REJECTED, t + 2 * HOUR)],  # only the first decision counts
            [lead(10), lead(11), lead(12), lead(13)],
        )
        m = acceptance_rate(f, start=MARCH[0], end=MARCH[1], subject=SALES, target=80)
        assert m.actual == Decimal(200) / 3
        assert ids(m) == {"counted": [10, 12], "rejected": [11], "undecided": [13]}
        assert m.status == "not_enough_data"
        assert (
            acceptance_rate(
                f, start=MARCH[0], end=MARCH[1], subject=SALES, target=60, rules=StatusRules(min_sample=2)
            ).status
            == "met"
        )

    @pytest.mark.parametrize(
        ("decided_at", "key"),
        [(MON_0930 - timedelta(seconds=1), "counted"), (MON_0930, "counted"), (MON_0930 + US, "breached")],
    )
    def test_decision_latency_boundary_is_elapsed_at_most_the_window(self, decided_at, key):
        f = frames([(0, K.HANDED_OVER, FRI_1630), (0, K.ACCEPTED, decided_at)], [lead(10)])
        m = decision_latency(
            f, start=MARCH[0], end=MARCH[1], subject=SALES, window=HOUR, calendars=CALENDARS, target=90
        )
        assert ids(m) == {key: [10]}

    def test_no_decision_within_the_sla_is_a_breach_and_inside_it_pending(self):
        f_late = frames([(0, K.HANDED_OVER, FRI_1630)], [lead(10)], now=MON_0930 + US)
        f_early = frames([(0, K.HANDED_OVER, FRI_1630)], [lead(10)], now=MON_0930)
        args = {"start": MARCH[0], "end": MARCH[1], "subject": SALES, "window": HOUR, "calendars": CALENDARS}
        breached = decision_latency(f_late, target=90, **args)
        assert ids(breached) == {"breached": [10]}
        assert breached.actual == 0
        assert breached.figures["median_seconds"] is None
        pending = decision_latency(f_early, target=90, **args)
        assert ids(pending) == {"pending": [10]}
        assert pending.actual is None
        assert pending.status == "not_enough_data"

    def test_business_time_is_in_the_owners_calendar(self):
        # Friday 16:30 → Monday 11:00: person 7 works 12:00–20:00 (3.5 business hours, all on Friday);
        # the office works 09:00–17:00 (half an hour on Friday, two on Monday)
        decided = datetime(2026, 3, 9, 11, 0, tzinfo=UTC)
        rows = [(0, K.HANDED_OVER, FRI_1630), (0, K.ACCEPTED, decided)]
        args = {"start": MARCH[0], "end": MARCH[1], "subject": SALES, "window": HOUR, "calendars": CALENDARS}
        late = decision_latency(frames(rows, [lead(10, sales_owner=7)]), target=1, headline="median", **args)
        office = decision_latency(
            frames(rows, [lead(10, sales_owner=2)]), target=1, headline="median", **args
        )
        assert (late.actual, office.actual) == (Decimal(3.5 * 3600), Decimal(2.5 * 3600))
        assert late.unit == "duration"


class TestSpeedToLead:
    def test_automated_attempts_never_count_and_routing_is_apart_from_the_rep(self):
        t = MON_0900
        f = frames(
            [
                (0, K.HANDED_OVER, t),
                (0, K.CONTACT_ATTEMPT, t + timedelta(minutes=1), False),  # an automated e-mail
                (0, K.ASSIGNED, t + timedelta(minutes=10)),
                (0, K.CONTACT_ATTEMPT, t + timedelta(minutes=70), True),
                (1, K.HANDED_OVER, t),
                (1, K.ASSIGNED, t + timedelta(minutes=20)),
                (1, K.CONTACT_ATTEMPT, t + timedelta(minutes=30), True),
            ],
            [lead(10), lead(11)],
        )
        args = {"start": MARCH[0], "end": MARCH[1], "subject": SALES, "window": HOUR, "calendars": CALENDARS}
        from_handoff = speed_to_lead(f, target=90, **args)
        assert ids(from_handoff) == {"counted": [11], "breached": [10]}
        assert from_handoff.figures["routing_median_seconds"] == 600
        assert from_handoff.figures["routing_p90_seconds"] == 1200
        assert from_handoff.figures["rep_median_seconds"] == 600
        assert from_handoff.figures["rep_p90_seconds"] == 3600
        from_assigned = speed_to_lead(f, target=90, clock_start="assigned", **args)
        assert ids(from_assigned) == {"counted": [10, 11]}
        assert from_assigned.figures["p90_seconds"] == 3600

    def test_an_unassigned_lead_has_not_started_the_assigned_clock(self):
        f = frames([(0, K.HANDED_OVER, MON_0900)], [lead(10)], now=MON_0900 + 5 * HOUR)
        args = {"start": MARCH[0], "end": MARCH[1], "subject": SALES, "window": HOUR, "calendars": CALENDARS}
        assert ids(speed_to_lead(f, target=90, clock_start="assigned", **args)) == {"not_started": [10]}
        assert ids(speed_to_lead(f, target=90, **args)) == {"breached": [10]}


class TestAttempts:
    def test_a_call_after_a_deadline_at_close_is_within_the_window(self):
        start = datetime(2026, 3, 9, 16, 0, tzinfo=UTC)  # due 17:00 with a 1h window
        rows = [(0, K.HANDED_OVER, start), (0, K.CONTACT_ATTEMPT, start + timedelta(minutes=5), True)]
        args = {"start": MARCH[0], "end": MARCH[1], "subject": SALES, "window": HOUR, "calendars": CALENDARS}
        in_time = frames(
            [*rows, (0, K.CONTACT_ATTEMPT, datetime(2026, 3, 10, 9, 0, tzinfo=UTC), True)], [lead(10)]
        )
        late = frames(
            [*rows, (0, K.CONTACT_ATTEMPT, datetime(2026, 3, 10, 9, 0, tzinfo=UTC) + US, True)], [lead(10)]
        )
        assert ids(attempts_within(in_time, attempts=2, target=90, **args)) == {"counted": [10]}
        assert ids(attempts_within(late, attempts=2, target=90, **args)) == {"breached": [10]}

    def test_leads_not_worked_are_outside_the_sample_and_short_ones_pending_until_the_window_ends(self):
        t = MON_0900
        f = frames(
            [(0, K.HANDED_OVER, t), (1, K.HANDED_OVER, t), (1, K.CONTACT_ATTEMPT, t + HOUR, True)],
            [lead(10), lead(11)],
            now=t + 2 * HOUR,
        )
        args = {
            "start": MARCH[0],
            "end": MARCH[1],
            "subject": SALES,
            "window": 8 * HOUR,
            "calendars": CALENDARS,
        }
        m = attempts_within(f, attempts=2, target=90, **args)
        assert ids(m) == {"not_worked": [10], "pending": [11]}
        assert m.sample_size == 0

    def test_the_attempt_clock_can_start_at_acceptance(self):
        t = MON_0900
        f = frames(
            [
                (0, K.HANDED_OVER, t),
                (0, K.CONTACT_ATTEMPT, t + HOUR, True),  # before acceptance: not part of this clock
                (0, K.ACCEPTED, t + 3 * HOUR),
                (0, K.CONTACT_ATTEMPT, t + 4 * HOUR, True),
            ],
            [lead(10)],
        )
        args = {
            "start": MARCH[0],
            "end": MARCH[1],
            "subject": SALES,
            "window": 2 * HOUR,
            "calendars": CALENDARS,
        }
        assert ids(attempts_within(f, attempts=1, target=90, clock_start="accepted", **args)) == {
            "counted": [10]
        }
        assert ids(attempts_within(f, attempts=2, target=90, clock_start="accepted", **args)) == {
            "breached": [10]
        }
        assert ids(attempts_within(f, attempts=2, target=90, **args)) == {"breached": [10]}


class TestCompleteness:
    def test_handoff_completeness_names_the_missing_fields(self):
        t = MON_0900
        f = frames(
            [(i, K.HANDED_OVER, t) for i in range(3)],
            [lead(10), lead(11, missing={"email"}), lead(12, missing={"email", "phone"})],
            fields=("email", "phone", "company"),
        )
        m = handoff_completeness(f, start=MARCH[0], end=MARCH[1], subject=MARKETING, target=100)
        assert ids(m) == {"counted": [10], "missing_field:email": [11, 12], "missing_field:phone": [12]}
        assert m.figures == {"missing:email": 2, "missing:phone": 1, "missing:company": 0}
        only_company = handoff_completeness(
            f, start=MARCH[0], end=MARCH[1], subject=MARKETING, target=100, fields=["company"]
        )
        assert only_company.actual == 100
        with pytest.raises(ValueError, match="score"):
            handoff_completeness(
                f, start=MARCH[0], end=MARCH[1], subject=MARKETING, target=1, fields=["score"]
            )

    def test_feedback_reason_on_the_event_or_a_later_feedback_event(self):
        t = MON_0900
        f = frames(
            [
                (0, K.REJECTED, t, False, 0, 2),
                (1, K.LOST, t),
                (1, K.FEEDBACK, t + HOUR, False, 0, 1),
                (2, K.WON, t, False, 100, -1),
                (3, K.REJECTED, t, False, 0, 9),  # not a code of this agreement
            ],
            [lead(10), lead(11), lead(12), lead(13)],
        )
        args = {"start": MARCH[0], "end": MARCH[1], "subject": SALES, "target": 100}
        m = feedback_completeness(f, valid_reasons=[0, 1, 2], **args)
        assert ids(m) == {"counted": [10, 11], "missing_reason": [12, 13]}
        assert m.actual == 50
        assert ids(feedback_completeness(f, closing=(K.REJECTED,), **args)) == {"counted": [10, 13]}


class TestConversionAndMoney:
    def test_conversion_follows_the_mql_cohort_to_now(self):
        t = MON_0900
        f = frames(
            [
                (0, K.HANDED_OVER, t),
                (0, K.QUALIFIED, datetime(2026, 4, 20, tzinfo=UTC)),  # after the period, before now
                (1, K.HANDED_OVER, t),
                (1, K.WON, t + HOUR),
                (2, K.HANDED_OVER, t),
                (3, K.QUALIFIED, t),  # not in the cohort: never handed over
            ],
            [lead(10), lead(11), lead(12), lead(13)],
        )
        args = {"start": MARCH[0], "end": MARCH[1], "subject": MARKETING, "target": 10}
        assert ids(conversion(f, stage="qualified", **args)) == {"counted": [10, 11], "not_converted": [12]}
        assert ids(conversion(f, stage="won", **args)) == {"counted": [11], "not_converted": [10, 12]}

    def test_amounts_are_exact_in_cents(self):
        t = MON_0900
        f = frames(
            [
                (0, K.OPPORTUNITY, t, False, 10),
                (0, K.OPPORTUNITY, t + HOUR, False, 20),  # the lead's last amount in the period
                (1, K.OPPORTUNITY, t, False, 2**62),
                (1, K.WON, t, False, 123_456_789_012_345),
                (2, K.WON, t, False, 1),
            ],
            [lead(10), lead(11), lead(12)],
        )
        args = {"start": MARCH[0], "end": MARCH[1], "subject": SALES}
        pipe = pipeline_amount(f, target=Decimal("1"), **args)
        assert pipe.actual == Decimal(2**62 + 20) / 100
        assert pipe.actual == Decimal("46116860184273879.24")
        assert ids(pipe) == {"counted": [10, 11]}
        won = won_amount(f, target=Decimal("2000000000000"), **args)
        assert won.actual == Decimal("1234567890123.46")
        assert won.status == "breached"


class TestStatusAndInputs:
    def test_duration_headline_lower_is_better(self):
        t = MON_0900
        rows = [(i, K.HANDED_OVER, t) for i in range(20)] + [
            (i, K.ACCEPTED, t + (i + 1) * 60 * US * 10**6) for i in range(20)
        ]
        f = frames(rows, [lead(100 + i) for i in range(20)], now=datetime(2026, 3, 20, tzinfo=UTC))
        args = {"start": MARCH[0], "end": MARCH[1], "subject": SALES, "window": HOUR, "calendars": CALENDARS}
        median = decision_latency(f, target=timedelta(minutes=10), headline="median", **args)
        assert median.actual == 600  # nearest rank: the 10th of 20 values (1..20 minutes)
        assert median.status == "on_track"
        assert median.attainment == 1
        p90 = decision_latency(f, target=timedelta(minutes=15), headline="p90", **args)
        assert p90.actual == 18 * 60
        assert p90.status == "behind"  # 15/18 = 0.83
        assert decision_latency(f, target=100, **args).status == "on_track"

    def test_bad_inputs_name_the_record(self):
        with pytest.raises(FrameError, match="lead index 5"):
            frames([(5, K.HANDED_OVER, MON_0900)], [lead(10)])
        with pytest.raises(FrameError, match="naive"):
            EventFrame.from_rows([(0, K.HANDED_OVER, datetime(2026, 3, 9))])
        with pytest.raises(FrameError, match="length"):
            LeadFrame(
                lead_id=np.array([1, 2]),
                marketing_owner=np.array([1]),
                sales_owner=np.array([1, 2]),
                met_definition=np.array([True, True]),
                disputed_upheld=np.array([False, False]),
                duplicate_of=np.array([-1, -1]),
                field_names=(),
                fields_present=np.zeros((2, 0), dtype=bool),
            )
        f = frames([], [lead(10)])
        with pytest.raises(ValueError, match="end is before start"):
            lead_volume(f, start=MARCH[1], end=MARCH[0], subject=MARKETING, target=1)

    def test_evidence_is_read_only(self):
        f = frames([(0, K.HANDED_OVER, MON_0900)], [lead(10)])
        m = lead_volume(f, start=MARCH[0], end=MARCH[1], subject=MARKETING, target=1)
        with pytest.raises(ValueError, match="read-only"):
            m.evidence["counted"][0] = 99


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=50),
    p=st.integers(1, 100),
)
def test_nearest_rank_is_the_smallest_value_with_at_least_p_percent_at_or_below(values, p):
    got = nearest_rank(np.array(values, dtype=np.int64), p)
    at_or_below = sum(1 for v in values if v <= got)
    assert got in values
    assert at_or_below * 100 >= p * len(values)
    assert all(sum(1 for v in values if v <= w) * 100 < p * len(values) for w in values if w < got)
