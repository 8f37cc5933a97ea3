"""Date detection and parsing (leadpact.connectors._dates)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadpact.connectors._dates import classify, detect_column, parse_date

AMS = ZoneInfo("Europe/Amsterdam")
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0)
)


@settings(max_examples=300)
@given(moment=moments)
def test_every_day_first_form_parses_back(moment):
    for fmt in ("%d-%m-%Y %H:%M", "%d/%m/%Y, %H:%M", "%d.%m.%Y %H:%M"):
        assert parse_date(moment.strftime(fmt), order="dmy", tz=AMS) == moment.replace(tzinfo=AMS)
    assert parse_date(f"{moment.day}-{moment.month}-{moment.year}", order="dmy", tz=AMS) == datetime(
        moment.year, moment.month, moment.day, tzinfo=AMS
    )


@settings(max_examples=300)
@given(moment=moments)
def test_every_month_first_form_parses_back(moment):
    text = f"{moment.month}/{moment.day}/{moment.year} {moment.strftime('%I:%M %p').lstrip('0')}"
    assert parse_date(text, order="mdy", tz=AMS) == moment.replace(tzinfo=AMS)
    assert parse_date(moment.strftime("%m/%d/%Y %H:%M"), order="mdy", tz=AMS) == moment.replace(tzinfo=AMS)


@settings(max_examples=300)
@given(moment=moments, offset_minutes=st.integers(min_value=-12 * 60, max_value=14 * 60))
def test_iso_with_an_offset_keeps_the_instant(moment, offset_minutes):
    aware = moment.replace(tzinfo=ZoneInfo("UTC")) + timedelta(minutes=offset_minutes)
    assert parse_date(aware.isoformat(), order=None, tz=AMS) == aware
    assert parse_date(aware.strftime("%Y-%m-%dT%H:%M:%S.000Z"), order=None, tz=AMS) == aware


@settings(max_examples=300)
@given(moment=moments)
def test_classify_finds_evidence_exactly_when_a_part_exceeds_twelve(moment):
    kind, order = classify(moment.strftime("%d-%m-%Y"))
    assert kind == "numeric"
    assert order == ("dmy" if moment.day > 12 else None)


def test_detect_column_reports_examples_and_conflicts():
    info = detect_column(["03-04-2026", " ", "05-06-2026", "31-31-2026"])
    assert (info.kind, info.evidence, info.conflict) == ("numeric", None, False)
    assert info.examples == ("03-04-2026", "05-06-2026")
    both = detect_column(["26-11-2026", "11-26-2026"])
    assert both.conflict and both.evidence is None and both.proof == ("26-11-2026", "11-26-2026")
    assert detect_column(["", "  "]).kind == "empty"
    assert detect_column(["2026-11-26T14:05:00Z"]).kind == "iso"


@pytest.mark.parametrize(
    ("value", "order", "message"),
    [
        ("13/13/2026", None, "is not a valid date \\(no month in it\\)"),
        ("13/13/2026", "dmy", "is not a valid date read as dd-mm-yyyy"),
        ("03/04/2026", None, "reads both as day-month and month-day"),
        ("tomorrow", "mdy", "is not a date"),
        ("2026-13-01", "mdy", "is not a valid date"),
        ("11/26/2026 14:05 PM", "mdy", "does not fit AM/PM"),
    ],
)
def test_bad_values_say_why(value, order, message):
    with pytest.raises(ValueError, match=message):
        parse_date(value, order=order, tz=AMS)


def test_excel_serial_numbers_and_cells():
    epoch = datetime(1899, 12, 30)
    assert parse_date(46352.5868055556, order=None, tz=AMS, excel_epoch=epoch) == datetime(
        2026, 11, 26, 14, 5, tzinfo=AMS
    )
    with pytest.raises(ValueError, match="is not a date"):
        parse_date(46352, order=None, tz=AMS)  # a number is a date only in XLSX
    assert parse_date(datetime(2026, 11, 26, 14, 5), order=None, tz=AMS).tzinfo is AMS
