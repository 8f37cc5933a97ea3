"""A readable, clause-by-clause diff between two agreement versions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from leadpact.core._agreement_data import calendar_data, commitment_data, settings_data, to_data
from leadpact.core._agreement_model import AgreementDocument, Lang, decimal_text
from leadpact.core.durations import BusinessDuration, DurationError

ChangeKind = Literal["added", "removed", "changed"]
Section = Literal["agreement", "party", "calendar", "definition", "reason_code", "settings", "commitment"]

_SECTION_WORDS: dict[Section, dict[Lang, str]] = {
    "agreement": {"en": "agreement", "nl": "overeenkomst"},
    "party": {"en": "party", "nl": "partij"},
    "calendar": {"en": "calendar", "nl": "kalender"},
    "definition": {"en": "definition", "nl": "definitie"},
    "reason_code": {"en": "reason code", "nl": "redencode"},
    "settings": {"en": "settings", "nl": "instellingen"},
    "commitment": {"en": "commitment", "nl": "afspraak"},
}
_PLURAL: dict[Section, dict[Lang, str]] = {
    "agreement": {"en": "agreement", "nl": "overeenkomst"},
    "party": {"en": "parties", "nl": "partijen"},
    "calendar": {"en": "calendars", "nl": "kalenders"},
    "definition": {"en": "definitions", "nl": "definities"},
    "reason_code": {"en": "reason codes", "nl": "redencodes"},
    "settings": {"en": "settings", "nl": "instellingen"},
    "commitment": {"en": "commitments", "nl": "afspraken"},
}
_FIELD_WORDS_NL: dict[str, str] = {
    "title": "titel",
    "name": "naam",
    "text": "tekst",
    "rule": "regel",
    "label": "omschrijving",
    "group": "groep",
    "owner": "eigenaar",
    "beneficiary": "ontvanger",
    "covers": "geldt voor",
    "outcome": "uitkomst",
    "target": "doel",
    "period": "periode",
    "calendar": "kalender",
    "clock": "klok",
    "clock.window": "klok.venster",
    "clock.start": "klok.start",
    "clock.stop": "klok.stop",
    "clock.pause": "klok.pauze",
    "clock.thresholds": "klok.drempels",
    "clock.attempts": "klok.pogingen",
    "clock.human_only": "klok.alleen_mensen",
    "split": "verdeling",
    "kind": "soort",
    "term": "term",
    "order": "volgorde",
    "language": "taal",
    "effective_from": "geldig vanaf",
    "effective_until": "geldig tot",
    "review": "overleg",
    "requires_text": "toelichting verplicht",
}
_PER_WORDS: dict[str, dict[Lang, str]] = {
    "day": {"en": "a day", "nl": "per dag"},
    "week": {"en": "a week", "nl": "per week"},
    "month": {"en": "a month", "nl": "per maand"},
    "quarter": {"en": "a quarter", "nl": "per kwartaal"},
    "basis_day": {"en": "a basis day", "nl": "per basisdag"},
}
_HANDOFF: dict[str, dict[Lang, str]] = {
    "added": {
        "en": "{subject}: field {name} added (check {after})",
        "nl": "{subject}: veld {name} toegevoegd (controle {after})",
    },
    "removed": {
        "en": "{subject}: field {name} removed (was check {before})",
        "nl": "{subject}: veld {name} verwijderd (was controle {before})",
    },
    "changed": {
        "en": "{subject}: field {name} check changed from {before} to {after}",
        "nl": "{subject}: veld {name} controle gewijzigd van {before} naar {after}",
    },
}
_VERBS: dict[str, dict[Lang, str]] = {
    "added": {"en": "{subject} added", "nl": "{subject} toegevoegd"},
    "removed": {"en": "{subject} removed", "nl": "{subject} verwijderd"},
    "changed": {
        "en": "{subject}: {field} changed from {before} to {after}",
        "nl": "{subject}: {field} gewijzigd van {before} naar {after}",
    },
    "set": {"en": "{subject}: {field} set to {after}", "nl": "{subject}: {field} ingesteld op {after}"},
    "unset": {
        "en": "{subject}: {field} removed (was {before})",
        "nl": "{subject}: {field} verwijderd (was {before})",
    },
    "settings": {
        "en": "settings.{field} changed from {before} to {after}",
        "nl": "instellingen.{field} gewijzigd van {before} naar {after}",
    },
}


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two agreement versions.

    ``section``/``key`` name the clause (``commitment``/``mql-volume``); ``field`` is the changed
    part (``target``, ``rule``, ``clock.window``, ``fields.email``; None when the whole clause was
    added or removed); ``before``/``after`` are canonical plain values (None when absent).
    """

    kind: ChangeKind
    section: Section
    key: str | None
    field: str | None
    before: object = None
    after: object = None

    @property
    def subject(self) -> str:
        """The clause in English words: ``commitment mql-volume``, ``settings``."""
        return self._subject("en")

    def _subject(self, lang: Lang) -> str:
        if self.key is None:
            return (
                _PLURAL[self.section][lang] if self.field == "order" else _SECTION_WORDS[self.section][lang]
            )
        return f"{_SECTION_WORDS[self.section][lang]} {self.key}"

    def describe(self, lang: Lang = "en") -> str:
        """The change in words: ``commitment mql-volume: target changed from 200 a month to 220 a month``."""
        subject = self._subject(lang)
        if self.field is None:
            return _VERBS[self.kind][lang].format(subject=subject)
        field = self.field if lang == "en" else _FIELD_WORDS_NL.get(self.field, self.field)
        before = render(self.before, lang, self.field)
        after = render(self.after, lang, self.field)
        if self.field.startswith("fields."):
            template = _HANDOFF[self.kind][lang]
            return template.format(subject=subject, name=self.field[7:], before=before, after=after)
        if self.section == "settings" and self.key is None and self.kind == "changed":
            return _VERBS["settings"][lang].format(field=field, before=before, after=after)
        if self.kind == "added":
            return _VERBS["set"][lang].format(subject=subject, field=field, after=after)
        if self.kind == "removed":
            return _VERBS["unset"][lang].format(subject=subject, field=field, before=before)
        return _VERBS["changed"][lang].format(subject=subject, field=field, before=before, after=after)

    def __str__(self) -> str:
        return self.describe("en")


