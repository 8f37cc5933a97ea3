"""The part of CEL that definitions use, compiled to functions over a batch's columns.

A clause such as ``lead.country in ["NL", "BE"]`` becomes one list comprehension over the batch's
``country`` column instead of one CEL evaluation a lead. The subset: field access (``lead.a.b``),
comparisons (``== != < <= > >=``), ``in`` a list of literals, ``&&``, ``||``, ``!``, ``has()``,
``startsWith``/``endsWith``/``contains``/``matches`` with a literal argument, ``size``, and int, double,
string, bool and null literals. A clause with anything else is not compiled (:func:`clause_compile` gives
None) and stays with CEL.

Each lead's outcome is what the ``common-expression-language`` package gives, including its errors, as
measured against it (tests/core/test_rules_batch.py):

- a field that is not there is an error (``KeyError``: :data:`ABSENT`); an operator or function on the
  wrong types is one too (``TypeError``: :data:`TYPES`) — comparing text with a number, ordering a NaN,
  ``&&`` on a value that is no boolean;
- ``==`` and ``in`` across types are false (``1 == "1"``), except numbers: an int is compared with a
  double as the double the int converts to (``9007199254740993 == 9007199254740992.0`` is true);
- ``&&`` is false when either side is false and ``||`` true when either side is true, whatever the
  other side is; otherwise an error on the right wins over one on the left. A chain ``a && b && c && d``
  is grouped as CEL's parser balances it: ``(a && b) && (c && d)``;
- ``!!x`` is ``x`` (the parser drops an even number of ``!``), ``size()`` of text counts its UTF-8 bytes,
  ``matches`` uses CEL's own (Rust) regular expressions: each distinct text is asked of CEL once.

Anything the subset does not model — a list or map where a value is needed, a function on the wrong
type, an error other than the two above — comes out as :data:`DEFER` for that lead, and the caller asks
CEL for that lead and clause.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import cel

__all__ = [
    "ABSENT",
    "DEFER",
    "TYPES",
    "Compiled",
    "Err",
    "Path",
    "Token",
    "clause_compile",
    "simple_string",
]


class Token(Protocol):
    """A significant token of a rule (``leadpact.core.rules._Token``)."""

    @property
    def kind(self) -> str: ...

    @property
    def text(self) -> str: ...


@dataclass(frozen=True, slots=True, eq=False)  # one instance a kind: compared and hashed by identity
class Err:
    """An evaluation error CEL raises, in the words ``rules._error_detail`` gives it."""

    detail: str


ABSENT = Err("absent")  # KeyError: a field (or map key) that is not there
TYPES = Err("types")  # TypeError: no such overload for these types


class _Defer:
    __slots__ = ()

    def __repr__(self) -> str:
        return "DEFER"


DEFER = _Defer()  # not modelled for this lead: ask CEL

Path = tuple[str, ...]  # ("score",), ("extra", "plan")
Column = list[object]

_NUM = (int, float)
_SCALAR = frozenset({str, int, float, bool, type(None)})
_OUTCOMES = _SCALAR | {Err, _Defer}


def simple_string(text: str) -> str | None:
    """The value of a simple (non-raw, single-line, escape-free) string literal, else None.

    >>> simple_string('"NL"'), simple_string("r'a'"), simple_string('"a\\\\n"')
    ('NL', None, None)
    """
    if text[:1] not in "'\"" or text.startswith(("'''", '"""')):
        return None
    body = text[1:-1]
    if "\\" in body:
        return None
    return body


# --- the operators, one lead's values at a time -----------------------------------------------------
# Operands are values (str, int, float, bool, None, dict, list), an Err or DEFER. An error on the
# left of a comparison or call wins over one on the right, as CEL evaluates them.


def _eq(a: object, b: object) -> object:
    ta, tb = type(a), type(b)
    if ta is Err or ta is _Defer:
        return a
    if tb is Err or tb is _Defer:
        return b
    if ta is tb:
        return a == b if ta in _SCALAR else DEFER
    if ta in _NUM and tb in _NUM:
        return float(a) == float(b)  # type: ignore[arg-type]
    if ta in _SCALAR and tb in _SCALAR:
        return False
    return DEFER


def _ne(a: object, b: object) -> object:
    same = _eq(a, b)
    return (not same) if type(same) is bool else same


