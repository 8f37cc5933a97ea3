"""The agreement editor: start a draft, edit it section by section, see what changed in words, propose,
sign (each party's lead, the exact content hash) and activate.

Pages are thin: every write goes through :mod:`leadpact.agreements.services` (which validates the whole
document and audits), every read through selectors.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Literal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.forms import BaseFormSet
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadpact.agreements.models import Agreement, AgreementVersion
from leadpact.agreements.selectors import agreement_active_version, version_parties_pending
from leadpact.agreements.services import (
    agreement_export,
    agreement_import,
    agreement_version_activate,
    agreement_version_delete_draft,
    agreement_version_document,
    agreement_version_new_draft,
    agreement_version_propose,
    agreement_version_sign,
    agreement_version_update,
    agreement_versions_diff,
)
from leadpact.agreements.template import agreement_template_for
from leadpact.core.agreement import AgreementInvalid, agreement_parse
from leadpact.errors import ApplicationError
from leadpact.leads.rule_samples import rule_sample_check
from leadpact.web.access import AppRequest, page, require
from leadpact.web.forms_editor import SECTIONS, Section, problems_onto
from leadpact.web.views.agreements import _lang

__all__ = [
    "editor_activate",
    "editor_delete",
    "editor_propose",
    "editor_rule_check",
    "editor_section",
    "editor_sign",
    "editor_start",
    "editor_version",
    "editor_yaml",
]

Status = AgreementVersion.Status

# the services' refusals, in the reader's language (the service's own English words otherwise)
_REFUSALS = {
    "version.not_draft": gettext_lazy(
        "Only a draft can be changed; start a new draft to change this version."
    ),
    "version.not_proposed": gettext_lazy("Only a proposed version can be signed."),
    "version.not_signed": gettext_lazy("Only a version every party signed can be activated."),
    "version.not_yet_effective": gettext_lazy(
        "This version comes into force on its start date; activate it then."
    ),
    "version.older_than_active": gettext_lazy(
        "This version would come into force before the version in force; make a new version instead."
    ),
    "signature.stale": gettext_lazy(
        "The version changed since you read it; read it again and sign what you see."
    ),
    "signature.not_a_party": gettext_lazy("Your team is not a party to this agreement."),
    "signature.not_lead": gettext_lazy("Only a party's team leader signs."),
    "signature.not_self": gettext_lazy("Nobody signs for someone else."),
    "signature.duplicate": gettext_lazy("Your team has already signed this version."),
    "version.stale": gettext_lazy(
        "Someone else saved this draft since you opened it. Reload the page to see their change, then"
        " make yours again."
    ),
    "signature.not_in_team": gettext_lazy("You are not in the team on this date."),
}


def _refusal(error: ApplicationError) -> str:
    words = _REFUSALS.get(error.code)
    return str(words) if words is not None else error.message


def _version(request: AppRequest, pk: int) -> AgreementVersion:
    return get_object_or_404(
        AgreementVersion.objects.select_related("agreement__organization"),
        pk=pk,
        agreement__organization=request.access.organization,
    )


class StartForm(forms.Form):
    source = forms.ChoiceField(label=gettext_lazy("Start from"))

    def __init__(self, *args: Any, agreements: list[Agreement], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, str]] = []
        for agreement in agreements:
            if agreement_active_version(agreement) is not None:
                choices.append(
                    (
                        f"active:{agreement.pk}",
                        _("the version in force of %(title)s") % {"title": agreement.title},
                    )
                )
        choices += [
            ("template:en", _("the template agreement, in English")),
            ("template:nl", _("the template agreement, in Dutch")),
        ]
        self.fields["source"].choices = choices  # type: ignore[attr-defined]


@page()
@require_http_methods(["GET", "POST"])
def editor_start(request: AppRequest) -> HttpResponse:
    """Open drafts, and a new draft from the version in force or from the template (English or Dutch)."""
    organization = request.access.organization
    agreements = list(Agreement.objects.filter(organization=organization).order_by("key"))
    can_edit = request.access.allows("agreement.edit")
    form = StartForm(request.POST or None, agreements=agreements)
    if request.method == "POST":
        require(request, "agreement.edit")
        if form.is_valid():
            kind, _sep, value = form.cleaned_data["source"].partition(":")
            try:
                version = _start(request, kind, value, agreements)
            except ApplicationError as error:
                form.add_error("source", _refusal(error))
            else:
                return redirect("editor_version", pk=version.pk)
    open_versions = (
        AgreementVersion.objects.filter(
            agreement__organization=organization, status__in=[Status.DRAFT, Status.PROPOSED, Status.SIGNED]
        )
        .select_related("agreement")
        .order_by("agreement__key", "-number")
    )
    return render(
        request,
        "leadpact/editor/start.html",
        {"form": form, "open_versions": open_versions, "can_edit": can_edit},
        status=400 if form.errors else 200,
    )


def _start(request: AppRequest, kind: str, value: str, agreements: list[Agreement]) -> AgreementVersion:
    user = request.user
    if kind == "active":
        agreement = next(a for a in agreements if str(a.pk) == value)
        active = agreement_active_version(agreement)
        if active is None:
            raise Http404
        draft = agreement.versions.filter(status=Status.DRAFT).order_by("-number").first()
        if draft is not None:
            messages.info(request, _("This agreement already has a draft: carry on with it."))
            return draft
        return agreement_version_new_draft(from_version=active, actor=user)  # type: ignore[arg-type]
    lang: Literal["en", "nl"] = "nl" if value == "nl" else "en"
    text = agreement_template_for(organization=request.access.organization, lang=lang)
    version = agreement_import(organization=request.access.organization, yaml_text=text, actor=user)  # type: ignore[arg-type]
    if version.status != Status.DRAFT:
        version = agreement_version_new_draft(from_version=version, actor=user)  # type: ignore[arg-type]
    return version


def _diff_words(version: AgreementVersion) -> tuple[AgreementVersion | None, list[str]]:
    active = agreement_active_version(version.agreement)
    if active is None or active.pk == version.pk:
        return active, []
    lang = _lang()
    return active, [change.describe(lang) for change in agreement_versions_diff(old=active, new=version)]


def _can_edit(request: AppRequest, version: AgreementVersion) -> bool:
    return version.status == Status.DRAFT and request.access.allows("agreement.edit")


@page()
@require_GET
def editor_version(request: AppRequest, pk: int) -> HttpResponse:
    """A version in the editor: its sections, what changed against the version in force, and the next
    step — propose, sign, activate."""
    version = _version(request, pk)
    document = agreement_version_document(version)
    active, changes = _diff_words(version)
    access = request.access
    person = access.person
    pending = list(version_parties_pending(version))
    signable = (
        version.status == Status.PROPOSED
        and person is not None
        and access.allows("agreement.sign", team=person.team_id)
        and any(team.pk == person.team_id for team in pending)
    )
    sections = [
        (SECTIONS["general"], document.info.title),
        (SECTIONS["parties"], ", ".join(p.name for p in document.parties)),
        (SECTIONS["calendars"], ", ".join(c.key for c in document.calendars)),
        (SECTIONS["definitions"], len(document.definitions)),
        (SECTIONS["commitments"], len(document.commitments)),
        (SECTIONS["reasons"], len(document.reason_codes)),
        (
            SECTIONS["pauses"],
            ", ".join(sorted({k for c in document.commitments if c.clock for k in c.clock.pause})),
        ),
    ]
    return render(
        request,
        "leadpact/editor/version.html",
        {
            "version": version,
            "document": document,
            "active": active,
            "changes": changes,
            "sections": sections,
            "can_edit": _can_edit(request, version),
            "can_propose": version.status == Status.DRAFT and access.allows("agreement.edit"),
            "can_sign": signable,
            "can_activate": version.status == Status.SIGNED and access.allows("agreement.activate"),
            "pending": pending,
            "editor_sections": SECTIONS.values(),
            "signatures": version.signatures.select_related("party", "signed_by").order_by("signed_at"),
        },
    )


def _revision(request: AppRequest) -> int | None:
    """The draft's revision the form was opened at (optimistic locking); None when the form has none."""
    value = request.POST.get("revision", "")
    return int(value) if value.isdigit() else None


