"""The agreement document's values (re-exported by :mod:`leadpact.core.agreement`)."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, TypeVar, get_args

from leadpact.core.durations import BusinessDuration
from leadpact.core.events import EVENT_KINDS as _EVENT_KINDS
from leadpact.core.rules import LEAD_FIELDS, Rule

if TYPE_CHECKING:
    from leadpact.core.calendar import BusinessCalendar

Lang = Literal["en", "nl"]
Basis = Literal["business_days", "calendar_days"]
Normalisation = Literal["average_period", "own_period"]
CommitmentKind = Literal[
    "volume",
    "decision",
    "first_attempt",
    "attempts",
    "handoff",
    "feedback",
    "conversion",
    "pipeline",
    "revenue",
    "acceptance",
]
Unit = Literal["count", "percent", "amount", "duration"]
Per = Literal["day", "week", "month", "quarter", "basis_day"]
PeriodName = Literal["day", "week", "month", "quarter"]
Split = Literal["capacity", "none"]
ReasonGroup = Literal["definition_miss", "timing", "unreachable", "already_handled", "other"]
CheckKind = Literal["present", "email", "phone", "country", "number", "one_of"]

LANGUAGES: tuple[Lang, ...] = get_args(Lang)
BASES: tuple[Basis, ...] = get_args(Basis)
NORMALISATIONS: tuple[Normalisation, ...] = get_args(Normalisation)
COMMITMENT_KINDS: tuple[CommitmentKind, ...] = get_args(CommitmentKind)
UNITS: tuple[Unit, ...] = get_args(Unit)
PERS: tuple[Per, ...] = get_args(Per)
PERIODS: tuple[PeriodName, ...] = get_args(PeriodName)
SPLITS: tuple[Split, ...] = get_args(Split)
REASON_GROUPS: tuple[ReasonGroup, ...] = get_args(ReasonGroup)
#: Lead event kinds (DESIGN §2) that may start or stop a clock.
EVENT_KINDS: tuple[str, ...] = _EVENT_KINDS
#: Kinds measured against a clock; ``attempts`` also needs ``clock.attempts``.
CLOCK_KINDS: tuple[CommitmentKind, ...] = ("decision", "first_attempt", "attempts", "feedback")
#: Units each kind may be measured in (duration: the target is a number of business hours).
KIND_UNITS: Mapping[CommitmentKind, tuple[Unit, ...]] = MappingProxyType(
    {
        "volume": ("count",),
        "decision": ("percent", "duration"),
        "first_attempt": ("percent", "duration"),
        "attempts": ("percent",),
        "handoff": ("percent",),
        "feedback": ("percent", "duration"),
        "conversion": ("percent",),
        "pipeline": ("amount",),
        "revenue": ("amount",),
        "acceptance": ("percent",),
    }
)
#: Event kinds that count as reaching the next stage, for kind ``conversion``.
OUTCOMES: tuple[str, ...] = ("accepted", "qualified", "opportunity", "won")


def decimal_text(value: Decimal) -> str:
    """The canonical text of a decimal: no exponent, no trailing zeros.

    >>> decimal_text(Decimal("0.10")), decimal_text(Decimal("2E+2"))
    ('0.1', '200')
    """
    if value == value.to_integral_value():
        return str(int(value))
    text = format(value.normalize(), "f")
    return text


#: Numbers in agreements stay below 10^15 and carry at most 12 decimals (exact, and cheap to print).
MAX_INTEGER_DIGITS = 15
MAX_DECIMALS = 12


def decimal_problem(value: Decimal) -> str:
    """Why ``value`` cannot be an agreement number, or ''."""
    if not value.is_finite():
        return "must be a finite number"
    if value != 0 and value.adjusted() >= MAX_INTEGER_DIGITS:
        return f"is too large (at most {MAX_INTEGER_DIGITS} digits before the point)"
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    kept = list(digits)
    while exponent < 0 and len(kept) > 1 and kept[-1] == 0:  # trailing zeros are not decimals
        kept.pop()
        exponent += 1
    if exponent < -MAX_DECIMALS:
        return f"has too many decimals (at most {MAX_DECIMALS})"
    return ""


def canonical_decimal(value: Decimal) -> Decimal:
    """``value`` with the exponent of its canonical text (``0.10`` → ``0.1``, ``2E+2`` → ``200``)."""
    return Decimal(decimal_text(value))


class FrozenMap(Mapping[str, object]):
    """A read-only mapping that pickles and deep-copies (unlike ``MappingProxyType``)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, object]) -> None:
        self._data = dict(data)

    def __getitem__(self, key: str) -> object:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._data == other._data
        return Mapping.__eq__(self, other)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __reduce__(self) -> tuple[type[FrozenMap], tuple[dict[str, object]]]:
        return (FrozenMap, (self._data,))