def _order(op: Callable[[Any, Any], bool]) -> Callable[[object, object], object]:
    def compare(a: object, b: object) -> object:
        ta, tb = type(a), type(b)
        if ta is Err or ta is _Defer:
            return a
        if tb is Err or tb is _Defer:
            return b
        if ta is tb and (ta is int or ta is str or ta is bool):
            return op(a, b)
        if ta in _NUM and tb in _NUM:
            fa, fb = float(a), float(b)  # type: ignore[arg-type]
            if fa != fa or fb != fb:  # NaN has no order: CEL finds no overload
                return TYPES
            return op(fa, fb)
        if ta in _SCALAR and tb in _SCALAR:
            return TYPES
        return DEFER

    return compare


_COMPARE: dict[str, Callable[[object, object], object]] = {
    "==": _eq,
    "!=": _ne,
    "<": _order(operator.lt),
    "<=": _order(operator.le),
    ">": _order(operator.gt),
    ">=": _order(operator.ge),
}


def _in(a: object, items: tuple[object, ...]) -> object:
    ta = type(a)
    if ta is Err or ta is _Defer:
        return a
    if ta not in _SCALAR:
        return DEFER
    return any(_eq(a, item) is True for item in items)


def _not(a: object) -> object:
    if a is True:
        return False
    if a is False:
        return True
    ta = type(a)
    if ta is Err or ta is _Defer:
        return a
    return TYPES if ta in _SCALAR else DEFER


def _logic(absorbing: bool) -> Callable[[object, object], object]:
    """``&&`` (``absorbing=False``: false wins) or ``||`` (true wins), as CEL evaluates them."""

    def combine(left: object, right: object) -> object:
        if left is absorbing or right is absorbing:
            return absorbing
        if type(left) is bool and type(right) is bool:  # neither is the absorbing value
            return not absorbing
        tl, tr = type(left), type(right)
        if (
            tl is _Defer
            or tr is _Defer
            or not (tl is Err or tl in _SCALAR)
            or not (tr is Err or tr in _SCALAR)
        ):
            return DEFER
        if tr is Err:
            return right
        if tl is Err:
            return left
        return TYPES  # a value that is no boolean

    return combine


_AND = _logic(False)
_OR = _logic(True)


def _member(value: object, name: str) -> object:
    """``value.name``: a map's key, ABSENT when the map lacks it, TYPES on a scalar."""
    tv = type(value)
    if tv is dict:
        return value.get(name, ABSENT)  # type: ignore[attr-defined]
    if tv is Err or tv is _Defer:
        return value
    return TYPES if tv in _SCALAR else DEFER


def _has(value: object, name: str) -> object:
    tv = type(value)
    if tv is dict:
        return name in value  # type: ignore[operator]
    if tv is Err or tv is _Defer:
        return value
    return TYPES if tv in _SCALAR else DEFER


def _size(value: object) -> object:
    tv = type(value)
    if tv is str:
        return len(value.encode("utf-8"))  # type: ignore[attr-defined]
    if tv is Err or tv is _Defer:
        return value
    return DEFER  # CEL's size of a list or map, or its error on a number: not modelled


def _text_test(method: Callable[[str, str], bool]) -> Callable[[object, str], object]:
    def test(value: object, argument: str) -> object:
        tv = type(value)
        if tv is str:
            return method(value, argument)  # type: ignore[arg-type]
        if tv is Err or tv is _Defer:
            return value
        return DEFER  # CEL: "undefined function" on a non-text receiver

    return test


_TEXT_TESTS: dict[str, Callable[[object, str], object]] = {
    "startsWith": _text_test(str.startswith),
    "endsWith": _text_test(str.endswith),
    "contains": _text_test(str.__contains__),
}


# --- nodes ------------------------------------------------------------------------------------------


class _Node:
    """An expression of the subset; :meth:`run` gives its outcome for every lead of a batch."""

    def paths(self) -> set[Path]:
        return set()

    def run(self, columns: Mapping[Path, Column], n: int) -> Column:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class _Literal(_Node):
    value: object

    def run(self, columns: Mapping[Path, Column], n: int) -> Column:
        return [self.value] * n


