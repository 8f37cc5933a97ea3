"""Rules a batch at a time: the compiled CEL subset gives what CEL gives, clause by clause, for any lead.

The reference is the ``common-expression-language`` package itself: every generated rule is also checked
lead by lead through CEL (:meth:`Rule.check`), and every compiled clause's outcome — true, false, another
value, or an error and its kind — is compared with CEL's for the same lead.
"""

from __future__ import annotations

import datetime as dt
import doctest
import math
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from leadpact.core import _cel_batch
from leadpact.core import rules as rules_module
from leadpact.core._cel_batch import DEFER, Err
from leadpact.core.rules import Rule, RuleError, RuleResult, rules_check, rules_check_batch

_TEMPLATES = Path(rules_module.__file__).parent / "templates"
TEMPLATE_RULES = [
    d["rule"]
    for d in yaml.safe_load((_TEMPLATES / "agreement.en.yaml").read_text(encoding="utf-8"))["definitions"]
    if d.get("rule")
]

# --- rules from the subset (and a little outside it) ---------------------------------------------------

_FIELDS = ["score", "country", "email", "consent", "trigger", "phone", "extra.plan", "extra.n", "extra"]
_FIELD = st.sampled_from([f"lead.{name}" for name in _FIELDS])
_TEXT_CHARS = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"\\')
_STRING = st.one_of(
    st.sampled_from(["", "NL", "BE", "demo_request", "a@b.nl", "é", "👍", "1", "true", "null"]),
    st.text(_TEXT_CHARS, max_size=4),
).map(lambda s: f'"{s}"')
_NUMBER = st.one_of(
    st.sampled_from([0, 1, 49, 50, -1, 2**53, 2**53 + 1, 2**63 - 1, -(2**63)]),
    st.integers(-(2**63), 2**63 - 1),
).map(str) | st.one_of(
    st.sampled_from([0.0, -0.0, 0.5, 49.5, 50.0, 1e308, 5e-324, 9007199254740992.0, 9.3e18]),
    st.floats(allow_nan=False, allow_infinity=False),
).map(repr)
_LITERAL = st.one_of(_STRING, _NUMBER, st.sampled_from(["true", "false", "null"]))
_ATOM = st.one_of(
    _FIELD,
    _FIELD,
    _LITERAL,
    _FIELD.map(lambda f: f"size({f})"),
    _FIELD.map(lambda f: f"{f}.size()"),
)
_PATTERNS = ['"^a"', '"l$"', '"[0-9]+"', '"é"', '"(?i)nl"', '"["', '"(?<=a)b"', '".*"', '"^\\\\d+$"']


def _relation(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 6))
    if kind <= 1:
        op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
        return f"{draw(_ATOM)} {op} {draw(_ATOM)}"
    if kind == 2:
        items = draw(st.lists(_LITERAL, max_size=4))
        return f"{draw(_ATOM)} in [{', '.join(items)}]"
    if kind == 3:
        return f"has({draw(_FIELD)})"
    if kind == 4:
        method = draw(st.sampled_from(["startsWith", "endsWith", "contains"]))
        return f"{draw(_FIELD)}.{method}({draw(_STRING)})"
    if kind == 5:
        return f"{draw(_FIELD)}.matches({draw(st.sampled_from(_PATTERNS))})"
    return draw(
        st.sampled_from(
            [  # outside the subset: CEL evaluates them
                "lead.score + 1 > 50",
                "lead.consent ? true : false",
                "int(lead.score) >= 50",
                'lead.extra["plan"] == "pro"',
                'lead.email == "a\\n"',
                "lead.score < 1 < 2",
                "[lead.score].exists(x, x > 1)",
            ]
        )
    )


@st.composite
def _predicate(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(0, 9 if depth < 2 else 4))
    if kind <= 3:
        return _relation(draw)
    if kind == 4:
        return draw(_ATOM)  # a value where a boolean is expected
    if kind == 5:
        return f"!{draw(_predicate(depth + 1))}"
    if kind == 6:
        return f"!!{draw(_predicate(depth + 1))}"
    if kind == 7:
        return f"!({draw(_predicate(depth + 1))})"
    op = "&&" if kind == 8 else "||"
    parts = draw(st.lists(_predicate(depth + 1), min_size=2, max_size=5))
    return "(" + f" {op} ".join(parts) + ")"


@st.composite
def _rule_text(draw: st.DrawFn) -> str:
    return " && ".join(draw(st.lists(_predicate(), min_size=1, max_size=4)))


# --- leads with any values -------------------------------------------------------------------------