@dataclass(frozen=True, slots=True)
class Review:
    """The recurring review meeting: an RFC 5545 RRULE and its length."""

    cadence: str
    duration_minutes: int


@dataclass(frozen=True, slots=True)
class AgreementInfo:
    """What the agreement is: its stable key, title, language and effective dates ``[from, until)``."""

    key: str
    title: str
    language: Lang
    effective_from: dt.date
    effective_until: dt.date | None = None
    review: Review | None = None


@dataclass(frozen=True, slots=True)
class Party:
    """A team that is party to the agreement, with the key of its business calendar."""

    key: str
    name: str
    calendar: str


@dataclass(frozen=True, slots=True)
class Calendar:
    """A named business calendar spec, as :meth:`BusinessCalendar.from_spec` reads it."""

    key: str
    spec: Mapping[str, object]

    def build(self) -> BusinessCalendar:
        """The :class:`~leadpact.core.calendar.BusinessCalendar` this spec describes."""
        from leadpact.core.calendar import BusinessCalendar

        return BusinessCalendar.from_spec(plain_spec(self.spec))


def plain_spec(spec: Mapping[str, object]) -> dict[str, object]:
    """A calendar spec with decimals as int/float and tuples as lists, for ``from_spec``."""

    def plain(value: object) -> object:
        if isinstance(value, Decimal):
            if decimal_problem(value):
                return float(value)
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    return {k: plain(v) for k, v in spec.items()}


@dataclass(frozen=True, slots=True)
class Definition:
    """A glossary term both parties signed; ``rule`` is the machine check, when there is one."""

    key: str
    term: str
    text: str
    rule: Rule | None = None


@dataclass(frozen=True, slots=True)
class ReasonCode:
    """A reason sales gives on rejection or loss; ``owner`` is the party that owns the miss."""

    code: str
    label: str
    group: ReasonGroup
    owner: str
    requires_text: bool = False


@dataclass(frozen=True, slots=True)
class Pacing:
    """Pace thresholds: ≥ ahead is ahead; ≥ on_track on track; ≥ behind behind; else at risk."""

    ahead: Decimal = Decimal("1.1")
    on_track: Decimal = Decimal("0.95")
    behind: Decimal = Decimal("0.8")


@dataclass(frozen=True, slots=True)
class Escalation:
    """Shares of a clock's window: warn the owner, tell the manager, reassign."""

    warn: Decimal = Decimal("0.8")
    manager: Decimal = Decimal("1")
    reassign: Decimal = Decimal("1.5")

    @property
    def thresholds(self) -> tuple[Decimal, Decimal, Decimal]:
        """``(warn, manager, reassign)``."""
        return (self.warn, self.manager, self.reassign)


DEFAULT_RAMP: tuple[Decimal, ...] = tuple(Decimal(x) for x in ("0", "0.25", "0.5", "0.75", "1"))


@dataclass(frozen=True, slots=True)
class Settings:
    """Agreement-wide settings; every field has the default DOMAIN.md gives."""

    basis: Basis = "business_days"
    normalisation: Normalisation = "average_period"
    ramp: tuple[Decimal, ...] = DEFAULT_RAMP
    pacing: Pacing = field(default_factory=Pacing)
    escalation: Escalation = field(default_factory=Escalation)
    min_sample: int = 20
    currency: str = "EUR"


@dataclass(frozen=True, slots=True)
class Target:
    """What a commitment promises: an exact ``value`` in ``unit``, per period for counts/amounts.

    Percentages are 0..100; ``growth`` compounds per month on the daily rate; ``currency`` only for
    amounts (None: the agreement's ``settings.currency``); duration targets are business hours.
    """

    value: Decimal
    unit: Unit
    per: Per | None = None
    growth: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class Clock:
    """The SLA clock of a commitment: window in business time, the events that start, stop, pause it.

    ``thresholds`` None means the agreement's ``settings.escalation``.
    """

    window: BusinessDuration
    start: str
    stop: tuple[str, ...]
    pause: tuple[str, ...] = ()
    thresholds: tuple[Decimal, ...] | None = None
    attempts: int | None = None
    human_only: bool = True


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_COUNTRY = re.compile(r"[A-Z]{2}")
_PHONE_CHARS = re.compile(r"\+?[0-9 ()./-]+")
_NUMBER_CHECK = re.compile(r"number(?:\s*(>=|>|<=|<)\s*(\S+))?")
_ONE_OF = re.compile(r"one\s+of\s*\[(.*)\]", re.DOTALL)


