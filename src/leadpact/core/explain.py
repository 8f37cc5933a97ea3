"""Why is my target 43? Every target carries its arithmetic as a list of steps, rendered in English or Dutch.

A :class:`Step` is a code plus the numbers it used; an :class:`Explanation` is the ordered list of
steps behind one figure. Rendering uses the message tables in this module (core knows nothing of
Django's gettext); numbers are written with a decimal point in English and a decimal comma in Dutch.

>>> step = Step("basis_days", {"basis": "business_days", "days": 20, "first": "2026-02-01",
...                            "last": "2026-02-28"})
>>> step.render("en")
'2026-02-01 – 2026-02-28 has 20 business days.'
>>> step.render("nl")
'2026-02-01 – 2026-02-28 telt 20 werkdagen.'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from string import Formatter
from typing import Literal

__all__ = ["MESSAGES", "Explanation", "Lang", "Step", "StepValue", "format_number"]

Lang = Literal["en", "nl"]
StepValue = int | Fraction | Decimal | float | str | date | tuple[str, ...]

MESSAGES: dict[Lang, dict[str, str]] = {
    "en": {
        "stated": "The agreement asks for {value} {unit} per {per}, counted over {basis}.",
        "normalised_average": (
            "An average {per} of {year} has {average} {basis}, so the rate is {rate} per basis day "
            "(the stated number holds on average; a short {per} gets less)."
        ),
        "normalised_own": (
            "Each {per} is normalised by its own {basis}, so the stated {value} holds in every {per}; "
            "here the rate is {rate} per basis day."
        ),
        "normalised_day": "The target is stated per basis day: {rate} per day on the {basis}.",
        "rate_varies": "The rate varies inside this window from {low} to {high} per basis day.",
        "inactive": (
            "The agreement is active from {active_from} until {active_until}; {days} {basis} fall outside."
        ),
        "basis_days": "{first} – {last} has {days} {basis}.",
        "holidays": "Public holidays taken out: {names}.",
        "no_holidays": "No public holidays fall in this window.",
        "growth": (
            "Growth of {monthly_pct}% a month compounds per basis day: {daily_pct}% a day "
            "(one average month = {average} {basis}); the rate in this window is {low_factor}–{high_factor}× "
            "the rate at the start on {anchor}."
        ),
        "seasonality": "Seasonality weights this window's months by {factors}.",
        "team_total": (
            "The team target for the window is {exact} (exact: the rate summed over each basis day)."
        ),
        "rounded": "Rounded to {value} ({rule}).",
        "member": "{member}: {fte} FTE, capacity counted over the team's {basis}.",
        "member_window": "Of the team's {days} {basis}, {member} is available on {available}.",
        "not_yet_started": "{days} {basis} fall before the start date {start}.",
        "left": "{days} {basis} fall on or after the leaving date {end}.",
        "leave": "{days} {basis} of leave taken out ({ranges}).",
        "part_time": (
            "Own working hours: {weighted} full days' worth over {available} days ({fraction} of full time)."
        ),
        "fte": "Part-time factor {fte}: {weighted} full days' worth.",
        "ramp": "New starter since {start}: ramp {ramp}; ramped capacity {after} instead of {before}.",
        "capacity": "Capacity: {capacity} person-days of the team's {team_capacity} ({share}% of the team).",
        "share": "Share of the team target: {team_target} × {capacity} ÷ {team_capacity} = {exact}.",
        "override": "Set by hand to {value} (overrides the capacity share); the others share the rest.",
        "apportioned": (
            "Whole {unit}: the team's {total} is apportioned by largest remainder (Hamilton); "
            "{member} gets {value}."
        ),
        "no_capacity": "Nobody on the team has capacity in this window; {total} stays unallocated.",
        "uniform": (
            "This is a {unit} target: {value} holds for the team and for every person alike, "
            "in every {period}, whatever its length."
        ),
    },
    "nl": {
        "stated": "De afspraak vraagt {value} {unit} per {per}, geteld over {basis}.",
        "normalised_average": (
            "Een gemiddelde {per} in {year} heeft {average} {basis}, dus het tempo is {rate} per basisdag "
            "(het afgesproken aantal geldt gemiddeld; een korte {per} krijgt minder)."
        ),
        "normalised_own": (
            "Elke {per} wordt genormaliseerd op de eigen {basis}, dus de "
            "afgesproken {value} geldt in elke {per}; "
            "hier is het tempo {rate} per basisdag."
        ),
        "normalised_day": "Het doel geldt per basisdag: {rate} per dag, op {basis}.",
        "rate_varies": "Het tempo varieert in dit venster van {low} tot {high} per basisdag.",
        "inactive": "De afspraak loopt van {active_from} tot {active_until}; {days} {basis} vallen erbuiten.",
        "basis_days": "{first} – {last} telt {days} {basis}.",
        "holidays": "Feestdagen eruit gehaald: {names}.",
        "no_holidays": "In dit venster vallen geen feestdagen.",
        "growth": (
            "Groei van {monthly_pct}% per maand wordt per basisdag samengesteld: {daily_pct}% per dag "
            "(één gemiddelde maand = {average} {basis}); het tempo in "
            "dit venster is {low_factor}–{high_factor}× "
            "het tempo bij de start op {anchor}."
        ),
        "seasonality": "Seizoensinvloed weegt de maanden van dit venster met {factors}.",
        "team_total": (
            "Het teamdoel voor dit venster is {exact} (exact: het tempo opgeteld over elke basisdag)."
        ),
        "rounded": "Afgerond op {value} ({rule}).",
        "member": "{member}: {fte} fte, capaciteit geteld over de {basis} van het team.",
        "member_window": "Van de {days} {basis} van het team is {member} beschikbaar op {available}.",
        "not_yet_started": "{days} {basis} vallen vóór de startdatum {start}.",
        "left": "{days} {basis} vallen op of na de vertrekdatum {end}.",
        "leave": "{days} {basis} verlof eruit gehaald ({ranges}).",
        "part_time": (
            "Eigen werktijden: {weighted} volle dagen over {available} dagen ({fraction} van voltijd)."
        ),
        "fte": "Deeltijdfactor {fte}: {weighted} volle dagen.",
        "ramp": "Nieuw gestart op {start}: inwerkschema {ramp}; capaciteit {after} in plaats van {before}.",
        "capacity": (
            "Capaciteit: {capacity} persoonsdagen van de "
            "{team_capacity} van het team ({share}% van het team)."
        ),
        "share": "Aandeel in het teamdoel: {team_target} × {capacity} ÷ {team_capacity} = {exact}.",
        "override": (
            "Met de hand vastgezet op {value} (in plaats van het capaciteitsaandeel); de rest wordt verdeeld."
        ),
        "apportioned": (
            "Hele {unit}: de {total} van het team wordt verdeeld volgens de grootste-restmethode (Hamilton); "
            "{member} krijgt {value}."
        ),
        "no_capacity": "Niemand in het team heeft capaciteit in dit venster; {total} blijft onverdeeld.",
        "uniform": (
            "Dit is een {unit}doel: {value} geldt voor het team en voor iedereen gelijk, "
            "in elke {period}, hoe lang die ook is."
        ),
    },
}

WORDS: dict[Lang, dict[str, str]] = {
    "en": {
        "business_days": "business days",
        "calendar_days": "calendar days",
        "count": "leads",
        "amount": "euros",
        "day": "day",
        "basis_day": "basis day",
        "week": "week",
        "month": "month",
        "quarter": "quarter",
        "half_even": "half to even",
        "open": "open",
        "percent": "percentage",
        "duration": "duration",
    },
    "nl": {
        "business_days": "werkdagen",
        "calendar_days": "kalenderdagen",
        "count": "leads",
        "amount": "euro",
        "day": "dag",
        "basis_day": "basisdag",
        "week": "week",
        "month": "maand",
        "quarter": "kwartaal",
        "half_even": "half naar even",
        "open": "open einde",
        "percent": "percentage",
        "duration": "doorlooptijd",
    },
}


def format_number(value: int | Fraction | Decimal | float, lang: Lang, *, places: int = 2) -> str:
    """A number for people: at most ``places`` decimals (half to even), trailing zeros dropped.

    >>> format_number(Fraction(200, 3), "nl")
    '66,67'
    >>> format_number(Fraction(40), "en")
    '40'
    """
    if isinstance(value, int):
        text = str(value)
    else:
        dec = Decimal(value) if isinstance(value, float | Decimal) else _fraction_decimal(value, places)
        dec = dec.quantize(Decimal(1).scaleb(-places)) if places else dec.quantize(Decimal(1))
        text = format(dec, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        if text in ("-0", ""):
            text = "0"
    return text.replace(".", ",") if lang == "nl" else text


def _fraction_decimal(value: Fraction, places: int) -> Decimal:
    scaled = round(value * 10**places)
    return Decimal(scaled).scaleb(-places)


def _format_value(key: str, value: StepValue, lang: Lang) -> str:
    if isinstance(value, str):
        return WORDS[lang].get(value, value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return ", ".join(WORDS[lang].get(item, item) for item in value)
    places = (
        4 if key.endswith("_pct") or key.endswith("factor") or key == "rate" or key in ("low", "high") else 2
    )
    return format_number(value, lang, places=places)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the arithmetic: a stable code and the numbers it used."""

    code: str
    values: Mapping[str, StepValue]

    def render(self, lang: Lang = "en") -> str:
        """This step as one sentence in ``lang``."""
        template = MESSAGES[lang][self.code]
        fields = {name for _, name, _, _ in Formatter().parse(template) if name}
        return template.format(**{name: _format_value(name, self.values[name], lang) for name in fields})


@dataclass(frozen=True, slots=True)
class Explanation:
    """The steps behind one figure, in order."""

    subject: str
    steps: tuple[Step, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        """The step codes, in order."""
        return tuple(step.code for step in self.steps)

    def step(self, code: str) -> Step:
        """The first step with ``code``."""
        for step in self.steps:
            if step.code == code:
                return step
        raise KeyError(f"explanation of {self.subject}: no step {code!r}")

    def render(self, lang: Lang = "en") -> str:
        """The whole explanation as numbered lines in ``lang``."""
        lines = [f"{self.subject}:"]
        lines.extend(f"{i}. {step.render(lang)}" for i, step in enumerate(self.steps, 1))
        return "\n".join(lines)
