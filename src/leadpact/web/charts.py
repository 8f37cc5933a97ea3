"""Charts as server-side SVG: no JavaScript, no CDN, readable without colour alone.

Two charts carry the scorecard (and the review pack):

- :func:`pacing_chart` — a period's cumulative actual against its target line, with a marker for today;
- :func:`trend_chart` — the last periods' actuals as bars with each period's target as a tick, and each
  bar's status written under it as a symbol (✓ met, ✗ missed, ··· running).

Lines differ by dash as well as colour; every chart has a ``<title>`` and a ``<desc>`` that say in words
what it shows, and the page puts the same numbers in a table beside it. Output is markup-safe: every text
is escaped here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from django.utils.safestring import SafeString, mark_safe

__all__ = ["Axis", "nice_axis", "pacing_chart", "trend_chart"]

Number = Decimal | int | float

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 62


@dataclass(frozen=True, slots=True)
class Axis:
    """A value axis from ``low`` to ``high`` with ``ticks`` at round values, both ends included."""

    low: float
    high: float
    ticks: tuple[float, ...]

    def scale(self, value: float, top: float, bottom: float) -> float:
        """The y coordinate of ``value`` between pixel ``bottom`` (low) and ``top`` (high)."""
        span = self.high - self.low
        share = 0.0 if span == 0 else (value - self.low) / span
        return bottom - share * (bottom - top)


def nice_axis(high: float, *, low: float = 0.0, count: int = 4) -> Axis:
    """Round ticks from ``low`` up to at least ``high``: steps of 1, 2, 2.5 or 5 × a power of ten.

    >>> nice_axis(93).ticks
    (0.0, 25.0, 50.0, 75.0, 100.0)
    >>> nice_axis(0).ticks
    (0.0, 1.0)
    """
    if not math.isfinite(high) or high <= low:
        return Axis(low, low + 1.0, (low, low + 1.0))
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    top = low + step * math.ceil((high - low) / step - 1e-9)
    if top < high:  # a step too few after rounding: one more
        top += step

    ticks = []
    value = low
    while value <= top + step / 2:
        ticks.append(round(value, 10))
        value += step
    return Axis(low, ticks[-1], tuple(ticks))


def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(body: list[str], *, title: str, desc: str, width: int = WIDTH, height: int = HEIGHT) -> SafeString:
    head = (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>"
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 - every text above is escaped


def _y_axis(axis: Axis, label: Callable[[float], str]) -> list[str]:
    parts = []
    for tick in axis.ticks:
        y = axis.scale(tick, TOP, HEIGHT - BOTTOM)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_f(y)}" y2="{_f(y)}"/>')
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{_f(y + 4)}" text-anchor="end">'
            f"{escape(label(tick))}</text>"
        )
    return parts


def pacing_chart(
    *,
    labels: Sequence[str],
    actual: Sequence[Number | None],
    target: Sequence[Number],
    today: int | None,
    value_label: Callable[[float], str],
    title: str,
    desc: str,
    actual_name: str,
    target_name: str,
    today_name: str,
) -> SafeString:
    """A period's pacing: cumulative ``actual`` (a solid line, None after today) against the cumulative
    ``target`` line (dashed), one point per day in ``labels``; ``today`` is the index of today's point.

    Texts come in from the caller, already translated.
    """
    n = len(labels)
    if n == 0 or len(actual) != n or len(target) != n:
        raise ValueError("labels, actual and target must have the same, non-zero length")
    values = [float(v) for v in target] + [float(v) for v in actual if v is not None]
    axis = nice_axis(max(values) if values else 0.0)
    width = WIDTH - LEFT - RIGHT

    def x(i: int) -> float:
        return LEFT + (width * i / (n - 1) if n > 1 else width / 2)

    def y(v: float) -> float:
        return axis.scale(v, TOP, HEIGHT - BOTTOM)

    body = _y_axis(axis, value_label)
    every = max(1, math.ceil(n / 8))
    for i in range(0, n, every):
        body.append(
            f'<text class="tick" x="{_f(x(i))}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
            f"{escape(labels[i])}</text>"
        )
    target_points = " ".join(f"{_f(x(i))},{_f(y(float(v)))}" for i, v in enumerate(target))
    body.append(f'<polyline class="target" points="{target_points}"/>')
    known = [(i, float(v)) for i, v in enumerate(actual) if v is not None]
    if known:
        points = " ".join(f"{_f(x(i))},{_f(y(v))}" for i, v in known)
        body.append(f'<polyline class="actual" points="{points}"/>')
        last_i, last_v = known[-1]
        body.append(f'<circle class="actual-dot" cx="{_f(x(last_i))}" cy="{_f(y(last_v))}" r="4"/>')
    if today is not None and 0 <= today < n:
        tx = _f(x(today))
        body.append(f'<line class="today" x1="{tx}" x2="{tx}" y1="{TOP}" y2="{HEIGHT - BOTTOM}"/>')
        body.append(f'<text class="today-label" x="{tx}" y="{TOP + 8}" dx="4">{escape(today_name)}</text>')
    body.extend(_legend([("actual", actual_name), ("target", target_name)]))
    return _svg(body, title=title, desc=desc)


def _legend(items: Sequence[tuple[str, str]]) -> list[str]:
    parts = []
    x = LEFT
    y = HEIGHT - 4
    for css, name in items:
        parts.append(f'<line class="{css}" x1="{x}" x2="{x + 22}" y1="{y - 4}" y2="{y - 4}"/>')
        parts.append(f'<text class="legend" x="{x + 28}" y="{y}">{escape(name)}</text>')
        x += 40 + 8 * len(name)
    return parts


#: A status as a symbol, so a bar's outcome reads without colour.
STATUS_SYMBOL = {
    "met": "✓",
    "on_track": "↗",
    "behind": "↘",
    "at_risk": "!",
    "cannot_be_met": "✗",
    "breached": "✗",
    "not_enough_data": "…",
    "not_in_force": "–",
}


def trend_chart(
    *,
    labels: Sequence[str],
    actual: Sequence[Number | None],
    target: Sequence[Number | None],
    statuses: Sequence[str],
    value_label: Callable[[float], str],
    title: str,
    desc: str,
    actual_name: str,
    target_name: str,
    current: int | None = None,
) -> SafeString:
    """Bars for each period's ``actual`` with its ``target`` as a tick across the bar, a status symbol under
    each bar; ``current`` marks the period on the page."""
    n = len(labels)
    if n == 0 or not (len(actual) == len(target) == len(statuses) == n):
        raise ValueError("labels, actual, target and statuses must have the same, non-zero length")
    values = [float(v) for v in (*actual, *target) if v is not None]
    axis = nice_axis(max(values) if values else 0.0)
    slot = (WIDTH - LEFT - RIGHT) / n
    bar = max(4.0, slot * 0.6)
    base = HEIGHT - BOTTOM

    def y(v: float) -> float:
        return axis.scale(v, TOP, base)

    body = _y_axis(axis, value_label)
    for i in range(n):
        left = LEFT + slot * i + (slot - bar) / 2
        middle = LEFT + slot * i + slot / 2
        css = "bar current" if i == current else "bar"
        value = actual[i]
        if value is not None:
            top = y(float(value))
            body.append(
                f'<rect class="{css} status-{escape(statuses[i])}" x="{_f(left)}" y="{_f(top)}" '
                f'width="{_f(bar)}" height="{_f(max(0.0, base - top))}">'
                f"<title>{escape(labels[i])}: {escape(value_label(float(value)))}</title></rect>"
            )
        goal = target[i]
        if goal is not None:
            gy = _f(y(float(goal)))
            x1, x2 = _f(left - 3), _f(left + bar + 3)
            body.append(f'<line class="target" x1="{x1}" x2="{x2}" y1="{gy}" y2="{gy}"/>')
        body.append(
            f'<text class="tick" x="{_f(middle)}" y="{base + 14}" text-anchor="middle">'
            f"{escape(labels[i])}</text>"
        )
        symbol = STATUS_SYMBOL.get(statuses[i], "")
        body.append(
            f'<text class="status status-{escape(statuses[i])}" x="{_f(middle)}" y="{base + 28}" '
            f'text-anchor="middle">{escape(symbol)}</text>'
        )
    body.extend(_legend([("bar-key", actual_name), ("target", target_name)]))
    return _svg(body, title=title, desc=desc)
