"""Numbers, amounts, percentages and business durations in words, formatted for the active language.

One place for every page, export and pack, so that "€ 3.104.000" and "€ 374,173.23" never stand on two
pages of the same product again. Values arrive as ``Decimal`` in their unit (see
:class:`~leadpact.measurement.scorecard.results.MeasureResult`).

>>> from django.utils import translation
>>> with translation.override("en"):
...     fmt_value(Decimal("3104000.00"), "amount", "EUR"), fmt_value(Decimal("95.3"), "percent")
('€3,104,000', '95.3%')
>>> with translation.override("nl"):
...     fmt_value(Decimal("3104000.00"), "amount", "EUR"), fmt_value(Decimal("95.3"), "percent")
('€ 3.104.000', '95,3%')
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from django.utils import formats
from django.utils.translation import get_language, pgettext

__all__ = ["fmt_duration", "fmt_number", "fmt_ratio", "fmt_value"]

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def _dutch() -> bool:
    return (get_language() or "en").startswith("nl")


def fmt_number(value: Decimal | int | float | None, places: int = 0) -> str:
    """A number with the language's grouping and decimal mark, rounded half to even to ``places``."""
    if value is None:
        return "—"
    exact = Decimal(str(value)) if not isinstance(value, Decimal) else value
    if not exact.is_finite():
        return "—"
    rounded = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return formats.number_format(rounded, places, use_l10n=True, force_grouping=True)


def fmt_amount(value: Decimal | None, currency: str = "EUR") -> str:
    """Money: whole units from 1,000 up (a scorecard reads thousands, not cents), cents below."""
    if value is None:
        return "—"
    places = 0 if abs(value) >= 1000 or value == value.to_integral_value() else 2
    number = fmt_number(value, places)
    symbol = _SYMBOLS.get(currency or "EUR", currency)
    if len(symbol) > 1:
        return f"{symbol}\u00a0{number}"
    return f"{symbol}\u00a0{number}" if _dutch() else f"{symbol}{number}"


def fmt_duration(seconds: Decimal | int | float | None) -> str:
    """Business time in words: "45 min", "2 h 15 min", "37 h" — in hours from ten hours up, and never in
    days (a day of business time is a calendar's opening hours, not 24 of them)."""

    if seconds is None:
        return "—"
    total = int(Decimal(str(seconds)).to_integral_value(rounding=ROUND_HALF_EVEN))
    if total < 60:
        return pgettext("duration", "%(n)s s") % {"n": total}
    minutes = total // 60
    if minutes < 60:
        return pgettext("duration", "%(n)s min") % {"n": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 10 and minutes:
        return pgettext("duration", "%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    # business hours stay hours: "a day" of business time is not 24 of them, so no days are shown
    return pgettext("duration", "%(h)s h") % {"h": fmt_number(hours + (1 if minutes >= 30 else 0))}


def fmt_percent(value: Decimal | None, places: int = 1) -> str:
    """A percentage given as 0–100."""
    if value is None:
        return "—"
    text = fmt_number(value, places if value != value.to_integral_value() else 0)
    return f"{text}%"


def fmt_ratio(value: Decimal | None) -> str:
    """A ratio (1 = 100 %) as a whole percentage: attainment, pace."""
    if value is None:
        return "—"
    return f"{fmt_number(value * 100, 0)}%"


def fmt_value(value: Decimal | None, unit: str, currency: str = "EUR") -> str:
    """A figure in its unit: ``count``, ``percent`` (0–100), ``amount``, ``duration`` (seconds)."""
    if unit == "percent":
        return fmt_percent(value)
    if unit == "amount":
        return fmt_amount(value, currency)
    if unit == "duration":
        return fmt_duration(value)
    return fmt_number(value, 0)  # leads are whole: an expected 131.8 reads as 132
