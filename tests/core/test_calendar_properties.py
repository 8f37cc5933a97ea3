"""BusinessCalendar against a slow, obviously-correct reference walk (hypothesis).

The reference is written here independently of ``leadpact.core``: it reads the generated schedule
directly, walks local dates one by one, converts each window edge to UTC on its own (same stated rule:
a skipped wall time is the instant the clocks jump, an ambiguous one its first occurrence), and sums
or consumes the windows one at a time. Everything is compared in whole microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from leadpact.core.calendar import BusinessCalendar

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ZONES = ("Europe/Amsterdam", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC")
FIRST_YEAR, LAST_YEAR = 1990, 2090
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------- the reference


def to_us(moment: datetime) -> int:
    return (moment - EPOCH) // US


@cache
def ref_instant(zone_name: str, wall: datetime) -> int:
    """UTC µs of a naive wall time: earliest instant showing that wall time, else the jump over it."""
    zone = ZoneInfo(zone_name)
    offsets = {wall.replace(tzinfo=zone, fold=f).utcoffset() for f in (0, 1)}
    candidates = sorted((wall - offset).replace(tzinfo=UTC) for offset in offsets)
    showing = [u for u in candidates if u.astimezone(zone).replace(tzinfo=None) == wall]
    if showing:
        return to_us(showing[0])
    # a skipped wall time: step minute by minute (tz transitions here fall on whole minutes)
    moment = candidates[0]
    before = moment.astimezone(zone).utcoffset()
    while moment.astimezone(zone).utcoffset() == before:
        moment += timedelta(minutes=1)
    return to_us(moment)


@dataclass(frozen=True)
class Schedule:
    zone: str
    weekly: tuple[tuple[tuple[int, int], ...], ...]  # minutes, per weekday
    country: str | None = None
    closed: frozenset[date] = frozenset()
    opened: tuple[tuple[date, tuple[tuple[int, int], ...]], ...] = ()
    year: int = 2026  # where the generated instants cluster
    _holidays: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    def spec(self) -> dict:
        def text(m: int) -> str:
            return f"{m // 60:02d}:{m % 60:02d}"

        spec: dict = {
            "timezone": self.zone,
            "hours": {
                DAY_NAMES[d]: [f"{text(a)}-{text(b)}" for a, b in ws] for d, ws in enumerate(self.weekly)
            },
            "closed": [d.isoformat() for d in sorted(self.closed)],
            "open": {d.isoformat(): [f"{text(a)}-{text(b)}" for a, b in ws] for d, ws in self.opened},
        }
        if self.country:
            spec["holidays"] = {"country": self.country}
        return spec

    def is_holiday(self, day: date) -> bool:
        if self.country is None:
            return False
        if day.year not in self._holidays:
            self._holidays[day.year] = holidays.country_holidays(self.country, years=day.year)
        return day in self._holidays[day.year]

    def windows(self, day: date) -> list[tuple[int, int]]:
        opened = dict(self.opened)
        if day in opened:
            minutes = opened[day]
        elif day in self.closed or self.is_holiday(day):
            minutes = ()
        else:
            minutes = self.weekly[day.weekday()]
        out = []
        for a, b in minutes:
            midnight = datetime(day.year, day.month, day.day)
            opens = ref_instant(self.zone, midnight + timedelta(minutes=a))
            closes = ref_instant(self.zone, midnight + timedelta(minutes=b))
            if closes > opens:
                out.append((opens, closes))
        return out

    def local_date(self, us: int) -> date:
        return (EPOCH + timedelta(microseconds=us)).astimezone(ZoneInfo(self.zone)).date()

    def days(self, first: date, last: date):
        for n in range(first.toordinal(), last.toordinal() + 1):
            yield date.fromordinal(n)

    def elapsed(self, a: int, b: int) -> int:
        if b < a:
            return -self.elapsed(b, a)
        total = 0
        for day in self.days(self.local_date(a) - timedelta(days=1), self.local_date(b) + timedelta(days=1)):
            for opens, closes in self.windows(day):
                total += max(0, min(closes, b) - max(opens, a))
        return total

    def add(self, start: int, amount: int, max_days: int = 4000) -> int | None:
        if amount == 0:
            return start
        day = self.local_date(start) - timedelta(days=1 if amount > 0 else -1)
        remaining = abs(amount)
        for _ in range(max_days):
            windows = self.windows(day)
            if amount > 0:
                for opens, closes in windows:
                    if closes > start:
                        begin = max(opens, start)
                        if remaining <= closes - begin:
                            return begin + remaining
                        remaining -= closes - begin
                day += timedelta(days=1)
            else:
                for opens, closes in reversed(windows):
                    if opens < start:
                        end = min(closes, start)
                        if remaining <= end - opens:
                            return end - remaining
                        remaining -= end - opens
                day -= timedelta(days=1)
        return None


# ---------------------------------------------------------------- strategies


@st.composite
def day_windows(draw, *, allow_empty: bool = True) -> tuple[tuple[int, int], ...]:
    """Up to three non-overlapping windows on a 15-minute grid (00:00-24:00 included)."""
    marks = draw(st.lists(st.integers(0, 96), min_size=0 if allow_empty else 2, max_size=6, unique=True))
    marks = sorted(marks)
    if len(marks) % 2:
        marks = marks[:-1]
    pairs = tuple((marks[i] * 15, marks[i + 1] * 15) for i in range(0, len(marks), 2))
    # windows that touch would be merged by the calendar: keep a gap so the spec is taken as given
    return tuple(p for i, p in enumerate(pairs) if i == 0 or p[0] > pairs[i - 1][1])


@st.composite
def schedules(draw) -> Schedule:
    zone = draw(st.sampled_from(ZONES))
    weekly = tuple(draw(day_windows()) for _ in range(7))
    if not any(weekly):
        weekly = ((9 * 60, 17 * 60),), *weekly[1:]
    year = draw(st.integers(FIRST_YEAR, LAST_YEAR))
    near = days_of(zone, year)
    closed = frozenset(draw(st.lists(near, max_size=4)))
    opened = draw(
        st.dictionaries(near.filter(lambda d: d not in closed), day_windows(allow_empty=False), max_size=3)
    )
    country = draw(st.sampled_from([None, "NL", "US"]))
    return Schedule(zone, weekly, country, closed, tuple(sorted(opened.items())), year)


@cache
def clock_change_days(zone_name: str, year: int) -> tuple[date, ...]:
    """The local dates of ``year`` on which the zone's UTC offset changes."""
    zone = ZoneInfo(zone_name)
    days = []
    for n in range(date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal() + 1):
        day = date.fromordinal(n)
        noon_before = datetime(day.year, day.month, day.day, tzinfo=zone) - timedelta(hours=12)
        if noon_before.utcoffset() != (noon_before + timedelta(days=1)).astimezone(zone).utcoffset():
            days.append(day)
    return tuple(days)


