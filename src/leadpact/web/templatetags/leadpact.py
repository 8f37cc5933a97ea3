"""Template filters for figures: ``{{ r.actual|value:r }}``, ``{{ r.attainment|ratio }}``…"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.translation import gettext_lazy

from leadpact.web import formats

register = template.Library()


@register.filter
def value(number: Decimal | None, result: Any) -> str:
    """A number in the unit (and currency) of ``result`` — a MeasureResult or anything with ``unit``."""
    return formats.fmt_value(
        number, getattr(result, "unit", "count"), getattr(result, "currency", "") or "EUR"
    )


@register.filter
def ratio(number: Decimal | None) -> str:
    return formats.fmt_ratio(number)


@register.filter
def number(value_: Decimal | int | None, places: int = 0) -> str:
    return formats.fmt_number(value_, places)


@register.filter
def duration(seconds: Decimal | int | None) -> str:
    return formats.fmt_duration(seconds)


@register.filter
def span(value: Any) -> str:
    """A ``timedelta`` of business time in words."""
    if value is None:
        return "—"
    return formats.fmt_duration(int(value.total_seconds()))


_DECISIONS = {"accepted": gettext_lazy("accepted"), "rejected": gettext_lazy("rejected")}


@register.filter
def decision(value: str) -> str:
    """A lead's decision in words."""
    return str(_DECISIONS.get(value, value)) if value else "—"


@register.filter
def money(value: Any, currency: str = "") -> str:
    """An amount kept as text (a lead's state) or a Decimal, in the page's currency."""
    if value in (None, ""):
        return "—"
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        return "—"
    return formats.fmt_amount(amount, currency or "EUR")
