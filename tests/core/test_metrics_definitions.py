"""The engine's view of each lead beyond its events: the definitions it met at handoff (a subject that
covers one keeps only those leads) and pauses left out of every clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
    Subject,
    acceptance_rate,
    attempts_within,
    decision_latency,
    speed_to_lead,
)
from leadpact.core.rules import Rule, rules_check

K = EventKind
WAITING = K.CUSTOM  # a pause kind the agreement declares
TEAM_CAL = BusinessCalendar.from_spec(
    {"timezone": "UTC", "hours": {"mon-fri": ["09:00-12:00", "13:00-17:00"]}, "closed": ["2026-03-11"]}
)
PERSON_CAL = BusinessCalendar.from_spec(
    {"timezone": "Europe/Amsterdam", "hours": {"mon-thu": ["10:00-16:00"]}, "holidays": {"country": "NL"}}
)
CALENDARS = Calendars(TEAM_CAL, {1: PERSON_CAL})
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
MARCH = {"start": datetime(2026, 3, 1, tzinfo=UTC), "end": datetime(2026, 4, 1, tzinfo=UTC)}
TEAM = Subject.team("sales", [0, 1])


def at(hour: float, day: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, minutes=round(hour * 60))


def frames(rows, leads=None, *, now: datetime, pause=(WAITING,)) -> Frames:
    n = 1 + max(r[0] for r in rows)
    leads = leads or LeadFrame.from_rows([{"lead_id": 100 + i, "sales_owner": 0} for i in range(n)])
    return Frames(EventFrame.from_rows(rows), leads, now=now, pause_kinds=pause)


class TestCovers:
    def test_a_subject_covering_a_definition_keeps_the_leads_that_met_it_or_were_not_checked(self):
        rows = [(i, K.HANDED_OVER, at(9)) for i in range(4)] + [(i, K.ACCEPTED, at(10)) for i in range(4)]
        leads = LeadFrame.from_rows(
            [
                {"lead_id": 10, "definitions": {"hi": True, "std": False}},
                {"lead_id": 11, "definitions": {"hi": False, "std": True}},
                {"lead_id": 12, "definitions": {"std": True}},  # never checked against "hi"
                {"lead_id": 13, "definitions": {"hi": False, "std": False}},
            ]
        )
        f = Frames(EventFrame.from_rows(rows), leads, now=at(12))
        everyone = Subject.team("sales", [], unowned="include")
        covered = {
            key: acceptance_rate(f, subject=Subject.team("sales", [], covers=key), target=80, **MARCH)
            for key in ("hi", "std", "nobody-checked")
        }
        assert sorted(covered["hi"].evidence["counted"].tolist()) == [10, 12]
        assert sorted(covered["std"].evidence["counted"].tolist()) == [11, 12]
        assert sorted(covered["nobody-checked"].evidence["counted"].tolist()) == [10, 11, 12, 13]
        assert acceptance_rate(f, subject=everyone, target=80, **MARCH).sample_size == 4
        assert f.not_checked("hi").tolist() == [False, False, True, False]
        assert f.not_checked("nobody-checked").all() and not f.not_checked(None).any()

    def test_a_definition_column_holds_met_missed_or_not_checked_only(self):
        with pytest.raises(FrameError, match="definitions\\[hi\\]"):
            LeadFrame(
                lead_id=[1],
                marketing_owner=[-1],
                sales_owner=[-1],
                met_definition=[True],
                disputed_upheld=[False],
                duplicate_of=[-1],
                field_names=(),
                fields_present=np.zeros((1, 0), dtype=np.bool_),
                definitions={"hi": np.array([2], dtype=np.int8)},
            )


class TestPausedClocks:
    def test_a_pause_of_two_business_hours_moves_speed_to_lead_by_two_hours(self):
        # handed over 9:00, waiting on the customer 9:15-11:15, called 11:50: 50 active minutes of 60
        paused = [
            (0, K.HANDED_OVER, at(9)),
            (0, WAITING, at(9.25)),
            (0, K.RESUMED, at(11.25)),
            (0, K.CONTACT_ATTEMPT, at(11 + 50 / 60), True),
        ]
        plain = [(1, kind, t, *rest) for (_, kind, t, *rest) in paused if kind not in (WAITING, K.RESUMED)]
        f = frames(paused + plain, now=at(9, day=3))
        m = speed_to_lead(f, subject=TEAM, window=timedelta(hours=1), calendars=CALENDARS, target=90, **MARCH)
        assert m.evidence["counted"].tolist() == [100] and m.evidence["breached"].tolist() == [101]
        assert m.figures["median_seconds"] == 50 * 60  # the lower middle of 50 min and 170 min
        # the same events measured by a commitment that declares no pause kinds: both breached
        none = frames(paused + plain, now=at(9, day=3), pause=())
        m = speed_to_lead(
            none, subject=TEAM, window=timedelta(hours=1), calendars=CALENDARS, target=90, **MARCH
        )
        assert sorted(m.evidence["breached"].tolist()) == [100, 101]

    def test_a_pause_still_open_stops_the_decision_clock_until_now(self):
        rows = [(0, K.HANDED_OVER, at(9)), (0, WAITING, at(9.5))]
        f = frames(rows, now=at(16))
        m = decision_latency(
            f, subject=TEAM, window=timedelta(hours=1), calendars=CALENDARS, target=90, **MARCH
        )
        assert m.evidence["pending"].tolist() == [100]  # 30 active minutes, still waiting on the customer

    def test_attempts_count_within_the_window_moved_on_by_the_pause(self):
        # accepted 9:00; 2 attempts within 2 business hours; waiting 10:00-11:00 moves the end to 12:00
        rows = [
            (0, K.HANDED_OVER, at(8)),
            (0, K.ACCEPTED, at(9)),
            (0, K.CONTACT_ATTEMPT, at(9.5), True),
            (0, WAITING, at(10)),
            (0, K.RESUMED, at(11)),
            (0, K.CONTACT_ATTEMPT, at(11.75), True),
        ]
        for pause, bucket in (((WAITING,), "counted"), ((), "breached")):
            f = frames(rows, now=at(9, day=3), pause=pause)
            m = attempts_within(
                f, subject=TEAM, window=timedelta(hours=2), attempts=2, calendars=CALENDARS, target=90,
                clock_start="accepted", **MARCH,
            )  # fmt: skip
            assert m.evidence[bucket].tolist() == [100], (pause, dict(m.evidence))


# --- paused_between against a per-lead reference -----------------------------------------------------------


def _reference(events, owner_of, begin, end, now):
    """Per handoff (in time order), the business time of its episode's pauses inside [begin, end)."""
    out: dict[tuple[int, datetime], timedelta] = {}
    by_lead: dict[int, list] = {}
    for e in sorted(events, key=lambda e: (e[0], e[2])):
        by_lead.setdefault(e[0], []).append(e)
    for lead, evs in by_lead.items():
        calendar = PERSON_CAL if owner_of[lead] == 1 else TEAM_CAL
        handoff = None
        i = 0
        while i < len(evs):
            _lead, kind, t = evs[i]
            if kind == K.HANDED_OVER:
                handoff = (lead, t)
                out[handoff] = timedelta(0)
            if kind == WAITING and handoff is not None and (i == 0 or evs[i - 1][1] != WAITING):
                j = i
                while j < len(evs) and evs[j][1] == WAITING:
                    j += 1
                stop = evs[j][2] if j < len(evs) else now
                b, e = begin[handoff], end[handoff]
                lo, hi = max(t, b), max(min(stop, now, e), max(t, b))
                out[handoff] += calendar.elapsed(lo, hi)
            i += 1
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),
            st.sampled_from([K.HANDED_OVER, K.HANDED_OVER, WAITING, WAITING, K.RESUMED, K.ACCEPTED]),
            st.integers(0, 6 * 24 * 4),
        ),
        min_size=1,
        max_size=30,
    ),
    st.lists(st.integers(-1, 1), min_size=4, max_size=4),
    st.integers(0, 6 * 24 * 4),
)
def test_paused_between_matches_a_per_lead_reference(raw, owners, now_q):
    # distinct instants per lead: ties keep input order, which a reference sorted by time cannot see
    seen: set[tuple[int, int]] = set()
    events = []
    for lead, kind, q in raw:
        if (lead, q) not in seen:
            seen.add((lead, q))
            events.append((lead, kind, MONDAY + timedelta(minutes=15 * q)))
    now = MONDAY + timedelta(minutes=15 * now_q)
    leads = LeadFrame.from_rows([{"lead_id": i, "sales_owner": owners[i]} for i in range(4)])
    f = Frames(EventFrame.from_rows(events), leads, now=now, pause_kinds=[WAITING])
    # begin: the handoff; end: a day and a half later (pauses after it are cut)
    begin_us = f.h_at
    end_us = f.h_at + 36 * 3600 * 10**6
    got = f.paused_between(CALENDARS, begin_us, end_us)
    us = timedelta(microseconds=1)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    row = {(int(f.h_lead[i]), epoch + int(f.h_at[i]) * us): i for i in range(f.n_handoffs)}
    begin = {k: epoch + int(begin_us[i]) * us for k, i in row.items()}
    end = {k: epoch + int(end_us[i]) * us for k, i in row.items()}
    known = [e for e in events if e[2] <= now]
    expected = _reference(known, dict(enumerate(owners)), begin, end, now)
    assert {k: int(got[i]) * us for k, i in row.items()} == expected


