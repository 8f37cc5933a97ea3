"""Windows in business days on the metrics, feedback within its window, conversion to every stage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

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
    attempts_within,
    conversion,
    decision_latency,
    feedback_completeness,
)

K = EventKind
OFFICE = BusinessCalendar.from_spec(
    {"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}, "holidays": {"country": "NL"}}
)
HALF_DAYS = BusinessCalendar.from_spec({"timezone": "UTC", "hours": {"mon-fri": ["09:00-13:00"]}})
CALENDARS = Calendars(OFFICE, {7: HALF_DAYS})
SALES = Subject.team("sales", [2, 7])
MARCH = {"start": datetime(2026, 3, 1, tzinfo=UTC), "end": datetime(2026, 4, 1, tzinfo=UTC)}
TUE_1500 = datetime(2026, 3, 3, 15, tzinfo=UTC)
WED_1500 = datetime(2026, 3, 4, 15, tzinfo=UTC)
SEC = timedelta(seconds=1)
BD = BusinessDuration.parse


def ids(m: Measurement) -> dict[str, list[int]]:
    return {k: sorted(v.tolist()) for k, v in m.evidence.items() if len(v)}


def frames(
    rows: list[tuple], n: int, *, now: datetime, owners: dict[int, int] | None = None, pause_kinds=()
) -> Frames:
    leads = [
        {"lead_id": 10 + i, "marketing_owner": 1, "sales_owner": (owners or {}).get(i, 2)} for i in range(n)
    ]
    return Frames(EventFrame.from_rows(rows), LeadFrame.from_rows(leads), now=now, pause_kinds=pause_kinds)


class TestBusinessDayWindows:
    def test_within_one_business_day_of_tuesday_1500_is_wednesday_1500(self):
        tue_2000 = datetime(2026, 3, 3, 20, tzinfo=UTC)
        f = frames(
            [
                (0, K.HANDED_OVER, TUE_1500),
                (0, K.ACCEPTED, WED_1500),  # exactly at the deadline: within
                (1, K.HANDED_OVER, TUE_1500),
                (1, K.ACCEPTED, WED_1500 + SEC),  # a second late
                (2, K.HANDED_OVER, tue_2000),  # after the close: due at Wednesday's close
                (
                    2,
                    K.REJECTED,
                    datetime(2026, 3, 4, 18, tzinfo=UTC),
                    False,
                    0,
                    1,
                ),  # after it, no business time
                (3, K.HANDED_OVER, TUE_1500),  # half days: 1bd from 15:00 (after the close) is Wed 13:00
                (3, K.ACCEPTED, datetime(2026, 3, 5, 9, 0, 1, tzinfo=UTC)),
                (4, K.HANDED_OVER, datetime(2026, 3, 4, 10, tzinfo=UTC)),  # undecided, window running
            ],
            5,
            now=datetime(2026, 3, 5, 10, tzinfo=UTC),
            owners={3: 7},
        )
        m = decision_latency(f, window=BD("1bd"), calendars=CALENDARS, target=90, **MARCH, subject=SALES)
        assert ids(m) == {"counted": [10, 12], "breached": [11, 13], "pending": [14]}
        # 8h is the same on equal days; on the half-day calendar 1bd is 4 business hours
        m8 = decision_latency(
            f, window=timedelta(hours=8), calendars=CALENDARS, target=90, **MARCH, subject=SALES
        )
        assert ids(m8)["counted"] == [10, 12, 13]

    def test_ten_business_days_skip_weekends_and_easter(self):
        # ten business days from Thursday 26 March skip two weekends, Good Friday and Easter Monday
        thursday = datetime(2026, 3, 26, 15, tzinfo=UTC)
        f = frames(
            [
                (0, K.HANDED_OVER, thursday),
                (0, K.CONTACT_ATTEMPT, datetime(2026, 4, 13, 15, tzinfo=UTC), True),
                (1, K.HANDED_OVER, thursday),
                (1, K.CONTACT_ATTEMPT, datetime(2026, 4, 13, 15, 0, 1, tzinfo=UTC), True),
            ],
            2,
            now=datetime(2026, 5, 1, tzinfo=UTC),
        )
        m = attempts_within(
            f, window=BD("10bd"), attempts=1, calendars=CALENDARS, target=90, **MARCH, subject=SALES
        )
        assert ids(m) == {"counted": [10], "breached": [11]}


class TestFeedbackWithinTheWindow:
    def test_buckets_say_which_leads_gave_feedback_in_time_late_never_or_not_yet(self):
        day = timedelta(days=1)
        accepted = datetime(2026, 3, 2, 10, tzinfo=UTC)  # Monday; 2bd → Wednesday 10:00
        rows = [
            (0, K.HANDED_OVER, accepted - day / 2),
            (0, K.ACCEPTED, accepted),
            (0, K.FEEDBACK, accepted + day, False, 0, 1),
            (1, K.HANDED_OVER, accepted - day / 2),
            (1, K.ACCEPTED, accepted),
            (1, K.FEEDBACK, accepted + day, False, 0, 9),  # not a valid code: ignored
            (1, K.LOST, accepted + 3 * day, False, 0, 2),  # a reason, but late
            (2, K.HANDED_OVER, accepted - day / 2),
            (2, K.ACCEPTED, accepted),  # nothing, and the window is over
            (3, K.HANDED_OVER, accepted - day / 2),
            (3, K.ACCEPTED, accepted + 3 * day),  # nothing yet, window running: pending
            (4, K.HANDED_OVER, accepted - day / 2),
            (4, K.REJECTED, accepted, False, 0, 1),  # never accepted: the clock never started
            (5, K.HANDED_OVER, accepted - day / 2),
            (5, K.ACCEPTED, accepted),
            (5, K.CUSTOM, accepted + day / 24 * 1),  # waiting on the customer 11:00 …
            (5, K.RESUMED, accepted + 2 * day),  # … until Wednesday 10:00: 1bd of pause
            (5, K.FEEDBACK, accepted + 2 * day + 4 * day / 24, False, 0, 0),  # Wed 14:00
        ]
        f = frames(rows, 6, now=accepted + 4 * day, pause_kinds=[K.CUSTOM])
        args = {**MARCH, "subject": SALES, "target": 100, "calendars": CALENDARS, "valid_reasons": [0, 1, 2]}
        m = feedback_completeness(f, window=BD("2bd"), **args)
        assert ids(m) == {
            "counted": [10, 15],
            "late_reason": [11],
            "missing_reason": [12],
            "pending": [13],
            "not_started": [14],
        }
        assert (m.actual, m.sample_size) == (50, 4)
        assert m.figures == {"late_reason": 1, "missing_reason": 1, "pending": 1, "not_started": 1}
        # lead 15 spent 5 business hours outside its pause; without the pause 20: late for 1bd
        unpaused = frames(rows, 6, now=accepted + 4 * day)
        short = feedback_completeness(unpaused, window=BD("1bd"), **args)
        assert ids(short)["late_reason"] == [11, 15]  # lead 10 replied exactly 1bd after acceptance
        paused = feedback_completeness(f, window=BD("1bd"), **args)
        assert 15 in ids(paused)["counted"]

    def test_a_window_needs_the_calendars(self):
        f = frames([(0, K.HANDED_OVER, TUE_1500)], 1, now=WED_1500)
        with pytest.raises(ValueError, match="calendars"):
            feedback_completeness(f, window=BD("15bd"), subject=SALES, target=100, **MARCH)


class TestConversionStages:
    def test_every_stage_of_the_waterfall_by_mql_cohort(self):
        t = datetime(2026, 3, 9, 9, tzinfo=UTC)
        f = frames(
            [
                (0, K.HANDED_OVER, t),
                (0, K.ACCEPTED, t + timedelta(hours=1)),
                (1, K.HANDED_OVER, t),
                (1, K.QUALIFIED, t + timedelta(hours=1)),  # no explicit acceptance: still accepted
                (2, K.HANDED_OVER, t),
                (2, K.ACCEPTED, t),
                (2, K.OPPORTUNITY, datetime(2026, 4, 20, tzinfo=UTC), False, 500_00),  # after the period
                (3, K.HANDED_OVER, t),
                (3, K.WON, t + timedelta(days=2), False, 900_00),
                (4, K.HANDED_OVER, t),
                (4, K.REJECTED, t + timedelta(hours=1), False, 0, 1),
            ],
            5,
            now=datetime(2026, 5, 1, tzinfo=UTC),
        )
        reached = {
            "accepted": [10, 11, 12, 13],
            "qualified": [11, 12, 13],
            "opportunity": [12, 13],
            "won": [13],
        }
        marketing = Subject.team("marketing", [1])
        for stage, counted in reached.items():
            m = conversion(f, stage=stage, target=30, **MARCH, subject=marketing)  # type: ignore[arg-type]
            assert ids(m)["counted"] == counted
            assert sorted(ids(m).get("not_converted", [])) == sorted(set(range(10, 15)) - set(counted))
            assert m.actual == len(counted) * 100 / 5
        with pytest.raises(ValueError, match="stage 'sql'"):
            conversion(f, stage="sql", target=30, **MARCH, subject=marketing)  # type: ignore[arg-type]