@dataclass(frozen=True, slots=True)
class _Field(_Node):
    path: Path

    def paths(self) -> set[Path]:
        return {self.path}

    def run(self, columns: Mapping[Path, Column], n: int) -> Column:
        return columns[self.path]


@dataclass(frozen=True, slots=True)
class _Has(_Node):
    path: Path

    def paths(self) -> set[Path]:
        return {self.path[:-1] if len(self.path) > 1 else self.path}

    def run(self, columns: Mapping[Path, Column], n: int) -> Column:
        if len(self.path) == 1:  # has(lead.x): the lead always is a map; a field is there or not
            return [v is not ABSENT if v is not DEFER else v for v in columns[self.path]]
        name = self.path[-1]
        return [_has(v, name) for v in columns[self.path[:-1]]]


@dataclass(frozen=True, slots=True)
class _Compare(_Node):
    op: str
    left: _Node
    right: _Node

    def paths(self) -> set[Path]:
        return self.left.paths() | self.right.paths()

    def run(self, columns: Mapping[Path, Column], n: int) -> Column:
        compare = _COMPARE[self.op]
        left = self.left.run(columns, n)
        if isinstance(self.right, _Literal):  # the usual case: a field against a literal
            value = self.right.value
            kind = type(value)
            if self.op in ("==", "!=") and kind in _SCALAR:
                eq = self.op == "=="
                # the same type: CEL's equality is Python's (NaN included)
                return [(v == value) is eq if type(v) is kind else compare(v, value) for v in left]
            if kind is int and self.op in (">", ">=", "<", "<="):
                test = _PY[self.op]
                return [test(v, value) if type(v) is int else compare(v, value) for v in left]
            return [compare(v, value) for v in left]
        return [compare(a, b) for a, b in zip(left, self.right.run(columns, n), strict=True)]


_PY: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True, slots=True)
class _In(_Node):
    item: _Node
    choices: tuple[object, ...]

    def paths(self) -> set[Path]:
        return self.item.paths()

    def run(self, columns: Mapping[Path, Column], n: int) -> Column:
        values = self.item.run(columns, n)
        texts = frozenset(c for c in self.choices if type(c) is str)
        return [v in texts if type(v) is str else _in(v, self.choices) for v in values]


@dataclass(frozen=True, slots=True)
class _Not(_Node):
    operand: _Node

    def paths(self) -> set[Path]:
        return self.operand.paths()

    def run(self, columns: Mapping[Path, Column], n: int) -> Column:
        return [_not(v) for v in self.operand.run(columns, n)]


@dataclass(frozen=True, slots=True)
class _Logic(_Node):
    op: str  # "&&" or "||"
    left: _Node
    right: _Node

    def paths(self) -> set[Path]:
        return self.left.paths() | self.right.paths()

    def run(self, columns: Mapping[Path, Column], n: int) -> Column:
        combine = _AND if self.op == "&&" else _OR
        left, right = self.left.run(columns, n), self.right.run(columns, n)
        return [combine(a, b) for a, b in zip(left, right, strict=True)]


@dataclass(frozen=True, slots=True)
class _Call(_Node):
    name: str  # startsWith, endsWith, contains, size
    receiver: _Node
    argument: str | None

    def paths(self) -> set[Path]:
        return self.receiver.paths()

    def run(self, columns: Mapping[Path, Column], n: int) -> Column:
        values = self.receiver.run(columns, n)
        if self.name == "size":
            return [_size(v) for v in values]
        test, argument = _TEXT_TESTS[self.name], self.argument or ""
        return [test(v, argument) for v in values]


class _Matches(_Node):
    """``x.matches("re")``: CEL's (Rust) regular expressions, asked once per distinct text."""

    __slots__ = ("_known", "_program", "receiver")

    def __init__(self, receiver: _Node, pattern_token: str) -> None:
        self.receiver = receiver
        self._program = cel.compile(f"text.matches({pattern_token})")
        self._known: dict[str, object] = {}

    def paths(self) -> set[Path]:
        return self.receiver.paths()

    def _one(self, value: object) -> object:
        tv = type(value)
        if tv is Err or tv is _Defer:
            return value
        if tv is not str:
            return DEFER
        known = self._known.get(value)  # type: ignore[call-overload]
        if known is None:
            try:
                result = self._program.execute({"text": value})
            except Exception:  # an invalid pattern: CEL says so in its own words
                result = DEFER
            known = result if type(result) is bool else DEFER
            if len(self._known) >= 4096:
                self._known.clear()
            self._known[value] = known  # type: ignore[index]
        return known

    def run(self, columns: Mapping[Path, Column], n: int) -> Column:
        return [self._one(v) for v in self.receiver.run(columns, n)]


