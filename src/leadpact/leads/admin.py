"""Admin for leads: leads with their source ids, state and (read-only) events; import jobs with their
problem report as a CSV download; API tokens (revoke); webhook integrations, deliveries and rejections."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from leadpact.audit.services import actor_from_request
from leadpact.errors import ApplicationError
from leadpact.leads._duplicates import leads_mark_duplicate
from leadpact.leads.imports import import_job_report_csv, import_job_status
from leadpact.leads.models import (
    ApiToken,
    HandoffCheck,
    ImportJob,
    ImportProblem,
    Lead,
    LeadEvent,
    LeadSource,
    LeadState,
    SavedMapping,
    WebhookDelivery,
    WebhookIntegration,
    WebhookRejection,
)
from leadpact.leads.services import (
    WebhookCredentials,
    api_token_revoke,
    lead_event_void,
    webhook_credentials_problem,
    webhook_integration_create,
    webhook_integration_renew,
    webhook_integration_update,
)
from leadpact.leads.webhooks import webhook_deliveries_process
from leadpact.organization.models import Organization

if TYPE_CHECKING:
    ModelAdmin = admin.ModelAdmin[Any]
    TabularInline = admin.TabularInline[Any, Any]
    StackedInline = admin.StackedInline[Any, Any]
else:  # the admin classes are not subscriptable at run time
    ModelAdmin = admin.ModelAdmin
    TabularInline = admin.TabularInline
    StackedInline = admin.StackedInline


class _ReadOnly:
    """Rows written by services only: shown, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LeadSourceInline(_ReadOnly, TabularInline):
    model = LeadSource
    fields = ("source", "external_id")
    extra = 0


class LeadEventInline(_ReadOnly, TabularInline):
    model = LeadEvent
    fields = ("id", "occurred", "kind", "actor_label", "source", "data", "recorded")
    readonly_fields = ("id", "occurred", "recorded")
    ordering = ("occurred_at", "id")
    extra = 0

    @admin.display(description="occurred at")
    def occurred(self, obj: LeadEvent) -> str:
        return _instant(obj.occurred_at)

    @admin.display(description="recorded at")
    def recorded(self, obj: LeadEvent) -> str:
        return _instant(obj.recorded_at)


def _instant_field(name: str) -> Any:
    """A read-only display of a datetime field that never fails the page (see :func:`_instant`)."""

    def show(self: Any, obj: Any) -> str:
        return _instant(getattr(obj, name))

    show.short_description = name.replace("_", " ")  # type: ignore[attr-defined]
    return show


_STATE_TIMES = ("handed_over_at", "decided_at", "first_attempt_at", "first_human_attempt_at", "closed_at",
                "last_event_at")  # fmt: skip


class LeadStateInline(_ReadOnly, StackedInline):
    model = LeadState
    extra = 0
    exclude = _STATE_TIMES
    readonly_fields = tuple(f"{name}_shown" for name in _STATE_TIMES)


for _name in _STATE_TIMES:
    setattr(LeadStateInline, f"{_name}_shown", _instant_field(_name))


class LeadActionForm(ActionForm):
    """The action bar of the lead list, with the original lead's id for "mark as duplicate of …"."""

    original = forms.IntegerField(required=False, min_value=1, label="original lead id")