_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-100, 100),
    st.integers(),
    st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 2**53 + 1, 10**30]),
    st.floats(),  # NaN, infinities, -0.0
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("50"), Decimal("49.5"), Decimal("1E+2"), Decimal("1e19"), Decimal("sNaN")]),
    st.text(max_size=6),
    st.sampled_from(["NL", "BE", "DE", "", "demo_request", "a@b.nl", "\ud800", "é", "👍", "Nl", "50", "1"]),
    st.dates(),
    st.datetimes(timezones=st.just(dt.UTC)),
    st.binary(max_size=2),
)
_VALUE = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner),
        st.dictionaries(st.sampled_from(["plan", "n", "x"]), inner, max_size=3),
        st.frozensets(st.integers(0, 3), max_size=2),
    ),
    max_leaves=4,
)
_PLAIN = st.one_of(  # values the batch evaluates itself: text, int64 numbers, doubles, booleans
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(),
    st.text(max_size=6),
    st.sampled_from(["NL", "BE", "", "demo_request", "a@b.nl", "é", "👍", "50", 50, 49.5, -0.0, 2**53 + 1]),
)
_EXTRA = st.one_of(
    st.dictionaries(st.sampled_from(["plan", "n", "x"]), _PLAIN | _VALUE, max_size=3),
    _VALUE,
)
_LEAD = st.fixed_dictionaries(
    {},
    optional={name: _PLAIN | _VALUE for name in ("score", "country", "email", "consent", "trigger", "phone")}
    | {"extra": _EXTRA},
)


def _same_value(a: object, b: object) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)  # type: ignore[arg-type]
    return repr(a) == repr(b)


def _failures(result: RuleResult) -> list[tuple[object, ...]]:
    return [
        (f.clause, f.problem, f.detail, tuple((name, type(v), repr(v)) for name, v in f.values))
        for f in result.failures
    ]


def _as_cel(rule: Rule, clause_text: str, lead: dict[str, object]) -> object:
    """What CEL gives for one clause and lead, in the batch's terms (a value, or Err with its detail)."""
    clause = next(c for c in rule._clauses if c.text == clause_text)
    context = rules_module._lead_context(lead, rule._keys)
    try:
        return clause.program.execute(context)
    except Exception as exc:
        return Err(rules_module._error_detail(exc))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_rule_text(), min_size=1, max_size=3), st.lists(_LEAD, min_size=1, max_size=8), st.data())
def test_a_batch_says_what_cel_says_lead_by_lead(texts, leads, data):
    rules = []
    for text in texts:
        try:
            rules.append(Rule.parse(text))
        except RuleError:
            assume(False)
    lang = data.draw(st.sampled_from(["en", "nl"]))
    batch = rules_check_batch(rules, leads, lang=lang)
    assert len(batch) == len(leads)
    for lead, row in zip(leads, batch, strict=True):
        expected = [Rule.parse(text).check(lead, lang=lang) for text in texts]  # CEL, nothing remembered
        assert [r.met for r in row] == [r.met for r in expected], lead
        assert [r.failed for r in row] == [r.failed for r in expected], lead
        assert [_failures(r) for r in row] == [_failures(r) for r in expected], lead
        assert [r.describe("en") for r in row] == [r.describe("en") for r in expected]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_rule_text(), st.lists(_LEAD, min_size=1, max_size=8))
def test_every_compiled_clause_gives_cels_outcome_or_asks_cel(text, leads):
    try:
        rule = Rule.parse(text)
    except RuleError:
        assume(False)
    assume(rule._keys is not None)
    columns = {}
    odd: set[int] = set()
    for key in sorted(rule._keys):
        columns[key], unreadable = rules_module._cel_column(leads, key)
        odd |= unreadable
    for clause in rule._clauses:
        if clause.compiled is None:
            continue
        outcomes = clause.compiled.run(columns, len(leads))
        for i, lead in enumerate(leads):
            if i in odd or outcomes[i] is DEFER:
                event("left to CEL")
                continue
            event(
                f"compiled: {outcomes[i].detail if type(outcomes[i]) is Err else type(outcomes[i]).__name__}"
            )
            expected = _as_cel(rule, clause.text, lead)
            assert _same_value(outcomes[i], expected), (clause.text, lead, outcomes[i], expected)


def test_the_templates_rules_are_all_in_the_subset():
    for text in TEMPLATE_RULES:
        rule = Rule.parse(text)
        assert all(clause.compiled is not None for clause in rule._clauses), text


@given(
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "consent": st.booleans(),
                "email": st.sampled_from(["", "a@b.nl", "é@b.be"]),
                "phone": st.sampled_from(["", "+31 20 123 4567"]),
                "country": st.sampled_from(["NL", "BE", "DE", ""]),
                "score": st.integers(-10, 200) | st.floats(0, 100) | st.decimals(0, 100, places=2),
                "trigger": st.sampled_from(["demo_request", "pricing_request", "webinar", ""]),
            },
        ),
        min_size=1,
        max_size=20,
    )
)
@settings(max_examples=100, deadline=None)
def test_the_templates_rules_need_no_cel_for_leads_of_plain_values(leads):
    rules = [Rule.parse(text) for text in TEMPLATE_RULES]
    real = rules_module._lead_context

    def no_cel(*args, **kwargs):
        raise AssertionError("CEL was asked")

    rules_module._lead_context = no_cel  # type: ignore[assignment]
    try:
        batch = rules_check_batch(rules, leads)
    finally:
        rules_module._lead_context = real  # type: ignore[assignment]
    for lead, row in zip(leads, batch, strict=True):
        assert [(r.met, r.failed) for r in row] == [(r.met, r.failed) for r in rules_check(rules, lead)]


