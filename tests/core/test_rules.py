"""Definition rules: CEL parsing with positions, unknown fields, clause-by-clause checks in words."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import cel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadpact.core import rules as rules_module
from leadpact.core.rules import LEAD_FIELDS, Rule, RuleError, RulePosition

MQL = 'lead.score >= 50 && lead.country in ["NL", "BE"] && lead.email != ""'


class TestParse:
    def test_a_rule_keeps_its_text_and_fields(self):
        rule = Rule.parse(MQL)
        assert rule.text == MQL
        assert rule.fields == {"score", "country", "email"}
        assert rule.clauses == ("lead.score >= 50", 'lead.country in ["NL", "BE"]', 'lead.email != ""')

    def test_rules_compare_by_text(self):
        assert Rule.parse(MQL) == Rule.parse(MQL)
        assert Rule.parse(MQL) != Rule.parse("lead.score >= 50")

    @pytest.mark.parametrize(
        ("text", "reason", "offset", "line", "column"),
        [
            ("lead.scor >= 50", "unknown field lead.scor (did you mean lead.score?)", 0, 1, 1),
            (
                'lead.email != "" && lead.contry == "NL"',
                "unknown field lead.contry (did you mean lead.country?)",
                20,
                1,
                21,
            ),
            (
                "lead.score >= 50 &&\n  lead.emial != ''",
                "unknown field lead.emial (did you mean lead.email?)",
                22,
                2,
                3,
            ),
            ("lead.zzzzzz == 1", "unknown field lead.zzzzzz", 0, 1, 1),
            ('lead["scroe"] > 1', "unknown field lead.scroe (did you mean lead.score?)", 0, 1, 1),
            ("score >= 50", "unknown name score (rules talk about lead.<field>)", 0, 1, 1),
            (
                "leed.score >= 50",
                "unknown name leed (rules talk about lead.<field>; did you mean lead?)",
                0,
                1,
                1,
            ),
            ("lenght(lead.name) > 3", "unknown function lenght", 0, 1, 1),
            (
                'lead.name.startswith("A")',
                "unknown function startswith (did you mean startsWith?)",
                10,
                1,
                11,
            ),
            ("lead[1] == 2", 'lead fields must be named, as lead.<field> or lead["field"]', 0, 1, 1),
            ("lead.score >=", "syntax error: the rule ends too early", 13, 1, 14),
            ("lead.score >= 50 &&& lead.email", "syntax error: unexpected character '&'", 19, 1, 20),
            ('lead.name == "abc', "syntax error: unterminated string", 13, 1, 14),
            ("lead.score >= 50 &&\n (lead.email ==", "syntax error: the rule ends too early", 35, 2, 16),
            ('lead.name == "é" &&& x', "syntax error: unexpected character '&'", 19, 1, 20),
            ("lead.score 50", "syntax error: unexpected '50'", 11, 1, 12),
            ("lead.score >= 50)", "syntax error: unexpected ')'", 16, 1, 17),
            ("(lead.score", "syntax error: missing ')' at the end", 11, 1, 12),
            ("lead.score >= 50 && && lead.email", "syntax error: unexpected '&&'", 20, 1, 21),
            ("lead.score == 1 ; 2", "syntax error: unexpected character ';'", 16, 1, 17),
            ("$x", "syntax error: unexpected character '$'", 0, 1, 1),
        ],
    )
    def test_bad_rules_say_what_and_where(self, text, reason, offset, line, column):
        with pytest.raises(RuleError) as caught:
            Rule.parse(text)
        assert caught.value.reason == reason
        assert caught.value.position == RulePosition(offset, line, column)
        assert str(caught.value) == f"{reason} at line {line}, column {column}"
        assert isinstance(caught.value, ValueError)

    @pytest.mark.parametrize("text", ["", "   ", "\n"])
    def test_an_empty_rule_is_refused(self, text):
        with pytest.raises(RuleError, match="rule is empty") as caught:
            Rule.parse(text)
        assert caught.value.position is None

    def test_a_rule_that_is_not_text_is_refused(self):
        with pytest.raises(RuleError, match="rule must be text"):
            Rule.parse(50)  # type: ignore[arg-type]

    def test_every_known_field_may_be_named(self):
        text = " && ".join(f"has(lead.{name})" for name in LEAD_FIELDS)
        assert Rule.parse(text).fields == set(LEAD_FIELDS)

    def test_extra_fields_are_free(self):
        rule = Rule.parse('lead.extra.plan == "pro" && lead.extra["sign up"] == true && size(lead.extra) > 0')
        assert rule.fields == {"extra.plan", "extra.sign up", "extra"}

    def test_names_bound_by_macros_are_not_fields(self):
        rule = Rule.parse('lead.recent_touches.exists(t, t.channel == "web" && t.days < 30)')
        assert rule.fields == {"recent_touches"}

    def test_strings_and_comments_are_not_read_as_names(self):
        rule = Rule.parse('lead.name != "lead.scor && foo" // lead.bogus in a comment\n && lead.score > 1')
        assert rule.fields == {"name", "score"}

    def test_whitelisted_functions_exist_in_the_engine(self):
        # the whitelist must not promise functions the engine lacks
        samples = {
            "size": 'size("ab") == 2',
            "has": "has({'a': 1}.a)",
            "int": 'int("3") == 3',
            "uint": "uint(3) == 3u",
            "double": "double(3) == 3.0",
            "string": 'string(3) == "3"',
            "bytes": 'bytes("a") == b"a"',
            "dyn": "dyn(3) == 3",
            "type": "type(3) == int",
            "timestamp": 'timestamp("2026-01-01T00:00:00Z").getFullYear() == 2026',
            "duration": 'duration("1h") == duration("60m")',
            "matches": '"ab".matches("a")',
            "contains": '"ab".contains("a")',
            "startsWith": '"ab".startsWith("a")',
            "endsWith": '"ab".endsWith("b")',
            "all": "[1].all(x, x > 0)",
            "exists": "[1].exists(x, x > 0)",
            "exists_one": "[1].exists_one(x, x > 0)",
            "map": "[1].map(x, x * 2) == [2]",
            "filter": "[1, 2].filter(x, x > 1) == [2]",
        }
        stamp = 'timestamp("2026-03-04T05:06:07Z")'
        for getter in sorted(rules_module._FUNCTIONS - set(samples)):
            samples[getter] = f"{stamp}.{getter}() >= 0"
        assert set(samples) == rules_module._FUNCTIONS
        for name, expression in samples.items():
            assert cel.evaluate(expression) is True, name


class TestCheck:
    def test_a_lead_that_meets_the_rule(self):
        result = Rule.parse(MQL).check({"score": 60, "country": "NL", "email": "a@b.nl"})
        assert result.met is True
        assert result.failed == []

    def test_failed_clauses_are_named_with_the_values(self):
        result = Rule.parse(MQL).check({"score": 35, "country": "DE", "email": "a@b.de"})
        assert result.met is False
        assert result.failed == [
            "lead.score >= 50 (lead.score is 35)",
            'lead.country in ["NL", "BE"] (lead.country is "DE")',
        ]

    def test_missing_and_none_fields_are_missing(self):
        result = Rule.parse(MQL).check({"score": 70, "country": "BE", "email": None})
        assert result.failed == ['lead.email != "" (lead.email is missing)']
        assert Rule.parse(MQL).check({}).failed == [
            "lead.score >= 50 (lead.score is missing)",
            'lead.country in ["NL", "BE"] (lead.country is missing)',
            'lead.email != "" (lead.email is missing)',
        ]

    def test_dutch_words(self):
        result = Rule.parse(MQL).check({"score": 35, "country": "NL"}, lang="nl")
        assert result.failed == [
            "lead.score >= 50 (lead.score is 35)",
            'lead.email != "" (lead.email ontbreekt)',
        ]
        assert result.describe("en") == [
            "lead.score >= 50 (lead.score is 35)",
            'lead.email != "" (lead.email is missing)',
        ]

    def test_nested_conjunctions_are_split(self):
        rule = Rule.parse('(lead.score >= 50 && (lead.email != "" && lead.phone != "")) && lead.consent')
        assert rule.clauses == ("lead.score >= 50", 'lead.email != ""', 'lead.phone != ""', "lead.consent")
        result = rule.check({"score": 80, "email": "x@y.nl", "phone": "", "consent": True})
        assert result.failed == ['lead.phone != "" (lead.phone is "")']

    def test_disjunctions_and_conditionals_stay_one_clause(self):
        rule = Rule.parse('lead.score >= 50 && (lead.trigger == "demo" || lead.score >= 80)')
        assert rule.clauses == ("lead.score >= 50", 'lead.trigger == "demo" || lead.score >= 80')
        assert Rule.parse("lead.score > 1 && lead.score < 9 || lead.consent").clauses == (
            "lead.score > 1 && lead.score < 9 || lead.consent",
        )
        assert Rule.parse("lead.consent ? lead.score > 1 : false").clauses == (
            "lead.consent ? lead.score > 1 : false",
        )
        result = rule.check({"score": 60, "trigger": "webinar"})
        assert result.failed == [
            'lead.trigger == "demo" || lead.score >= 80 (lead.trigger is "webinar"; lead.score is 60)'
        ]

    def test_an_evaluation_error_is_not_met_with_a_reason(self):
        result = Rule.parse("lead.score >= 50").check({"score": "high"})
        assert result.met is False
        assert result.failed == [
            'lead.score >= 50 (lead.score is "high"; could not be evaluated: the types do not match)'
        ]
        assert result.describe("nl") == [
            'lead.score >= 50 (lead.score is "high"; kon niet worden berekend: de soorten waarden'
            " passen niet bij elkaar)"
        ]

    def test_division_by_zero(self):
        result = Rule.parse("lead.score / 0 > 1").check({"score": 3})
        assert result.failed == [
            "lead.score / 0 > 1 (lead.score is 3; could not be evaluated: division by zero)"
        ]

    def test_a_rule_that_gives_no_boolean_is_not_met(self):
        result = Rule.parse("lead.score + 1").check({"score": 2})
        assert result.met is False
        assert result.failed == ["lead.score + 1 (lead.score is 2; gave 3 instead of true or false)"]
        assert result.describe("nl") == [
            "lead.score + 1 (lead.score is 2; gaf 3 in plaats van waar of onwaar)"
        ]

    def test_values_of_all_kinds(self):
        lead = {
            "score": Decimal("49.5"),
            "consent": False,
            "recent_touches": [{"channel": "web"}],
            "extra": {"plan": "free", "seats": None},
        }
        rule = Rule.parse(
            'lead.score >= 50 && lead.consent && size(lead.recent_touches) > 1 && lead.extra.plan == "pro"'
            " && lead.extra.seats > 1"
        )
        assert rule.check(lead).failed == [
            "lead.score >= 50 (lead.score is 49.5)",
            "lead.consent (lead.consent is false)",
            'size(lead.recent_touches) > 1 (lead.recent_touches is [{"channel": "web"}])',
            'lead.extra.plan == "pro" (lead.extra.plan is "free")',
            "lead.extra.seats > 1 (lead.extra.seats is missing)",
        ]

    def test_decimals_and_dates_reach_cel(self):
        rule = Rule.parse('lead.score >= 50 && lead.extra.since < "2026-02-01"')
        assert rule.check({"score": Decimal("50"), "extra": {"since": dt.date(2026, 1, 5)}}).met
        assert rule.matches({"score": Decimal("50.25"), "extra": {"since": "2026-01-31"}})
        assert not rule.matches({"score": 50, "extra": {"since": "2026-02-01"}})

    def test_timestamps(self):
        rule = Rule.parse('lead.extra.at < timestamp("2026-01-01T00:00:00Z")')
        assert rule.matches({"extra": {"at": dt.datetime(2025, 6, 1, tzinfo=dt.UTC)}})

    def test_a_rule_on_the_whole_lead_sees_every_field(self):
        rule = Rule.parse("size(lead) >= 2")
        assert rule.fields == set()
        assert rule.matches({"name": "Jan", "email": "jan@example.nl", "phone": None})
        assert not rule.matches({"name": "Jan", "phone": None})

    def test_only_named_fields_matter(self):
        rule = Rule.parse("lead.score >= 50")
        assert rule.matches({"score": 50, "recent_touches": [object()]})

    def test_a_value_cel_cannot_take(self):
        rule = Rule.parse("lead.score >= 50 && size(lead.recent_touches) > 0")
        lead = {"score": 60, "recent_touches": {1, 2}}
        assert rule.matches(lead) is False
        result = rule.check(lead)
        assert result.met is False
        assert result.failed == [
            "lead.score >= 50 && size(lead.recent_touches) > 0 (lead.recent_touches is [1, 2];"
            " lead.score is 60;"
            " could not be evaluated: a value of the lead cannot be read by rules)"
        ]
        assert result.describe("nl")[0].endswith(
            "kon niet worden berekend: een waarde van de lead is niet leesbaar voor regels)"
        )

    def test_matches_is_false_on_errors(self):
        assert Rule.parse(MQL).matches({}) is False
        assert Rule.parse("lead.score + 1").matches({"score": 1}) is False

    @settings(max_examples=300, deadline=None)
    @given(
        score=st.one_of(st.none(), st.integers(-1000, 1000)),
        country=st.one_of(st.none(), st.sampled_from(["NL", "BE", "DE", ""])),
        email=st.one_of(st.none(), st.sampled_from(["", "a@b.nl"])),
    )
    def test_check_agrees_with_a_python_reference(self, score, country, email):
        lead = {"score": score, "country": country, "email": email}
        expected = [
            score is not None and score >= 50,
            country is not None and country in ("NL", "BE"),
            email is not None and email != "",
        ]
        result = Rule.parse(MQL).check(lead)
        assert result.met is all(expected)
        assert Rule.parse(MQL).matches(lead) is all(expected)
        failed_clauses = [f.clause for f in result.failures]
        assert failed_clauses == [
            c for c, ok in zip(Rule.parse(MQL).clauses, expected, strict=True) if not ok
        ]


class TestPosition:
    @settings(max_examples=200, deadline=None)
    @given(st.text(alphabet="ab\n", max_size=30), st.data())
    def test_line_column_and_offset_agree(self, text, data):
        offset = data.draw(st.integers(0, len(text)))
        position = RulePosition.at(text, offset)
        assert RulePosition.of_line_column(text, position.line, position.column) == position
        lines = text[:offset].split("\n")
        assert (position.line, position.column) == (len(lines), len(lines[-1]) + 1)


_REMEMBERED_RULES = [
    'lead.consent == true && (lead.email != "" || lead.phone != "")',
    'lead.consent == true && lead.country in ["NL", "BE"] && (lead.score >= 50 || lead.trigger == "demo")',
    "lead.score >= 1 && lead.recent_touches > 0",
    'lead.extra.segment == "smb" && lead.score < 10',
    'size(lead) > 2 && lead.country == "NL"',  # reads the lead as a whole: nothing is remembered
]
# values that are equal in Python but not in a rule's eyes or words: 1, 1.0, True, Decimal("1.0"), "1"
_VALUE = st.one_of(
    st.none(),
    st.sampled_from(["", "NL", "BE", "DE", "demo", "1", "a@b.nl"]),
    st.sampled_from(
        [0, 1, 50, 49, -1, True, False, 1.0, 0.0, -0.0, Decimal("1.0"), Decimal("1"), Decimal("50.00")]
    ),
)
_SET = _VALUE.filter(lambda v: v is not None)
_LEAD = st.fixed_dictionaries(
    {},
    optional={
        name: _VALUE
        for name in ("consent", "email", "phone", "country", "score", "trigger", "recent_touches")
    }
    | {
        "extra": st.dictionaries(st.sampled_from(["segment", "size"]), _VALUE.filter(lambda v: v is not None))
    },
)


@settings(max_examples=60)
@given(st.lists(_LEAD, min_size=1, max_size=30), st.sampled_from(["en", "nl"]))
def test_a_rule_that_remembers_clauses_says_what_a_new_one_says(leads, lang):
    """Clause outcomes are remembered per rule; over any sequence of leads, the words are a fresh rule's."""
    remembering = [Rule.parse(text) for text in _REMEMBERED_RULES]
    for lead in leads:
        for rule in remembering:
            fresh = Rule.parse(rule.text).check(lead, lang=lang)
            seen = rule.check(lead, lang=lang)
            assert (seen.met, seen.failed, seen.failures) == (fresh.met, fresh.failed, fresh.failures), lead
        together = rules_module.rules_check(remembering, lead, lang=lang)
        assert [r.failed for r in together] == [
            Rule.parse(r.text).check(lead, lang=lang).failed for r in remembering
        ]


