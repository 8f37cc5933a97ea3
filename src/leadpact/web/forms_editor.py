"""The agreement editor's forms: each section of the agreement document as a Django form or formset.

A section reads its rows from the document's plain data (:func:`~leadpact.core.agreement.agreement_to_data`,
JSON style) and writes them back onto a copy of it; whatever a form does not show (a handoff contract's
fields, a clock's thresholds, the settings) is carried over untouched from the row it edits. Validation is
the document's own (``agreement_parse`` through ``agreement_version_update``): its problems come back by
path (``commitments[2].target.value``) and are put on the field of the row they name.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.forms import BaseFormSet, formset_factory
from django.utils.translation import gettext_lazy as _

from leadpact.core.agreement import COMMITMENT_KINDS, EVENT_KINDS, OUTCOMES, REASON_GROUPS

__all__ = ["SECTIONS", "Section", "problems_onto"]

_KEY_HELP = _("lower-case letters, digits, - and _; stays the same across versions")


def _choices(values: tuple[str, ...] | list[str], blank: bool = False) -> list[tuple[str, str]]:
    out = [(v, v.replace("_", " ")) for v in values]
    return [("", "—"), *out] if blank else out


def _words(text: str) -> list[str]:
    """A list typed as text: items separated by commas, spaces or lines."""
    return [item for item in re.split(r"[\s,;]+", text or "") if item]


class GeneralForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    language = forms.ChoiceField(
        label=_("Language of the texts"), choices=[("en", "English"), ("nl", "Nederlands")]
    )
    effective_from = forms.DateField(
        label=_("In force from"),
        help_text=_("once signed by every party, it is activated from this date (YYYY-MM-DD)"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    effective_until = forms.DateField(
        label=_("In force until (exclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class PartyForm(forms.Form):
    key = forms.SlugField(label=_("Key"), help_text=_KEY_HELP)
    name = forms.CharField(label=_("Name"), max_length=200)
    calendar = forms.ChoiceField(label=_("Calendar"))

    def __init__(self, *args: Any, calendars: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["calendar"].choices = _choices(calendars, blank=True)  # type: ignore[attr-defined]


class CalendarForm(forms.Form):
    key = forms.SlugField(label=_("Key"), help_text=_KEY_HELP)
    timezone = forms.CharField(label=_("Time zone"), max_length=64, help_text=_("e.g. Europe/Amsterdam"))
    hours = forms.CharField(
        label=_("Working hours"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("one line per group of days, e.g. mon-fri: 09:00-12:30, 13:00-17:30"),
    )
    country = forms.CharField(
        label=_("Public holidays of"), max_length=8, required=False, help_text=_("country code, e.g. NL")
    )
    subdivision = forms.CharField(label=_("Region"), max_length=16, required=False)
    closed = forms.CharField(
        label=_("Closed days"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("one date or range a line: 2026-12-24 or 2026-12-24..2026-12-31"),
    )

    def clean_hours(self) -> dict[str, list[str]]:
        hours: dict[str, list[str]] = {}
        for number, line in enumerate((self.cleaned_data.get("hours") or "").splitlines(), start=1):
            if not line.strip():
                continue
            days, sep, windows = line.partition(":")
            if not sep or not days.strip():
                raise forms.ValidationError(
                    _("line %(n)s: write the days, a colon, then the hours (mon-fri: 09:00-17:00)"),
                    params={"n": number},
                )
            hours[days.strip().lower()] = [w.replace(" ", "") for w in windows.split(",") if w.strip()]
        return hours


class DefinitionForm(forms.Form):
    key = forms.SlugField(label=_("Key"), help_text=_KEY_HELP)
    term = forms.CharField(label=_("Term"), max_length=200)
    text = forms.CharField(label=_("Meaning"), widget=forms.Textarea(attrs={"rows": 3, "class": "wide"}))
    rule = forms.CharField(
        label=_("Rule (CEL)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "code wide", "data-rule": ""}),
        help_text=_('checked at handoff, e.g. lead.score >= 50 && lead.country in ["NL", "BE"]'),
    )


class CommitmentForm(forms.Form):
    key = forms.SlugField(label=_("Key"), help_text=_KEY_HELP)
    title = forms.CharField(label=_("Title"), max_length=300, widget=forms.TextInput(attrs={"class": "wide"}))
    kind = forms.ChoiceField(label=_("Kind"), choices=_choices(COMMITMENT_KINDS, blank=True))
    owner = forms.ChoiceField(label=_("Owner"))
    beneficiary = forms.ChoiceField(label=_("For"))
    covers = forms.ChoiceField(label=_("Covers the leads of"), required=False)
    target_value = forms.DecimalField(label=_("Target"), max_digits=27, decimal_places=12)
    target_unit = forms.ChoiceField(
        label=_("Unit"),
        choices=[
            ("", "—"),
            ("count", _("count")),
            ("percent", _("percent")),
            ("amount", _("amount")),
            ("duration", _("business hours")),
        ],
    )
    target_per = forms.ChoiceField(
        label=_("Per"),
        required=False,
        choices=[
            ("", "—"),
            ("day", _("day")),
            ("week", _("week")),
            ("month", _("month")),
            ("quarter", _("quarter")),
            ("basis_day", _("basis day")),
        ],
        help_text=_("for a count or an amount"),
    )
    period = forms.ChoiceField(
        label=_("Measured per"),
        choices=[
            ("", "—"),
            ("day", _("day")),
            ("week", _("week")),
            ("month", _("month")),
            ("quarter", _("quarter")),
        ],
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=_choices(OUTCOMES, blank=True),
        help_text=_("for a conversion"),
    )
    window = forms.CharField(
        label=_("Window"),
        required=False,
        max_length=16,
        help_text=_("business time for a clock: 90m, 1h, 24h, 10bd; empty for no clock"),
    )
    clock_start = forms.ChoiceField(
        label=_("Clock starts at"), required=False, choices=_choices(EVENT_KINDS, blank=True)
    )
    clock_stop = forms.CharField(
        label=_("Clock stops at"), required=False, help_text=_("event kinds, e.g. accepted, rejected")
    )
    attempts = forms.IntegerField(label=_("Attempts"), required=False, min_value=1, max_value=1000)

    def __init__(self, *args: Any, parties: list[str], definitions: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = _choices(parties, blank=True)  # type: ignore[attr-defined]
        self.fields["beneficiary"].choices = _choices(parties, blank=True)  # type: ignore[attr-defined]
        self.fields["covers"].choices = _choices(definitions, blank=True)  # type: ignore[attr-defined]


class ReasonForm(forms.Form):
    code = forms.SlugField(label=_("Code"))
    label = forms.CharField(label=_("Meaning"), max_length=300)
    group = forms.ChoiceField(label=_("Group"), choices=_choices(REASON_GROUPS, blank=True))
    owner = forms.ChoiceField(label=_("Miss owned by"))
    requires_text = forms.BooleanField(label=_("Needs a note"), required=False)

    def __init__(self, *args: Any, parties: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = _choices(parties, blank=True)  # type: ignore[attr-defined]


class PausesForm(forms.Form):
    """One field per commitment with a clock: the event kinds that pause it."""

    def __init__(self, *args: Any, clocks: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, title in clocks:
            self.fields[key] = forms.CharField(
                label=title,
                required=False,
                help_text=_("pause kinds, e.g. waiting_on_customer (ended by resumed)"),
            )


# --- sections -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One part of the document: how its form(s) read the data, write it back, and name the fields."""

    name: str
    title: Any
    many: bool
    form: type[forms.Form]
    rows: Callable[[dict[str, Any]], Any]  # initial: a list of dicts (many) or a dict
    apply: Callable[[dict[str, Any], Any, list[Any]], dict[str, Any]]  # (data, cleaned, originals) -> data
    paths: dict[str, str]  # document path suffix -> form field
    prefix: str  # the document path of the section ("commitments")
    options: Callable[[dict[str, Any]], dict[str, Any]] = lambda data: {}

    def make(self, data: dict[str, Any], post: Any = None) -> forms.Form | BaseFormSet[forms.Form]:
        options = self.options(data)
        if self.many:
            factory = formset_factory(self.form, extra=1, can_delete=True)
            return factory(post, initial=self.rows(data), prefix=self.name, form_kwargs=options)
        return self.form(post, initial=self.rows(data), prefix=self.name, **options)


