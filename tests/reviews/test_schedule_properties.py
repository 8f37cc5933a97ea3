"""Properties of a series' meeting days, over any weekly or monthly rule (no database)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from leadpact.agreements.models import Agreement
from leadpact.core.calendar import BusinessCalendar
from leadpact.organization.models import Organization
from leadpact.reviews.models import ReviewSeries
from leadpact.reviews.schedule import series_occurrences

MARKETING = BusinessCalendar.from_spec(
    {"timezone": "Europe/Amsterdam", "hours": {"mon-fri": ["09:00-17:30"]}, "holidays": {"country": "NL"}}
)
SALES = BusinessCalendar.from_spec(  # works Monday to Thursday only
    {"timezone": "Europe/Amsterdam", "hours": {"mon-thu": ["08:30-17:30"]}, "holidays": {"country": "NL"}}
)
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
RULES = st.one_of(
    st.lists(st.sampled_from(DAYS), min_size=1, max_size=3, unique=True).map(
        lambda days: f"FREQ=WEEKLY;BYDAY={','.join(days)}"
    ),
    st.integers(1, 28).map(lambda d: f"FREQ=MONTHLY;BYMONTHDAY={d}"),
    st.sampled_from(["1", "2", "-1"]).flatmap(
        lambda n: st.sampled_from(DAYS).map(lambda d: f"FREQ=MONTHLY;BYDAY={n}{d}")
    ),
)


def _series(rule: str, start: dt.date) -> ReviewSeries:
    organization = Organization(key="o", name="O", timezone="Europe/Amsterdam")
    return ReviewSeries(
        agreement=Agreement(organization=organization, key="a", title="A"),
        key="s",
        name="S",
        rrule=rule,
        starts_on=start,
        time=dt.time(10, 0),
        duration_minutes=45,
    )


@settings(max_examples=60, deadline=None)
@given(rule=RULES, start=st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 1)))
def test_every_meeting_is_on_a_day_both_sides_work_and_moves_forward_only(rule, start):
    series = _series(rule, start)
    found = list(
        series_occurrences(series, before=start + dt.timedelta(days=240), calendars=[MARKETING, SALES])
    )
    days = [o.day for o in found]
    assert days == sorted(set(days))  # in order, each day once
    for o in found:
        assert MARKETING.is_business_day(o.day) and SALES.is_business_day(o.day)
        assert o.planned <= o.day and (o.day - o.planned).days <= 31
        assert o.moved == (o.day != o.planned) and bool(o.reason) == o.moved
        # moved to the first day both work: none between
        between = (o.planned + dt.timedelta(days=n) for n in range((o.day - o.planned).days))
        assert not any(MARKETING.is_business_day(d) and SALES.is_business_day(d) for d in between)
        assert o.starts_at.astimezone(MARKETING.timezone).time() == dt.time(10, 0)
        assert o.ends_at - o.starts_at == dt.timedelta(minutes=45)