@admin.register(Lead)
class LeadAdmin(_ReadOnly, ModelAdmin):
    list_display = (
        "__str__", "company", "country", "score", "marketing_owner", "sales_owner", "duplicate_of",
        "created",
    )  # fmt: skip
    list_filter = ("organization", "country")
    search_fields = ("name", "email", "company", "sources__external_id")
    inlines = (LeadSourceInline, LeadStateInline, LeadEventInline)
    list_select_related = ("marketing_owner", "sales_owner", "duplicate_of")
    show_full_result_count = False  # a count over a million leads on every page is slow
    exclude = ("created_at", "updated_at")
    readonly_fields = ("created", "updated")
    action_form = LeadActionForm
    actions = ("mark_duplicate", "clear_duplicate")

    @admin.action(description="Mark as duplicate of the original lead id given")
    def mark_duplicate(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        raw = request.POST.get("original", "").strip()
        if not raw.isdigit() or int(raw) < 1:
            self.message_user(request, "original lead id: give the id of the earlier lead", messages.ERROR)
            return
        self._mark(request, queryset, int(raw))

    @admin.action(description="Clear the duplicate mark")
    def clear_duplicate(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        self._mark(request, queryset, None)

    def _mark(self, request: HttpRequest, queryset: QuerySet[Lead], original: int | None) -> None:
        by_org: dict[int, list[int]] = {}
        for org_id, pk in queryset.values_list("organization_id", "pk"):
            by_org.setdefault(org_id, []).append(pk)
        changed = 0
        try:
            for org_id, ids in by_org.items():
                org = Organization.objects.get(pk=org_id)
                changed += leads_mark_duplicate(organization=org, lead_ids=ids, original_id=original)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        what = f"duplicates of lead {original}" if original else "not duplicates"
        self.message_user(request, f"{changed} lead(s) marked as {what}")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser) and obj is None  # the list page, for the actions

    @admin.display(description="created at", ordering="created_at")
    def created(self, obj: Lead) -> str:
        return _instant(obj.created_at)

    @admin.display(description="updated at")
    def updated(self, obj: Lead) -> str:
        return _instant(obj.updated_at)


def _instant(value: dt.datetime | None) -> str:
    """An instant in the current time zone; one that has no local time there (a value stored before the
    bounds, e.g. 9999-12-31 23:59 UTC in Amsterdam) in UTC, instead of failing the page."""
    if value is None:
        return "—"
    try:
        return date_format(timezone.localtime(value), "DATETIME_FORMAT")
    except (OverflowError, ValueError):
        return f"{value.isoformat()} (UTC)"


class LeadEventActionForm(ActionForm):
    """The action bar of the event list, with the reason a void needs."""

    reason = forms.CharField(required=False, max_length=2000, label="reason (to void)")


@admin.register(LeadEvent)
class LeadEventAdmin(_ReadOnly, ModelAdmin):
    list_display = ("occurred", "kind", "lead", "source", "actor_label", "recorded")
    list_filter = ("kind", "source")
    raw_id_fields = ("lead",)
    show_full_result_count = False
    action_form = LeadEventActionForm
    actions = ("void",)

    @admin.display(description="occurred at", ordering="occurred_at")
    def occurred(self, obj: LeadEvent) -> str:
        return _instant(obj.occurred_at)

    @admin.display(description="recorded at", ordering="recorded_at")
    def recorded(self, obj: LeadEvent) -> str:
        return _instant(obj.recorded_at)

    @admin.action(description="Void the selected events (give the reason)", permissions=["void"])
    def void(self, request: HttpRequest, queryset: QuerySet[LeadEvent]) -> None:
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, "reason: say why the events are wrong", messages.ERROR)
            return
        done: list[int] = []
        for event in queryset.select_related("organization").order_by("id"):
            try:
                lead_event_void(
                    organization=event.organization,
                    event_id=event.pk,
                    reason=reason,
                    actor=actor_from_request(request),
                )
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                done.append(event.pk)
        if done:
            shown = ", ".join(map(str, done))
            self.message_user(request, f"{len(done)} event(s) voided: {shown}", messages.SUCCESS)

    def has_void_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser or request.user.has_perm("leads.change_leadevent"))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_void_permission(request) and obj is None  # the list page, for the action


@admin.register(HandoffCheck)
class HandoffCheckAdmin(_ReadOnly, ModelAdmin):
    list_display = ("lead", "met", "definition_version", "agreement_version", "missing_fields", "checked_at")
    list_filter = ("met",)


class ImportProblemInline(_ReadOnly, TabularInline):
    model = ImportProblem
    fields = ("row", "column", "reason")
    extra = 0
    max_num = 0


@admin.register(ImportJob)
class ImportJobAdmin(_ReadOnly, ModelAdmin):
    list_display = (
        "file_name", "state", "preset", "rows_read", "rows_imported", "problems_count", "started_at",
        "finished_at",
    )  # fmt: skip
    list_filter = ("status", "preset")
    inlines = (ImportProblemInline,)
    actions = ("download_problems",)

    @admin.action(description="Download the problem report (CSV)")
    def download_problems(self, request: HttpRequest, queryset: QuerySet[ImportJob]) -> HttpResponse | None:
        jobs = list(queryset[:2])
        if len(jobs) != 1:
            self.message_user(request, "choose exactly one import", level=messages.WARNING)
            return None
        job = jobs[0]
        response = HttpResponse(import_job_report_csv(job), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-problems.csv"'
        return response

    @admin.display(description="status", ordering="status")
    def state(self, obj: ImportJob) -> str:
        """``interrupted`` for a running job whose process is gone, with how to go on."""
        status = import_job_status(obj)
        if status == ImportJob.Status.INTERRUPTED:
            return f"interrupted after row {obj.last_committed_row}: leadpact import {obj.file_name} --resume"
        return status


@admin.register(SavedMapping)
class SavedMappingAdmin(ModelAdmin):
    list_display = ("name", "organization", "created_at")


@admin.register(ApiToken)
class ApiTokenAdmin(_ReadOnly, ModelAdmin):
    list_display = ("name", "organization", "prefix", "scope", "created_at", "last_used_at", "revoked_at")
    exclude = ("hashed_secret",)
    actions = ("revoke",)

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            api_token_revoke(token=token, actor=actor_from_request(request))
        self.message_user(request, f"{queryset.count()} token(s) revoked")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser) and obj is None  # the list page, for the action


_PUBLIC_URL_HELP = WebhookIntegration._meta.get_field("public_url").help_text


