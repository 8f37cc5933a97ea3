"""Forms of the Data pages: a file upload and its mapping step, API tokens, webhook receivers, alert
webhooks and a test alert."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from leadpact.connectors.mapping import normalise_header
from leadpact.leads.models import ApiToken, WebhookIntegration
from leadpact.web.data_mapping import EVENT_CHOICES, FIELD_CHOICES, duplicate_targets

__all__ = [
    "MAX_UPLOAD_BYTES",
    "AlertTestForm",
    "AlertWebhookForm",
    "MappingForm",
    "TokenForm",
    "UploadForm",
    "WebhookCreateForm",
    "WebhookUpdateForm",
    "choice_label",
]

#: The largest file the upload takes (the command line imports bigger ones).
MAX_UPLOAD_BYTES = 200 * 2**20
_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx")

_FIELD_LABELS = {
    "external_id": _("the lead's id in the CRM"),
    "created_at": _("created at (date)"),
    "marketing_owner": _("marketing owner"),
    "sales_owner": _("sales owner"),
    "name": _("name"),
    "first_name": _("first name"),
    "last_name": _("last name"),
    "email": _("e-mail"),
    "phone": _("phone"),
    "company": _("company"),
    "country": _("country"),
    "source": _("source"),
    "campaign": _("campaign"),
    "score": _("score"),
    "job_title": _("job title"),
    "industry": _("industry"),
    "company_size": _("company size"),
    "trigger": _("trigger"),
    "consent": _("consent"),
    "recent_touches": _("recent touches"),
}
_EVENT_LABELS = {
    "handed_over": _("handed over"),
    "assigned": _("assigned"),
    "contact_attempt": _("contact attempt"),
    "accepted": _("accepted"),
    "rejected": _("rejected"),
    "qualified": _("qualified"),
    "opportunity": _("opportunity"),
    "won": _("won"),
    "lost": _("lost"),
    "recycled": _("recycled"),
    "feedback": _("feedback"),
    "created": _("created"),
}
_PART_LABELS = {
    "when_column": _("decides whether “%(event)s” happened"),
    "amount": _("amount of “%(event)s”"),
    "currency": _("currency of “%(event)s”"),
    "reason": _("reason of “%(event)s”"),
    "actor": _("who did “%(event)s”"),
    "value": _("new value of “%(event)s”"),
    "code": _("reason code of “%(event)s”"),
}


def choice_label(choice: str, rules: Sequence[Any] = ()) -> str:
    """What a column choice means, in words (``rules``: the base mapping's event rules)."""
    if choice == "extra":
        return str(_("kept with the lead as an extra field"))
    if choice == "ignore":
        return str(_("ignored"))
    if choice in _FIELD_LABELS:
        return str(_FIELD_LABELS[choice])
    if choice.startswith("event:"):
        kind = choice.removeprefix("event:")
        return str(_("date of the event “%(event)s”") % {"event": _EVENT_LABELS.get(kind, kind)})
    if choice.startswith("rule:"):
        _rule, index, part = choice.split(":", 2)
        kind = rules[int(index)].kind if int(index) < len(rules) else "?"
        return str(_PART_LABELS[part] % {"event": _EVENT_LABELS.get(kind, kind)})
    return choice


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or Excel file"),
        help_text=_(
            "An export of your CRM (HubSpot, Salesforce, Pipedrive) or any table with a column per field."
        ),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in _SUFFIXES:
            raise forms.ValidationError(
                _("%(name)s is not a CSV or XLSX file."), params={"name": upload.name}, code="suffix"
            )
        if upload.size == 0:
            raise forms.ValidationError(_("%(name)s is empty."), params={"name": upload.name}, code="empty")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("%(name)s is larger than 200 MB: import it with “leadpact import” on the server."),
                params={"name": upload.name},
                code="size",
            )
        return upload