class FieldCheckError(ValueError):
    """A handoff check that does not follow the check grammar."""


@dataclass(frozen=True, slots=True)
class FieldCheck:
    """One line of the handoff data contract: a lead field and the check its value must pass.

    Grammar of ``check`` (canonical form on the right)::

        present                 the field has a value (not empty)
        email                   an e-mail address (something@domain.tld)
        phone                   7 to 15 digits, with + ( ) . / - and spaces allowed
        country                 an ISO 3166 alpha-2 code in capitals (NL, BE, DE)
        number                  a number (or text that is one)
        number >= X             also > X, <= X, < X
        one of ["a", "b"]       one of the listed values (JSON list; bare words also read)

    >>> FieldCheck.parse("score", "number>=0").check
    'number >= 0'
    >>> FieldCheck.parse("country", "one of [NL, BE]").passes({"country": "BE"})
    True
    """

    field: str
    check: str

    @classmethod
    def parse(cls, field_name: str, check: str) -> FieldCheck:
        """Validate and canonicalise; raise :class:`FieldCheckError` with the reason."""
        if not isinstance(field_name, str) or not field_name:
            raise FieldCheckError("field must be a lead field name")
        top = field_name.split(".", 1)[0]
        if top not in LEAD_FIELDS or (top == "extra" and "." not in field_name):
            raise FieldCheckError(f"unknown lead field {field_name}")
        kind, op, number, choices = _parse_check(check)
        return cls(field_name, _check_text(kind, op, number, choices))

    @property
    def kind(self) -> CheckKind:
        """``present``, ``email``, ``phone``, ``country``, ``number`` or ``one_of``."""
        return _parse_check(self.check)[0]

    def passes(self, lead: Mapping[str, object]) -> bool:
        """Whether the lead's value for this field passes the check."""
        value: object = lead
        for part in self.field.split("."):
            if type(value) is not dict and not isinstance(value, Mapping):  # a dict first: ABCs are slow
                return False
            value = value.get(part)
        return check_value(self.check, value)


def check_value(check: str, value: object) -> bool:
    """Whether ``value`` passes ``check`` (see :class:`FieldCheck` for the grammar)."""
    kind, op, limit, choices = _parse_check(check)
    if value is None or (isinstance(value, str) and not value.strip()):
        return False
    if kind == "present":
        return not (isinstance(value, list | tuple | dict | set) and len(value) == 0)
    if kind == "email":
        return isinstance(value, str) and _EMAIL.fullmatch(value.strip()) is not None
    if kind == "phone":
        if not isinstance(value, str) or _PHONE_CHARS.fullmatch(value.strip()) is None:
            return False
        return 7 <= sum(ch.isdigit() for ch in value) <= 15
    if kind == "country":
        return isinstance(value, str) and _COUNTRY.fullmatch(value) is not None
    if kind == "one_of":
        if isinstance(value, bool):
            return ("true" if value else "false") in choices
        if not isinstance(value, str | int | Decimal):
            return False
        return str(value) in choices
    number = _as_decimal(value)
    if number is None:
        return False
    if op is None or limit is None:
        return True
    return {
        ">=": number >= limit,
        ">": number > limit,
        "<=": number <= limit,
        "<": number < limit,
    }[op]


