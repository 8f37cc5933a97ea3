"""The mapping step of a file upload: every column of the file and what it becomes, as choices a person
changes, turned back into a :class:`~leadpact.connectors.mapping.Mapping`.

A column's **choice** is one of: ``extra`` (kept on the lead under its header), ``ignore``, a target of
:data:`~leadpact.connectors.mapping.TARGETS` (``external_id``, ``email`` …), ``event:<kind>`` (the date of
that event) or ``rule:<n>:<part>`` (a part of the base mapping's n-th event rule: its amount, reason …).
A column left at the choice the base mapping (a preset or a saved mapping) gave it keeps every use the
base gave it; a changed column loses them and takes the new one.

>>> from leadpact.connectors.presets import get_preset
>>> base = get_preset("generic")
>>> header = ("external_id", "email", "Mail2", "handed_over_at")
>>> initial = column_choices(base, header)
>>> initial
['external_id', 'email', 'extra', 'event:handed_over']
>>> m = mapping_from_choices(base, header, [*initial[:2], "phone", initial[3]], source="generic")
>>> [c for c in m.columns if c[0] == "Mail2"], [r.kind for r in m.events][:1]
([('Mail2', 'phone')], ['handed_over'])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from leadpact.connectors.mapping import EventRule, Mapping, normalise_header
from leadpact.connectors.records import LEAD_FIELDS

__all__ = [
    "EVENT_CHOICES",
    "FIELD_CHOICES",
    "RULE_PARTS",
    "column_choices",
    "duplicate_targets",
    "mapping_from_choices",
]

#: The lead fields and other column targets offered, in the order shown.
FIELD_CHOICES: tuple[str, ...] = ("external_id", "created_at", "marketing_owner", "sales_owner", *LEAD_FIELDS)
#: The events a date column can stand for.
EVENT_CHOICES: tuple[str, ...] = (
    "handed_over",
    "assigned",
    "contact_attempt",
    "accepted",
    "rejected",
    "qualified",
    "opportunity",
    "won",
    "lost",
    "recycled",
    "feedback",
)
#: The parts of an event rule that name columns (besides its date columns ``at``).
RULE_PARTS: tuple[str, ...] = ("when_column", "amount", "currency", "reason", "actor", "value", "code")


def _norm(headers: Sequence[str]) -> set[str]:
    return {normalise_header(h) for h in headers}


def column_choices(base: Mapping | None, header: Sequence[str]) -> list[str]:
    """What each column of ``header`` becomes under ``base`` (``extra`` for everything without a base)."""
    out: list[str] = []
    taken: set[str] = set()
    for text in header:
        key = normalise_header(text)
        choice = "extra"
        if base is not None and key:
            for column, target in base.columns:
                if normalise_header(column) == key and (target not in taken or target == "ignore"):
                    choice = "extra" if target.startswith("extra.") else target
                    break
            if choice == "extra":
                choice = _rule_choice(base, key)
        if choice in FIELD_CHOICES:
            taken.add(choice)
        out.append(choice)
    return out


def _rule_choice(base: Mapping, key: str) -> str:
    for rule in base.events:
        if key in _norm(rule.at):
            return f"event:{rule.kind}"
    for index, rule in enumerate(base.events):
        for part in RULE_PARTS:
            if key in _norm(getattr(rule, part)):
                return f"rule:{index}:{part}"
    return "extra"


def duplicate_targets(header: Sequence[str], choices: Sequence[str]) -> dict[str, list[str]]:
    """Targets more than one column was given (``{"email": ["Email", "Mail"]}``): one must give way."""
    seen: dict[str, list[str]] = {}
    for text, choice in zip(header, choices, strict=True):
        if choice in FIELD_CHOICES:
            seen.setdefault(choice, []).append(text)
    return {target: columns for target, columns in seen.items() if len(columns) > 1}


def _without(rule: EventRule, dropped: set[str]) -> EventRule | None:
    """The rule with the dropped columns taken out of every part; None when no date column is left."""
    changes = {
        part: tuple(h for h in getattr(rule, part) if normalise_header(h) not in dropped)
        for part in ("at", *RULE_PARTS)
    }
    if not changes["at"]:
        return None
    if rule.when_column and not changes["when_column"]:
        return None  # the column that decided whether the event happened is gone
    return dataclasses.replace(rule, **changes)  # type: ignore[arg-type]


def mapping_from_choices(
    base: Mapping | None,
    header: Sequence[str],
    choices: Sequence[str],
    *,
    source: str,
    dayfirst: bool | None = None,
    name: str = "custom",
) -> Mapping:
    """The mapping the choices make (raises ``MappingError`` when it cannot be used, e.g. no id column).

    With every choice as :func:`column_choices` gave it, the result reads the file exactly as ``base``.
    """
    initial = column_choices(base, header)
    changed = {
        normalise_header(text): choice
        for text, choice, before in zip(header, choices, initial, strict=True)
        if choice != before
    }
    columns: list[tuple[str, str]] = []
    for text, choice in zip(header, choices, strict=True):
        key = normalise_header(text)
        if key in changed and (choice in FIELD_CHOICES or choice == "ignore"):
            columns.append((text, choice))
    if base is not None:
        columns += [(h, t) for h, t in base.columns if normalise_header(h) not in changed]
    events: list[EventRule] = []
    if base is not None:
        for rule in base.events:
            kept = _without(rule, set(changed))
            if kept is not None:
                events.append(kept)
    for text, choice in zip(header, choices, strict=True):
        if normalise_header(text) in changed and choice.startswith("event:"):
            kind = choice.removeprefix("event:")
            events.append(EventRule(kind=kind, at=(text,)))  # type: ignore[arg-type]
    settings = {"source": source, "columns": tuple(columns), "events": tuple(events), "name": name}
    if base is None:
        return Mapping(dayfirst=dayfirst, **settings)  # type: ignore[arg-type]
    return base.replace(dayfirst=dayfirst if dayfirst is not None else base.dayfirst, **settings)
