"""Date columns: detect the format from a sample, parse values to aware datetimes.

Naive wall times are read in the file's timezone with ``fold=0`` (zoneinfo's rule): a time that occurs
twice when the clocks go back is the first occurrence (summer time), a time that does not exist when the
clocks go forward is read with the offset before the change, i.e. moved forward by the gap
(Europe/Amsterdam 2026-03-29 02:30 → 03:30 CEST). A date without a time is midnight local.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Literal

__all__ = [
    "AmbiguousDates",
    "ColumnDates",
    "DateKind",
    "DateOrder",
    "classify",
    "detect_column",
    "parse_date",
    "text_precision",
]

DateOrder = Literal["dmy", "mdy"]
DateKind = Literal["iso", "numeric", "ymd", "custom", "empty"]

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}")
# d-m-yyyy / m/d/yyyy with optional time, optional comma (Salesforce "26/11/2026, 14:05"), optional AM/PM
_NUMERIC = re.compile(
    r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4})"
    r"(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?\s*([AaPp])\.?[Mm]\.?)?$"
)
_NUMERIC_24 = re.compile(
    r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$"
)
_YMD = re.compile(r"^(\d{4})([/.])(\d{1,2})\2(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?")


def text_precision(value: object) -> str:
    """How precise a date cell gives its instant: ``day``, ``minute``, ``second``, ``millisecond`` or
    ``microsecond`` (an XLSX datetime: ``second``, at midnight ``day``).

    >>> [text_precision(v) for v in ("2026-10-07", "07/10/2026 10:00", "2026-10-07T08:00:00.123Z")]
    ['day', 'minute', 'millisecond']
    """
    if isinstance(value, datetime):
        return "day" if value.time() == datetime.min.time() else "second"
    if isinstance(value, date):
        return "day"
    if not isinstance(value, str):
        return "second"  # an Excel serial number: Excel keeps times to the second
    found = _TIME.search(value, 8)
    if found is None:
        return "day"
    if found.group(3) is None:
        return "minute"
    fraction = found.group(4)
    if not fraction:
        return "second"
    return "millisecond" if len(fraction) <= 3 else "microsecond"


class AmbiguousDates(ValueError):  # noqa: N818 - a condition to answer, named like whenever's SkippedTime
    """Every value of a date column fits both day-first and month-first: the caller must choose.

    Answer with ``dayfirst=True`` (``26-11``) or ``dayfirst=False`` (``11-26``).
    """

    def __init__(self, column: str, examples: tuple[str, ...]) -> None:
        self.column = column
        self.examples = examples
        shown = ", ".join(examples[:5])
        super().__init__(
            f"column {column!r}: dates such as {shown} read both as day-month and month-day; "
            "say which (dayfirst=True or dayfirst=False)"
        )


@dataclass(frozen=True, slots=True)
class ColumnDates:
    """What a sample says about one date column: its kind, the day/month evidence found, and
    ``examples`` of values that fit both orders (``(3, 4)``; ``31-31`` fits neither and is no example)."""

    kind: DateKind
    evidence: DateOrder | None = None
    conflict: bool = False
    examples: tuple[str, ...] = ()
    proof: tuple[str, ...] = ()


def _numeric_match(value: str) -> re.Match[str] | None:
    return _NUMERIC_24.match(value) or _NUMERIC.match(value)


def classify(value: str) -> tuple[DateKind, DateOrder | None]:
    """The kind of one text date and the order it proves (``None`` when it fits both or is not numeric).

    >>> classify("26/11/2026, 14:05")
    ('numeric', 'dmy')
    >>> classify("03-04-2026")
    ('numeric', None)
    """
    if _ISO.match(value):
        return "iso", None
    m = _numeric_match(value)
    if m is not None:
        a, b = int(m.group(1)), int(m.group(3))
        if a > 12 >= b:
            return "numeric", "dmy"
        if b > 12 >= a:
            return "numeric", "mdy"
        return "numeric", None
    if _YMD.match(value):
        return "ymd", None
    return "custom", None


def _fits_both(value: str) -> bool:
    m = _numeric_match(value)
    return m is not None and int(m.group(1)) <= 12 and int(m.group(3)) <= 12


def detect_column(values: list[str]) -> ColumnDates:
    """Summarise sampled text values of a column (blank values are ignored)."""
    kinds: set[DateKind] = set()
    orders: dict[DateOrder, str] = {}
    examples: list[str] = []
    for raw in values:
        value = raw.strip()
        if not value:
            continue
        value_kind, order = classify(value)
        kinds.add(value_kind)
        if value_kind == "numeric":
            if order is not None:
                orders.setdefault(order, value)
            elif len(examples) < 5 and value not in examples and _fits_both(value):
                examples.append(value)
    if not kinds:
        return ColumnDates("empty")
    kind: DateKind = "numeric" if "numeric" in kinds else ("iso" if "iso" in kinds else sorted(kinds)[0])
    evidence = next(iter(orders)) if len(orders) == 1 else None
    return ColumnDates(
        kind,
        evidence=evidence,
        conflict=len(orders) > 1,
        examples=tuple(examples),
        proof=tuple(orders.values()),
    )


def _localise(dt: datetime, tz: tzinfo) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=tz)


def parse_date(
    value: object,
    *,
    order: DateOrder | None,
    tz: tzinfo,
    fmt: str = "",
    excel_epoch: datetime | None = None,
) -> datetime:
    """One cell to an aware datetime; raises ValueError with a lowercase reason.

    ``value`` is text, or (from XLSX) a datetime, a date, or an Excel serial number.

    >>> from zoneinfo import ZoneInfo
    >>> parse_date("11/26/2026 2:05 PM", order="mdy", tz=ZoneInfo("Europe/Amsterdam")).isoformat()
    '2026-11-26T14:05:00+01:00'
    """
    if isinstance(value, datetime):
        return _localise(value, tz)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=tz)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if excel_epoch is None or not 0 < value < 2958466:
            raise ValueError(f"{value!r} is not a date")
        serial = excel_epoch + timedelta(days=float(value))
        # Excel stores time as a fraction of a day; round away the float noise to the second
        serial = (serial + timedelta(microseconds=500_000)).replace(microsecond=0)
        return _localise(serial, tz)
    text = str(value).strip()
    if fmt:
        try:
            return _localise(datetime.strptime(text, fmt), tz)  # noqa: DTZ007 - localised right here
        except ValueError:
            raise ValueError(f"{text!r} does not match the date format {fmt!r}") from None
    if _ISO.match(text):
        try:
            return _localise(datetime.fromisoformat(text), tz)
        except ValueError:
            raise ValueError(f"{text!r} is not a valid date") from None
    m = _numeric_match(text)
    if m is not None:
        a, b = int(m.group(1)), int(m.group(3))
        if order is None:
            if a > 12 >= b:
                order = "dmy"
            elif b > 12 >= a:
                order = "mdy"
            elif a > 12:
                raise ValueError(f"{text!r} is not a valid date (no month in it)")
            else:
                raise ValueError(f"{text!r} reads both as day-month and month-day")
        day, month = (a, b) if order == "dmy" else (b, a)
        hour = int(m.group(5) or 0)
        minute = int(m.group(6) or 0)
        second = int(m.group(7) or 0)
        micro = int((m.group(8) or "0").ljust(6, "0"))
        ampm = m.group(9) if m.re is _NUMERIC else None
        if ampm is not None:
            if not 1 <= hour <= 12:
                raise ValueError(f"{text!r} has an hour {hour} that does not fit AM/PM")
            hour = hour % 12 + (12 if ampm in "Pp" else 0)
        try:
            return datetime(int(m.group(4)), month, day, hour, minute, second, micro, tzinfo=tz)
        except ValueError:
            shown = "dd-mm-yyyy" if order == "dmy" else "mm-dd-yyyy"
            raise ValueError(f"{text!r} is not a valid date read as {shown}") from None
    m = _YMD.match(text)
    if m is not None:
        try:
            return datetime(
                int(m.group(1)),
                int(m.group(3)),
                int(m.group(4)),
                int(m.group(5) or 0),
                int(m.group(6) or 0),
                int(m.group(7) or 0),
                tzinfo=tz,
            )
        except ValueError:
            raise ValueError(f"{text!r} is not a valid date") from None
    raise ValueError(f"{text!r} is not a date")