def test_a_clause_met_or_failed_before_is_not_evaluated_again(monkeypatch):
    rule = Rule.parse('lead.consent == true && lead.country in ["NL", "BE"] && lead.email != ""')
    runs: list[str] = []
    real = Rule._check_clause

    def counting(clause, lead, context):
        runs.append(clause.text)
        return real(clause, lead, context)

    monkeypatch.setattr(Rule, "_check_clause", staticmethod(counting))
    first = rule.check({"country": "DE", "email": "a@b.nl"})
    assert len(runs) == 3
    second = rule.check({"country": "DE", "email": "c@d.nl"})  # the same consent and country, a new e-mail
    assert runs[3:] == ['lead.email != ""']
    assert (
        first.failed
        == second.failed
        == [
            "lead.consent == true (lead.consent is missing)",
            'lead.country in ["NL", "BE"] (lead.country is "DE")',
        ]
    )


@pytest.mark.parametrize("first", [1, True, "1", 1.0, Decimal("1.0")])
def test_equal_values_of_other_types_are_remembered_apart(first):
    """1, True, "1", 1.0 and Decimal("1.0") are equal or alike, but a rule treats and words them apart."""
    rule = Rule.parse('lead.score >= 1 && lead.country == "NL"')
    rule.check({"score": first})
    for value in (1, True, "1", 1.0, Decimal("1.0")):
        assert rule.check({"score": value}).failed == Rule.parse(rule.text).check({"score": value}).failed


def test_a_nested_field_missing_in_different_ways_is_not_remembered_as_one():
    """No extra at all is an error, an extra without the key makes has() false, an extra that is no map is
    another error: the same "missing" in words, but each lead gets the failure CEL gives it."""
    rule = Rule.parse("has(lead.extra.plan) && lead.extra.plan.startsWith('p')")
    leads = [{}, {"extra": {}}, {"extra": []}, {"extra": "pro"}, {"extra": {"plan": None}}, {}]
    for lead in leads:
        assert rule.check(lead).failures == Rule.parse(rule.text).check(lead).failures, lead
    problems = [rule.check(lead).failures[0].problem for lead in leads[:2]]
    assert problems == ["error", "false"]


def test_a_function_called_on_extra_names_no_field():
    rule = Rule.parse("lead.extra.size() > 0")
    assert rule.fields == {"extra"}
    assert rule.check({"extra": {}}).failed == ["lead.extra.size() > 0 (lead.extra is {})"]
