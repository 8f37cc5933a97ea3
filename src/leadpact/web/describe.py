"""Figures in plain words: what a tile, a row or a pack says before any formula.

"412 of 1,000 — 108 behind the 520 expected by today", "95.3%: 100% can no longer be reached this
month". The words come from the figure's unit, status and numbers; the pages add the link to the leads.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from leadpact.web.formats import fmt_number, fmt_ratio, fmt_value

__all__ = ["Meter", "figure_sentence", "meter", "previous_sentence", "target_summary"]

#: Statuses that need someone to act.
OFF_TRACK = frozenset({"behind", "at_risk", "cannot_be_met", "breached"})
GOOD = frozenset({"met", "on_track"})


def _v(result: Any, value: Decimal | None) -> str:
    return fmt_value(value, result.unit, result.currency or "EUR")


def figure_sentence(result: Any) -> str:
    """One sentence that says where a figure stands and why its status is what it is."""
    r = result
    status = r.status
    if status == "not_in_force":
        return _("The agreement is not in force in this period.")
    if status == "no_target":
        return ngettext(
            "%(n)s lead nobody in post answers for: unassigned, or for someone who left or had not started.",
            "%(n)s leads nobody in post answers for: unassigned, or for someone who left or had not started.",
            r.sample_size,
        ) % {"n": fmt_number(r.sample_size)}
    if r.actual is None or status == "not_enough_data":
        return ngettext(
            "Not enough data to judge yet: %(n)s lead so far.",
            "Not enough data to judge yet: %(n)s leads so far.",
            r.sample_size,
        ) % {"n": fmt_number(r.sample_size)}
    actual, target = _v(r, r.actual), _v(r, r.target)
    if r.unit in ("count", "amount"):
        head = _("%(actual)s of %(target)s.") % {"actual": actual, "target": target}
        if status == "met":
            return head + " " + _("Target reached.")
        expected = r.expected_to_date
        if status == "breached":
            short = r.target - r.actual
            return head + " " + _("The period ended %(short)s short.") % {"short": _v(r, short)}
        if expected is None:
            return head
        gap = r.actual - expected
        if gap >= 0:
            return (
                head + " " + _("Ahead of the %(expected)s expected by now.") % {"expected": _v(r, expected)}
            )
        return (
            head
            + " "
            + _("%(gap)s behind the %(expected)s expected by now.")
            % {
                "gap": _v(r, -gap),
                "expected": _v(r, expected),
            }
        )
    if r.unit == "duration":
        head = _("%(actual)s; the agreement asks at most %(target)s.") % {"actual": actual, "target": target}
    else:
        head = _("%(actual)s of %(n)s leads; the agreement asks at least %(target)s.") % {
            "actual": actual,
            "n": fmt_number(r.sample_size),
            "target": target,
        }
    if status == "cannot_be_met":
        return head + " " + _("It can no longer be reached this period.")
    if status == "breached":
        return head + " " + _("Missed for this period.")
    if status == "met":
        return head + " " + _("Met.")
    if status in ("behind", "at_risk"):
        return head + " " + _("Below it so far.")
    return head


def previous_sentence(current: Any, previous: Any | None, period_name: str) -> str:
    """How the same figure stood in the previous period: "September: 1,012 · met"."""
    if previous is None or previous.actual is None:
        return ""
    value = _v(previous, previous.actual)
    if current.actual is not None and current.unit in ("percent", "duration"):
        diff = current.actual - previous.actual
        if current.unit == "percent":
            sign = "+" if diff > 0 else ("−" if diff < 0 else "±")
            change = _("%(sign)s%(points)s pts") % {"sign": sign, "points": fmt_number(abs(diff), 1)}
            return _("%(period)s: %(value)s (%(change)s)") % {
                "period": period_name,
                "value": value,
                "change": change,
            }
    return _("%(period)s: %(value)s · %(status)s") % {
        "period": period_name,
        "value": value,
        "status": previous.status_label,
    }


@dataclass(frozen=True, slots=True)
class Meter:
    """A progress bar: the filled share (0–100), where the mark (expected by now) stands, as text too."""

    fill: Decimal
    mark: Decimal | None
    label: str


def meter(result: Any) -> Meter | None:
    """The bar of a tile: actual against target, with a mark at expected-to-date (counts and amounts)."""
    r = result
    if r.actual is None or not r.target or r.unit == "duration":
        return None
    fill = max(Decimal(0), min(Decimal(100), r.actual / r.target * 100))
    mark = None
    if r.expected_to_date is not None and r.unit in ("count", "amount"):
        mark = max(Decimal(0), min(Decimal(100), r.expected_to_date / r.target * 100))
    label = _("%(share)s of the target") % {"share": fmt_ratio(r.actual / r.target)}
    return Meter(
        fill.quantize(Decimal("0.1")), None if mark is None else mark.quantize(Decimal("0.1")), label
    )


def _steps(explanation: Any) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for step in explanation.steps:
        found.setdefault(step.code, dict(step.values))
    return found


def _basis_words(basis: str) -> str:
    return _("business days") if basis == "business_days" else _("calendar days")


def _per_words(per: str) -> str:
    return {"month": _("a month"), "week": _("a week"), "quarter": _("a quarter"), "day": _("a day")}.get(
        per, per
    )


def _days(value: Any) -> str:
    exact = Decimal(value.numerator) / value.denominator
    return fmt_number(exact, 0 if exact == exact.to_integral_value() else 1)


def target_summary(target: Any, period_name: str, person: Any = None) -> str:
    """Two plain sentences on why a target is what it is; the derivation stays one click further.

    ``target`` is a :class:`~leadpact.measurement.targets.selectors.CommitmentTarget`; ``person`` one of
    its people (then the sentences are about that person's share).
    """
    unit, currency = target.unit, getattr(target, "currency", "") or "EUR"

    def v(value: Any) -> str:
        return fmt_value(Decimal(str(value)), unit, currency)

    steps = _steps((person or target).explanation)
    if "uniform" in steps:
        return _(
            "%(value)s holds for the team and for everyone in it alike, in every period whatever its length."
        ) % {"value": v(target.value) if unit != "percent" else fmt_value(Decimal(target.value), "percent")}
    if person is not None:
        if "override" in steps:
            return _(
                "%(name)s's target of %(value)s was set by hand; "
                "the rest of the team shares the rest of %(total)s."
            ) % {
                "name": person.person.name,
                "value": v(person.value),
                "total": v(target.value),
            }
        capacity = steps.get("capacity")
        if capacity is None:
            return _("%(name)s's target is %(value)s of the team's %(total)s.") % {
                "name": person.person.name,
                "value": v(person.value),
                "total": v(target.value),
            }
        first = _(
            "%(name)s's target is %(value)s of the team's %(total)s: a share by capacity, "
            "%(capacity)s of the team's %(team)s person-days (%(share)s)."
        ) % {
            "name": person.person.name,
            "value": v(person.value),
            "total": v(target.value),
            "capacity": _days(capacity["capacity"]),
            "team": _days(capacity["team_capacity"]),
            "share": fmt_ratio(Decimal(capacity["share"].numerator) / capacity["share"].denominator / 100),
        }
        reasons = []
        member = steps.get("member", {})
        fte = member.get("fte")
        if fte is not None and fte != 1:
            reasons.append(
                _("works %(fte)s of full time") % {"fte": fmt_ratio(Decimal(fte.numerator) / fte.denominator)}
            )
        if "leave" in steps:
            days = steps["leave"]["days"]
            reasons.append(ngettext("%(n)s day of leave", "%(n)s days of leave", days) % {"n": days})
        if "not_yet_started" in steps:
            reasons.append(_("started during the period"))
        if "left" in steps:
            reasons.append(_("leaves during the period"))
        if "ramp" in steps:
            reasons.append(_("is a new starter, ramping up"))
        if reasons:
            return (
                first
                + " "
                + _("Less capacity because %(name)s %(reasons)s.")
                % {
                    "name": person.person.name,
                    "reasons": ", ".join(str(r) for r in reasons),
                }
            )
        return first
    stated = steps.get("stated")
    if stated is None:
        return _("The team's target for %(period)s is %(value)s.") % {
            "period": period_name,
            "value": v(target.value),
        }
    first = _("The team's target for %(period)s is %(value)s: the agreement asks %(stated)s %(per)s.") % {
        "period": period_name,
        "value": v(target.value),
        "stated": v(stated["value"]),
        "per": _per_words(str(stated["per"])),
    }
    days = steps.get("basis_days")
    average = steps.get("normalised_average")
    second = ""
    if days is not None and average is not None:
        avg = Decimal(average["average"].numerator) / average["average"].denominator
        second = _(
            "%(period)s has %(days)s %(basis)s where an average month has %(average)s, "
            "so the target is scaled to them."
        ) % {
            "period": period_name,
            "days": days["days"],
            "basis": _basis_words(str(days["basis"])),
            "average": fmt_number(avg, 1),
        }
    extra = []
    if "inactive" in steps:
        extra.append(_("The agreement is in force on only part of the period."))
    if "growth" in steps:
        extra.append(_("The agreed monthly growth raises it."))
    if "seasonality" in steps:
        extra.append(_("The agreed seasonality weights it."))
    return " ".join(x for x in (first, second, *extra) if x)
