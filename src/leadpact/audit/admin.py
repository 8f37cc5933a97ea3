"""The audit log in the admin: read only, searchable, filterable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from leadpact.audit.models import AuditEntry

if TYPE_CHECKING:
    ModelAdmin = admin.ModelAdmin[Any]
    TabularInline = admin.TabularInline[Any, Any]
else:  # the admin classes are not subscriptable at run time
    ModelAdmin = admin.ModelAdmin
    TabularInline = admin.TabularInline


@admin.register(AuditEntry)
class AuditEntryAdmin(ModelAdmin):
    list_display = ("id", "at", "actor_label", "action", "object_type", "object_id", "agreement")
    list_filter = ("action", "object_type", "agreement")
    search_fields = ("actor_label", "action", "object_id", "hash")
    date_hierarchy = "at"
    list_select_related = ("agreement",)

    def get_readonly_fields(self, request: HttpRequest, obj: AuditEntry | None = None) -> list[str]:
        return [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