def sample_day(draw, zone: str, year: int) -> date:
    """Any day of the year, or (often) one on which the clocks change."""
    changes = clock_change_days(zone, year)
    if changes and draw(st.booleans()):
        return draw(st.sampled_from(changes)) + timedelta(days=draw(st.integers(-1, 1)))
    return draw(st.dates(date(year, 1, 1), date(year, 12, 31)))


@st.composite
def days_of(draw, zone: str, year: int) -> date:
    return sample_day(draw, zone, year)


@st.composite
def instant_near(draw, schedule: Schedule, year: int | None = None) -> int:
    """A UTC µs instant: anywhere, or within a microsecond or two of a window edge."""
    if year is None:
        year = schedule_year(schedule)
    day = sample_day(draw, schedule.zone, year)
    if draw(st.booleans()):
        return to_us(datetime(day.year, day.month, day.day, tzinfo=UTC)) + draw(
            st.integers(0, 86_400 * 10**6)
        )
    windows = schedule.windows(day) or [(to_us(datetime(day.year, day.month, day.day, tzinfo=UTC)),) * 2]
    edge = draw(st.sampled_from([e for w in windows for e in w]))
    return edge + draw(st.integers(-2, 2))


@st.composite
def cases(draw):
    schedule = draw(schedules())
    a = draw(instant_near(schedule))
    if draw(st.booleans()):
        b = draw(instant_near(schedule))
    else:
        b = a + draw(st.integers(-20 * 86_400 * 10**6, 20 * 86_400 * 10**6))
    return schedule, a, b


def schedule_year(schedule: Schedule) -> int:
    return schedule.year


