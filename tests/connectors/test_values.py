"""Cell values: amounts, counts, countries, consent (leadpact.connectors._values)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadpact.connectors._values import _COUNTRIES, parse_amount, parse_consent, parse_count, to_country

amounts = st.decimals(min_value=Decimal("-9999999.99"), max_value=Decimal("9999999.99"), places=2)


@settings(max_examples=400)
@given(amount=amounts)
def test_amounts_in_both_locales_parse_back(amount):
    us = f"{amount:,.2f}"
    nl = us.replace(",", "_").replace(".", ",").replace("_", ".")
    assert parse_amount(us) == amount
    assert parse_amount(nl) == amount
    assert parse_amount(f"€ {nl}") == amount
    assert parse_amount(str(amount)) == amount


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1.500", "1500"), ("1,500", "1500"), ("99,5", "99.5"), ("1.234.567", "1234567"), ("(250)", "-250")],
)
def test_single_separator_rule(text, expected):
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "veel", "1.2.3,4,5", "NaN", "€"])
def test_not_amounts(text):
    with pytest.raises(ValueError, match="is not an amount"):
        parse_amount(text)


def test_counts():
    assert parse_count("87") == 87 and parse_count("87.0") == 87 and parse_count(" 5 ") == 5
    for bad in ("87.5", "lots", "inf"):
        with pytest.raises(ValueError, match="not"):
            parse_count(bad)


def test_every_known_code_maps_to_itself_and_names_to_codes():
    for code in set(_COUNTRIES.values()):
        assert to_country(code) == code and to_country(code.lower()) == code
    assert to_country("België") == "BE" and to_country("United Kingdom") == "GB"
    assert to_country("Atlantis") == "Atlantis"


def test_consent_words():
    assert parse_consent("Ja") is True and parse_consent("opted out") is False
    assert parse_consent("maybe") is None
