"""Validate plain agreement data into an :class:`AgreementDocument`, collecting every problem."""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, cast

from leadpact.core._agreement_model import (
    BASES,
    CLOCK_KINDS,
    COMMITMENT_KINDS,
    EVENT_KINDS,
    KIND_UNITS,
    LANGUAGES,
    NORMALISATIONS,
    OUTCOMES,
    PERIODS,
    PERS,
    REASON_GROUPS,
    SPLITS,
    UNITS,
    AgreementDocument,
    AgreementInfo,
    Calendar,
    Clock,
    Commitment,
    CommitmentKind,
    Definition,
    Escalation,
    FieldCheck,
    FieldCheckError,
    FrozenMap,
    Pacing,
    Party,
    ReasonCode,
    Review,
    Settings,
    Target,
    canonical_decimal,
    decimal_problem,
    plain_spec,
)
from leadpact.core.calendar import BusinessCalendar, CalendarError
from leadpact.core.durations import BusinessDuration, DurationError
from leadpact.core.rules import LEAD_FIELDS, Rule, RuleError

FORMAT_VERSION = 1

_SLUG = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
_CURRENCY = re.compile(r"[A-Z]{3}")
_RRULE_PARTS = frozenset(
    {
        "FREQ",
        "UNTIL",
        "COUNT",
        "INTERVAL",
        "BYSECOND",
        "BYMINUTE",
        "BYHOUR",
        "BYDAY",
        "BYMONTHDAY",
        "BYYEARDAY",
        "BYWEEKNO",
        "BYMONTH",
        "BYSETPOS",
        "WKST",
    }
)
_FREQS = ("SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_MISSING: Any = object()
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in an agreement document, at ``path`` (e.g. ``commitments[3].target.value``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class AgreementInvalid(ValueError):  # noqa: N818 - the name the apps use
    """An agreement document with problems; ``problems`` lists every one of them."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"agreement has {count} problem{'s' if count != 1 else ''}"
        super().__init__(head + ": " + "; ".join(str(p) for p in self.problems))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else ""


def _known(keys: Sequence[str]) -> str:
    return ", ".join(dict.fromkeys(keys)) if keys else "none"


class _Checker:
    """Collects problems while reading plain data; readers return None when a value is unusable."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    # --- shapes ---------------------------------------------------------------------------------

    def mapping(
        self,
        value: object,
        path: str,
        required: Sequence[str],
        optional: Sequence[str] = (),
    ) -> Mapping[str, object] | None:
        if not isinstance(value, Mapping):
            self.add(path, "must be a mapping")
            return None
        allowed = [*required, *optional]
        for key in value:
            if not isinstance(key, str):
                self.add(path, f"key {key!r} must be text")
            elif key not in allowed:
                hint = _suggest(key, allowed)
                self.add(_join(path, key), f"unknown key (did you mean {hint}?)" if hint else "unknown key")
        for key in required:
            if key not in value:
                self.add(_join(path, key), "required")
        return cast(Mapping[str, object], value)

    def items(self, value: object, path: str) -> list[object] | None:
        if not isinstance(value, list | tuple):
            self.add(path, "must be a list")
            return None
        return list(value)

    # --- scalars --------------------------------------------------------------------------------

    def text(self, m: Mapping[str, object], key: str, path: str, *, slug: bool = False) -> str | None:
        value = m.get(key, _MISSING)
        if value is _MISSING:
            return None
        where = _join(path, key)
        if not isinstance(value, str):
            self.add(where, "must be text")
            return None
        if not value.strip():
            self.add(where, "must not be empty")
            return None
        if slug and not _SLUG.fullmatch(value):
            self.add(where, f"{value!r} must be a key of lowercase letters, digits, - and _")
            return None
        return value

    def choice(self, m: Mapping[str, object], key: str, path: str, choices: Sequence[_T]) -> _T | None:
        value = m.get(key, _MISSING)
        if value is _MISSING:
            return None
        if not isinstance(value, str) or value not in choices:
            hint = _suggest(value, [str(c) for c in choices]) if isinstance(value, str) else ""
            extra = f" (did you mean {hint}?)" if hint else ""
            self.add(_join(path, key), f"must be one of {', '.join(str(c) for c in choices)}{extra}")
            return None
        return cast(_T, value)

    def integer(
        self, m: Mapping[str, object], key: str, path: str, *, low: int, high: int | None = None
    ) -> int | None:
        value = m.get(key, _MISSING)
        if value is _MISSING:
            return None
        where = _join(path, key)
        if isinstance(value, Decimal) and value == value.to_integral_value():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(where, "must be a whole number")
            return None
        if value < low:
            self.add(where, f"must be >= {low}")
            return None
        if high is not None and value > high:
            self.add(where, f"must be <= {high}")
            return None
        return value

    def decimal_value(self, value: object, where: str) -> Decimal | None:
        if isinstance(value, bool):
            self.add(where, "must be a number")
            return None
        if isinstance(value, Decimal | int):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, str):
            try:
                number = Decimal(value.strip())
            except InvalidOperation:
                self.add(where, "must be a number")
                return None
        else:
            self.add(where, "must be a number")
            return None
        problem = decimal_problem(number)
        if problem:
            self.add(where, problem)
            return None
        return canonical_decimal(number)

    def decimal(self, m: Mapping[str, object], key: str, path: str) -> Decimal | None:
        value = m.get(key, _MISSING)
        if value is _MISSING:
            return None
        return self.decimal_value(value, _join(path, key))

    def boolean(self, m: Mapping[str, object], key: str, path: str) -> bool | None:
        value = m.get(key, _MISSING)
        if value is _MISSING:
            return None
        if not isinstance(value, bool):
            self.add(_join(path, key), "must be true or false")
            return None
        return value

    def date(self, m: Mapping[str, object], key: str, path: str) -> dt.date | None:
        value = m.get(key, _MISSING)
        if value is _MISSING or value is None:
            return None
        if isinstance(value, dt.datetime):
            self.add(_join(path, key), "must be a date (YYYY-MM-DD), not a date and time")
            return None
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        self.add(_join(path, key), "must be a date (YYYY-MM-DD)")
        return None

    def unique(self, values: list[tuple[str | None, str]], what: str) -> None:
        """Report every repeated key; ``values`` holds ``(key, path of the key)``."""
        first: dict[str, str] = {}
        for key, where in values:
            if key is None:
                continue
            if key in first:
                self.add(where, f"duplicate {what} {key} (also at {first[key]})")
            else:
                first[key] = where

    def reference(self, value: str | None, where: str, known: Sequence[str], what: str) -> None:
        if value is None or value in known:
            return
        hint = _suggest(value, known)
        extra = f"did you mean {hint}?" if hint else f"known: {_known(known)}"
        self.add(where, f"unknown {what} {value} ({extra})")


# --- sections ----------------------------------------------------------------------------------


def parse_document(data: object) -> AgreementDocument:
    """Validate ``data`` (plain mappings, lists, scalars); raise AgreementInvalid with every problem."""
    c = _Checker()
    top = c.mapping(
        data,
        "",
        ("leadpact", "agreement", "parties", "calendars", "definitions", "commitments"),
        ("reason_codes", "settings"),
    )
    if top is None:
        raise AgreementInvalid(c.problems)
    version = top.get("leadpact", _MISSING)
    if version is not _MISSING and (isinstance(version, bool) or version != FORMAT_VERSION):
        c.add("leadpact", f"unsupported format version {version!r} (this leadpact reads {FORMAT_VERSION})")
    # references are checked against every key declared, even in items with other problems
    calendar_keys = _declared_calendars(top.get("calendars"))
    party_keys = _declared(top.get("parties"), "key")
    definition_keys = _declared(top.get("definitions"), "key")
    info = _info(c, top.get("agreement", _MISSING))
    parties = _parties(c, top.get("parties", _MISSING), calendar_keys)
    calendars = _calendars(c, top.get("calendars", _MISSING))
    definitions = _definitions(c, top.get("definitions", _MISSING))
    reason_codes = _reason_codes(c, top.get("reason_codes", []), party_keys)
    settings = _settings(c, top.get("settings", {}))
    commitments = _commitments(
        c, top.get("commitments", _MISSING), party_keys, calendar_keys, definition_keys
    )
    if c.problems:
        raise AgreementInvalid(c.problems)
    assert info is not None and parties is not None and calendars is not None
    assert definitions is not None and reason_codes is not None and settings is not None
    assert commitments is not None
    return AgreementDocument(
        info=info,
        parties=tuple(parties),
        calendars=tuple(calendars),
        definitions=tuple(definitions),
        reason_codes=tuple(reason_codes),
        settings=settings,
        commitments=tuple(commitments),
        version=FORMAT_VERSION,
    )


def _info(c: _Checker, value: object) -> AgreementInfo | None:
    if value is _MISSING:
        return None
    path = "agreement"
    m = c.mapping(
        value,
        path,
        ("key", "title", "language", "effective_from"),
        ("effective_until", "review"),
    )
    if m is None:
        return None
    before = len(c.problems)
    key = c.text(m, "key", path, slug=True)
    title = c.text(m, "title", path)
    language = c.choice(m, "language", path, LANGUAGES)
    start = c.date(m, "effective_from", path)
    if "effective_from" in m and m["effective_from"] is None:
        c.add(_join(path, "effective_from"), "must be a date (YYYY-MM-DD)")
    until = c.date(m, "effective_until", path)
    if start is not None and until is not None and until <= start:
        c.add(_join(path, "effective_until"), f"must be after effective_from ({start.isoformat()})")
    review = None
    if m.get("review") is not None:
        review = _review(c, m["review"], _join(path, "review"))
    if len(c.problems) > before or key is None or title is None or language is None or start is None:
        return None
    return AgreementInfo(key, title, language, start, until, review)


def _review(c: _Checker, value: object, path: str) -> Review | None:
    m = c.mapping(value, path, ("cadence", "duration_minutes"))
    if m is None:
        return None
    cadence = c.text(m, "cadence", path)
    if cadence is not None:
        problem = _rrule_problem(cadence)
        if problem:
            c.add(_join(path, "cadence"), problem)
            cadence = None
    minutes = c.integer(m, "duration_minutes", path, low=1, high=24 * 60)
    if cadence is None or minutes is None:
        return None
    return Review(cadence, minutes)


def _rrule_problem(rule: str) -> str:
    """Why ``rule`` is not an RFC 5545 RRULE value (``FREQ=WEEKLY;BYDAY=TH``), or ''."""
    seen: dict[str, str] = {}
    for part in rule.split(";"):
        name, sep, value = part.partition("=")
        if not sep or not value:
            return f"must be an RFC 5545 rule such as FREQ=WEEKLY;BYDAY=TH ({part!r} is not NAME=VALUE)"
        if name not in _RRULE_PARTS:
            return f"unknown rule part {name}"
        if name in seen:
            return f"rule part {name} appears twice"
        seen[name] = value
    if "FREQ" not in seen:
        return "FREQ is required, e.g. FREQ=WEEKLY;BYDAY=TH"
    if seen["FREQ"] not in _FREQS:
        return f"FREQ must be one of {', '.join(_FREQS)}"
    if "COUNT" in seen and "UNTIL" in seen:
        return "COUNT and UNTIL cannot both be given"
    for name in ("COUNT", "INTERVAL"):
        if name in seen and not (seen[name].isdigit() and int(seen[name]) > 0):
            return f"{name} must be a whole number > 0"
    return ""


def _declared_calendars(value: object) -> list[str] | None:
    """Calendar keys declared; None when the section is unusable (then references are not checked)."""
    if not isinstance(value, Mapping):
        return None
    return [key for key in value if isinstance(key, str)]


def _declared(value: object, field: str) -> list[str] | None:
    """Keys declared in a list section; None when the section is unusable."""
    if not isinstance(value, list | tuple):
        return None
    return [key for key, _ in _keys_of(value, field, "") if key is not None]


def _calendars(c: _Checker, value: object) -> list[Calendar] | None:
    if value is _MISSING:
        return None
    if not isinstance(value, Mapping):
        c.add("calendars", "must be a mapping of calendar key to calendar")
        return None
    result: list[Calendar] = []
    ok = True
    for key, spec in value.items():
        if not isinstance(key, str) or not _SLUG.fullmatch(key):
            c.add("calendars", f"{key!r} must be a key of lowercase letters, digits, - and _")
            ok = False
            continue
        path = f"calendars.{key}"
        if not isinstance(spec, Mapping):
            c.add(path, "must be a mapping")
            ok = False
            continue
        try:
            canonical = BusinessCalendar.from_spec(plain_spec(spec)).to_spec()
        except CalendarError as exc:
            c.add(f"{path}.{exc.key}" if exc.key else path, exc.reason)
            ok = False
            continue
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            c.add(path, f"not a valid calendar: {exc}")
            ok = False
            continue
        result.append(Calendar(key, _freeze(canonical)))
    return result if ok else None


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return FrozenMap({str(k): _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, float):
        return canonical_decimal(Decimal(repr(value)))
    if isinstance(value, Decimal):
        return canonical_decimal(value)
    return value


def _list_of(
    c: _Checker,
    value: object,
    path: str,
    read: Callable[[_Checker, object, str], _T | None],
) -> list[_T] | None:
    if value is _MISSING:
        return None
    items = c.items(value, path)
    if items is None:
        return None
    result: list[_T] = []
    ok = True
    for i, item in enumerate(items):
        parsed = read(c, item, f"{path}[{i}]")
        if parsed is None:
            ok = False
        else:
            result.append(parsed)
    return result if ok else None


def _keys_of(value: object, field: str, path: str) -> list[tuple[str | None, str]]:
    if not isinstance(value, list | tuple):
        return []
    return [
        (
            item.get(field) if isinstance(item, Mapping) and isinstance(item.get(field), str) else None,
            f"{path}[{i}].{field}",
        )
        for i, item in enumerate(value)
    ]


def _parties(c: _Checker, value: object, calendars: list[str] | None) -> list[Party] | None:
    def read(c: _Checker, item: object, path: str) -> Party | None:
        m = c.mapping(item, path, ("key", "name", "calendar"))
        if m is None:
            return None
        key = c.text(m, "key", path, slug=True)
        name = c.text(m, "name", path)
        calendar = c.text(m, "calendar", path, slug=True)
        if calendars is not None:
            c.reference(calendar, _join(path, "calendar"), calendars, "calendar")
            if calendar not in calendars:
                calendar = None
        if key is None or name is None or calendar is None:
            return None
        return Party(key, name, calendar)

    parties = _list_of(c, value, "parties", read)
    c.unique(_keys_of(value, "key", "parties"), "party")
    if isinstance(value, list | tuple) and len(value) < 2:
        c.add("parties", "an agreement needs at least two parties")
        return None
    return parties


def _definitions(c: _Checker, value: object) -> list[Definition] | None:
    def read(c: _Checker, item: object, path: str) -> Definition | None:
        m = c.mapping(item, path, ("key", "term", "text"), ("rule",))
        if m is None:
            return None
        key = c.text(m, "key", path, slug=True)
        term = c.text(m, "term", path)
        text = c.text(m, "text", path)
        rule: Rule | None = None
        rule_ok = True
        raw = m.get("rule")
        if raw is not None:
            if not isinstance(raw, str):
                c.add(_join(path, "rule"), "must be text (a CEL expression)")
                rule_ok = False
            else:
                try:
                    rule = Rule.parse(raw)
                except RuleError as exc:
                    c.add(_join(path, "rule"), str(exc))
                    rule_ok = False
        if key is None or term is None or text is None or not rule_ok:
            return None
        return Definition(key, term, text, rule)

    definitions = _list_of(c, value, "definitions", read)
    c.unique(_keys_of(value, "key", "definitions"), "definition")
    return definitions


def _reason_codes(c: _Checker, value: object, parties: list[str] | None) -> list[ReasonCode] | None:
    def read(c: _Checker, item: object, path: str) -> ReasonCode | None:
        m = c.mapping(item, path, ("code", "label", "group", "owner"), ("requires_text",))
        if m is None:
            return None
        code = c.text(m, "code", path, slug=True)
        label = c.text(m, "label", path)
        group = c.choice(m, "group", path, REASON_GROUPS)
        owner = c.text(m, "owner", path, slug=True)
        if parties is not None:
            c.reference(owner, _join(path, "owner"), parties, "party")
        requires_text = c.boolean(m, "requires_text", path)
        if "requires_text" in m and requires_text is None:
            return None
        if code is None or label is None or group is None or owner is None:
            return None
        return ReasonCode(code, label, group, owner, bool(requires_text))

    codes = _list_of(c, value, "reason_codes", read)
    c.unique(_keys_of(value, "code", "reason_codes"), "reason code")
    return codes


def _ascending(values: Sequence[Decimal]) -> bool:
    return all(a < b for a, b in itertools.pairwise(values))


def _settings(c: _Checker, value: object) -> Settings | None:
    path = "settings"
    m = c.mapping(
        value,
        path,
        (),
        ("basis", "normalisation", "ramp", "pacing", "escalation", "min_sample", "currency"),
    )
    if m is None:
        return None
    before = len(c.problems)
    defaults = Settings()
    basis = c.choice(m, "basis", path, BASES) or defaults.basis
    normalisation = c.choice(m, "normalisation", path, NORMALISATIONS) or defaults.normalisation
    ramp = defaults.ramp
    if "ramp" in m:
        ramp = _ramp(c, m["ramp"], _join(path, "ramp")) or ramp
    pacing = defaults.pacing
    if "pacing" in m:
        values = _thresholds(c, m["pacing"], _join(path, "pacing"), ("behind", "on_track", "ahead"), pacing)
        if values is not None:
            pacing = Pacing(ahead=values["ahead"], on_track=values["on_track"], behind=values["behind"])
    escalation = defaults.escalation
    if "escalation" in m:
        values = _thresholds(
            c, m["escalation"], _join(path, "escalation"), ("warn", "manager", "reassign"), escalation
        )
        if values is not None:
            escalation = Escalation(
                warn=values["warn"], manager=values["manager"], reassign=values["reassign"]
            )
    min_sample = c.integer(m, "min_sample", path, low=1, high=1_000_000)
    currency = c.text(m, "currency", path)
    if currency is not None and not _CURRENCY.fullmatch(currency):
        c.add(_join(path, "currency"), "must be an ISO 4217 code such as EUR")
    if len(c.problems) > before:
        return None
    return Settings(
        basis=basis,
        normalisation=normalisation,
        ramp=ramp,
        pacing=pacing,
        escalation=escalation,
        min_sample=defaults.min_sample if min_sample is None else min_sample,
        currency=currency or defaults.currency,
    )


def _ramp(c: _Checker, value: object, path: str) -> tuple[Decimal, ...] | None:
    items = c.items(value, path)
    if items is None:
        return None
    if not items:
        c.add(path, "must list at least one share")
        return None
    numbers: list[Decimal] = []
    for i, item in enumerate(items):
        number = c.decimal_value(item, f"{path}[{i}]")
        if number is None:
            return None
        if not Decimal(0) <= number <= Decimal(1):
            c.add(f"{path}[{i}]", "must be between 0 and 1")
            return None
        numbers.append(number)
    if any(a > b for a, b in itertools.pairwise(numbers)):
        c.add(path, "must not decrease")
        return None
    return tuple(numbers)


def _thresholds(
    c: _Checker, value: object, path: str, names: tuple[str, str, str], defaults: object
) -> dict[str, Decimal] | None:
    m = c.mapping(value, path, (), names)
    if m is None:
        return None
    result: dict[str, Decimal] = {}
    ok = True
    for name in names:
        number = c.decimal(m, name, path) if name in m else getattr(defaults, name)
        if number is None:
            ok = False
            continue
        if number <= 0:
            c.add(_join(path, name), "must be > 0")
            ok = False
            continue
        result[name] = number
    if not ok:
        return None
    if not _ascending([result[n] for n in names]):
        c.add(path, f"thresholds must ascend: {' < '.join(names)}")
        return None
    return result


def _commitments(
    c: _Checker,
    value: object,
    parties: list[str] | None,
    calendars: list[str] | None,
    definitions: list[str] | None,
) -> list[Commitment] | None:
    def read(c: _Checker, item: object, path: str) -> Commitment | None:
        return _commitment(c, item, path, parties, calendars, definitions)

    commitments = _list_of(c, value, "commitments", read)
    c.unique(_keys_of(value, "key", "commitments"), "commitment")
    return commitments


def _commitment(
    c: _Checker,
    item: object,
    path: str,
    parties: list[str] | None,
    calendars: list[str] | None,
    definitions: list[str] | None,
) -> Commitment | None:
    m = c.mapping(
        item,
        path,
        ("key", "title", "kind", "owner", "beneficiary", "target", "period"),
        ("split", "covers", "outcome", "basis", "calendar", "clock", "fields"),
    )
    if m is None:
        return None
    before = len(c.problems)
    key = c.text(m, "key", path, slug=True)
    title = c.text(m, "title", path)
    kind = c.choice(m, "kind", path, COMMITMENT_KINDS)
    owner = c.text(m, "owner", path, slug=True)
    beneficiary = c.text(m, "beneficiary", path, slug=True)
    if parties is not None:
        c.reference(owner, _join(path, "owner"), parties, "party")
        c.reference(beneficiary, _join(path, "beneficiary"), parties, "party")
    if owner is not None and owner == beneficiary:
        c.add(_join(path, "beneficiary"), "must differ from the owner")
    split = c.choice(m, "split", path, SPLITS) if "split" in m else "none"
    covers = c.text(m, "covers", path, slug=True) if m.get("covers") is not None else None
    if definitions is not None:
        c.reference(covers, _join(path, "covers"), definitions, "definition")
    if kind in ("volume", "conversion") and m.get("covers") is None:
        c.add(_join(path, "covers"), f"required for kind {kind} (the definition of the leads counted)")
    outcome = None
    if m.get("outcome") is not None:
        if kind is not None and kind != "conversion":
            c.add(_join(path, "outcome"), "only for kind conversion")
        else:
            outcome = c.choice(m, "outcome", path, OUTCOMES)
    elif kind == "conversion":
        c.add(_join(path, "outcome"), f"required for kind conversion (one of {', '.join(OUTCOMES)})")
    basis = c.choice(m, "basis", path, BASES) if m.get("basis") is not None else None
    calendar = c.text(m, "calendar", path, slug=True) if m.get("calendar") is not None else None
    if calendars is not None:
        c.reference(calendar, _join(path, "calendar"), calendars, "calendar")
    period = c.choice(m, "period", path, PERIODS)
    target = _target(c, m["target"], _join(path, "target"), kind) if "target" in m else None
    if split == "capacity" and target is not None and target.unit not in ("count", "amount"):
        c.add(_join(path, "split"), "capacity split needs a count or amount target")
    clock = None
    if m.get("clock") is not None:
        if kind is not None and kind not in CLOCK_KINDS:
            c.add(_join(path, "clock"), f"only for kinds {', '.join(CLOCK_KINDS)}")
        else:
            clock = _clock(c, m["clock"], _join(path, "clock"), kind)
    elif kind in CLOCK_KINDS:
        c.add(_join(path, "clock"), f"required for kind {kind}")
    fields: tuple[FieldCheck, ...] = ()
    if m.get("fields") is not None:
        if kind is not None and kind != "handoff":
            c.add(_join(path, "fields"), "only for kind handoff")
        else:
            fields = _fields(c, m["fields"], _join(path, "fields"))
    elif kind == "handoff":
        c.add(_join(path, "fields"), "required for kind handoff (the data contract)")
    if len(c.problems) > before:
        return None
    if not (key and title and kind and owner and beneficiary and target and period and split):
        return None  # a required key is missing: already reported by mapping()
    return Commitment(
        key=key,
        title=title,
        kind=kind,
        owner=owner,
        beneficiary=beneficiary,
        target=target,
        period=period,
        split=split,
        covers=covers,
        outcome=outcome,
        basis=basis,
        calendar=calendar,
        clock=clock,
        fields=fields,
    )


def _target(c: _Checker, value: object, path: str, kind: str | None) -> Target | None:
    m = c.mapping(value, path, ("value", "unit"), ("per", "growth", "currency"))
    if m is None:
        return None
    before = len(c.problems)
    number = c.decimal(m, "value", path)
    unit = c.choice(m, "unit", path, UNITS)
    if number is not None and number <= 0:
        c.add(_join(path, "value"), "must be > 0")
    if number is not None and unit == "percent" and number > 100:
        c.add(_join(path, "value"), "a percentage must be <= 100")
    allowed_units = KIND_UNITS.get(cast(CommitmentKind, kind)) if kind is not None else None
    if unit is not None and allowed_units is not None and unit not in allowed_units:
        c.add(_join(path, "unit"), f"must be {' or '.join(allowed_units)} for kind {kind}")
    rated = unit in ("count", "amount")
    per = None
    if m.get("per") is not None:
        if unit is not None and not rated:
            c.add(_join(path, "per"), "only for count and amount targets")
        else:
            per = c.choice(m, "per", path, PERS)
    elif rated:
        c.add(_join(path, "per"), f"required for a {unit} target (one of {', '.join(PERS)})")
    growth = None
    if m.get("growth") is not None:
        if unit is not None and not rated:
            c.add(_join(path, "growth"), "only for count and amount targets")
        else:
            growth = c.decimal(m, "growth", path)
            if growth is not None and growth <= -1:
                c.add(_join(path, "growth"), "must be > -1")
    currency = None
    if m.get("currency") is not None:
        if unit is not None and unit != "amount":
            c.add(_join(path, "currency"), "only for amount targets")
        else:
            currency = c.text(m, "currency", path)
            if currency is not None and not _CURRENCY.fullmatch(currency):
                c.add(_join(path, "currency"), "must be an ISO 4217 code such as EUR")
    if len(c.problems) > before or number is None or unit is None:
        return None
    return Target(number, unit, per, growth, currency)


def _event_list(
    c: _Checker, m: Mapping[str, object], key: str, path: str, known: bool
) -> tuple[str, ...] | None:
    where = _join(path, key)
    items = c.items(m[key], where)
    if items is None:
        return None
    result: list[str] = []
    ok = True
    for i, item in enumerate(items):
        spot = f"{where}[{i}]"
        if not isinstance(item, str) or not _SLUG.fullmatch(item):
            c.add(spot, "must be an event kind (lowercase key)")
            ok = False
        elif known and item not in EVENT_KINDS:
            hint = _suggest(item, EVENT_KINDS)
            c.add(spot, f"unknown event kind {item}" + (f" (did you mean {hint}?)" if hint else ""))
            ok = False
        elif item in result:
            c.add(spot, f"{item} is listed twice")
            ok = False
        else:
            result.append(item)
    return tuple(result) if ok else None


def _clock(c: _Checker, value: object, path: str, kind: str | None) -> Clock | None:
    m = c.mapping(
        value,
        path,
        ("window", "start", "stop"),
        ("pause", "thresholds", "attempts", "human_only"),
    )
    if m is None:
        return None
    before = len(c.problems)
    window = None
    if "window" in m:
        raw = m["window"]
        try:
            window = BusinessDuration.parse(raw) if isinstance(raw, str) else None
        except DurationError as exc:
            c.add(_join(path, "window"), str(exc))
        else:
            if window is None:
                c.add(_join(path, "window"), "must be a duration such as 90m, 8h or 10bd")
    start = c.choice(m, "start", path, EVENT_KINDS)
    stop = _event_list(c, m, "stop", path, known=True) if "stop" in m else None
    if stop is not None and not stop:
        c.add(_join(path, "stop"), "list at least one event kind that stops the clock")
    if stop is not None and start is not None and start in stop:
        c.add(_join(path, "stop"), f"must not contain the start event {start}")
    pause: tuple[str, ...] | None = ()
    if m.get("pause") is not None:
        pause = _event_list(c, m, "pause", path, known=False)
        for i, item in enumerate(pause or ()):
            if item == start or (stop is not None and item in stop):
                c.add(f"{_join(path, 'pause')}[{i}]", f"{item} already starts or stops the clock")
    thresholds = None
    if m.get("thresholds") is not None:
        thresholds = _clock_thresholds(c, m["thresholds"], _join(path, "thresholds"))
    attempts = None
    if m.get("attempts") is not None:
        if kind is not None and kind != "attempts":
            c.add(_join(path, "attempts"), "only for kind attempts")
        else:
            attempts = c.integer(m, "attempts", path, low=1, high=1000)
    elif kind == "attempts":
        c.add(_join(path, "attempts"), "required for kind attempts (the number of attempts)")
    human_only = c.boolean(m, "human_only", path)
    if len(c.problems) > before or window is None or start is None or stop is None or pause is None:
        return None
    return Clock(window, start, stop, pause, thresholds, attempts, True if human_only is None else human_only)


def _clock_thresholds(c: _Checker, value: object, path: str) -> tuple[Decimal, ...] | None:
    items = c.items(value, path)
    if items is None:
        return None
    if not items:
        c.add(path, "list at least one threshold")
        return None
    numbers: list[Decimal] = []
    for i, item in enumerate(items):
        number = c.decimal_value(item, f"{path}[{i}]")
        if number is None:
            return None
        if number <= 0:
            c.add(f"{path}[{i}]", "must be > 0")
            return None
        numbers.append(number)
    if not _ascending(numbers):
        c.add(path, "thresholds must ascend")
        return None
    return tuple(numbers)


def _fields(c: _Checker, value: object, path: str) -> tuple[FieldCheck, ...]:
    items = c.items(value, path)
    if items is None:
        return ()
    if not items:
        c.add(path, "list at least one field")
        return ()
    result: list[FieldCheck] = []
    seen: dict[str, str] = {}
    known = [f for f in LEAD_FIELDS if f != "extra"]
    for i, item in enumerate(items):
        where = f"{path}[{i}]"
        m = c.mapping(item, where, ("field", "check"))
        if m is None:
            continue
        name = c.text(m, "field", where)
        check = c.text(m, "check", where)
        if name is not None:
            top = name.split(".", 1)[0]
            if top not in LEAD_FIELDS or name == "extra" or (top != "extra" and "." in name):
                hint = _suggest(top, known)
                extra = f" (did you mean {hint}?)" if hint else " (or extra.<name>)"
                c.add(_join(where, "field"), f"unknown lead field {name}{extra}")
                name = None
            elif name in seen:
                c.add(_join(where, "field"), f"duplicate field {name} (also at {seen[name]})")
                name = None
            else:
                seen[name] = _join(where, "field")
        if check is not None:
            try:
                parsed = FieldCheck.parse(name or "name", check)
            except FieldCheckError as exc:
                c.add(_join(where, "check"), str(exc))
                continue
            if name is not None:
                result.append(FieldCheck(name, parsed.check))
    return tuple(result)
