"""The forms of the work pages: acting on a lead, deciding a dispute or a restatement, closing a period,
inviting a person. Each checks its input and leaves the rules to the services."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from leadpact.core.agreement import ReasonCode
from leadpact.leads.actions import CHANNELS
from leadpact.organization.models import Membership, Person, Team

__all__ = [
    "AttemptForm",
    "CloseForm",
    "DecideForm",
    "DisputeForm",
    "DuplicateForm",
    "FeedbackForm",
    "InviteForm",
    "RejectForm",
    "RestatementForm",
    "decide_form",
]

CHANNEL_LABELS = {
    "phone": _("Phone call"),
    "email": _("E-mail"),
    "video": _("Video call"),
    "meeting": _("Meeting"),
    "linkedin": _("LinkedIn"),
    "chat": _("Chat"),
    "other": _("Other"),
}
assert set(CHANNEL_LABELS) == set(CHANNELS)


class AttemptForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=[(c, CHANNEL_LABELS[c]) for c in CHANNELS])
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class RejectForm(forms.Form):
    reason_code = forms.ChoiceField(label=_("Reason code"))
    reason = forms.CharField(
        label=_("Why, in a sentence"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, reason_codes: Sequence[ReasonCode] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reason_codes = {r.code: r for r in reason_codes}
        field = self.fields["reason_code"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("— choose a reason —"))] + [(r.code, r.label) for r in reason_codes]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        code = self.reason_codes.get(data.get("reason_code") or "")
        if code is not None and code.requires_text and not (data.get("reason") or "").strip():
            self.add_error("reason", _("This reason code needs a sentence saying why."))
        return data


class FeedbackForm(forms.Form):
    text = forms.CharField(
        label=_("Feedback for marketing"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class DisputeForm(forms.Form):
    commitment = forms.ChoiceField(label=_("Commitment"))
    reason = forms.CharField(
        label=_("Why the lead did not meet the definition"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, commitments: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["commitment"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = list(commitments)


class DuplicateForm(forms.Form):
    original = forms.IntegerField(
        label=_("Duplicate of lead number"),
        required=False,
        min_value=1,
        max_value=2**62,
        help_text=_("Leave empty to clear the mark."),
    )


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("upheld", _("Uphold: the lead did not meet the definition")),
            ("rejected", _("Reject the dispute")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


def decide_form(dispute_id: int) -> DecideForm:
    """An empty decision form for one dispute (its own element ids, several on one page)."""
    return DecideForm(prefix="decide", auto_id=f"id_dispute{dispute_id}_%s")


class RestatementForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("accept", _("Accept the new figures")), ("decline", _("Decline: keep the closed figures"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CloseForm(forms.Form):
    confirm = forms.BooleanField(label=_("I have checked the figures; freeze them."))


class InviteForm(forms.Form):
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none())
    name = forms.CharField(label=_("Name"), max_length=200)
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(
        label=_("Role in the team"),
        choices=[(Person.Role.MEMBER, _("member")), (Person.Role.LEAD, _("team lead"))],
    )
    access = forms.ChoiceField(
        label=_("Access"),
        choices=[
            (Membership.Role.MEMBER, _("member: works on their own leads")),
            (Membership.Role.VIEWER, _("viewer: reads only")),
            (Membership.Role.ADMIN, _("admin: manages the organisation")),
        ],
    )
    fte = forms.DecimalField(label=_("FTE"), min_value=0, max_value=1, decimal_places=2, initial=1)
    start_date = forms.DateField(
        label=_("Start date"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    language = forms.ChoiceField(
        label=_("Language of the e-mail"), choices=[("en", "English"), ("nl", "Nederlands")]
    )

    def __init__(self, *args: Any, teams: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["team"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = teams if teams is not None else Team.objects.none()