class WebhookIntegrationAddForm(forms.ModelForm):  # type: ignore[type-arg]
    """A new sender: the secret is generated (shown once after saving) unless given; HubSpot's is given."""

    public_url = forms.URLField(required=False, assume_scheme="https", help_text=_PUBLIC_URL_HELP)
    slug = forms.SlugField(
        required=False, max_length=64, help_text="the last part of the webhook URL; generated when left empty"
    )

    secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="HubSpot: the app's client secret (required). Mautic: its webhook secret, or leave empty "
        "and paste the generated one into Mautic. Generic: leave empty. Pipedrive: not used (a password "
        "is generated).",
    )

    class Meta:
        model = WebhookIntegration
        fields = ("organization", "kind", "name", "slug", "username", "public_url", "account_id")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == WebhookIntegration.Kind.SALESFORCE and not re.fullmatch(
            r"00D[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?", (data.get("account_id") or "").strip()
        ):
            self.add_error(
                "account_id", "give the Salesforce organisation id (00D…, Setup → Company Information)"
            )
        problem = webhook_credentials_problem(
            kind=data.get("kind", ""), secret=data.get("secret", ""), username=data.get("username", "")
        )
        if problem is not None:
            self.add_error("secret", problem)
        return data


class WebhookIntegrationChangeForm(forms.ModelForm):  # type: ignore[type-arg]
    """A sender's name, URL and state; a new secret only when one is typed (it is never shown)."""

    public_url = forms.URLField(required=False, assume_scheme="https", help_text=_PUBLIC_URL_HELP)

    new_secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the secret. Type HubSpot's new client secret here; for the others use "
        "the action “Generate new credentials”.",
    )

    class Meta:
        model = WebhookIntegration
        fields = ("name", "public_url", "active")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_secret"):
            problem = webhook_credentials_problem(
                kind=self.instance.kind, secret=data["new_secret"], username=self.instance.username
            )
            if problem is not None:
                self.add_error("new_secret", problem)
        return data


@admin.register(WebhookIntegration)
class WebhookIntegrationAdmin(ModelAdmin):
    """Created, changed and renewed through the services (audited); secrets are never shown again."""

    list_display = ("name", "kind", "slug", "organization", "active", "created_at")
    list_filter = ("kind", "active")
    actions = ("renew",)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["form"] = WebhookIntegrationChangeForm if obj is not None else WebhookIntegrationAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("organization", "kind", "name", "slug", "secret", "username", "public_url", "account_id")
        return ("organization", "kind", "slug", "username", "name", "public_url", "active", "new_secret",
                "created_at")  # fmt: skip

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("organization", "kind", "slug", "username", "created_at") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        actor = actor_from_request(request)
        data = form.cleaned_data
        if not change:
            row, self._shown = webhook_integration_create(
                organization=data["organization"],
                kind=data["kind"],
                name=data["name"],
                slug=data["slug"] or None,
                secret=data["secret"],
                username=data["username"],
                public_url=data["public_url"],
                account_id=data.get("account_id") or "",
                actor=actor,
            )
            obj.pk = row.pk
            return
        webhook_integration_update(
            integration=obj,
            name=data["name"],
            public_url=data["public_url"],
            active=data["active"],
            actor=actor,
        )
        if data["new_secret"]:
            webhook_integration_renew(integration=obj, secret=data["new_secret"], actor=actor)

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None) -> HttpResponse:
        """The credentials, this once, on a page of their own (not in a message or a cookie)."""
        return self._credentials(request, WebhookIntegration.objects.get(pk=obj.pk), self._shown)

    def _credentials(
        self, request: HttpRequest, integration: WebhookIntegration, shown: WebhookCredentials
    ) -> HttpResponse:
        rows = [("secret", shown.secret)] if shown.secret else []
        if shown.password:
            rows = [("user", shown.username), ("password", shown.password)]
        if not rows:
            rows = [("secret", "the one you gave (not shown)")]
        context = {
            **self.admin_site.each_context(request),
            "integration": integration,
            "shown": rows,
            "back": reverse("admin:leads_webhookintegration_changelist"),
            "title": f"{integration.name}: credentials",
        }
        response = TemplateResponse(request, "admin/leads/credentials.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Generate new credentials (shown once; the old ones stop working)")
    def renew(self, request: HttpRequest, queryset: QuerySet[WebhookIntegration]) -> HttpResponse | None:
        chosen = list(queryset[:2])
        if len(chosen) != 1:
            self.message_user(request, "choose exactly one integration", messages.WARNING)
            return None
        try:
            shown = webhook_integration_renew(integration=chosen[0], actor=actor_from_request(request))
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return None
        return self._credentials(request, chosen[0], shown)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_ReadOnly, ModelAdmin):
    list_display = ("received_at", "integration", "status", "events_stored", "processed_at")
    list_filter = ("status", "integration")
    exclude = ("body",)
    actions = ("process",)

    @admin.action(description="Process the selected pending deliveries")
    def process(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        pending = queryset.filter(status=WebhookDelivery.Status.PENDING).select_related(
            "integration__organization"
        )
        counts = webhook_deliveries_process(pending.order_by("received_at", "id"))
        level = messages.WARNING if counts["stuck"] or counts["failed"] else messages.SUCCESS
        self.message_user(
            request,
            f"{counts['processed']} deliveries processed, {counts['failed']} failed, "
            f"{counts['stuck']} still pending (their error says why)",
            level,
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser) and obj is None


@admin.register(WebhookRejection)
class WebhookRejectionAdmin(_ReadOnly, ModelAdmin):
    list_display = ("received_at", "integration", "path", "reason", "remote_addr")
