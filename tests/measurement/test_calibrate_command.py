"""``leadpact calibrate``: DOMAIN.md's revenue example, and a target tested against history."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("calibrate", *args, stdout=out)
    return out.getvalue()


def test_lead_goal_backwards_from_revenue_is_domains_example():
    text = run("--revenue", "200000", "--share", "0.6", "--deal", "4000", "--rate", "0.03")
    assert text.strip().endswith("= 1000 → 1000 leads a month")


def test_history_gives_the_chance_of_a_target_in_both_languages():
    history = "120,135,110,128,104,125"
    text = run("--history", history, "--target", "110")
    assert "delivered 120 ± 12 a month; 110 has a chance of about 81%" in text
    dutch = run("--history", history, "--chance", "0.8", "--lang", "nl")
    assert "voorgesteld doel bij 80% kans: 110" in dutch


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give --revenue"),
        (("--revenue", "1000"), "needs all four"),
        (("--revenue", "1", "--share", "0.5", "--deal", "10", "--rate", "0"), "lead_to_customer"),
        (("--history", "120"), "at least 2"),
        (("--history", "12,abc"), "'abc' is not a number"),
    ],
)
def test_bad_input_is_one_clear_line(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
