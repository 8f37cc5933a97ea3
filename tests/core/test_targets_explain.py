"""Explanations: steps with codes and numbers, rendered in English and Dutch from core's own tables."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from string import Formatter

import pytest

from leadpact.core.explain import MESSAGES, Explanation, Step, format_number


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}


def test_both_languages_have_every_message_with_the_same_numbers():
    assert MESSAGES["en"].keys() == MESSAGES["nl"].keys()
    for code, template in MESSAGES["en"].items():
        assert fields(template) == fields(MESSAGES["nl"][code]), code


@pytest.mark.parametrize(
    ("value", "lang", "places", "text"),
    [
        (Fraction(200, 3), "en", 2, "66.67"),
        (Fraction(200, 3), "nl", 2, "66,67"),
        (Fraction(40), "en", 2, "40"),
        (Fraction(5, 2), "nl", 0, "2"),
        (Decimal("9448.82"), "nl", 2, "9448,82"),
        (0.0034099, "en", 4, "0.0034"),
        (Fraction(-1, 1000), "en", 2, "0"),
        (17, "nl", 2, "17"),
    ],
)
def test_format_number(value, lang, places, text):
    assert format_number(value, lang, places=places) == text


def test_a_step_renders_words_numbers_and_dates():
    step = Step(
        "basis_days",
        {"basis": "business_days", "days": 20, "first": date(2026, 2, 1), "last": date(2026, 2, 28)},
    )
    assert step.render("en") == "2026-02-01 – 2026-02-28 has 20 business days."
    assert step.render("nl") == "2026-02-01 – 2026-02-28 telt 20 werkdagen."
    holidays = Step("holidays", {"names": ("Good Friday (2026-04-03)", "King's Day (2026-04-27)")})
    assert (
        holidays.render("en")
        == "Public holidays taken out: Good Friday (2026-04-03), King's Day (2026-04-27)."
    )


def test_explanation_numbers_its_steps():
    why = Explanation(
        "Ann (team 2026-04)",
        (
            Step("team_total", {"exact": Fraction(22800, 127)}),
            Step("rounded", {"value": 180, "rule": "half_even"}),
        ),
    )
    assert why.codes == ("team_total", "rounded")
    assert why.render("en").splitlines() == [
        "Ann (team 2026-04):",
        "1. The team target for the window is 179.53 (exact: the rate summed over each basis day).",
        "2. Rounded to 180 (half to even).",
    ]
    assert why.render("nl").splitlines()[2] == "2. Afgerond op 180 (half naar even)."
    assert why.step("rounded").values["value"] == 180
    with pytest.raises(KeyError, match="no step 'ramp'"):
        why.step("ramp")


def test_a_step_missing_a_number_fails_loudly():
    with pytest.raises(KeyError):
        Step("rounded", {"value": 1}).render("en")
