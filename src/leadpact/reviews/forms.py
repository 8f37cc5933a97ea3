"""The forms of the review pages; the services check the rules, the forms check the shapes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from leadpact.organization.models import Person
from leadpact.reviews.models import AGENDA_ITEMS, ExchangeNote, SupportCommitment

__all__ = [
    "ActionItemForm",
    "AgendaNoteForm",
    "AnswerForm",
    "DecisionForm",
    "NoteForm",
    "SeriesForm",
    "SupportCheckForm",
    "SupportCommitmentForm",
]


class NoteForm(forms.Form):
    direction = forms.ChoiceField(label=_("Direction"), choices=ExchangeNote.Direction.choices)
    category = forms.ChoiceField(label=_("Category"), choices=ExchangeNote.Category.choices)
    text = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    question = forms.BooleanField(label=_("Ask the other side a question"), required=False)
    lead = forms.IntegerField(label=_("Lead id"), required=False, min_value=1)
    campaign = forms.CharField(label=_("Campaign"), required=False, max_length=200)
    commitment_key = forms.SlugField(label=_("Commitment"), required=False, max_length=64)


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("Answer"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class AgendaNoteForm(forms.Form):
    item = forms.ChoiceField(label=_("Agenda item"), choices=[(k, v) for k, v in AGENDA_ITEMS])
    text = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class DecisionForm(forms.Form):
    text = forms.CharField(label=_("Decision"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


def _people(people: Any) -> list[tuple[str, str]]:
    return [(str(p.pk), f"{p.name} ({p.team.name})") for p in people]


class ActionItemForm(forms.Form):
    text = forms.CharField(label=_("What"), max_length=500)
    owner = forms.ChoiceField(label=_("Owner"))
    due = forms.DateField(label=_("Due"), widget=forms.DateInput(attrs={"type": "date"}))
    commitment = forms.ChoiceField(label=_("Support commitment"), required=False)
    lead = forms.IntegerField(label=_("Lead id"), required=False, min_value=1)
    note = forms.IntegerField(label=_("Note id"), required=False, min_value=1)

    def __init__(self, *args: Any, people: Any = (), commitments: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = _people(people)  # type: ignore[attr-defined]
        self.fields["commitment"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (str(c.pk), c.text) for c in commitments
        ]


class SupportCheckForm(forms.Form):
    commitment = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    kept = forms.TypedChoiceField(
        label=_("Kept"),
        choices=(("yes", _("kept")), ("no", _("not kept"))),
        coerce=lambda v: v == "yes",
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class SupportCommitmentForm(forms.Form):
    side = forms.ChoiceField(label=_("Side"))
    text = forms.CharField(label=_("What this side does for the other"), max_length=500)
    cadence = forms.CharField(label=_("Cadence"), required=False, max_length=100)

    def __init__(self, *args: Any, teams: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["side"].choices = [(str(t.pk), t.name) for t in teams]  # type: ignore[attr-defined]


class SeriesForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    key = forms.SlugField(label=_("Key"), max_length=64)
    rrule = forms.CharField(
        label=_("Recurrence (RFC 5545)"),
        max_length=500,
        initial="FREQ=WEEKLY;BYDAY=TU",
        help_text=_("e.g. FREQ=WEEKLY;BYDAY=TU, FREQ=MONTHLY;BYDAY=1TU, FREQ=MONTHLY;INTERVAL=3;BYDAY=1WE"),
    )
    starts_on = forms.DateField(label=_("First day"), widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(
        label=_("Time of day"), initial="10:00", widget=forms.TimeInput(attrs={"type": "time"})
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), initial=45, min_value=5, max_value=480
    )
    period_kind = forms.ChoiceField(label=_("Period shown"), choices=[])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from leadpact.reviews.models import ReviewSeries

        super().__init__(*args, **kwargs)
        self.fields["period_kind"].choices = ReviewSeries._meta.get_field("period_kind").choices  # type: ignore[attr-defined]


def person_choice(form: forms.Form, name: str, people: Any) -> Person | None:
    """The person a form's field chose among ``people`` (None: none)."""
    value = form.cleaned_data.get(name)
    found = {str(p.pk): p for p in people}
    return found.get(str(value)) if value else None


def commitment_choice(form: forms.Form, commitments: Any) -> SupportCommitment | None:
    value = form.cleaned_data.get("commitment")
    found = {str(c.pk): c for c in commitments}
    return found.get(str(value)) if value else None