# --- every definition of a lead in one CEL context ----------------------------------------------------------

_RULES = [
    Rule.parse(
        'lead.consent == true && lead.email != "" && lead.country in ["NL", "BE"] && lead.score >= 50'
    ),
    Rule.parse('lead.country in ["NL", "BE"] && lead.trigger in ["demo_request", "pricing_request"]'),
    Rule.parse('lead.score >= 50 && !(has(lead.trigger) && lead.trigger in ["demo_request"])'),
    Rule.parse('lead.extra.segment == "smb"'),
]


@settings(max_examples=200, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "consent": st.booleans() | st.none(),
            "email": st.sampled_from(["", "a@b.nl", None]),
            "country": st.sampled_from(["NL", "BE", "DE", None]),
            "score": st.integers(-5, 120) | st.none(),
            "trigger": st.sampled_from(["demo_request", "webinar", None]),
            "extra": st.fixed_dictionaries({}, optional={"segment": st.sampled_from(["smb", "ent"])}),
        },
    ),
    st.sampled_from(["en", "nl"]),
)
def test_rules_checked_together_say_what_each_checked_alone_says(lead, lang):
    together = rules_check(_RULES, lead, lang=lang)
    alone = [rule.check(lead, lang=lang) for rule in _RULES]
    assert [(r.met, r.failed) for r in together] == [(r.met, r.failed) for r in alone]