# --- the parser ---------------------------------------------------------------------------------------


class _OutsideSubsetError(Exception):
    """The clause uses something outside the subset."""


_INT = re.compile(r"0|[1-9][0-9]*")
_DOUBLE = re.compile(r"[0-9]+\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+|\.[0-9]+(?:[eE][+-]?[0-9]+)?")
_I64 = 2**63
_RELATIONS = frozenset({"==", "!=", "<", "<=", ">", ">=", "in"})


def _balanced(terms: list[_Node], op: str) -> _Node:
    """``a op b op c …`` grouped as CEL's parser balances a chain of ``&&`` or ``||``."""

    def tree(lo: int, hi: int) -> _Node:  # over the operators lo..hi
        mid = (lo + hi + 1) // 2
        left = terms[mid] if mid == lo else tree(lo, mid - 1)
        right = terms[mid + 1] if mid == hi else tree(mid + 1, hi)
        return _Logic(op, left, right)

    return terms[0] if len(terms) == 1 else tree(0, len(terms) - 2)


class _Parser:
    def __init__(self, tokens: Sequence[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self, ahead: int = 0) -> Token | None:
        j = self.i + ahead
        return self.tokens[j] if j < len(self.tokens) else None

    def is_op(self, text: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token is not None and token.kind == "op" and token.text == text

    def take(self, text: str) -> None:
        if not self.is_op(text):
            raise _OutsideSubsetError
        self.i += 1

    def ident(self) -> str:
        token = self.peek()
        if token is None or token.kind != "ident":
            raise _OutsideSubsetError
        self.i += 1
        return token.text

    def parse(self) -> _Node:
        node = self.disjunction()
        if self.peek() is not None:
            raise _OutsideSubsetError  # ?: , arithmetic, anything left over
        return node

    def disjunction(self) -> _Node:
        terms = [self.conjunction()]
        while self.is_op("||"):
            self.i += 1
            terms.append(self.conjunction())
        return _balanced(terms, "||")

    def conjunction(self) -> _Node:
        terms = [self.relation()]
        while self.is_op("&&"):
            self.i += 1
            terms.append(self.relation())
        return _balanced(terms, "&&")

    def relation(self) -> _Node:
        left = self.unary()
        token = self.peek()
        if token is None or token.text not in _RELATIONS or token.kind not in ("op", "ident"):
            return left
        self.i += 1
        if token.text == "in":
            node: _Node = _In(left, self.literal_list())
        else:
            node = _Compare(token.text, left, self.unary())
        following = self.peek()
        if following is not None and following.text in _RELATIONS:
            raise _OutsideSubsetError  # a chain of comparisons
        return node

    def unary(self) -> _Node:
        bangs = 0
        while self.is_op("!"):
            bangs += 1
            self.i += 1
        if self.is_op("-"):
            if bangs:
                raise _OutsideSubsetError
            return self.negative()
        node = self.member()
        return _Not(node) if bangs % 2 else node  # CEL's parser drops an even number of "!"

    def negative(self) -> _Node:
        self.take("-")
        token = self.peek()
        if token is None or token.kind != "number":
            raise _OutsideSubsetError
        self.i += 1
        value = self.number(token.text, negative=True)
        if self.is_op(".") or self.is_op("["):
            raise _OutsideSubsetError
        return _Literal(value)

    def number(self, text: str, *, negative: bool = False) -> int | float:
        if _INT.fullmatch(text):
            value = int(text)
            if value > (_I64 if negative else _I64 - 1):
                raise _OutsideSubsetError
            return -value if negative else value
        if _DOUBLE.fullmatch(text):
            number = float(text)
            if number in (float("inf"), float("-inf")):
                raise _OutsideSubsetError
            return -number if negative else number
        raise _OutsideSubsetError  # hex, unsigned

    def literal(self) -> object:
        token = self.peek()
        if token is None:
            raise _OutsideSubsetError
        if token.kind == "number":
            self.i += 1
            return self.number(token.text)
        if token.kind == "string":
            value = simple_string(token.text)
            if value is None:
                raise _OutsideSubsetError
            self.i += 1
            return value
        if token.kind == "ident" and token.text in ("true", "false", "null"):
            self.i += 1
            return {"true": True, "false": False, "null": None}[token.text]
        if self.is_op("-"):
            self.i += 1
            following = self.peek()
            if following is None or following.kind != "number":
                raise _OutsideSubsetError
            self.i += 1
            return self.number(following.text, negative=True)
        raise _OutsideSubsetError

    def literal_list(self) -> tuple[object, ...]:
        self.take("[")
        items: list[object] = []
        while not self.is_op("]"):
            items.append(self.literal())
            if self.is_op(","):
                self.i += 1
                if self.is_op("]"):
                    raise _OutsideSubsetError  # a trailing comma: leave it to CEL
            elif not self.is_op("]"):
                raise _OutsideSubsetError
        self.take("]")
        return tuple(items)

    def field_path(self) -> Path:
        """``lead.a.b`` (the ``lead`` consumed here) up to a call or the end of the chain."""
        if self.ident() != "lead":
            raise _OutsideSubsetError
        names: list[str] = []
        while self.is_op(".") and self.peek(1) is not None and not self.is_op("(", 2):
            self.i += 1
            names.append(self.ident())
        if not names:
            raise _OutsideSubsetError  # the lead as a whole
        return tuple(names)

    def primary(self) -> _Node:
        token = self.peek()
        if token is None:
            raise _OutsideSubsetError
        if self.is_op("("):
            self.i += 1
            node = self.disjunction()
            self.take(")")
            return node
        if token.kind == "ident" and token.text == "lead":
            return _Field(self.field_path())
        if token.kind == "ident" and token.text in ("has", "size") and self.is_op("(", 1):
            self.i += 2
            if token.text == "has":
                path = self.field_path()
                self.take(")")
                return _Has(path)
            argument = self.disjunction()
            self.take(")")
            return _Call("size", argument, None)
        return _Literal(self.literal())

    def member(self) -> _Node:
        node = self.primary()
        while self.is_op("."):
            self.i += 1
            name = self.ident()
            self.take("(")
            if name == "size":
                self.take(")")
                node = _Call("size", node, None)
                continue
            token = self.peek()
            if name not in ("startsWith", "endsWith", "contains", "matches") or token is None:
                raise _OutsideSubsetError
            argument = simple_string(token.text) if token.kind == "string" else None
            if argument is None:
                raise _OutsideSubsetError
            self.i += 1
            self.take(")")
            node = _Matches(node, token.text) if name == "matches" else _Call(name, node, argument)
        if self.is_op("["):
            raise _OutsideSubsetError  # indexing
        return node


@dataclass(frozen=True, slots=True)
class Compiled:
    """A clause compiled to the subset: :meth:`run` gives every lead's outcome over a batch's columns."""

    node: _Node
    paths: frozenset[Path]

    def run(self, columns: Mapping[str, Column], n: int) -> Column:
        """Outcomes for ``n`` leads: True, False, another value, an :class:`Err`, or :data:`DEFER`.

        ``columns`` holds each top-level field the clause reads, as CEL sees it (``rules._to_cel``):
        one value a lead, :data:`ABSENT` for a lead without it; only plain values (text, int64
        numbers, doubles, booleans, and maps and lists of them).
        """
        full: dict[Path, Column] = {}
        for path in sorted(self.paths, key=len):  # a path's parent comes before it
            if len(path) == 1:
                full[path] = columns[path[0]]
            else:
                name = path[-1]
                full[path] = [_member(v, name) for v in full[path[:-1]]]
        return [v if type(v) in _OUTCOMES else DEFER for v in self.node.run(full, n)]


def clause_compile(tokens: Sequence[Token]) -> Compiled | None:
    """The clause made of ``tokens`` compiled to the subset, or None when it uses anything else."""
    try:
        node = _Parser(tokens).parse()
    except _OutsideSubsetError:
        return None
    paths = {path[:k] for path in node.paths() for k in range(1, len(path) + 1)}
    return Compiled(node, frozenset(paths))
