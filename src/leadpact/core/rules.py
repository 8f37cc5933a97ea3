"""Definition rules: safe CEL expressions over a lead's fields, checked clause by clause.

A rule is a CEL expression (https://cel.dev) evaluated by the ``common-expression-language``
package, never by Python ``eval``. It talks about the lead as ``lead.<field>``; the known fields are
in :data:`LEAD_FIELDS`, and anything under ``lead.extra.`` (free JSON) is allowed too.

>>> rule = Rule.parse('lead.score >= 50 && lead.country in ["NL", "BE"]')
>>> rule.check({"score": 35, "country": "NL"}).failed
['lead.score >= 50 (lead.score is 35)']

Missing fields and fields that are ``None`` are absent: a clause that needs them is not met and
says ``lead.email is missing``. Decimals are passed to CEL as numbers.

Many leads at once (:func:`rules_check_batch`, :func:`rules_failed_batch`): the clauses written in the
subset of CEL that definitions use are evaluated over the batch's columns (``core._cel_batch``), with
the outcome, the failed clauses and their words CEL gives lead by lead; CEL evaluates the rest.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, cast

import cel

from leadpact.core._cel_batch import ABSENT, DEFER, Compiled, Err, _Defer, clause_compile, simple_string

__all__ = [
    "LEAD_FIELDS",
    "ClauseFailure",
    "Lang",
    "Rule",
    "RuleError",
    "RulePosition",
    "RuleResult",
    "rules_check",
    "rules_check_batch",
    "rules_failed_batch",
]

Lang = Literal["en", "nl"]

#: Lead fields rules and handoff contracts may name (plus ``extra.<anything>``).
LEAD_FIELDS: tuple[str, ...] = (
    "name",
    "email",
    "phone",
    "company",
    "country",
    "source",
    "campaign",
    "score",
    "job_title",
    "industry",
    "company_size",
    "trigger",
    "consent",
    "recent_touches",
    "extra",
)

# Functions and macros the CEL engine implements (checked against the package in the tests).
_FUNCTIONS = frozenset(
    {
        "size",
        "has",
        "int",
        "uint",
        "double",
        "string",
        "bytes",
        "dyn",
        "type",
        "timestamp",
        "duration",
        "matches",
        "contains",
        "startsWith",
        "endsWith",
        "all",
        "exists",
        "exists_one",
        "map",
        "filter",
        "getFullYear",
        "getMonth",
        "getDate",
        "getDayOfMonth",
        "getDayOfWeek",
        "getDayOfYear",
        "getHours",
        "getMinutes",
        "getSeconds",
        "getMilliseconds",
    }
)
_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
_LITERAL_NAMES = frozenset({"true", "false", "null", "in"})


@dataclass(frozen=True, slots=True)
class RulePosition:
    """Where in a rule's text a problem is: 0-based ``offset``, 1-based ``line`` and ``column``."""

    offset: int
    line: int
    column: int

    @classmethod
    def at(cls, text: str, offset: int) -> RulePosition:
        """The position of character ``offset`` in ``text``.

        >>> RulePosition.at("a &&\\n b", 6)
        RulePosition(offset=6, line=2, column=2)
        """
        offset = max(0, min(offset, len(text)))
        before = text[:offset]
        line = before.count("\n") + 1
        column = offset - (before.rfind("\n") + 1) + 1
        return cls(offset, line, column)

    @classmethod
    def of_line_column(cls, text: str, line: int, column: int) -> RulePosition:
        """The position of 1-based ``line``/``column`` in ``text``."""
        lines = text.split("\n")
        line = max(1, min(line, len(lines)))
        offset = sum(len(part) + 1 for part in lines[: line - 1]) + max(0, column - 1)
        return cls.at(text, offset)

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}"


class RuleError(ValueError):
    """A rule that does not parse or names something unknown; ``position`` says where."""

    def __init__(self, reason: str, position: RulePosition | None = None) -> None:
        self.reason = reason
        self.position = position
        super().__init__(f"{reason} at {position}" if position is not None else reason)