def _general_rows(data: dict[str, Any]) -> dict[str, Any]:
    head = data["agreement"]
    return {k: head.get(k) for k in ("title", "language", "effective_from", "effective_until")}


def _general_apply(data: dict[str, Any], cleaned: dict[str, Any], _orig: list[Any]) -> dict[str, Any]:
    head = data["agreement"]
    head["title"] = cleaned["title"]
    head["language"] = cleaned["language"]
    head["effective_from"] = cleaned["effective_from"].isoformat()
    if cleaned.get("effective_until"):
        head["effective_until"] = cleaned["effective_until"].isoformat()
    else:
        head.pop("effective_until", None)
    return data


def _kept(forms_list: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in forms_list if f and not f.get("DELETE")]


def _overlay(originals: list[Any], index: int) -> dict[str, Any]:
    return copy.deepcopy(originals[index]) if index < len(originals) and originals[index] else {}


def _parties_apply(data: dict[str, Any], cleaned: list[dict[str, Any]], orig: list[Any]) -> dict[str, Any]:
    data["parties"] = [{"key": c["key"], "name": c["name"], "calendar": c["calendar"]} for c in cleaned]
    return data


def _calendar_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, spec in data["calendars"].items():
        holidays = spec.get("holidays") or {}
        rows.append(
            {
                "key": key,
                "timezone": spec.get("timezone", ""),
                "hours": "\n".join(
                    f"{days}: {', '.join(w)}" for days, w in (spec.get("hours") or {}).items()
                ),
                "country": holidays.get("country", ""),
                "subdivision": holidays.get("subdivision", ""),
                "closed": "\n".join(spec.get("closed") or []),
                "_orig": spec,
            }
        )
    return rows