def _problems(error: AgreementInvalid | ApplicationError) -> list[tuple[str, str]]:
    if isinstance(error, AgreementInvalid):
        return [(str(p.path), str(p.message)) for p in error.problems]
    return [(p["path"], p["message"]) for p in error.extra.get("problems", [])] or [("", _refusal(error))]


def _save(request: AppRequest, version: AgreementVersion, data: dict[str, Any]) -> list[tuple[str, str]]:
    """Validate the whole document and store it through the service; the problems, or [] when saved."""
    try:
        doc = agreement_parse(data)
        agreement_version_update(
            version=version,
            document=doc,
            actor=request.user,  # type: ignore[arg-type]
            expected_revision=_revision(request),
        )
    except (AgreementInvalid, ApplicationError) as error:
        return _problems(error)
    return []


def _originals(section: Section, form: forms.Form | BaseFormSet[forms.Form]) -> list[Any]:
    if not isinstance(form, BaseFormSet):
        return []
    initial = form.initial or []
    return [
        (initial[i].get("_orig") if i < len(initial) else None)
        for i, f in enumerate(form.forms)
        if f.cleaned_data and not f.cleaned_data.get("DELETE")
    ]


def _cleaned(form: forms.Form | BaseFormSet[forms.Form]) -> Any:
    if isinstance(form, BaseFormSet):
        return [f.cleaned_data for f in form.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
    return form.cleaned_data


def _has_errors(form: forms.Form | BaseFormSet[forms.Form]) -> bool:
    if isinstance(form, BaseFormSet):
        return form.is_bound and form.total_error_count() > 0
    return bool(form.is_bound and form.errors)


def _rows(form: forms.Form | BaseFormSet[forms.Form]) -> list[forms.Form]:
    return list(form.forms) if isinstance(form, BaseFormSet) else [form]


@page()
@require_http_methods(["GET", "POST"])
def editor_section(request: AppRequest, pk: int, section: str) -> HttpResponse:
    """One section of a draft as a form (rows as a formset). Other statuses, and people who may not edit,
    see it read-only. ``check`` (a button on a definition) tries that row's rule on sample leads
    instead of saving — the live check without JavaScript."""
    version = _version(request, pk)
    part = SECTIONS.get(section)
    if part is None:
        raise Http404
    data = copy.deepcopy(version.document)
    editable = _can_edit(request, version)
    left: list[str] = []
    checks: dict[int, Any] = {}
    if request.method == "POST":
        require(request, "agreement.edit")
        if not editable:
            raise PermissionDenied
        form = part.make(data, request.POST)
        check = request.POST.get("check")
        if check is not None and part.name == "definitions":
            rows = _rows(form)
            try:
                row = rows[int(check)]
            except (ValueError, IndexError):
                return HttpResponseBadRequest()
            rule = row.data.get(row.add_prefix("rule"), "")
            checks[int(check)] = rule_sample_check(
                organization=request.access.organization, rule=rule, lang=_lang()
            )
        elif form.is_valid():
            changed = part.apply(copy.deepcopy(data), _cleaned(form), _originals(part, form))
            problems = _save(request, version, changed)
            if not problems:
                messages.success(request, _("Saved: %(section)s.") % {"section": part.title})
                return redirect("editor_version", pk=version.pk)
            left = problems_onto(part, form, problems, changed)
    else:
        form = part.make(data)
    if not editable:
        for row in _rows(form):
            for field in row.fields.values():
                field.disabled = True
    items = [{"form": row, "index": i, "check": checks.get(i)} for i, row in enumerate(_rows(form))]
    return render(
        request,
        "leadpact/editor/section.html",
        {
            "version": version,
            "section": part,
            "form": form,
            "rows": items,
            "many": part.many,
            "editable": editable,
            "left": left,
            "editor_sections": SECTIONS.values(),
            "check_url": reverse("editor_rule_check", args=[version.pk]),
        },
        status=400 if request.method == "POST" and not checks and (left or _has_errors(form)) else 200,
    )


@page()
@require_GET
def editor_rule_check(request: AppRequest, pk: int) -> JsonResponse:
    """The live check: ``?rule=…`` tried on the organisation's recent leads — how many pass, which clause
    fails most."""
    _version(request, pk)
    rule = request.GET.get("rule", "")
    sample = rule_sample_check(organization=request.access.organization, rule=rule, lang=_lang())
    if sample.error:
        return JsonResponse({"ok": False, "error": sample.error}, status=200)
    worst = sample.worst
    return JsonResponse(
        {
            "ok": True,
            "sample": sample.sample,
            "passed": sample.passed,
            "failed": sample.failed,
            "clauses": [{"clause": c, "failed": n, "words": _fails_words(n)} for c, n in sample.clauses],
            "worst": None if worst is None else {"clause": worst[0], "failed": worst[1]},
            "summary": _sample_words(sample.sample, sample.passed, worst),
        }
    )


def _fails_words(count: int) -> str:
    return ngettext("%(counter)s lead fails", "%(counter)s leads fail", count) % {"counter": count}


def _sample_words(sample: int, passed: int, worst: tuple[str, int] | None) -> str:
    if sample == 0:
        return _("No leads yet to try the rule on; it is valid.")
    text = _("%(passed)s of the latest %(sample)s leads meet the rule.") % {
        "passed": passed,
        "sample": sample,
    }
    if worst is not None:
        text += " " + ngettext(
            "The clause that fails most: %(clause)s (%(count)s lead).",
            "The clause that fails most: %(clause)s (%(count)s leads).",
            worst[1],
        ) % {"clause": worst[0], "count": worst[1]}
    return text


def _version_step(
    request: AppRequest,
    pk: int,
    *,
    action: str,
    service: Callable[..., Any],
    done: str,
    done_to: str | None = None,
) -> HttpResponse:
    """One lifecycle step of a version (propose, activate, throw away) pressed on its page: the
    permission, the service, its refusal as a message on the version's page, or ``done`` and the version's
    page (or the named page ``done_to``)."""
    version = _version(request, pk)
    require(request, action)  # type: ignore[arg-type]
    try:
        service(version=version, actor=request.user)
    except ApplicationError as error:
        messages.error(request, _refusal(error))
        return redirect("editor_version", pk=version.pk)
    messages.success(request, done)
    return redirect(done_to) if done_to else redirect("editor_version", pk=version.pk)


@page()
@require_POST
def editor_propose(request: AppRequest, pk: int) -> HttpResponse:
    return _version_step(
        request,
        pk,
        action="agreement.edit",
        service=agreement_version_propose,
        done=_("Proposed: each party's team leader can sign it now."),
    )


@page()
@require_POST
def editor_sign(request: AppRequest, pk: int) -> HttpResponse:
    """The signed-in party lead signs for their own team the content hash they were shown."""
    version = _version(request, pk)
    person = request.access.person
    if person is None:
        raise PermissionDenied
    require(request, "agreement.sign", team=person.team_id)
    try:
        agreement_version_sign(
            version=version,
            signer=person,
            actor=request.user,  # type: ignore[arg-type]
            content_hash=request.POST.get("content_hash", ""),
        )
        messages.success(request, _("Signed for %(team)s.") % {"team": person.team.name})
    except ApplicationError as error:
        messages.error(request, _refusal(error))
    return redirect("editor_version", pk=version.pk)


@page()
@require_POST
def editor_activate(request: AppRequest, pk: int) -> HttpResponse:
    return _version_step(
        request,
        pk,
        action="agreement.activate",
        service=agreement_version_activate,
        done=_("In force: the scorecard measures with this version now."),
    )


@page()
@require_POST
def editor_delete(request: AppRequest, pk: int) -> HttpResponse:
    return _version_step(
        request,
        pk,
        action="agreement.edit",
        service=agreement_version_delete_draft,
        done=_("The draft was thrown away."),
        done_to="editor_start",
    )


class YamlForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Agreement YAML"), required=False)
    text = forms.CharField(
        label=gettext_lazy("or paste it"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "code"}),
    )