def render(value: object, lang: Lang, field: str | None = None) -> str:
    """A plain value in short words (targets and windows read as phrases)."""
    if field == "target" and isinstance(value, Mapping):
        return _target_words(value, lang)
    if field == "clock.window" and isinstance(value, str):
        try:
            return BusinessDuration.parse(value).describe(lang)
        except DurationError:
            return value
    return _flat(value, lang)


def _flat(value: object, lang: Lang) -> str:
    if value is None:
        return "none" if lang == "en" else "geen"
    if isinstance(value, bool):
        return ("yes" if value else "no") if lang == "en" else ("ja" if value else "nee")
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_flat(v, lang)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flat(v, lang) for v in value) + "]"
    return str(value)


def _target_words(target: Mapping[str, object], lang: Lang) -> str:
    value = target.get("value")
    number = decimal_text(value) if isinstance(value, Decimal) else str(value)
    unit = target.get("unit")
    if unit == "percent":
        text = f"{number}%"
    elif unit == "duration":
        text = f"{number} business hours" if lang == "en" else f"{number} werkuren"
    elif unit == "amount":
        text = f"{target.get('currency') or ''} {number}".strip()
    else:
        text = number
    per = target.get("per")
    if isinstance(per, str) and per in _PER_WORDS:
        text += f" {_PER_WORDS[per][lang]}"
    growth = target.get("growth")
    if isinstance(growth, Decimal):
        pct = decimal_text(growth * 100)
        text += f", growing {pct}% a month" if lang == "en" else f", groei {pct}% per maand"
    return text


def diff(old: AgreementDocument, new: AgreementDocument) -> list[Change]:
    """Every difference from ``old`` to ``new``, clause by clause, in document order."""
    changes: list[Change] = []
    a, b = to_data(old), to_data(new)
    changes += _fields("agreement", None, _mapping(a["agreement"]), _mapping(b["agreement"]))
    changes += _keyed("party", _index(a["parties"], "key"), _index(b["parties"], "key"))
    changes += _keyed(
        "calendar",
        {c.key: calendar_data(c) for c in old.calendars},
        {c.key: calendar_data(c) for c in new.calendars},
    )
    changes += _keyed("definition", _index(a["definitions"], "key"), _index(b["definitions"], "key"))
    changes += _keyed("reason_code", _index(a["reason_codes"], "code"), _index(b["reason_codes"], "code"))
    changes += _fields("settings", None, settings_data(old.settings), settings_data(new.settings))
    changes += _keyed(
        "commitment",
        {c.key: _commitment_parts(commitment_data(c)) for c in old.commitments},
        {c.key: _commitment_parts(commitment_data(c)) for c in new.commitments},
    )
    return changes


def _mapping(value: object) -> Mapping[str, object]:
    assert isinstance(value, Mapping)
    return value


def _index(items: object, key: str) -> dict[str, Mapping[str, object]]:
    assert isinstance(items, list)
    return {str(item[key]): item for item in items}


def _commitment_parts(data: Mapping[str, object]) -> dict[str, object]:
    """A commitment with its clock and handoff fields flattened to one level (``clock.window``)."""
    parts: dict[str, object] = {}
    for key, value in data.items():
        if key == "clock" and isinstance(value, Mapping):
            parts.update((f"clock.{k}", v) for k, v in value.items())
        elif key == "fields" and isinstance(value, list):
            parts.update((f"fields.{item['field']}", item["check"]) for item in value)
        else:
            parts[key] = value
    return parts


def _keyed(
    section: Section, old: Mapping[str, Mapping[str, object]], new: Mapping[str, Mapping[str, object]]
) -> list[Change]:
    changes: list[Change] = []
    for key in old:
        if key not in new:
            changes.append(Change("removed", section, key, None, old[key], None))
    for key in new:
        if key not in old:
            changes.append(Change("added", section, key, None, None, new[key]))
        else:
            changes += _fields(section, key, old[key], new[key])
    common_old = [k for k in old if k in new]
    common_new = [k for k in new if k in old]
    if common_old != common_new:
        changes.append(Change("changed", section, None, "order", common_old, common_new))
    return changes


def _merged_order(old: Sequence[str], new: Sequence[str]) -> list[str]:
    """The keys of ``new`` in order, with keys only in ``old`` placed after their old predecessor."""
    merged = list(new)
    for i, key in enumerate(old):
        if key in merged:
            continue
        at = 0
        for previous in reversed(old[:i]):
            if previous in merged:
                at = merged.index(previous) + 1
                break
        merged.insert(at, key)
    return merged


def _fields(
    section: Section, key: str | None, old: Mapping[str, object], new: Mapping[str, object]
) -> list[Change]:
    changes: list[Change] = []
    names = _merged_order(list(old), list(new))
    for name in names:
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if before is None:
            changes.append(Change("added", section, key, name, None, after))
        elif after is None:
            changes.append(Change("removed", section, key, name, before, None))
        else:
            changes.append(Change("changed", section, key, name, before, after))
    return changes
