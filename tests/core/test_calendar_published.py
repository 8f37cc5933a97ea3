"""Scenarios from the published tests of established SLA / business-hour engines, restated.

Each case names its source. Their code is not copied; the scenario (hours, holidays, start, amount,
expected answer) is restated as data. Where DESIGN.md §5 decides differently from the engine, the
case carries our answer and says why.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leadpact.core.calendar import BusinessCalendar

H = timedelta(hours=1)
NS5 = timedelta(microseconds=5)  # pandas uses 5 ns; the smallest step here is 1 µs

# ---------------------------------------------------------------- ERPNext
# frappe/erpnext, erpnext/support/doctype/issue/test_issue.py and
# erpnext/support/doctype/service_level_agreement/test_service_level_agreement.py
# (test_sla_application, test_hold_time): support hours Mon–Fri 10:00–18:00, holiday list
# 2019-02-11, 2019-03-05, 2019-03-07; default SLA: response 4 h, resolution 6 h; customer SLA 2 h / 3 h.
ERPNEXT = BusinessCalendar.from_spec(
    {
        "timezone": "UTC",
        "hours": {"mon-fri": ["10:00-18:00"]},
        "closed": ["2019-02-11", "2019-03-05", "2019-03-07"],
    }
)


@pytest.mark.parametrize(
    ("created", "hours", "due", "note"),
    [
        (datetime(2019, 3, 4, 12), 4, datetime(2019, 3, 4, 16), "response inside the day"),
        (
            datetime(2019, 3, 4, 12),
            6,
            datetime(2019, 3, 4, 18),
            "resolution lands on closing time: that closing time",
        ),
        (datetime(2019, 3, 4, 12), 2, datetime(2019, 3, 4, 14), "customer SLA response"),
        (datetime(2019, 3, 4, 12), 3, datetime(2019, 3, 4, 15), "customer SLA resolution"),
        (datetime(2019, 3, 4, 7), 4, datetime(2019, 3, 4, 14), "created before opening"),
        (datetime(2019, 3, 4, 7), 6, datetime(2019, 3, 4, 16), "created before opening"),
        (datetime(2019, 3, 4, 20), 4, datetime(2019, 3, 6, 14), "created after hours, Tuesday a holiday"),
        (datetime(2019, 3, 4, 20), 6, datetime(2019, 3, 6, 16), "created after hours, Tuesday a holiday"),
        (datetime(2019, 3, 4, 14), 4, datetime(2019, 3, 4, 18), "response due exactly at close"),
        (datetime(2019, 3, 4, 14), 6, datetime(2019, 3, 6, 12), "resolution carried over the holiday"),
    ],
)
def test_erpnext_issue_deadlines(created, hours, due, note):
    assert ERPNEXT.add(created.replace(tzinfo=UTC), hours * H) == due.replace(tzinfo=UTC), note


def test_erpnext_hold_time_outside_business_hours_costs_nothing():
    # ERPNext test_hold_time: created Wed 2020-03-04 04:00, on hold 04:15–05:05 (50 min, all before
    # opening), 6 h resolution. ERPNext adds the hold in wall-clock time and expects 16:50. DESIGN.md §5:
    # a pause stops the clock, and a pause outside business hours stops nothing, so the deadline stays
    # 10:00 + 6 business hours = 16:00.
    created = datetime(2020, 3, 4, 4, tzinfo=UTC)
    hold = (datetime(2020, 3, 4, 4, 15, tzinfo=UTC), datetime(2020, 3, 4, 5, 5, tzinfo=UTC))
    assert ERPNEXT.elapsed(*hold) == timedelta(0)
    assert ERPNEXT.add(created, 6 * H + ERPNEXT.elapsed(*hold)) == datetime(2020, 3, 4, 16, tzinfo=UTC)


def test_erpnext_zero_elapsed_is_zero():
    # ERPNext records a response at the creation instant as 1 second; DESIGN.md §5 says 0.
    moment = datetime(2019, 3, 4, 12, tzinfo=UTC)
    assert ERPNEXT.elapsed(moment, moment) == timedelta(0)


# ---------------------------------------------------------------- businesstimedelta
# seppemans/businesstimedelta, businesstimedelta/test/businesstimedelta_tests.py: a WorkDayRule of
# Mon–Fri 09:00–17:00 in UTC; the README rules 09:00–18:00 with a 12:00–13:00 lunch; US-CA holidays.
BTD = BusinessCalendar.from_spec({"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}})
BTD_README = BusinessCalendar.from_spec(
    {"timezone": "UTC", "hours": {"mon-fri": ["09:00-12:00", "13:00-18:00"]}}
)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (datetime(2016, 1, 23, 13, 14), 2, datetime(2016, 1, 25, 11)),  # Saturday start: Monday opening + 2 h
        (datetime(2016, 1, 22, 9), 8, datetime(2016, 1, 22, 17)),  # exactly one day: that day's close
        (datetime(2016, 1, 23, 13, 14), 12, datetime(2016, 1, 26, 13)),  # over a night
        (datetime(2016, 1, 25, 11, 14), -2, datetime(2016, 1, 25, 9, 14)),  # subtracting inside the day
        (datetime(2016, 1, 22, 18), -8, datetime(2016, 1, 22, 9)),  # subtracting a whole day from after close
        (datetime(2016, 1, 25, 11, 14), -8, datetime(2016, 1, 22, 11, 14)),  # back over a weekend
    ],
)
def test_businesstimedelta_add_and_subtract(start, hours, due):
    assert BTD.add(start.replace(tzinfo=UTC), hours * H) == due.replace(tzinfo=UTC)


def test_businesstimedelta_readme_week_with_lunch():
    start, end = datetime(2016, 1, 18, 9, tzinfo=UTC), datetime(2016, 1, 25, 9, tzinfo=UTC)
    assert BTD_README.elapsed(start, end) == 40 * H
    assert BTD_README.add(start, 40 * H) == datetime(2016, 1, 22, 18, tzinfo=UTC)
    assert BTD_README.add(end, -40 * H) == start


def test_businesstimedelta_readme_california_holidays():
    cal = BusinessCalendar.from_spec(
        {**BTD_README.to_spec(), "holidays": {"country": "US", "subdivision": "CA"}}
    )
    start, end = datetime(2015, 12, 21, 9, tzinfo=UTC), datetime(2015, 12, 28, 9, tzinfo=UTC)
    assert cal.elapsed(start, end) == 32 * H  # Christmas Day, a Friday, is closed


def test_businesstimedelta_readme_other_zone():
    # Santiago office hours measured between two San Francisco instants: 4 business hours.
    santiago = BusinessCalendar.from_spec({**BTD_README.to_spec(), "timezone": "America/Santiago"})
    sf = ZoneInfo("America/Los_Angeles")
    assert (
        santiago.elapsed(datetime(2016, 1, 18, 9, tzinfo=sf), datetime(2016, 1, 18, 18, tzinfo=sf)) == 4 * H
    )


# ---------------------------------------------------------------- pandas CustomBusinessHour
# pandas-dev/pandas, pandas/tests/tseries/offsets/test_custom_business_hour.py (apply_cases,
# nano_cases, GH 16867, GH 23542): Mon–Fri 09:00–17:00, holidays 2014-06-27, 2014-06-30, 2014-07-02.
# pandas rolls a result that lands on a closing time to the next opening; DESIGN.md §5 keeps the
# closing time. Those cases carry pandas' answer in the comment and ours in the data.
PANDAS = BusinessCalendar.from_spec(
    {
        "timezone": "UTC",
        "hours": {"mon-fri": ["09:00-17:00"]},
        "closed": ["2014-06-27", "2014-06-30", "2014-07-02"],
    }
)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (datetime(2014, 7, 1, 11), 1, datetime(2014, 7, 1, 12)),
        (datetime(2014, 7, 1, 15), 1, datetime(2014, 7, 1, 16)),
        (datetime(2014, 7, 1, 19), 1, datetime(2014, 7, 3, 10)),  # night, then a holiday
        (datetime(2014, 7, 1, 16), 1, datetime(2014, 7, 1, 17)),  # pandas: 2014-07-03 09:00 (rolls)
        (datetime(2014, 7, 1, 16, 30, 15), 1, datetime(2014, 7, 3, 9, 30, 15)),
        (datetime(2014, 7, 1, 17), 1, datetime(2014, 7, 3, 10)),  # starting at close
        (datetime(2014, 7, 2, 11), 1, datetime(2014, 7, 3, 10)),  # starting on a holiday
        (datetime(2014, 7, 2, 23), 1, datetime(2014, 7, 3, 10)),
        (datetime(2014, 7, 5, 15), 1, datetime(2014, 7, 7, 10)),  # Saturday
        (datetime(2014, 7, 4, 16, 30), 1, datetime(2014, 7, 7, 9, 30)),  # Friday afternoon
        (datetime(2014, 7, 1, 11), 4, datetime(2014, 7, 1, 15)),
        (datetime(2014, 7, 1, 13), 4, datetime(2014, 7, 1, 17)),  # pandas: 2014-07-03 09:00 (rolls)
        (datetime(2014, 7, 1, 15), 4, datetime(2014, 7, 3, 11)),
        (datetime(2014, 7, 1, 16), 4, datetime(2014, 7, 3, 12)),
        (datetime(2014, 7, 4, 16, 30, 30), 4, datetime(2014, 7, 7, 12, 30, 30)),
    ],
)
def test_pandas_custom_business_hour_apply_cases(start, hours, due):
    assert PANDAS.add(start.replace(tzinfo=UTC), hours * H) == due.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (datetime(2014, 7, 1, 15) + NS5, 1, datetime(2014, 7, 1, 16) + NS5),
        (datetime(2014, 7, 1, 16) + NS5, 1, datetime(2014, 7, 3, 9) + NS5),
        (datetime(2014, 7, 1, 16) - NS5, 1, datetime(2014, 7, 1, 17) - NS5),
        (datetime(2014, 7, 1, 15) + NS5, -1, datetime(2014, 7, 1, 14) + NS5),
        (datetime(2014, 7, 1, 10) + NS5, -1, datetime(2014, 7, 1, 9) + NS5),
        (datetime(2014, 7, 1, 10) - NS5, -1, datetime(2014, 6, 26, 17) - NS5),  # back over two holidays
    ],
)
def test_pandas_sub_second_cases(start, hours, due):
    assert PANDAS.add(start.replace(tzinfo=UTC), hours * H) == due.replace(tzinfo=UTC)


def test_pandas_us_federal_holidays_gh16867():
    cal = BusinessCalendar.from_spec(
        {"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}, "holidays": {"country": "US"}}
    )
    friday = datetime(2014, 1, 17, 15, tzinfo=UTC)
    assert cal.add(friday, 8 * H) == datetime(
        2014, 1, 21, 15, tzinfo=UTC
    )  # Martin Luther King Jr. Day in between
    assert cal.holidays_between(date(2014, 1, 17), date(2014, 1, 21)) == [
        (date(2014, 1, 20), "Martin Luther King Jr. Day")
    ]


@pytest.mark.parametrize(
    ("days", "hours", "due"),
    [
        ("mon-sat", 10, datetime(2018, 11, 10, 9)),
        # pandas: 2018-11-13 08:00 — 18 h end exactly at Saturday's close, which pandas rolls to Tuesday.
        ("tue-sat", 18, datetime(2018, 11, 10, 17)),
    ],
)
def test_pandas_weekmask_and_holidays_gh23542(days, hours, due):
    cal = BusinessCalendar.from_spec(
        {"timezone": "UTC", "hours": {days: ["08:00-17:00"]}, "closed": ["2018-11-09"]}
    )
    assert cal.add(datetime(2018, 11, 8, 8, tzinfo=UTC), hours * H) == due.replace(tzinfo=UTC)