def _calendars_apply(data: dict[str, Any], cleaned: list[dict[str, Any]], orig: list[Any]) -> dict[str, Any]:
    calendars: dict[str, Any] = {}
    for index, c in enumerate(cleaned):
        spec = _overlay(orig, index)
        spec["timezone"] = c["timezone"].strip()
        spec["hours"] = c["hours"]
        holidays = dict(spec.get("holidays") or {})
        if c["country"].strip():
            holidays["country"] = c["country"].strip().upper()
            if c["subdivision"].strip():
                holidays["subdivision"] = c["subdivision"].strip()
            else:
                holidays.pop("subdivision", None)
            spec["holidays"] = holidays
        else:
            spec.pop("holidays", None)
        closed = [line.strip() for line in (c["closed"] or "").splitlines() if line.strip()]
        if closed:
            spec["closed"] = closed
        else:
            spec.pop("closed", None)
        calendars[c["key"]] = spec
    data["calendars"] = calendars
    return data


def _definitions_apply(
    data: dict[str, Any], cleaned: list[dict[str, Any]], orig: list[Any]
) -> dict[str, Any]:
    out = []
    for c in cleaned:
        item = {"key": c["key"], "term": c["term"], "text": c["text"]}
        if c["rule"].strip():
            item["rule"] = c["rule"].strip()
        out.append(item)
    data["definitions"] = out
    return data