def calendar_of(schedule: Schedule) -> BusinessCalendar:
    return BusinessCalendar.from_spec(schedule.spec())


def dt(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


durations = st.one_of(
    st.integers(-150 * 3600 * 10**6, 150 * 3600 * 10**6),
    st.sampled_from([1, -1, 2, 3600 * 10**6, -3600 * 10**6, 8 * 3600 * 10**6]),
)


# ---------------------------------------------------------------- properties


@PROPERTY
@given(cases())
def test_elapsed_matches_the_reference_walk(case):
    schedule, a, b = case
    cal = calendar_of(schedule)
    got = cal.elapsed(dt(a), dt(b))
    assert got // US == schedule.elapsed(a, b)
    assert cal.elapsed(dt(b), dt(a)) == -got


@PROPERTY
@given(cases(), durations)
def test_add_matches_the_reference_walk_and_inverts_elapsed(case, amount):
    schedule, start, _ = case
    expected = schedule.add(start, amount)
    assume(expected is not None)
    cal = calendar_of(schedule)
    due = cal.add(dt(start), timedelta(microseconds=amount))
    assert to_us(due) == expected
    assert cal.elapsed(dt(start), due) // US == amount
    assert due.tzinfo == ZoneInfo(schedule.zone)


@PROPERTY
@given(cases(), st.lists(durations, min_size=1, max_size=5))
def test_vectorised_equals_scalar(case, amounts):
    schedule, a, b = case
    cal = calendar_of(schedule)
    starts = np.array([a, b, a, b, min(a, b)][: len(amounts)], dtype=np.int64).view("datetime64[us]")
    ends = np.array([b, a, a, a, max(a, b)][: len(amounts)], dtype=np.int64).view("datetime64[us]")
    elapsed = cal.elapsed_many(starts, ends).view(np.int64)
    due = cal.add_many(starts, np.array(amounts, dtype=np.int64).view("timedelta64[us]")).view(np.int64)
    for i, amount in enumerate(amounts):
        s, e = int(starts.view(np.int64)[i]), int(ends.view(np.int64)[i])
        assert int(elapsed[i]) == cal.elapsed(dt(s), dt(e)) // US
        assert int(due[i]) == to_us(cal.add(dt(s), timedelta(microseconds=amount)))


# A few fixed calendars so the century-wide tables are built once per test session.
FIXED = [
    BusinessCalendar.from_spec(
        {
            "timezone": "Europe/Amsterdam",
            "hours": {"mon-fri": ["09:00-12:30", "13:00-17:30"]},
            "holidays": {"country": "NL"},
        }
    ),
    BusinessCalendar.from_spec(
        {"timezone": "America/New_York", "hours": {"mon-sun": ["00:00-24:00"]}, "holidays": {"country": "US"}}
    ),
    BusinessCalendar.from_spec(
        {"timezone": "Australia/Lord_Howe", "hours": {"sat-sun": ["01:00-02:45"], "wed": ["22:00-24:00"]}}
    ),
]
FAR = st.integers(
    to_us(datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)), to_us(datetime(LAST_YEAR, 12, 31, tzinfo=UTC))
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(FIXED),
    st.lists(st.tuples(FAR, FAR, st.integers(-(10**13), 10**13)), min_size=1, max_size=40),
)
def test_vectorised_equals_scalar_over_far_spreads(cal, rows):
    starts = np.array([r[0] for r in rows], dtype=np.int64)
    ends = np.array([r[1] for r in rows], dtype=np.int64)
    amounts = np.array([r[2] for r in rows], dtype=np.int64)
    elapsed = cal.elapsed_many(starts.view("datetime64[us]"), ends.view("datetime64[us]")).view(np.int64)
    due = cal.add_many(starts.view("datetime64[us]"), amounts.view("timedelta64[us]")).view(np.int64)
    for s, e, d, got_elapsed, got_due in zip(starts, ends, amounts, elapsed, due, strict=True):
        assert int(got_elapsed) == cal.elapsed(dt(int(s)), dt(int(e))) // US
        scalar_due = cal.add(dt(int(s)), timedelta(microseconds=int(d)))
        assert int(got_due) == to_us(scalar_due)
        assert cal.elapsed(dt(int(s)), scalar_due) // US == d


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FIXED), st.integers(FIRST_YEAR, LAST_YEAR), st.data())
def test_fixed_calendars_match_the_reference_in_far_years(cal, year, data):
    spec = cal.to_spec()
    weekly = [()] * 7
    for key, windows in spec["hours"].items():
        names = key.split("-")
        for d in range(DAY_NAMES.index(names[0]), DAY_NAMES.index(names[-1]) + 1):
            weekly[d] = tuple(
                (int(w[:2]) * 60 + int(w[3:5]), int(w[6:8]) * 60 + int(w[9:11])) for w in windows
            )
    schedule = Schedule(spec["timezone"], tuple(weekly), spec.get("holidays", {}).get("country"))
    a = data.draw(instant_near(schedule, year))
    b = a + data.draw(st.integers(-40 * 86_400 * 10**6, 40 * 86_400 * 10**6))
    amount = data.draw(durations)
    assert cal.elapsed(dt(a), dt(b)) // US == schedule.elapsed(a, b)
    expected = schedule.add(a, amount)
    assert expected is not None
    assert to_us(cal.add(dt(a), timedelta(microseconds=amount))) == expected