def _as_decimal(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _parse_check(check: object) -> tuple[CheckKind, str | None, Decimal | None, tuple[str, ...]]:
    if not isinstance(check, str):
        raise FieldCheckError("check must be text")
    return _parse_check_text(check)


@functools.lru_cache(maxsize=512)
def _parse_check_text(check: str) -> tuple[CheckKind, str | None, Decimal | None, tuple[str, ...]]:
    text = check.strip()
    if text in ("present", "email", "phone", "country"):
        return text, None, None, ()  # type: ignore[return-value]
    match = _NUMBER_CHECK.fullmatch(text)
    if match:
        if match.group(1) is None:
            return "number", None, None, ()
        limit = _as_decimal(match.group(2))
        if limit is None:
            raise FieldCheckError(f"check {check!r}: {match.group(2)!r} is not a number")
        problem = decimal_problem(limit)
        if problem:
            raise FieldCheckError(f"check {check!r}: {match.group(2)} {problem}")
        return "number", match.group(1), canonical_decimal(limit), ()
    match = _ONE_OF.fullmatch(text)
    if match:
        return "one_of", None, None, _parse_choices(check, match.group(1))
    raise FieldCheckError(
        f"check {check!r} must be one of: present, email, phone, country, number, "
        'number >= X (or >, <=, <), one of ["a", "b"]'
    )


def _parse_choices(check: str, body: str) -> tuple[str, ...]:
    try:
        loaded = json.loads(f"[{body}]")
    except ValueError:
        loaded = [part.strip().strip("\"'") for part in body.split(",")]
    items: list[str] = []
    for item in loaded:
        if not isinstance(item, str | int | float):
            raise FieldCheckError(f"check {check!r}: choices must be words or numbers")
        text = ("true" if item else "false") if isinstance(item, bool) else str(item).strip()
        if not text:
            raise FieldCheckError(f"check {check!r}: a choice is empty")
        if text in items:
            raise FieldCheckError(f"check {check!r}: choice {text!r} is listed twice")
        items.append(text)
    if not items:
        raise FieldCheckError(f"check {check!r}: list at least one choice")
    return tuple(items)


def _check_text(kind: CheckKind, op: str | None, number: Decimal | None, choices: tuple[str, ...]) -> str:
    if kind == "number":
        return "number" if op is None or number is None else f"number {op} {decimal_text(number)}"
    if kind == "one_of":
        return f"one of {json.dumps(list(choices), ensure_ascii=False)}"
    return kind


@dataclass(frozen=True, slots=True)
class Commitment:
    """One clause of the agreement: who owes what to whom, measured how.

    ``basis`` and ``calendar`` None mean: the settings' basis, the owner party's calendar.
    """

    key: str
    title: str
    kind: CommitmentKind
    owner: str
    beneficiary: str
    target: Target
    period: PeriodName
    split: Split = "none"
    covers: str | None = None
    outcome: str | None = None
    basis: Basis | None = None
    calendar: str | None = None
    clock: Clock | None = None
    fields: tuple[FieldCheck, ...] = ()


@dataclass(frozen=True, slots=True)
class AgreementDocument:
    """One version of an agreement, validated: build it with ``agreement_parse``."""

    info: AgreementInfo
    parties: tuple[Party, ...]
    calendars: tuple[Calendar, ...]
    definitions: tuple[Definition, ...]
    reason_codes: tuple[ReasonCode, ...]
    settings: Settings
    commitments: tuple[Commitment, ...]
    version: int = 1

    def party(self, key: str) -> Party:
        """The party with ``key`` (KeyError if none)."""
        return _find(self.parties, key, "party")

    def calendar(self, key: str) -> Calendar:
        """The calendar with ``key`` (KeyError if none)."""
        return _find(self.calendars, key, "calendar")

    def definition(self, key: str) -> Definition:
        """The definition with ``key`` (KeyError if none)."""
        return _find(self.definitions, key, "definition")

    def reason_code(self, code: str) -> ReasonCode:
        """The reason code ``code`` (KeyError if none)."""
        for item in self.reason_codes:
            if item.code == code:
                return item
        raise KeyError(f"reason code {code}")

    def commitment(self, key: str) -> Commitment:
        """The commitment with ``key`` (KeyError if none)."""
        return _find(self.commitments, key, "commitment")

    def calendar_of(self, commitment: Commitment) -> str:
        """The calendar key a commitment is measured on (its override, else its owner's)."""
        return commitment.calendar or self.party(commitment.owner).calendar

    def basis_of(self, commitment: Commitment) -> Basis:
        """The basis a commitment is measured on (its override, else the settings')."""
        return commitment.basis or self.settings.basis

    def thresholds_of(self, commitment: Commitment) -> tuple[Decimal, ...]:
        """The escalation thresholds of a commitment's clock (its own, else the settings')."""
        if commitment.clock is not None and commitment.clock.thresholds is not None:
            return commitment.clock.thresholds
        return self.settings.escalation.thresholds

    def currency_of(self, commitment: Commitment) -> str:
        """The currency of an amount target (its own, else the settings')."""
        return commitment.target.currency or self.settings.currency


_Keyed = TypeVar("_Keyed", Party, Calendar, Definition, Commitment)


def _find(items: tuple[_Keyed, ...], key: str, what: str) -> _Keyed:
    for item in items:
        if item.key == key:
            return item
    raise KeyError(f"{what} {key}")