def _commitment_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for item in data["commitments"]:
        target = item.get("target") or {}
        clock = item.get("clock") or {}
        rows.append(
            {
                "key": item["key"],
                "title": item.get("title", ""),
                "kind": item.get("kind"),
                "owner": item.get("owner"),
                "beneficiary": item.get("beneficiary"),
                "covers": item.get("covers", ""),
                "target_value": target.get("value"),
                "target_unit": target.get("unit"),
                "target_per": target.get("per", ""),
                "period": item.get("period"),
                "outcome": item.get("outcome", ""),
                "window": clock.get("window", ""),
                "clock_start": clock.get("start", ""),
                "clock_stop": ", ".join(clock.get("stop") or []),
                "attempts": clock.get("attempts"),
                "_orig": item,
            }
        )
    return rows


def _commitments_apply(
    data: dict[str, Any], cleaned: list[dict[str, Any]], orig: list[Any]
) -> dict[str, Any]:
    out = []
    for index, c in enumerate(cleaned):
        item = _overlay(orig, index)
        item.update(
            key=c["key"], title=c["title"], kind=c["kind"], owner=c["owner"], beneficiary=c["beneficiary"]
        )
        item.setdefault("split", "none")
        item["period"] = c["period"]
        for name, value in (("covers", c["covers"]), ("outcome", c["outcome"])):
            if value:
                item[name] = value
            else:
                item.pop(name, None)
        target = dict(item.get("target") or {})
        target["value"] = format(c["target_value"].normalize(), "f")
        target["unit"] = c["target_unit"]
        if c["target_per"]:
            target["per"] = c["target_per"]
        else:
            target.pop("per", None)
        item["target"] = target
        if c["window"].strip():
            clock = dict(item.get("clock") or {})
            clock.setdefault("pause", [])
            clock.setdefault("human_only", True)
            clock["window"] = c["window"].strip()
            clock["start"] = c["clock_start"]
            clock["stop"] = _words(c["clock_stop"])
            if c["attempts"] is not None:
                clock["attempts"] = c["attempts"]
            else:
                clock.pop("attempts", None)
            item["clock"] = clock
        else:
            item.pop("clock", None)
        out.append(item)
    data["commitments"] = out
    return data


def _reasons_apply(data: dict[str, Any], cleaned: list[dict[str, Any]], orig: list[Any]) -> dict[str, Any]:
    data["reason_codes"] = [
        {
            "code": c["code"],
            "label": c["label"],
            "group": c["group"],
            "owner": c["owner"],
            "requires_text": bool(c["requires_text"]),
        }
        for c in cleaned
    ]
    return data


def _clock_commitments(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["key"], c.get("title") or c["key"]) for c in data["commitments"] if c.get("clock")]


def _pauses_apply(data: dict[str, Any], cleaned: dict[str, Any], _orig: list[Any]) -> dict[str, Any]:
    for item in data["commitments"]:
        if item.get("clock") and item["key"] in cleaned:
            item["clock"]["pause"] = _words(cleaned[item["key"]])
    return data


def _pause_rows(data: dict[str, Any]) -> dict[str, str]:
    return {c["key"]: ", ".join(c["clock"].get("pause") or []) for c in data["commitments"] if c.get("clock")}


def _parties(data: dict[str, Any]) -> list[str]:
    return [p["key"] for p in data["parties"]]


