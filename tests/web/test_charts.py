"""Server-side SVG charts: round axes that always hold the data, escaped text, shapes without colour."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadpact.web.charts import STATUS_SYMBOL, nice_axis, pacing_chart, trend_chart

SVG = "{http://www.w3.org/2000/svg}"


@given(st.floats(min_value=1e-6, max_value=1e12, allow_nan=False))
def test_the_axis_holds_the_highest_value_in_a_few_round_steps(high):
    axis = nice_axis(high)
    assert axis.ticks[0] == 0.0 and axis.high >= high
    assert 2 <= len(axis.ticks) <= 11
    steps = {round(b - a, 9) for a, b in zip(axis.ticks, axis.ticks[1:], strict=False)}
    (step,) = {round(s, 6) for s in steps} if len(steps) > 1 else steps
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1, 2, 2.5, 5, 10))
    assert axis.high < high + 2 * step  # no more than one step of headroom


@pytest.mark.parametrize("high", [0, -5, float("nan"), float("inf")])
def test_an_empty_or_odd_range_still_draws_an_axis(high):
    axis = nice_axis(high)
    assert axis.ticks == (0.0, 1.0)


def _parse(svg):
    return ET.fromstring(str(svg))


def test_the_pacing_chart_draws_both_lines_and_today_and_escapes_every_text():
    svg = pacing_chart(
        labels=["1", "2", "3", "4"],
        actual=[Decimal(1), Decimal(3), None, None],
        target=[Decimal(2), Decimal(4), Decimal(6), Decimal(8)],
        today=1,
        value_label=lambda v: f"{v:g}",
        title="MQLs <script>",
        desc="3 of 8",
        actual_name="Actual",
        target_name="Target",
        today_name="Today",
    )
    root = _parse(svg)
    assert root.find(f"{SVG}title").text == "MQLs <script>"  # as text, never markup
    lines = {p.get("class"): p.get("points") for p in root.iter(f"{SVG}polyline")}
    assert set(lines) == {"actual", "target"}
    assert len(lines["actual"].split()) == 2 and len(lines["target"].split()) == 4
    assert root.find(f"{SVG}line[@class='today']") is not None
    # the target's last point is the top of the axis or below it
    top_y = min(float(p.split(",")[1]) for p in lines["target"].split())
    assert top_y >= 16


def test_the_trend_chart_marks_each_status_with_a_symbol_not_only_a_colour():
    statuses = ["met", "breached", "on_track"]
    svg = trend_chart(
        labels=["2026-08", "2026-09", "2026-10"],
        actual=[Decimal(10), Decimal(4), None],
        target=[Decimal(8), Decimal(8), Decimal(8)],
        statuses=statuses,
        value_label=lambda v: f"{v:g}",
        title="Trend",
        desc="three months",
        actual_name="Actual",
        target_name="Target",
        current=2,
    )
    root = _parse(svg)
    assert len(list(root.iter(f"{SVG}rect"))) == 2  # no bar for a period without a value
    symbols = [t.text for t in root.iter(f"{SVG}text") if (t.get("class") or "").startswith("status")]
    assert symbols == [STATUS_SYMBOL[s] for s in statuses]


def test_series_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="same"):
        trend_chart(
            labels=["a"],
            actual=[],
            target=[1],
            statuses=["met"],
            value_label=str,
            title="",
            desc="",
            actual_name="",
            target_name="",
        )