# --- a small CEL tokenizer, aware of strings and comments -------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>//[^\n]*)
  | (?P<string>(?:[rR][bB]?|[bB][rR]?)?(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"
                 |'(?:\\.|[^\\'\n])*'|"(?:\\.|[^\\"\n])*"))
  | (?P<number>0[xX][0-9a-fA-F]+[uU]?|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[uU]?)
  | (?P<ident>[_a-zA-Z][_a-zA-Z0-9]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|[-+*/%<>!?:.,()\[\]{}])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def _tokenize(text: str) -> list[_Token]:
    """Significant tokens of ``text`` (whitespace and comments dropped)."""
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind in ("ws", "comment"):
            continue
        tokens.append(_Token(kind, match.group(), match.start()))
    return tokens


def _string_value(token: _Token) -> str | None:
    """The value of a simple (non-raw, single-line) string token, else None."""
    return simple_string(token.text)


_PARSE_ERROR = re.compile(r"<input>:(\d+):(\d+): Syntax error: (.*)")


def _syntax_reason(detail: str) -> str:
    """CEL's parser message in plain words."""
    if "mismatched input '<EOF>'" in detail:
        return "syntax error: the rule ends too early"
    match = re.match(r"token recognition error at: '(.*)'$", detail, re.DOTALL)
    if match:
        found = match.group(1)
        if found[:1] in "'\"":
            return "syntax error: unterminated string"
        return f"syntax error: unexpected character {found.strip()[:1] or found[:1]!r}"
    match = re.match(r"missing '(.*?)' at '(.*)'", detail)
    if match:
        where = "at the end" if match.group(2) == "<EOF>" else f"before {match.group(2)!r}"
        return f"syntax error: missing {match.group(1)!r} {where}"
    match = re.match(r"(?:mismatched|extraneous) input '(.*?)'", detail)
    if match:
        return f"syntax error: unexpected {match.group(1)!r}"
    match = re.match(r"no viable alternative at input '(.*)'", detail)
    if match:
        return f"syntax error: cannot read {match.group(1)!r}"
    return f"syntax error: {detail.strip()}"


def _compile(text: str) -> cel.Program:
    try:
        return cel.compile(text)
    except Exception as exc:  # the package raises ValueError; be safe with anything it raises
        message = str(exc)
        match = _PARSE_ERROR.search(message)
        if match is None:
            raise RuleError(f"syntax error: {message.strip()}") from None
        line, column = int(match.group(1)), int(match.group(2))
        raise RuleError(
            _syntax_reason(match.group(3).split("\n")[0]),
            RulePosition.of_line_column(text, line, column),
        ) from None