SECTIONS: dict[str, Section] = {
    s.name: s
    for s in (
        Section(
            "general", _("Agreement"), False, GeneralForm, _general_rows, _general_apply,
            {"title": "title", "language": "language", "effective_from": "effective_from",
             "effective_until": "effective_until"},
            "agreement",
        ),
        Section(
            "parties", _("Parties"), True, PartyForm,
            lambda d: [dict(p) for p in d["parties"]], _parties_apply,
            {"key": "key", "name": "name", "calendar": "calendar"}, "parties",
            lambda d: {"calendars": list(d["calendars"])},
        ),
        Section(
            "calendars", _("Calendars"), True, CalendarForm, _calendar_rows, _calendars_apply,
            {"timezone": "timezone", "hours": "hours", "holidays": "country", "holidays.country": "country",
             "holidays.subdivision": "subdivision", "closed": "closed"},
            "calendars",
        ),
        Section(
            "definitions", _("Definitions"), True, DefinitionForm,
            lambda d: [{**x, "rule": x.get("rule", "")} for x in d["definitions"]], _definitions_apply,
            {"key": "key", "term": "term", "text": "text", "rule": "rule"}, "definitions",
        ),
        Section(
            "commitments", _("Commitments"), True, CommitmentForm, _commitment_rows, _commitments_apply,
            {"key": "key", "title": "title", "kind": "kind", "owner": "owner", "beneficiary": "beneficiary",
             "covers": "covers", "target.value": "target_value", "target.unit": "target_unit",
             "target.per": "target_per", "target": "target_value", "period": "period", "outcome": "outcome",
             "clock": "window", "clock.window": "window", "clock.start": "clock_start",
             "clock.stop": "clock_stop", "clock.attempts": "attempts"},
            "commitments",
            lambda d: {"parties": _parties(d), "definitions": [x["key"] for x in d["definitions"]]},
        ),
        Section(
            "reasons", _("Reason codes"), True, ReasonForm,
            lambda d: [dict(r) for r in d.get("reason_codes", [])], _reasons_apply,
            {"code": "code", "label": "label", "group": "group", "owner": "owner",
             "requires_text": "requires_text"},
            "reason_codes", lambda d: {"parties": _parties(d)},
        ),
        Section(
            "pauses", _("Pause kinds"), False, PausesForm,
            _pause_rows, _pauses_apply, {}, "commitments",
            lambda d: {"clocks": _clock_commitments(d)},
        ),
    )
}  # fmt: skip


_PATH = re.compile(r"^(?P<section>[a-z_]+)(?:\[(?P<index>\d+)\]|\.(?P<key>[a-z0-9_-]+))?\.?(?P<rest>.*)$")


def problems_onto(
    section: Section,
    form: forms.Form | BaseFormSet[forms.Form],
    problems: list[tuple[str, str]],
    data: dict[str, Any],
) -> list[str]:
    """Put each problem of the document on the field of the row it names; return the ones left over
    (another section's, or a whole row's), in words with their path."""
    left: list[str] = []
    rows: list[forms.Form]
    if isinstance(form, BaseFormSet):
        rows = [
            f for f in form.forms if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")
        ]
    else:
        rows = [form]
    calendar_keys = list(data.get("calendars", {}))
    for path, message in problems:
        match = _PATH.match(path)
        target: forms.Form | None = None
        field: str | None = None
        if match and match["section"] == section.prefix:
            index: int | None = None
            if match["index"] is not None:
                index = int(match["index"])
            elif match["key"] is not None and section.name == "calendars" and match["key"] in calendar_keys:
                index = calendar_keys.index(match["key"])
            rest = match["rest"]
            if section.name == "general" and match["key"] is not None:
                rest = match["key"] + (f".{rest}" if rest else "")
            if section.name == "pauses":
                if index is not None and index < len(data["commitments"]):
                    key = data["commitments"][index]["key"]
                    if rest.startswith("clock.pause") and key in form.fields:  # type: ignore[union-attr]
                        target, field = rows[0], key
            else:
                target = (
                    rows[index]
                    if index is not None and index < len(rows)
                    else (rows[0] if not section.many else None)
                )
                for suffix in sorted(section.paths, key=len, reverse=True):
                    if rest == suffix or rest.startswith(suffix + ".") or rest.startswith(suffix + "["):
                        field = section.paths[suffix]
                        break
        if target is not None and field is not None and field in target.fields:
            target.add_error(field, message)
        else:
            left.append(f"{path}: {message}")
    return left