class TestBatch:
    def test_results_come_lead_by_lead_in_the_rules_order(self):
        high, low = Rule.parse("lead.score >= 50"), Rule.parse("lead.score < 50")
        batch = rules_check_batch([high, low], [{"score": 70}, {"score": 3}, {}])
        assert [[r.met for r in row] for row in batch] == [[True, False], [False, True], [False, False]]
        assert batch[2][0].failed == ["lead.score >= 50 (lead.score is missing)"]

    def test_no_leads_and_no_rules(self):
        assert rules_check_batch([Rule.parse("lead.score > 1")], []) == []
        assert rules_check_batch([], [{"score": 1}, {}]) == [[], []]

    def test_a_rule_outside_the_subset_is_checked_by_cel(self):
        rule = Rule.parse("lead.score + 1 > 50 && size(lead) > 1")
        assert rule._keys is None
        [[result]] = rules_check_batch([rule], [{"score": 10, "email": "a@b.nl"}])
        assert result.failed == ["lead.score + 1 > 50 (lead.score is 10)"]

    def test_a_clause_outside_the_subset_is_checked_by_cel_the_rest_by_columns(self):
        rule = Rule.parse('lead.score + 1 > 50 && lead.country == "NL"')
        assert [c.compiled is not None for c in rule._clauses] == [False, True]
        rows = rules_check_batch([rule], [{"score": 60, "country": "NL"}, {"score": 1, "country": "BE"}])
        assert rows[0][0].met
        assert rows[1][0].failed == [
            "lead.score + 1 > 50 (lead.score is 1)",
            'lead.country == "NL" (lead.country is "BE")',
        ]

    def test_a_value_cel_cannot_take_is_unreadable_for_the_rules_that_read_it(self):
        reads, ignores = Rule.parse("size(lead.recent_touches) > 0"), Rule.parse("lead.score >= 50")
        [[first, second]] = rules_check_batch([reads, ignores], [{"score": 60, "recent_touches": {1, 2}}])
        assert first.failed == [
            "size(lead.recent_touches) > 0 (lead.recent_touches is [1, 2];"
            " could not be evaluated: a value of the lead cannot be read by rules)"
        ]
        assert second.met

    @pytest.mark.parametrize(
        ("text", "lead", "failed"),
        [
            ("lead.score >= 50", {"score": "high"}, "could not be evaluated: the types do not match"),
            ("lead.score > 1", {"score": math.nan}, "could not be evaluated: the types do not match"),
            ('lead.country == "NL"', {"country": 1}, None),
            ("lead.consent", {"consent": "yes"}, 'gave "yes" instead of true or false'),
            ("size(lead.name) == 2", {"name": "é"}, None),  # CEL counts UTF-8 bytes
            ("lead.extra.plan == 1", {"extra": "pro"}, "(lead.extra.plan is missing)"),
        ],
    )
    def test_errors_and_values_in_words(self, text, lead, failed):
        [[result]] = rules_check_batch([Rule.parse(text)], [lead])
        assert result.met is False if failed is not None else True
        assert result.failed == Rule.parse(text).check(lead).failed
        assert result.failures == Rule.parse(text).check(lead).failures
        if failed is not None:
            assert failed in result.failed[0]

    def test_a_clause_two_rules_share_is_evaluated_once(self, monkeypatch):
        first = Rule.parse('lead.consent == true && lead.country == "NL"')
        second = Rule.parse("lead.consent == true && lead.score > 1")
        runs: list[int] = []
        real = _cel_batch.Compiled.run

        def counting(self, columns, n):
            runs.append(n)
            return real(self, columns, n)

        monkeypatch.setattr(_cel_batch.Compiled, "run", counting)
        rules_check_batch([first, second], [{"consent": True, "country": "NL", "score": 2}] * 3)
        assert runs == [3, 3, 3]  # consent, country, score: not consent twice

    def test_a_regex_cel_refuses_is_cels_error(self):
        rule = Rule.parse('lead.name.matches("(?<=a)b")')
        [[result]] = rules_check_batch([rule], [{"name": "ab"}])
        assert result.failed == rule.check({"name": "ab"}).failed
        assert "could not be evaluated" in result.failed[0]


@pytest.mark.parametrize("module", [rules_module, _cel_batch])
def test_the_examples_in_the_docstrings(module):
    result = doctest.testmod(module)
    assert result.failed == 0 and result.attempted > 0
