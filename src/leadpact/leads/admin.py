"""Admin for leads: leads with their source ids, state and (read-only) events; import jobs with their
problem report as a CSV download; API tokens (revoke); webhook integrations, deliveries and rejections."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from leadpact.audit.services import actor_from_request
from leadpact.errors import ApplicationError
from leadpact.leads._duplicates import leads_mark_duplicate
from leadpact.leads.imports import import_job_report_csv
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
from leadpact.leads.services import api_token_revoke
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
    fields = ("occurred_at", "kind", "actor_label", "source", "data", "recorded_at")
    ordering = ("occurred_at", "id")
    extra = 0


class LeadStateInline(_ReadOnly, StackedInline):
    model = LeadState
    extra = 0


class LeadActionForm(ActionForm):
    """The action bar of the lead list, with the original lead's id for "mark as duplicate of …"."""

    original = forms.IntegerField(required=False, min_value=1, label="original lead id")


@admin.register(Lead)
class LeadAdmin(_ReadOnly, ModelAdmin):
    list_display = (
        "__str__", "company", "country", "score", "marketing_owner", "sales_owner", "duplicate_of",
        "created_at",
    )  # fmt: skip
    list_filter = ("organization", "country")
    search_fields = ("name", "email", "company", "sources__external_id")
    inlines = (LeadSourceInline, LeadStateInline, LeadEventInline)
    list_select_related = ("marketing_owner", "sales_owner", "duplicate_of")
    show_full_result_count = False  # a count over a million leads on every page is slow
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


@admin.register(LeadEvent)
class LeadEventAdmin(_ReadOnly, ModelAdmin):
    list_display = ("occurred_at", "kind", "lead", "source", "actor_label", "recorded_at")
    list_filter = ("kind", "source")
    raw_id_fields = ("lead",)
    show_full_result_count = False


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
        "file_name", "status", "preset", "rows_read", "rows_imported", "problems_count", "started_at",
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


@admin.register(WebhookIntegration)
class WebhookIntegrationAdmin(ModelAdmin):
    list_display = ("name", "kind", "slug", "organization", "active", "created_at")
    list_filter = ("kind", "active")


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
