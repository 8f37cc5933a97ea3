"""Organisations, teams, people and leave in the admin; every change made here is audited."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db import models, transaction
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leadpact.audit.services import actor_from_request, audit_record
from leadpact.organization.models import Leave, Membership, Organization, Person, Team

if TYPE_CHECKING:
    ModelAdmin = admin.ModelAdmin[Any]
    TabularInline = admin.TabularInline[Any, Any]
else:  # the admin classes are not subscriptable at run time
    ModelAdmin = admin.ModelAdmin
    TabularInline = admin.TabularInline

__all__ = ["AuditedAdmin", "LeaveAdmin", "MembershipAdmin", "OrganizationAdmin", "PersonAdmin", "TeamAdmin"]


def _value(value: Any) -> Any:
    # audit_record turns dates, Decimals and the like into JSON; a related object is named by its key.
    return value.pk if isinstance(value, models.Model) else value


def _organization_of(obj: models.Model) -> Organization | None:
    if isinstance(obj, Organization):
        return obj
    if isinstance(obj, Team):
        return obj.organization
    if isinstance(obj, Person):
        return obj.team.organization
    if isinstance(obj, Leave):
        return obj.person.team.organization
    if isinstance(obj, Membership):
        return obj.organization
    return None


def audit_admin_change(
    request: HttpRequest, obj: models.Model, *, change: bool, changed: list[str], initial: Mapping[str, Any]
) -> None:
    """Write one audit entry for an add or change made in the admin."""
    if change and not changed:
        return
    audit_record(
        actor=actor_from_request(request, anonymous="admin"),
        action=f"{obj._meta.model_name}.{'update' if change else 'create'}",
        obj=obj,
        at=timezone.now(),
        before={f: _value(initial.get(f)) for f in changed} if change else None,
        after={f: _value(getattr(obj, f, None)) for f in changed},
        organization=_organization_of(obj),
    )


def audit_admin_delete(request: HttpRequest, obj: models.Model) -> None:
    audit_record(
        actor=actor_from_request(request, anonymous="admin"),
        action=f"{obj._meta.model_name}.delete",
        obj=obj,
        at=timezone.now(),
        before={"repr": str(obj)},
        organization=_organization_of(obj),
    )


class AuditedAdmin(ModelAdmin):
    """Saves, inline saves and deletes through the admin leave audit entries, in the same transaction."""

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm[Any], change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_admin_change(
                request, obj, change=change, changed=list(form.changed_data), initial=form.initial
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            audit_admin_delete(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        with transaction.atomic():
            for obj in queryset:
                audit_admin_delete(request, obj)
            super().delete_queryset(request, queryset)

    def save_formset(
        self, request: HttpRequest, form: Any, formset: BaseInlineFormSet[Any, Any, Any], change: bool
    ) -> None:
        with transaction.atomic():
            for deleted in formset.deleted_forms:
                if deleted.instance.pk is not None:
                    audit_admin_delete(request, deleted.instance)
            formset.save()
            for inline_form in formset.forms:
                obj = inline_form.instance
                if obj.pk is None or inline_form in getattr(formset, "deleted_forms", []):
                    continue
                if inline_form.has_changed():
                    audit_admin_change(
                        request,
                        obj,
                        change=bool(inline_form.initial),
                        changed=list(inline_form.changed_data),
                        initial=inline_form.initial,
                    )


class TeamInline(TabularInline):
    model = Team
    fields = ("key", "name", "kind")
    extra = 0
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a team needs its calendar: add it on its own page


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin):
    list_display = ("key", "name", "timezone")
    search_fields = ("key", "name")
    inlines = (TeamInline,)


class PersonInline(TabularInline):
    model = Person
    fields = ("name", "email", "role", "fte", "start_date", "end_date", "user")
    raw_id_fields = ("user",)
    extra = 0
    show_change_link = True


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ("key", "name", "kind", "organization", "people_count")
    list_filter = ("kind", "organization")
    search_fields = ("key", "name")
    inlines = (PersonInline,)
    list_select_related = ("organization",)

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).annotate(_people=models.Count("people"))

    @admin.display(description=_("people"), ordering="_people")
    def people_count(self, obj: Any) -> int:
        return int(obj._people)


class LeaveInline(TabularInline):
    model = Leave
    fields = ("first_day", "end_day", "note")
    extra = 0


@admin.register(Person)
class PersonAdmin(AuditedAdmin):
    list_display = ("name", "email", "team", "role", "fte", "start_date", "end_date", "user")
    list_filter = ("role", "team__kind", "team")
    search_fields = ("name", "email", "team__key", "team__name")
    raw_id_fields = ("user",)
    inlines = (LeaveInline,)
    list_select_related = ("team", "user")


@admin.register(Leave)
class LeaveAdmin(AuditedAdmin):
    list_display = ("person", "first_day", "end_day", "note")
    list_filter = ("person__team",)
    search_fields = ("person__name", "person__email", "note")
    date_hierarchy = "first_day"
    list_select_related = ("person",)


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("organization", "role")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