class MappingForm(forms.Form):
    """One choice per column of the file, plus the source name, the date order and a name to save under."""

    source = forms.SlugField(
        label=_("Source system"),
        max_length=60,
        help_text=_("Leads are known by their id in this system: the same id again updates the same lead."),
    )
    dayfirst = forms.ChoiceField(
        label=_("Dates such as 03/04/2026 are"),
        required=False,
        choices=[
            ("", _("detected from the file")),
            ("day", _("day first (3 April)")),
            ("month", _("month first (4 March)")),
        ],
    )
    save_as = forms.SlugField(
        label=_("Save this mapping as"),
        required=False,
        max_length=64,
        help_text=_("Optional: a short name (letters, digits, hyphens) to start from next time."),
    )

    def __init__(
        self,
        *args: Any,
        header: Sequence[str],
        initial_choices: Sequence[str],
        rules: Sequence[Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.header = tuple(header)
        base = [(c, choice_label(c)) for c in ("extra", "ignore")]
        fields = [(c, choice_label(c)) for c in FIELD_CHOICES]
        events = [(f"event:{k}", choice_label(f"event:{k}")) for k in EVENT_CHOICES]
        for index, (text, choice) in enumerate(zip(self.header, initial_choices, strict=True)):
            options: list[Any] = [*base, (_("Lead field"), fields), (_("Event date"), events)]
            if choice.startswith("rule:") or (choice.startswith("event:") and choice not in dict(events)):
                options.insert(0, (choice, choice_label(choice, rules)))
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=text or _("(no header)"), choices=options, initial=choice
            )

    def column_fields(self) -> list[forms.BoundField]:
        return [self[f"col_{i}"] for i in range(len(self.header))]

    def choices(self) -> list[str]:
        return [self.cleaned_data[f"col_{i}"] for i in range(len(self.header))]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if any(f"col_{i}" not in data for i in range(len(self.header))):
            return data
        chosen = self.choices()
        if "external_id" not in chosen:
            self.add_error(None, _("Choose the column that holds the lead's id in the CRM."))
        for target, columns in duplicate_targets(self.header, chosen).items():
            for i, text in enumerate(self.header):
                if text in columns[1:] and chosen[i] == target:
                    self.add_error(
                        f"col_{i}",
                        _("“%(first)s” already becomes %(target)s; choose something else for this column.")
                        % {"first": columns[0], "target": choice_label(target)},
                    )
        seen: set[str] = set()
        for i, text in enumerate(self.header):
            key = normalise_header(text)
            if chosen[i] != "ignore" and key in seen:
                self.add_error(f"col_{i}", _("Another column has the same header; ignore one of them."))
            seen.add(key)
        return data


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("Who uses it, e.g. “Zapier”."))
    scope = forms.ChoiceField(
        label=_("Scope"),
        choices=[(ApiToken.Scope.READ, _("read")), (ApiToken.Scope.WRITE, _("read and write"))],
        initial=ApiToken.Scope.READ,
    )


class WebhookCreateForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("CRM"),
        choices=[
            (WebhookIntegration.Kind.HUBSPOT, "HubSpot"),
            (WebhookIntegration.Kind.MAUTIC, "Mautic"),
            (WebhookIntegration.Kind.PIPEDRIVE, "Pipedrive"),
            (WebhookIntegration.Kind.GENERIC, _("Generic (signed JSON)")),
        ],
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    secret = forms.CharField(
        label=_("Secret"),
        required=False,
        max_length=400,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "HubSpot: your app's client secret (required). Mautic: its secret, or leave empty to have "
            "one generated. Generic: leave empty, one is generated. Pipedrive: leave empty, a password "
            "is generated."
        ),
    )
    username = forms.CharField(
        label=_("User (Pipedrive)"), required=False, max_length=200, help_text=_("Default: leadpact.")
    )
    public_url = forms.URLField(
        assume_scheme="https",
        label=_("Public URL (optional)"),
        required=False,
        max_length=200,
        help_text=_("The address as the CRM calls it, when leadpact runs behind a proxy (HubSpot signs it)."),
    )


class WebhookUpdateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    public_url = forms.URLField(
        assume_scheme="https", label=_("Public URL (optional)"), required=False, max_length=200
    )
    active = forms.BooleanField(label=_("Active: accept deliveries"), required=False)


class AlertWebhookForm(forms.Form):
    team = forms.ChoiceField(label=_("For"), required=False)
    url = forms.URLField(
        assume_scheme="https",
        label=_("Chat webhook URL"),
        max_length=500,
        help_text=_("A Slack or Microsoft Teams incoming webhook; alerts are posted there as text."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, teams: Sequence[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team_field = self.fields["team"]
        assert isinstance(team_field, forms.ChoiceField)
        team_field.choices = [("", _("the whole organisation (teams without their own)"))] + [
            (str(t.pk), t.name) for t in teams
        ]


class AlertTestForm(forms.Form):
    target = forms.ChoiceField(label=_("Send a test alert to"))

    def __init__(self, *args: Any, targets: Sequence[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["target"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = list(targets)