def _suggest(word: str, choices: Sequence[str] | frozenset[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return close[0] if close else ""


def _find_fields(text: str, tokens: list[_Token]) -> tuple[tuple[tuple[str, int], ...], bool]:
    """``(field, offset)`` for every ``lead.<field>`` reference, and whether bare ``lead`` is used.

    Raises :class:`RuleError` on unknown names, fields and functions.
    """
    bound = set()
    for i, tok in enumerate(tokens):
        if (
            tok.kind == "ident"
            and tok.text in _MACROS
            and i > 0
            and tokens[i - 1].text == "."
            and i + 3 < len(tokens)
            and tokens[i + 1].text == "("
            and tokens[i + 2].kind == "ident"
            and tokens[i + 3].text == ","
        ):
            bound.add(tokens[i + 2].text)
    found: list[tuple[str, int]] = []
    whole = False
    n = len(tokens)
    for i, tok in enumerate(tokens):
        if tok.kind != "ident":
            continue
        is_member = i > 0 and tokens[i - 1].text == "."
        is_call = i + 1 < n and tokens[i + 1].text == "("
        if is_call:
            if tok.text not in _FUNCTIONS:
                hint = _suggest(tok.text, _FUNCTIONS)
                reason = f"unknown function {tok.text}" + (f" (did you mean {hint}?)" if hint else "")
                raise RuleError(reason, RulePosition.at(text, tok.start))
            continue
        if is_member or tok.text in _LITERAL_NAMES or tok.text in bound:
            continue
        if tok.text != "lead":
            hint = "lead" if _suggest(tok.text, ["lead"]) else ""
            reason = f"unknown name {tok.text} (rules talk about lead.<field>"
            reason += f"; did you mean {hint}?)" if hint else ")"
            raise RuleError(reason, RulePosition.at(text, tok.start))
        name = _field_after(tokens, i)
        if name is None:
            whole = True
            continue
        if name == "":
            raise RuleError(
                'lead fields must be named, as lead.<field> or lead["field"]',
                RulePosition.at(text, tok.start),
            )
        top = name.split(".", 1)[0]
        if top not in LEAD_FIELDS:
            hint = _suggest(top, LEAD_FIELDS)
            reason = f"unknown field lead.{top}" + (f" (did you mean lead.{hint}?)" if hint else "")
            raise RuleError(reason, RulePosition.at(text, tok.start))
        found.append((name, tok.start))
    return tuple(found), whole


def _member_after(tokens: list[_Token], i: int) -> tuple[str | None, int]:
    """The member named right after token ``i`` (``.x`` or ``["x"]``) and the next index.

    Returns ``("", j)`` for a computed index (``[expr]``) and ``(None, i + 1)`` for none.
    """
    n = len(tokens)
    if i + 2 < n and tokens[i + 1].text == "." and tokens[i + 2].kind == "ident":
        return tokens[i + 2].text, i + 3
    if i + 1 < n and tokens[i + 1].text == "[":
        if i + 3 < n and tokens[i + 2].kind == "string" and tokens[i + 3].text == "]":
            value = _string_value(tokens[i + 2])
            return ("" if value is None else value), i + 4
        return "", i + 2
    return None, i + 1


def _field_after(tokens: list[_Token], i: int) -> str | None:
    name, j = _member_after(tokens, i)
    if name != "extra":
        return name
    sub, k = _member_after(tokens, j - 1)
    if sub and not (k < len(tokens) and tokens[k].text == "("):  # lead.extra.size() calls, names no field
        return f"extra.{sub}"
    return "extra"


def _split_clauses(text: str, tokens: list[_Token]) -> list[tuple[int, int]]:
    """``(start, end)`` spans of the conjunction's clauses (top level and parenthesised ``&&``)."""
    if not tokens:
        return []
    return _split_span(tokens, 0, len(tokens))


def _split_span(tokens: list[_Token], lo: int, hi: int) -> list[tuple[int, int]]:
    # unwrap one pair of parentheses around the whole span
    while hi - lo >= 2 and tokens[lo].text == "(" and _matching(tokens, lo) == hi - 1:
        lo, hi = lo + 1, hi - 1
    depth = 0
    cuts: list[int] = []
    for k in range(lo, hi):
        t = tokens[k].text
        if tokens[k].kind != "op":
            continue
        if t in "([{":
            depth += 1
        elif t in ")]}":
            depth -= 1
        elif depth == 0 and t in ("||", "?"):
            return [(tokens[lo].start, tokens[hi - 1].end)]
        elif depth == 0 and t == "&&":
            cuts.append(k)
    if not cuts:
        return [(tokens[lo].start, tokens[hi - 1].end)]
    spans: list[tuple[int, int]] = []
    begin = lo
    for cut in [*cuts, hi]:
        spans.extend(_split_span(tokens, begin, cut))
        begin = cut + 1
    return spans


def _matching(tokens: list[_Token], k: int) -> int:
    depth = 0
    for j in range(k, len(tokens)):
        t = tokens[j].text
        if tokens[j].kind != "op":
            continue
        if t in "([{":
            depth += 1
        elif t in ")]}":
            depth -= 1
            if depth == 0:
                return j
    return -1


# --- evaluation --------------------------------------------------------------------------------

_MISSING = object()
_PLAIN = frozenset({str, int, bool})  # values a clause's outcome is remembered for (Rule._check_in)
_SEEN_MAX = 4096  # clause outcomes a rule remembers; forgotten all at once past that


def _to_cel(value: object) -> object:
    """A lead value as CEL sees it; None (absent) is dropped by the caller."""
    if isinstance(value, Decimal):
        if not value.is_finite() or value.adjusted() > 18:
            return float(value)
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {str(k): _to_cel(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_to_cel(v) for v in value]
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def _lead_context(lead: Mapping[str, object], keys: frozenset[str] | None) -> cel.Context:
    """The CEL context for ``lead``; only the fields in ``keys`` are converted (all when None).

    Converting values to CEL costs more than evaluating, so a rule converts only what it reads.
    """
    if keys is None:
        values = {str(k): _to_cel(v) for k, v in lead.items() if v is not None}
    else:
        values = {k: _to_cel(lead[k]) for k in keys if lead.get(k) is not None}
    return cel.Context(variables={"lead": values})


def _lookup(lead: Mapping[str, object], name: str) -> object:
    current: object = lead
    for part in name.split("."):
        # a dict first: the Mapping check alone (an ABC) cost more than the lookup, per clause of a lead
        if type(current) is not dict and not isinstance(current, Mapping):
            return _MISSING
        current = current.get(part)
        if current is None:
            return _MISSING
    return current


def _missing_at(lead: Mapping[str, object], name: str) -> int | None:
    """How many parts of a missing field ``name`` (``extra.plan``) were found, or None if one is no map."""
    current: object = lead
    for found, part in enumerate(name.split(".")):
        if type(current) is not dict and not isinstance(current, Mapping):
            return None
        current = current.get(part)
        if current is None:
            return found
    return None  # not missing after all


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int | float | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return json.dumps(value, ensure_ascii=False, default=_plain, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def _plain(value: object) -> object:
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, Decimal):
        return float(value)
    return repr(value)


_WORDS: dict[str, dict[Lang, str]] = {
    "is": {"en": "{field} is {value}", "nl": "{field} is {value}"},
    "missing": {"en": "{field} is missing", "nl": "{field} ontbreekt"},
    "error": {"en": "could not be evaluated: {detail}", "nl": "kon niet worden berekend: {detail}"},
    "not_boolean": {
        "en": "gave {value} instead of true or false",
        "nl": "gaf {value} in plaats van waar of onwaar",
    },
    "types": {"en": "the types do not match", "nl": "de soorten waarden passen niet bij elkaar"},
    "division": {"en": "division by zero", "nl": "deling door nul"},
    "absent": {"en": "a value is missing", "nl": "een waarde ontbreekt"},
    "unreadable": {
        "en": "a value of the lead cannot be read by rules",
        "nl": "een waarde van de lead is niet leesbaar voor regels",
    },
}


def _error_detail(exc: Exception) -> str:
    if isinstance(exc, ZeroDivisionError):
        return "division"
    if isinstance(exc, KeyError):
        return "absent"
    if isinstance(exc, TypeError):
        return "types"
    return str(exc).split(". ")[0].strip() or type(exc).__name__


@dataclass(frozen=True, slots=True)
class ClauseFailure:
    """One clause of a rule that a lead did not meet, with the values of the fields it names."""

    clause: str
    values: tuple[tuple[str, object], ...]
    problem: Literal["false", "error", "not_boolean"] = "false"
    detail: str = ""

    def describe(self, lang: Lang = "en") -> str:
        """``lead.score >= 50 (lead.score is 35)``, in English or Dutch."""
        parts: list[str] = []
        missing = False
        for name, value in self.values:
            label = f"lead.{name}"
            if value is _MISSING:
                missing = True
                parts.append(_WORDS["missing"][lang].format(field=label))
            else:
                parts.append(_WORDS["is"][lang].format(field=label, value=_show(value)))
        if self.problem == "error" and not missing:
            words = _WORDS.get(self.detail)
            detail = words[lang] if words else self.detail
            parts.append(_WORDS["error"][lang].format(detail=detail))
        elif self.problem == "not_boolean":
            parts.append(_WORDS["not_boolean"][lang].format(value=self.detail))
        return f"{self.clause} ({'; '.join(parts)})" if parts else self.clause


@dataclass(frozen=True, slots=True)
class RuleResult:
    """Whether a lead met a rule; when not, ``failed`` says which clauses failed, in words."""

    met: bool
    failed: list[str] = field(default_factory=list)
    failures: tuple[ClauseFailure, ...] = ()

    def describe(self, lang: Lang = "en") -> list[str]:
        """The failed clauses in words, in ``lang``."""
        return [failure.describe(lang) for failure in self.failures]


@dataclass(frozen=True, slots=True)
class _Clause:
    text: str
    fields: tuple[str, ...]
    program: cel.Program = field(compare=False, repr=False)
    compiled: Compiled | None = field(compare=False, repr=False, default=None)  # None: outside the subset
    # a failure and its words by the outcome and the values (with their types) it reads: _Batch.failures
    words: dict[tuple[object, ...], tuple[ClauseFailure, str]] = field(
        compare=False, repr=False, default_factory=dict
    )


@dataclass(frozen=True, slots=True)
class Rule:
    """A parsed, compiled rule. Equality is by text.

    >>> Rule.parse("lead.score >= 50").fields
    frozenset({'score'})
    """

    text: str
    fields: frozenset[str] = field(compare=False)
    _program: cel.Program = field(compare=False, repr=False)
    _clauses: tuple[_Clause, ...] = field(compare=False, repr=False)
    _keys: frozenset[str] | None = field(compare=False, repr=False, default=None)
    # a failing lead's clauses, by the clause and the values (with their types) it reads: see _check_in
    _seen: dict[tuple[object, ...], tuple[ClauseFailure | None, str]] = field(
        compare=False, repr=False, default_factory=dict
    )

    @classmethod
    def parse(cls, text: str) -> Rule:
        """Compile ``text``; raise :class:`RuleError` with a position if it is not a valid rule."""
        if not isinstance(text, str):
            raise RuleError("rule must be text")
        if not text.strip():
            raise RuleError("rule is empty")
        program = _compile(text)
        tokens = _tokenize(text)
        for tok in tokens:
            if tok.kind == "other":
                raise RuleError(f"unexpected character {tok.text!r}", RulePosition.at(text, tok.start))
        references, whole = _find_fields(text, tokens)
        clauses: list[_Clause] = []
        for start, end in _split_clauses(text, tokens):
            piece = text[start:end]
            names = tuple(dict.fromkeys(name for name, offset in references if start <= offset < end))
            compiled = clause_compile(_tokenize(piece))
            clauses.append(_Clause(piece, names, _compile(piece), compiled))
        keys = None if whole else frozenset(name.split(".", 1)[0] for name, _ in references)
        return cls(text, frozenset(name for name, _ in references), program, tuple(clauses), keys)

    def __reduce__(self) -> tuple[object, tuple[str]]:
        # compiled programs do not pickle: rebuild from the text
        return (Rule.parse, (self.text,))

    @property
    def clauses(self) -> tuple[str, ...]:
        """The clauses the rule is checked by (its ``&&`` parts)."""
        return tuple(clause.text for clause in self._clauses)

    def matches(self, lead: Mapping[str, object]) -> bool:
        """True if the lead meets the rule (fast path: one evaluation)."""
        try:
            return self._program.execute(_lead_context(lead, self._keys)) is True
        except Exception:  # any evaluation error means: not met
            return False

    def check(self, lead: Mapping[str, object], *, lang: Lang = "en") -> RuleResult:
        """Check ``lead`` against the rule; say which clauses failed, with the fields' values.

        >>> Rule.parse('lead.email != ""').check({}).failed
        ['lead.email != "" (lead.email is missing)']
        """
        try:
            context = _lead_context(lead, self._keys)
        except Exception:  # a value CEL cannot take (a set, an arbitrary object)
            values = tuple((name, _lookup(lead, name)) for name in sorted(self.fields))
            unreadable = ClauseFailure(self.text, values, "error", "unreadable")
            return RuleResult(False, [unreadable.describe(lang)], (unreadable,))
        return self._check_in(context, lead, lang)

    def _check_in(self, context: cel.Context, lead: Mapping[str, object], lang: Lang) -> RuleResult:
        """:meth:`check` in a CEL context made already (holding at least this rule's fields)."""
        try:
            whole = self._program.execute(context)
        except Exception:
            whole = None
        if whole is True:
            return RuleResult(True)
        failures: list[ClauseFailure] = []
        texts: list[str] = []
        whole_lead = self._keys is None  # the rule reads the lead as a whole: a clause may read any field
        seen = self._seen
        for index, clause in enumerate(self._clauses):
            # A clause's outcome and its words follow from the values it reads, so a clause met or failed
            # before with the same values (a consent missing, a country outside the list) is not evaluated
            # and described again: a failing lead of an import had cost ~30 µs a clause. Only values
            # whose equal ones look the same are remembered (text, whole numbers, booleans, missing):
            # 1, 1.0, Decimal("1.0") and True are equal in Python but not in a rule's words. A nested
            # field is missing in more than one way (no extra at all: an error; an extra without it: has()
            # is false; an extra that is no map: another error), so where it went missing is remembered too.
            parts: list[object] = [] if whole_lead else [index, lang]
            for name in clause.fields if parts else ():
                value = _lookup(lead, name)
                if value is not _MISSING and type(value) not in _PLAIN:
                    parts.clear()
                    break
                if value is _MISSING and "." in name:
                    where = _missing_at(lead, name)
                    if where is None:
                        parts.clear()
                        break
                    parts.append(where)
                parts += (value, type(value))
            key = tuple(parts) if parts else None
            known = seen.get(key) if key is not None else None
            if known is None:
                failure = self._check_clause(clause, lead, context)
                known = (failure, failure.describe(lang) if failure is not None else "")
                if key is not None:
                    if len(seen) >= _SEEN_MAX:
                        seen.clear()
                    seen[key] = known
            if known[0] is not None:
                failures.append(known[0])
                texts.append(known[1])
        if not failures:  # defensive: a conjunction of true clauses is true
            values = tuple((name, _lookup(lead, name)) for name in sorted(self.fields))
            failures.append(ClauseFailure(self.text, values, "false" if whole is False else "error"))
            texts.append(failures[0].describe(lang))
        return RuleResult(False, texts, tuple(failures))

    @staticmethod
    def _check_clause(
        clause: _Clause, lead: Mapping[str, object], context: cel.Context
    ) -> ClauseFailure | None:
        values = tuple((name, _lookup(lead, name)) for name in clause.fields)
        try:
            result = clause.program.execute(context)
        except Exception as exc:
            return ClauseFailure(clause.text, values, "error", _error_detail(exc))
        if result is True:
            return None
        if result is False or result is True:
            return ClauseFailure(clause.text, values, "false")
        return ClauseFailure(clause.text, values, "not_boolean", _show(result))


def rules_check(rules: Sequence[Rule], lead: Mapping[str, object], *, lang: Lang = "en") -> list[RuleResult]:
    """:meth:`Rule.check` of several rules on one lead, converting the lead to CEL once.

    Converting costs more than evaluating, so checking a lead against every definition of an
    agreement this way costs about what one :meth:`Rule.check` does.

    >>> high, low = Rule.parse("lead.score >= 50"), Rule.parse("lead.score < 50")
    >>> [r.met for r in rules_check([high, low], {"score": 70})]
    [True, False]
    """
    keys: frozenset[str] | None = frozenset()
    for rule in rules:
        keys = None if keys is None or rule._keys is None else keys | rule._keys
    try:
        context = _lead_context(lead, keys)
    except Exception:  # a value CEL cannot take: each rule says so on its own
        return [rule.check(lead, lang=lang) for rule in rules]
    return [rule._check_in(context, lead, lang) for rule in rules]


# --- a batch at a time ------------------------------------------------------------------------------

_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


def _plain_cel(value: object) -> bool:
    """Whether a value converted for CEL is one the batch evaluation models (see ``_cel_batch``)."""
    kind = type(value)  # the exact type: a subclass of str or int is not modelled
    if kind is str:
        return cast(str, value).isascii() or _utf8(cast(str, value))
    if kind is int:
        return _I64_MIN <= cast(int, value) <= _I64_MAX
    if kind is float or kind is bool:
        return True
    if kind is dict:
        return all(_plain_cel(k) and _plain_cel(v) for k, v in cast(dict[object, object], value).items())
    if kind is list:
        return all(v is None or _plain_cel(v) for v in cast(list[object], value))
    return False


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: CEL cannot take it
        return False
    return True


def _cel_column(leads: Sequence[Mapping[str, object]], key: str) -> tuple[list[object], set[int]]:
    """Field ``key`` of every lead as CEL sees it (ABSENT where missing), and the leads whose value the
    batch evaluation does not model (those are checked one by one, as :func:`rules_check` does)."""
    # the usual values pass as they are (ASCII text, int64 numbers, doubles, booleans); the rest below
    column: list[object] = [
        ABSENT
        if v is None
        else v
        if ((t := type(v)) is str and v.isascii())  # type: ignore[attr-defined]
        or t is bool
        or t is float
        or (t is int and _I64_MIN <= v <= _I64_MAX)  # type: ignore[operator]
        else DEFER
        for v in [lead.get(key) for lead in leads]
    ]
    odd: set[int] = set()
    for i in [i for i, v in enumerate(column) if v is DEFER]:
        try:
            value = _to_cel(leads[i].get(key))
        except Exception:  # a Decimal sNaN and the like: unreadable, as rules_check finds
            value = DEFER
        if value is not DEFER and _plain_cel(value):
            column[i] = value
        else:
            odd.add(i)
    return column, odd


def _made(clause: _Clause, outcome: object, values: tuple[tuple[str, object], ...], lang: Lang) -> _Made:
    """The failure of a clause whose batch outcome was ``outcome`` (not true), and its words."""
    if outcome is False:
        failure = ClauseFailure(clause.text, values, "false")
    elif isinstance(outcome, Err):
        failure = ClauseFailure(clause.text, values, "error", outcome.detail)
    else:
        failure = ClauseFailure(clause.text, values, "not_boolean", _show(outcome))
    return failure, failure.describe(lang)


_Made = tuple[ClauseFailure, str]


class _Batch:
    """One batch of leads being checked: its columns, and what is known of each clause's outcomes."""

    def __init__(self, leads: Sequence[Mapping[str, object]], lang: Lang) -> None:
        self.leads = leads
        self.lang = lang
        self.n = len(leads)
        self.columns: dict[str, list[object]] = {}  # top-level fields as CEL sees them
        self.odd: dict[str, set[int]] = {}  # by field: the leads whose value the batch does not model
        self.raw: dict[str, list[object]] = {}  # fields as a failure shows them (_lookup)
        # by clause text (a clause rules share, once): each lead's failure (None: met; DEFER: CEL must say)
        self.said: dict[str, tuple[list[_Made | _Defer | None], set[int]]] = {}

    def column(self, key: str) -> None:
        if key not in self.columns:
            self.columns[key], self.odd[key] = _cel_column(self.leads, key)

    def raw_column(self, name: str) -> list[object]:
        column = self.raw.get(name)
        if column is None:
            if "." in name:
                column = [_lookup(lead, name) for lead in self.leads]
            else:
                column = [_MISSING if (v := lead.get(name)) is None else v for lead in self.leads]
            self.raw[name] = column
        return column

    def failures(self, clause: _Clause, compiled: Compiled) -> tuple[list[_Made | _Defer | None], set[int]]:
        """Each lead's failure of ``clause`` (None: met; DEFER: CEL must say), and the leads CEL must say for.

        A failure and its words are remembered by the outcome and the values the clause reads, with
        their types — only values whose equal ones look the same (text, whole numbers, booleans,
        missing): 1, 1.0, Decimal("1.0") and True are equal in Python but not in a rule's words.
        """
        known = self.said.get(clause.text)
        if known is not None:
            return known
        said: list[_Made | _Defer | None] = [None] * self.n
        deferred: set[int] = set()
        memo = clause.words
        lang = self.lang
        names = clause.fields
        columns = [self.raw_column(name) for name in names]
        for i, outcome in enumerate(compiled.run(self.columns, self.n)):
            if outcome is True:
                continue
            if outcome is DEFER:
                said[i] = DEFER
                deferred.add(i)
                continue
            # the key: the outcome (False, an Err, a value) and each value read with its type
            key: tuple[object, ...] | None = (lang, type(outcome), outcome)
            if type(outcome) is float:  # 0.0 and -0.0 are equal, not alike
                key = None
            else:
                for column in columns:
                    value = column[i]
                    kind = type(value)
                    if value is not _MISSING and kind not in _PLAIN:
                        key = None
                        break
                    key += (value, kind)  # type: ignore[operator]
            made = memo.get(key) if key is not None else None
            if made is None:
                values = tuple((name, column[i]) for name, column in zip(names, columns, strict=True))
                made = _made(clause, outcome, values, lang)
                if key is not None:
                    if len(memo) >= _SEEN_MAX:
                        memo.clear()
                    memo[key] = made
            said[i] = made
        self.said[clause.text] = (said, deferred)
        return said, deferred


# a rule's outcome for one lead of a batch: its failed clauses in words and the failures (both empty: met)
_Outcome = tuple[tuple[str, ...], tuple[ClauseFailure, ...]]
_MET: _Outcome = ((), ())


def rules_check_batch(
    rules: Sequence[Rule], leads: Sequence[Mapping[str, object]], *, lang: Lang = "en"
) -> list[list[RuleResult]]:
    """:func:`rules_check` of every lead of a batch (``[lead][rule]``), the same results lead by lead.

    A clause in the subset of CEL that definitions use (see ``leadpact.core._cel_batch``) is evaluated
    over the batch's columns at once — a clause two rules share, once. CEL itself evaluates the rest, as
    :func:`rules_check` does: a rule outside the subset or reading the lead as a whole, a clause outside it,
    a lead value the subset does not model (a set, a date and time, an int beyond 64 bits).

    >>> high, low = Rule.parse("lead.score >= 50"), Rule.parse("lead.score < 50")
    >>> [[r.met for r in row] for row in rules_check_batch([high, low], [{"score": 70}, {}])]
    [[True, False], [False, False]]
    """
    return [
        [RuleResult(not texts, list(texts), failures) for texts, failures in row]
        for row in _batch_outcomes(rules, leads, lang)
    ]


def rules_failed_batch(
    rules: Sequence[Rule], leads: Sequence[Mapping[str, object]], *, lang: Lang = "en"
) -> list[list[tuple[str, ...]]]:
    """The failed clauses in words of every lead and rule of a batch (``[lead][rule]``; empty: met).

    What :func:`rules_check_batch` says, without a :class:`RuleResult` a lead and rule: leads that
    failed a rule in the same words share one tuple, so a caller can remember what it made of them.

    >>> rules_failed_batch([Rule.parse("lead.score >= 50")], [{"score": 70}, {"score": 1}])
    [[()], [('lead.score >= 50 (lead.score is 1)',)]]
    """
    return [[texts for texts, _failures in row] for row in _batch_outcomes(rules, leads, lang)]


def _batch_outcomes(
    rules: Sequence[Rule], leads: Sequence[Mapping[str, object]], lang: Lang
) -> list[list[_Outcome]]:
    batch = _Batch(leads, lang)
    in_subset = [r._keys is not None and any(c.compiled for c in r._clauses) for r in rules]
    per_rule: list[list[_Outcome]] = []
    others = [r for r, inside in zip(rules, in_subset, strict=True) if not inside]
    singly = [rules_check(others, lead, lang=lang) for lead in leads] if others else []
    k = 0
    for rule, inside in zip(rules, in_subset, strict=True):
        if inside:
            per_rule.append(_rule_batch(rule, batch))
        else:  # CEL, one context a lead for all of them
            per_rule.append([(tuple(row[k].failed), row[k].failures) for row in singly])
            k += 1
    return [list(row) for row in zip(*per_rule, strict=True)] if rules else [[] for _ in leads]


def _rule_batch(rule: Rule, batch: _Batch) -> list[_Outcome]:
    keys = rule._keys or frozenset()
    for key in sorted(keys):
        batch.column(key)
    unreadable: set[int] = set().union(*(batch.odd[key] for key in keys))  # Rule.check says so
    slow = set(unreadable)
    columns: list[list[_Made | _Defer | None]] = []
    for clause in rule._clauses:
        if clause.compiled is None:
            columns.append([DEFER] * batch.n)  # CEL, lead by lead
            slow.update(range(batch.n))
            continue
        said, deferred = batch.failures(clause, clause.compiled)
        columns.append(said)
        slow |= deferred
    results: list[_Outcome] = []
    # leads that failed the same clauses in the same words share an outcome: by the failures' identities
    known: dict[tuple[int, ...], _Outcome] = {}
    for i, row in enumerate(zip(*columns, strict=True)):
        if i in slow:
            results.append(_slow_outcome(rule, row, batch.leads[i], i in unreadable, batch.lang))
            continue
        alike = tuple(map(id, row))
        found = known.get(alike)
        if found is None:
            made = [cast(_Made, m) for m in row if m is not None]  # not DEFER: those leads are slow
            found = (tuple(m[1] for m in made), tuple(m[0] for m in made)) if made else _MET
            known[alike] = found
        results.append(found)
    return results


def _slow_outcome(
    rule: Rule,
    row: tuple[_Made | _Defer | None, ...],
    lead: Mapping[str, object],
    unreadable: bool,
    lang: Lang,
) -> _Outcome:
    """A lead's outcome where CEL must say: a value the batch does not model, a clause left to CEL."""
    if unreadable:
        result = rule.check(lead, lang=lang)
        return tuple(result.failed), result.failures
    failed: list[ClauseFailure] = []
    texts: list[str] = []
    context: cel.Context | None = None
    for clause, made in zip(rule._clauses, row, strict=True):
        if made is None:
            continue  # met
        if made is DEFER:
            if context is None:
                context = _lead_context(lead, rule._keys)
            failure = Rule._check_clause(clause, lead, context)
            if failure is None:
                continue
            made = (failure, failure.describe(lang))
        failed.append(made[0])  # type: ignore[index]
        texts.append(made[1])  # type: ignore[index]
    # no failure: the clauses CEL evaluated were true, and so is their conjunction
    return (tuple(texts), tuple(failed)) if failed else _MET
