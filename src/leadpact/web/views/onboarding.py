"""Onboarding a new organisation: the organisation with its time zone and country, its two or three teams
with their calendars, its people (one by one or a CSV), the template agreement to adapt — ending on the
(empty) scorecard, which says what to do next.

Who may: a superuser, or an admin of an organisation (who becomes the admin of the new one). Every write
goes through the organisation and agreement services.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zoneinfo
from decimal import Decimal, InvalidOperation
from typing import Any, cast

import holidays as holidays_lib
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from holidays.registry import COUNTRIES

from leadpact.agreements.models import Agreement, AgreementVersion
from leadpact.agreements.services import agreement_import
from leadpact.agreements.template import agreement_template_for
from leadpact.errors import ApplicationError
from leadpact.organization.models import Membership, Organization, Person, Team
from leadpact.organization.services import (
    leave_add,
    membership_grant,
    organization_create,
    person_create,
    team_create,
)
from leadpact.web.access import AppRequest, organization_choose, page

__all__ = [
    "onboarding_agreement",
    "onboarding_people",
    "onboarding_setup",
    "onboarding_start",
    "onboarding_teams",
]

_SESSION_COUNTRY = "leadpact_onboarding_country"
_ZONES = sorted(zoneinfo.available_timezones())


def _countries() -> list[tuple[str, str]]:
    """Country codes with public holidays, with the country's (English) name: ``NL — Netherlands``."""
    names = {entry[1]: re.sub(r"(?<=[a-z])(?=[A-Z])", " ", entry[0]) for entry in COUNTRIES.values()}
    codes = [code for code in holidays_lib.list_supported_countries() if len(code) == 2]
    return sorted(((code, f"{code} — {names.get(code, code)}") for code in codes), key=lambda c: c[0])


def _may_create(user: Any) -> bool:
    return (
        bool(user.is_superuser) or Membership.objects.filter(user=user, role=Membership.Role.ADMIN).exists()
    )


class OrganizationForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Organisation name"), max_length=200)
    key = forms.SlugField(
        label=gettext_lazy("Short key"),
        max_length=64,
        required=False,
        help_text=gettext_lazy("used in addresses and exports; made from the name when left empty"),
    )
    timezone = forms.ChoiceField(
        label=gettext_lazy("Time zone"), initial="Europe/Amsterdam", choices=[(z, z) for z in _ZONES]
    )
    country = forms.ChoiceField(
        label=gettext_lazy("Country"),
        initial="NL",
        help_text=gettext_lazy("whose public holidays the team calendars start with"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = _countries()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("name") and not data.get("key"):
            data["key"] = slugify(data["name"])[:64] or "organisation"
        if data.get("key") and Organization.objects.filter(key=data["key"]).exists():
            self.add_error("key" if self.data.get("key") else "name", _("This key is taken; choose another."))
        return data


@login_required
@require_http_methods(["GET", "POST"])
def onboarding_start(request: HttpRequest) -> HttpResponse:
    """Step 1: the organisation, its time zone and country."""
    if not _may_create(request.user):
        raise PermissionDenied
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = cast(User, request.user)
        with transaction.atomic():
            organization = organization_create(
                key=data["key"], name=data["name"], timezone_name=data["timezone"], actor=user
            )
            membership_grant(user=user, organization=organization, role=Membership.Role.ADMIN, actor=user)
        organization_choose(request, organization)
        request.session[_SESSION_COUNTRY] = data["country"]
        return redirect("onboarding_teams")
    return render(
        request, "leadpact/onboarding/start.html", {"form": form}, status=400 if form.errors else 200
    )


def _progress(organization: Organization) -> dict[str, Any]:
    teams = list(organization.teams.order_by("key"))
    people = Person.objects.filter(team__organization=organization).count()
    versions = AgreementVersion.objects.filter(agreement__organization=organization)
    return {
        "teams": teams,
        "people_count": people,
        "agreement": Agreement.objects.filter(organization=organization).first(),
        "draft": versions.exclude(status__in=["active", "superseded"]).order_by("-number").first(),
        "active": versions.filter(status="active").first(),
    }


@page("organization.manage")
def onboarding_setup(request: AppRequest) -> HttpResponse:
    """Where the current organisation stands in its setup, and what comes next."""
    return render(request, "leadpact/onboarding/setup.html", _progress(request.access.organization))


class TeamForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Team name"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("leave a row empty for no team"),
    )
    key = forms.SlugField(label=gettext_lazy("Key"), max_length=64, required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Team.Kind.choices)
    hours = forms.CharField(
        label=gettext_lazy("Working hours"),
        initial="mon-fri: 09:00-12:30, 13:00-17:30",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("one line per group of days, e.g. mon-fri: 09:00-12:30, 13:00-17:30"),
    )
    country = forms.ChoiceField(label=gettext_lazy("Public holidays of"), required=False)
    closed = forms.CharField(
        label=gettext_lazy("Closed days"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("one date or range a line: 2026-12-24 or 2026-12-24..2026-12-31"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "—"), *_countries()]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("name") and not (data.get("hours") or "").strip():
            self.add_error("hours", _("Give the team's working hours."))
        return data

    def calendar(self, zone: str) -> dict[str, Any]:
        data = self.cleaned_data
        hours: dict[str, list[str]] = {}
        for line in data["hours"].splitlines():
            days, _sep, windows = line.partition(":")
            if days.strip():
                hours[days.strip().lower()] = [w.replace(" ", "") for w in windows.split(",") if w.strip()]
        spec: dict[str, Any] = {"timezone": zone, "hours": hours}
        if data.get("country"):
            spec["holidays"] = {"country": data["country"]}
        closed = [line.strip() for line in (data.get("closed") or "").splitlines() if line.strip()]
        if closed:
            spec["closed"] = closed
        return spec


_TEAM_DEFAULTS: list[dict[str, Any]] = [
    {"name": gettext_lazy("Marketing"), "key": "marketing", "kind": "marketing"},
    {"name": gettext_lazy("Sales"), "key": "sales", "kind": "sales"},
    {"name": "", "key": "", "kind": "sdr"},
]


@page("organization.manage")
@require_http_methods(["GET", "POST"])
def onboarding_teams(request: AppRequest) -> HttpResponse:
    """Step 2: the two (or three) teams, each with its calendar — hours, holidays by country, closed days.

    A third row left empty is no team."""
    organization = request.access.organization
    existing = list(organization.teams.order_by("key"))
    country = request.session.get(_SESSION_COUNTRY, "")
    factory = forms.formset_factory(TeamForm, extra=1 if existing else 0)
    initial: list[dict[str, Any]] = (
        [] if existing else [{**row, "country": country} for row in _TEAM_DEFAULTS]
    )
    formset = factory(request.POST or None, initial=initial, prefix="teams")
    if request.method == "POST" and formset.is_valid():
        filled = [f for f in formset.forms if f.cleaned_data.get("name")]
        if len(existing) + len(filled) < 2:
            formset.forms[0].add_error("name", _("An agreement needs two teams: fill in at least two."))
        else:
            try:
                with transaction.atomic():
                    for form in filled:
                        data = form.cleaned_data
                        key = data["key"] or slugify(data["name"])[:64]
                        if organization.teams.filter(key=key).exists():
                            raise ValidationError({"key": _("A team with this key exists already.")})
                        try:
                            team_create(
                                organization=organization,
                                key=key,
                                name=data["name"],
                                kind=data["kind"],
                                calendar=form.calendar(organization.timezone),
                                actor=request.user,  # type: ignore[arg-type]
                            )
                        except ValidationError as error:
                            _on_form(form, error, {"calendar": "hours", "key": "key", "name": "name"})
                            raise
            except ValidationError:
                pass
            else:
                return redirect("onboarding_people")
    return render(
        request,
        "leadpact/onboarding/teams.html",
        {"formset": formset, "existing": existing, **_progress(organization)},
        status=400 if request.method == "POST" else 200,
    )


def _on_form(form: forms.Form, error: ValidationError, fields: dict[str, str]) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.message_dict.items():
        target = fields.get(name)
        for message in errors:
            if target is not None and target in form.fields:
                form.add_error(target, message)
            else:
                form.add_error(None, f"{name}: {message}")


class PersonForm(forms.Form):
    team = forms.ModelChoiceField(label=gettext_lazy("Team"), queryset=Team.objects.none())
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    email = forms.EmailField(label=gettext_lazy("E-mail"))
    role = forms.ChoiceField(
        label=gettext_lazy("Role"), choices=Person.Role.choices, initial=Person.Role.MEMBER
    )
    fte = forms.DecimalField(
        label=gettext_lazy("FTE"),
        initial=Decimal("1"),
        min_value=Decimal("0"),
        max_value=Decimal("1"),
        decimal_places=2,
        help_text=gettext_lazy("share of a full week, 0 to 1"),
    )
    start_date = forms.DateField(
        label=gettext_lazy("Start date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    leave_from = forms.DateField(
        label=gettext_lazy("Leave from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    leave_until = forms.DateField(
        label=gettext_lazy("Back on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("the first day back (exclusive)"),
    )
    me = forms.BooleanField(label=gettext_lazy("This is me (my login)"), required=False)

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = organization.teams.order_by("key")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, back = data.get("leave_from"), data.get("leave_until")
        if bool(first) != bool(back):
            self.add_error(
                "leave_until" if first else "leave_from", _("Give both the first day and the day back.")
            )
        elif first and back and back <= first:
            self.add_error("leave_until", _("The day back must be after the first day of leave."))
        return data


class PeopleUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("People as CSV"),
        help_text=gettext_lazy(
            "columns: team, name, email, role (lead or member), fte, start_date, leave_from, leave_until"
        ),
    )


_CSV_COLUMNS = ("team", "name", "email", "role", "fte", "start_date", "leave_from", "leave_until")


def _create_person(request: AppRequest, row: dict[str, Any], *, me: bool) -> Person:
    with transaction.atomic():
        person = person_create(
            team=row["team"],
            name=row["name"],
            email=row["email"],
            role=row["role"],
            fte=row["fte"],
            start_date=row["start_date"],
            user=request.user if me else None,  # type: ignore[arg-type]
            actor=request.user,  # type: ignore[arg-type]
        )
        if row.get("leave_from") and row.get("leave_until"):
            leave_add(
                person=person,
                first_day=row["leave_from"],
                end_day=row["leave_until"],
                actor=request.user,  # type: ignore[arg-type]
            )
    return person


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text.strip()) if text.strip() else None


def _upload(request: AppRequest, organization: Organization, upload: Any) -> tuple[int, list[str]]:
    """Add every valid row of the CSV; each bad row is reported with its number, column and reason."""
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        return 0, [_("The file is not UTF-8 text.")]
    sample = text[:2048]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    columns = [c.strip().lower() for c in (reader.fieldnames or [])]
    missing = [c for c in ("team", "name", "email", "start_date") if c not in columns]
    if missing:
        return 0, [_("The file has no column %(columns)s.") % {"columns": ", ".join(missing)}]
    teams = {t.key: t for t in organization.teams.all()} | {
        t.name.lower(): t for t in organization.teams.all()
    }
    added, problems = 0, []
    for number, raw in enumerate(reader, start=2):
        values = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        column = "team"
        try:
            team = teams.get(values["team"]) or teams.get(values["team"].lower())
            if team is None:
                raise ValueError(_("no team %(team)s") % {"team": values["team"]})
            column = "role"
            role = values.get("role") or Person.Role.MEMBER
            if role not in Person.Role.values:
                raise ValueError(_("role is lead or member"))
            column = "fte"
            fte = Decimal(values.get("fte") or "1")
            column = "start_date"
            start = _date(values["start_date"])
            if start is None:
                raise ValueError(_("a start date is required"))
            column = "leave_from"
            leave_from = _date(values.get("leave_from", ""))
            column = "leave_until"
            leave_until = _date(values.get("leave_until", ""))
            column = "email"
            row = {
                "team": team, "name": values["name"], "email": values["email"], "role": role, "fte": fte,
                "start_date": start, "leave_from": leave_from, "leave_until": leave_until,
            }  # fmt: skip
            _create_person(request, row, me=False)
        except (ValueError, InvalidOperation) as error:
            problems.append(
                _("row %(row)s, column %(column)s: %(reason)s")
                % {"row": number, "column": column, "reason": error or _("not a valid value")}
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                problems.append(
                    _("row %(row)s, column %(column)s: %(reason)s")
                    % {"row": number, "column": field, "reason": "; ".join(errors)}
                )
        except ApplicationError as error:
            problems.append(_("row %(row)s: %(reason)s") % {"row": number, "reason": error.message})
        else:
            added += 1
    return added, problems


@page("organization.manage")
@require_http_methods(["GET", "POST"])
def onboarding_people(request: AppRequest) -> HttpResponse:
    """Step 3: the people of each team — FTE, start date, leave — one by one or as a CSV."""
    organization = request.access.organization
    today = timezone.localdate(timezone.now(), timezone=zoneinfo.ZoneInfo(organization.timezone))
    form = PersonForm(organization=organization, initial={"start_date": today})
    upload = PeopleUploadForm()
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        if "file" in request.FILES or request.POST.get("upload"):
            upload = PeopleUploadForm(request.POST, request.FILES)
            if upload.is_valid():
                added, problems = _upload(request, organization, upload.cleaned_data["file"])
                if added:
                    messages.success(request, _("%(count)s people added.") % {"count": added})
                if not problems:
                    return redirect("onboarding_people")
            status = 400
        else:
            form = PersonForm(request.POST, organization=organization)
            if form.is_valid():
                me = bool(form.cleaned_data["me"])
                if me and Person.objects.filter(user=cast(User, request.user)).exists():
                    form.add_error("me", _("Your login already belongs to a person."))
                else:
                    try:
                        person = _create_person(request, form.cleaned_data, me=me)
                    except ValidationError as error:
                        _on_form(
                            form,
                            error,
                            {f: f for f in form.fields}
                            | {"end_day": "leave_until", "first_day": "leave_from"},
                        )
                    except ApplicationError as error:
                        form.add_error(None, error.message)
                    else:
                        messages.success(request, _("%(name)s added.") % {"name": person.name})
                        return redirect("onboarding_people")
            status = 400
    people = (
        Person.objects.filter(team__organization=organization)
        .select_related("team", "user")
        .prefetch_related("leave")
        .order_by("team__key", "name")
    )
    return render(
        request,
        "leadpact/onboarding/people.html",
        {"form": form, "upload": upload, "problems": problems, "people": people, **_progress(organization)},
        status=status,
    )


class TemplateForm(forms.Form):
    language = forms.ChoiceField(
        label=gettext_lazy("Template"),
        choices=[("en", gettext_lazy("English")), ("nl", gettext_lazy("Dutch"))],
        widget=forms.RadioSelect,
    )


@page("organization.manage")
@require_http_methods(["GET", "POST"])
def onboarding_agreement(request: AppRequest) -> HttpResponse:
    """Step 4: the template agreement, fitted to the teams, as a draft to adapt in the editor."""
    organization = request.access.organization
    progress = _progress(organization)
    if progress["draft"] is not None and request.method == "GET":
        return redirect("editor_version", pk=progress["draft"].pk)
    form = TemplateForm(
        request.POST or None, initial={"language": "nl" if request.LANGUAGE_CODE == "nl" else "en"}
    )
    if request.method == "POST" and form.is_valid():
        if organization.teams.count() < 2:
            form.add_error(None, _("Add two teams first: they are the parties of the agreement."))
        else:
            text = agreement_template_for(organization=organization, lang=form.cleaned_data["language"])
            try:
                version = agreement_import(organization=organization, yaml_text=text, actor=request.user)  # type: ignore[arg-type]
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("The template is your draft now: adapt it, then propose it."))
                return redirect("editor_version", pk=version.pk)
    return render(
        request,
        "leadpact/onboarding/agreement.html",
        {"form": form, **progress},
        status=400 if form.errors else 200,
    )
