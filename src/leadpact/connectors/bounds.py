"""The bounds every value coming in must fit: the one check the API, every webhook and every file import
pass their records through before anything is stored.

A value outside them is refused with the field and the reason (the API answers 422 for that item, a
webhook delivery lists it as a problem of that item, an import reports the row and column); the rest of
the batch, delivery or file goes on. The bounds are what both databases store and what measurement can
compute with, whatever the source:

* **instants** from 1970-01-01 up to (not including) 2100-01-01 UTC — no CRM holds a lead from before the
  Unix epoch, and a date past 2100 is a typo or a placeholder (``9999-12-31``); both fit every column,
  every time zone's local time and the measurement's microsecond arithmetic with room to spare;
* **amounts** finite, below 100,000,000,000 in size, at most 6 decimal places — so the measurement's
  cents, packed beside other values in 64-bit integers and summed over a million leads, never overflow;
* **scores** between −1,000,000,000 and 1,000,000,000 and **counts** (``recent_touches``) between 0 and
  1,000,000,000: both fit a 32-bit integer column on PostgreSQL and SQLite alike;
* **text** no longer than its column (:data:`LEAD_TEXT`, :data:`EVENT_TEXT` …), and without a NUL, a
  lone surrogate (not Unicode: neither database can store it) or a control character other than tab,
  line feed and carriage return.

Nothing here knows Django; the leads app's model fields take their lengths from these tables.

>>> from datetime import datetime, UTC
>>> record = EventRecord("api", "L-1", "won", datetime(2026, 11, 26, 9, tzinfo=UTC), amount=Decimal("2e14"))
>>> event_problems(record)
[('amount', '200000000000000 is out of range: at most 99999999999.999999 either way')]
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from operator import attrgetter, gt
from typing import Final

from leadpact.connectors.records import EventRecord, LeadFields, LeadRecord

__all__ = [
    "AMOUNT_LIMIT",
    "AMOUNT_PLACES",
    "COUNT_RANGE",
    "EARLIEST",
    "EVENT_TEXT",
    "EXTERNAL_ID_LENGTH",
    "EXTRA_ITEMS",
    "EXTRA_KEY_LENGTH",
    "EXTRA_VALUE_LENGTH",
    "LATEST",
    "LEAD_TEXT",
    "OWNER_LENGTH",
    "SCORE_RANGE",
    "SOURCE_LENGTH",
    "amount_problem",
    "event_problems",
    "instant_problem",
    "lead_problems",
    "number_problem",
    "text_problem",
]

#: The earliest instant taken (inclusive) and the first one refused.
EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(2100, 1, 1, tzinfo=UTC)
#: An amount's size must stay below this; more than this many decimal places are refused.
AMOUNT_LIMIT: Final = Decimal(10) ** 11
AMOUNT_PLACES: Final = 6
#: Inclusive ranges of the whole-number fields.
SCORE_RANGE: Final = (-1_000_000_000, 1_000_000_000)
COUNT_RANGE: Final = (0, 1_000_000_000)

#: Lead text fields → the longest value their column holds (``first_name``/``last_name`` make ``name``).
LEAD_TEXT: Final[dict[str, int]] = {
    "name": 300,
    "first_name": 300,
    "last_name": 300,
    "email": 320,
    "phone": 64,
    "company": 300,
    "country": 64,
    "source": 200,
    "campaign": 300,
    "job_title": 300,
    "industry": 200,
    "company_size": 64,
    "trigger": 300,
}
#: Event text values → their longest (``actor`` is the event's ``actor_label`` column).
EVENT_TEXT: Final[dict[str, int]] = {
    "actor": 200,
    "channel": 64,
    "reason_code": 64,
    "reason": 2000,
    "currency": 3,
    "source_ref": 200,
}
#: The source system's name (``LeadSource.source``, ``LeadEvent.source``) and its id for the lead.
SOURCE_LENGTH: Final = 64
EXTERNAL_ID_LENGTH: Final = 255
#: A lead's owners as the source names them (a person's name or e-mail).
OWNER_LENGTH: Final = 200
#: A lead's ``extra`` and an event's ``data``: at most this many entries, keys and values this long.
EXTRA_ITEMS: Final = 200
EXTRA_KEY_LENGTH: Final = 200
EXTRA_VALUE_LENGTH: Final = 10_000

_LEAD_TEXT = tuple((name, limit) for name, limit in LEAD_TEXT.items())
_EVENT_TEXT = tuple((name, limit) for name, limit in EVENT_TEXT.items())
# the fast paths: every text value in one C call, their limits beside (source, id and owners first)
_LEAD_VALUES = attrgetter(*LEAD_TEXT)
_LEAD_LIMITS = (SOURCE_LENGTH, EXTERNAL_ID_LENGTH, OWNER_LENGTH, OWNER_LENGTH, *LEAD_TEXT.values())
_EVENT_VALUES = attrgetter(*EVENT_TEXT)
_EVENT_LIMITS = tuple(EVENT_TEXT.values())
# NUL, the C0 controls but tab, LF and CR, DEL, the C1 controls, and UTF-16 surrogates (only lone ones
# can be in a str)
_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_MICRO = Decimal("0.000001")
_MAX_DIGITS = 28  # an amount's digits once written out (11 before the point, trailing zeros after)

Problem = tuple[str, str]


def _character(char: str) -> str:
    code = ord(char)
    if code == 0:
        return "contains a NUL character"
    if 0xD800 <= code <= 0xDFFF:
        return f"contains a lone surrogate (U+{code:04X}), which is not Unicode text"
    return f"contains the control character U+{code:04X}"


def text_problem(value: str, limit: int) -> str | None:
    """Why a text cannot be stored in a column of ``limit`` characters, or ``None``.

    >>> text_problem("Acme", 300) is None, text_problem("a\\x00b", 300), text_problem("x" * 5, 4)
    (True, 'contains a NUL character', 'is 5 characters long; at most 4')
    """
    if len(value) > limit:
        return f"is {len(value)} characters long; at most {limit}"
    bad = _BAD.search(value)
    return None if bad is None else _character(bad.group())


def instant_problem(at: datetime) -> str | None:
    """Why an (aware) instant is out of bounds, or ``None``.

    >>> instant_problem(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC))
    '9999-12-31T23:59:59+00:00 is out of range: from 1970-01-01 up to 2100-01-01 (UTC)'
    """
    if 1970 < at.year < 2099 and at.tzinfo is not None:  # no offset moves it out: no UTC conversion needed
        return None
    try:
        inside = EARLIEST <= at < LATEST
    except (OverflowError, TypeError):  # year 1 at +14:00 has no UTC time; a naive one no instant
        inside = False
    if inside:
        return None
    return f"{at.isoformat()} is out of range: from 1970-01-01 up to 2100-01-01 (UTC)"


def amount_problem(amount: Decimal) -> str | None:
    """Why an amount is out of bounds, or ``None``.

    >>> amount_problem(Decimal("1200.50")) is None, amount_problem(Decimal("1e999999"))
    (True, '1E+999999 is out of range: at most 99999999999.999999 either way')
    """
    if not amount.is_finite():
        return f"{amount} is not a finite number"
    if amount.copy_abs() >= AMOUNT_LIMIT:  # copy_abs: exact, where abs() rounds and can overflow
        shown = format(amount, "f") if amount.adjusted() < 40 else str(amount)
        return f"{shown} is out of range: at most 99999999999.999999 either way"
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if exponent < -AMOUNT_PLACES:
        shown = format(amount, "f") if exponent > -40 else str(amount)
        if amount != amount.quantize(_MICRO):
            return f"{shown} has more than {AMOUNT_PLACES} decimal places"
        if -exponent > _MAX_DIGITS:
            return f"{shown} has more than {_MAX_DIGITS} digits after the decimal point"
    return None


def number_problem(value: int, low: int, high: int) -> str | None:
    """Why a whole number is outside ``[low, high]``, or ``None``.

    >>> number_problem(10**20, *SCORE_RANGE)
    '100000000000000000000 is out of range: from -1000000000 to 1000000000'
    """
    if low <= value <= high:
        return None
    shown = str(value) if abs(value) < 10**40 else f"a number of {len(str(abs(value)))} digits"
    return f"{shown} is out of range: from {low} to {high}"


def _pairs_problems(prefix: str, pairs: dict[str, str], problems: list[Problem]) -> None:
    if len(pairs) > EXTRA_ITEMS:
        problems.append((prefix, f"has {len(pairs)} entries; at most {EXTRA_ITEMS}"))
        return
    for key, value in pairs.items():
        if not isinstance(key, str) or not isinstance(value, str):
            problems.append((prefix, "holds a value that is not text"))
            continue
        why = text_problem(key, EXTRA_KEY_LENGTH)
        if why is not None:
            problems.append((prefix, f"a key {why}"))
            continue
        why = text_problem(value, EXTRA_VALUE_LENGTH)
        if why is not None:
            problems.append((f"{prefix}.{key}", why))


def _identity_fits(source: str, external_id: str) -> bool:
    return (
        len(source) <= SOURCE_LENGTH
        and len(external_id) <= EXTERNAL_ID_LENGTH
        and _BAD.search(source + external_id) is None
    )


def _identity_problems(source: str, external_id: str, problems: list[Problem]) -> None:
    why = text_problem(source, SOURCE_LENGTH)
    if why is not None:
        problems.append(("source", why))
    why = text_problem(external_id, EXTERNAL_ID_LENGTH)
    if why is not None:
        problems.append(("external_id", why))


def lead_problems(record: LeadRecord) -> list[Problem]:
    """Every ``(field, reason)`` for which a lead record cannot be stored (empty: it can).

    The fields are named as the record names them, but for the lead's own ``source`` field (its channel),
    named ``lead_source`` apart from the record's ``source`` (the system the id belongs to).
    """
    f: LeadFields = record.fields
    values = _LEAD_VALUES(f)
    texts = (record.source, record.external_id, record.marketing_owner, record.sales_owner, *values)
    score, touches, at, extra = f.score, f.recent_touches, record.created_at, f.extra
    keys, notes = (tuple(extra), tuple(extra.values())) if extra else ((), ())
    # the usual lead (a file's row: a million of them): C-level passes over its text, a few comparisons
    if (
        not any(map(gt, map(len, texts), _LEAD_LIMITS))
        and (score is None or SCORE_RANGE[0] <= score <= SCORE_RANGE[1])
        and (touches is None or COUNT_RANGE[0] <= touches <= COUNT_RANGE[1])
        and (at is None or instant_problem(at) is None)
        and (
            not extra
            or (
                len(extra) <= EXTRA_ITEMS
                and all(type(v) is str for v in notes)
                and max(map(len, keys)) <= EXTRA_KEY_LENGTH
                and max(map(len, notes)) <= EXTRA_VALUE_LENGTH
            )
        )
        and _BAD.search("".join((*texts, *keys, *notes))) is None
    ):
        return []
    return _lead_problems(record)


def _lead_problems(record: LeadRecord) -> list[Problem]:
    f: LeadFields = record.fields
    extra, at = f.extra, record.created_at
    problems: list[Problem] = []
    _identity_problems(record.source, record.external_id, problems)
    for role in ("marketing_owner", "sales_owner"):
        why = text_problem(getattr(record, role), OWNER_LENGTH)
        if why is not None:
            problems.append((role, why))
    for name, limit in _LEAD_TEXT:
        why = text_problem(getattr(f, name), limit)
        if why is not None:
            problems.append(("lead_source" if name == "source" else name, why))
    if extra:
        _pairs_problems("extra", extra, problems)
    if f.score is not None:
        why = number_problem(f.score, *SCORE_RANGE)
        if why is not None:
            problems.append(("score", why))
    if f.recent_touches is not None:
        why = number_problem(f.recent_touches, *COUNT_RANGE)
        if why is not None:
            problems.append(("recent_touches", why))
    if at is not None:
        why = instant_problem(at)
        if why is not None:
            problems.append(("created_at", why))
    return problems


def event_problems(record: EventRecord, *, identity: bool = True) -> list[Problem]:
    """Every ``(field, reason)`` for which an event record cannot be stored (empty: it can).

    ``identity=False`` leaves out ``source`` and ``external_id``, when the lead record of the same row
    was checked (a file's row).
    """
    texts = _EVENT_VALUES(record)
    if (
        record.amount is None
        and not record.data
        and not any(map(gt, map(len, texts), _EVENT_LIMITS))
        and instant_problem(record.occurred_at) is None
        and _BAD.search("".join(texts)) is None
        and (not identity or _identity_fits(record.source, record.external_id))
    ):
        return []
    problems: list[Problem] = []
    if identity:
        _identity_problems(record.source, record.external_id, problems)
    why = instant_problem(record.occurred_at)
    if why is not None:
        problems.append(("occurred_at", why))
    for name, limit in _EVENT_TEXT:
        value = getattr(record, name)
        if len(value) > limit:
            problems.append((name, f"is {len(value)} characters long; at most {limit}"))
    data = record.data
    if data:
        _pairs_problems("data", data, problems)
    if _BAD.search("".join(texts)) is not None:  # the text values the fast path read
        for name, _ in _EVENT_TEXT:
            bad = _BAD.search(getattr(record, name))
            if bad is not None:
                problems.append((name, _character(bad.group())))
    if record.amount is not None:
        why = amount_problem(record.amount)
        if why is not None:
            problems.append(("amount", why))
    return problems