@page()
@require_http_methods(["GET", "POST"])
def editor_yaml(request: AppRequest, pk: int) -> HttpResponse:
    """The version as the same YAML document the command line exports (``?download``), and a draft's
    content replaced by an uploaded or pasted document, validated by the same service."""
    version = _version(request, pk)
    if request.method == "GET" and "download" in request.GET:
        response = HttpResponse(
            agreement_export(version=version), content_type="application/yaml; charset=utf-8"
        )
        name = f"{version.agreement.key}-v{version.number}.yaml"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    form = YamlForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST":
        require(request, "agreement.edit")
        if not _can_edit(request, version):
            raise PermissionDenied
        if form.is_valid():
            upload = form.cleaned_data.get("file")
            try:
                text = upload.read().decode("utf-8") if upload else form.cleaned_data.get("text", "")
            except UnicodeDecodeError:
                text = None
                form.add_error("file", _("The file is not UTF-8 text."))
            if text is not None and not text.strip():
                form.add_error("text", _("Upload a file or paste the document."))
            elif text is not None:
                try:
                    agreement_version_update(
                        version=version,
                        document=text,
                        actor=request.user,  # type: ignore[arg-type]
                        expected_revision=_revision(request),
                    )
                except ApplicationError as error:
                    problems = [
                        f"{path}: {message}" if path else message for path, message in _problems(error)
                    ]
                else:
                    messages.success(request, _("The draft now holds the uploaded document."))
                    return redirect("editor_version", pk=version.pk)
    return render(
        request,
        "leadpact/editor/yaml.html",
        {
            "version": version,
            "form": form,
            "problems": problems,
            "editable": _can_edit(request, version),
            "editor_sections": SECTIONS.values(),
            "yaml": agreement_export(version=version),
        },
        status=400 if problems or form.errors else 200,
    )