@PROPERTY
@given(schedules(), st.data())
def test_day_level_views_agree_with_the_reference(schedule, data):
    cal = calendar_of(schedule)
    year = schedule.year
    day = sample_day(data.draw, schedule.zone, year)
    expected = schedule.windows(day)
    assert [(to_us(a), to_us(b)) for a, b in cal.windows_on(day)] == expected
    assert cal.business_time_on(day) // US == sum(b - a for a, b in expected)
    assert cal.is_business_day(day) == bool(expected)
    last = day + timedelta(days=data.draw(st.integers(0, 20)))
    assert cal.business_dates(day, last) == [d for d in schedule.days(day, last) if schedule.windows(d)]
    assert cal.business_days(day, last) == len(cal.business_dates(day, last))
    moment = data.draw(instant_near(schedule, year))
    assert cal.is_open(dt(moment)) == any(
        a <= moment < b
        for d in schedule.days(
            schedule.local_date(moment) - timedelta(days=1), schedule.local_date(moment) + timedelta(days=1)
        )
        for a, b in schedule.windows(d)
    )
    assert from_spec_round_trip(cal)


def from_spec_round_trip(cal: BusinessCalendar) -> bool:
    again = BusinessCalendar.from_spec(cal.to_spec())
    return again == cal and again.to_spec() == cal.to_spec()


# ---------------------------------------------------------------- the private search structures


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-(10**15), 10**15), min_size=0, max_size=300, unique=True),
    st.lists(st.integers(0, 10**6), min_size=0, max_size=60),
    st.lists(st.integers(-(10**15), 10**15), min_size=1, max_size=200),
)
def test_sorted_index_counts_like_searchsorted(spread, cluster, keys):
    from leadpact.core._calendar_table import SortedIndex

    values = np.array(sorted(set(spread) | {7 * 10**12 + c for c in cluster}), dtype=np.int64)
    low = min([*keys, *values.tolist()])
    high = max([*keys, *values.tolist()])
    index = SortedIndex.build(values, low, high)
    probe = np.array(keys + values.tolist() + [v + 1 for v in values.tolist() if v < high], dtype=np.int64)
    assert (index.left(probe.copy()) == np.searchsorted(values, probe, side="left")).all()
    assert (index.right(probe.copy()) == np.searchsorted(values, probe, side="right")).all()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules(), st.lists(st.integers(0, 400 * 86_400 * 10**6), min_size=1, max_size=50))
def test_both_level_paths_agree(schedule, offsets):
    from leadpact.core._calendar_table import LevelFunction

    cal = calendar_of(schedule)
    first = to_us(datetime(schedule.year, 1, 1, tzinfo=UTC))
    table = cal._covering(first, first + 400 * 86_400 * 10**6)
    keys = np.array([first + o for o in offsets], dtype=np.int64)
    keys = np.concatenate([keys, table.bounds, table.bounds - 1, table.bounds + 1])
    keys = keys[(keys >= table.low) & (keys <= table.high)]
    i = table.bounds_index.right(keys.copy())
    searched = table.level[i] + keys * (i & 1)
    function = LevelFunction.build(table.bounds, table.level, table.low, table.high)
    if function is not None:
        assert (function(keys.copy()) == searched).all()
    assert [table.level_at(int(k)) for k in keys] == searched.tolist()
