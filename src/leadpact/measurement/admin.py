"""Admin for targets and measurement: overrides and disputes go through their services (so they are
audited); clocks, closed periods, restatements and alerts are records to read, not to edit."""

from __future__ import annotations

import functools
from typing import Any, Literal

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from leadpact.errors import ApplicationError
from leadpact.measurement.alerts.services import alert_webhook_delete, alert_webhook_save
from leadpact.measurement.alerts.webhooks import WebhookRefused, webhook_addresses
from leadpact.measurement.disputes.services import dispute_decide
from leadpact.measurement.models import (
    Alert,
    AlertWebhook,
    ClosedMeasurement,
    ClosedPeriod,
    Dispute,
    LeadClock,
    Restatement,
    TargetOverride,
)
from leadpact.measurement.targets.services import target_override_allowed, target_override_set
from leadpact.organization.models import Person


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Records the product writes; people read them."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TargetOverride)
class TargetOverrideAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("agreement", "commitment_key", "period", "person", "value", "reason", "created_at")
    list_filter = ("agreement", "commitment_key", "period")
    search_fields = ("person__name", "reason")
    readonly_fields = ("created_at", "created_by")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        base = super().get_form(request, obj, change=change, **kwargs)

        class OverrideForm(base):  # type: ignore[misc, valid-type]
            def clean(self) -> dict[str, Any]:
                cleaned: dict[str, Any] = super().clean()
                person = cleaned.get("person")
                if person is not None and not target_override_allowed(request.user, person):  # type: ignore[arg-type]
                    self.add_error(
                        "person",
                        gettext("Only the lead of %(team)s or an admin may set this person's target.")
                        % {"team": person.team},
                    )
                return cleaned

        return OverrideForm

    def save_model(self, request: HttpRequest, obj: TargetOverride, form: Any, change: bool) -> None:
        target_override_set(
            agreement=obj.agreement,
            commitment_key=obj.commitment_key,
            period=obj.period,
            person=obj.person,
            value=obj.value,
            reason=obj.reason,
            actor=request.user,  # type: ignore[arg-type]
        )


def _decide(
    modeladmin: admin.ModelAdmin,  # type: ignore[type-arg]
    request: HttpRequest,
    queryset: QuerySet[Dispute],
    status: Literal["upheld", "rejected"],
) -> None:
    person = Person.objects.filter(user_id=request.user.pk or 0).first()
    if person is None:
        modeladmin.message_user(
            request, gettext("Only a team lead linked to your login can decide disputes."), messages.ERROR
        )
        return
    for dispute in queryset:
        try:
            dispute_decide(dispute=dispute, decided_by=person, status=status, now=timezone.now())
        except ApplicationError as error:
            modeladmin.message_user(request, f"{dispute}: {error.message}", messages.ERROR)
        else:
            modeladmin.message_user(request, f"{dispute}: {status}")


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("lead", "commitment_key", "opened_by", "opened_at", "status", "decided_by", "decided_at")
    list_filter = ("status", "commitment_key")
    search_fields = ("lead__name", "lead__company", "reason")
    readonly_fields = tuple(f.name for f in Dispute._meta.fields)
    actions = ("uphold", "reject")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Uphold: the lead leaves marketing's count"))
    def uphold(self, request: HttpRequest, queryset: QuerySet[Dispute]) -> None:
        _decide(self, request, queryset, "upheld")

    @admin.action(description=_("Reject: the lead stays counted"))
    def reject(self, request: HttpRequest, queryset: QuerySet[Dispute]) -> None:
        _decide(self, request, queryset, "rejected")


@admin.register(LeadClock)
class LeadClockAdmin(ReadOnlyAdmin):
    list_display = ("lead", "commitment_key", "owner", "started_at", "due_at", "stopped_at", "state", "level")
    list_filter = ("state", "commitment_key")
    search_fields = ("lead__name", "lead__company")
    list_select_related = ("lead", "owner")


class ClosedMeasurementInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ClosedMeasurement
    extra = 0
    can_delete = False
    fields = ("commitment_key", "subject", "data")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ClosedPeriod)
class ClosedPeriodAdmin(ReadOnlyAdmin):
    list_display = ("agreement_version", "period", "closed_at", "closed_by", "measured_at")
    inlines = (ClosedMeasurementInline,)


@admin.register(Restatement)
class RestatementAdmin(ReadOnlyAdmin):
    list_display = ("closed_period", "created_at", "status", "accepted_by", "accepted_at")
    list_filter = ("status",)


def _formfield(field: Any, assume_scheme: str, **kwargs: Any) -> Any:
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = assume_scheme
    return field.formfield(**kwargs)


class AlertWebhookForm(forms.ModelForm):  # type: ignore[type-arg]
    """Says at once when alerts may not be posted to the address (not public: SSRF)."""

    class Meta:
        model = AlertWebhook
        fields = ("organization", "team", "url", "active")
        # a URL typed without a scheme is https (Django 6's default; said now, not warned about)
        formfield_callback = functools.partial(_formfield, assume_scheme="https")

    def clean_url(self) -> str:
        url = str(self.cleaned_data["url"])
        try:
            webhook_addresses(url)
        except WebhookRefused as error:
            raise forms.ValidationError(
                gettext("Alerts cannot be posted to this address: %(reason)s") % {"reason": error}
            ) from error
        return url


@admin.register(AlertWebhook)
class AlertWebhookAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = AlertWebhookForm
    list_display = ("organization", "team", "url", "active")
    list_filter = ("active",)

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if isinstance(db_field, models.URLField):
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: AlertWebhook, form: Any, change: bool) -> None:
        alert_webhook_save(webhook=obj, actor=request.user)  # type: ignore[arg-type]

    def delete_model(self, request: HttpRequest, obj: AlertWebhook) -> None:
        alert_webhook_delete(webhook=obj, actor=request.user)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AlertWebhook]) -> None:
        for hook in queryset:
            alert_webhook_delete(webhook=hook, actor=request.user)  # type: ignore[arg-type]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = (
        "lead",
        "commitment_key",
        "threshold",
        "recipient",
        "role",
        "channel",
        "deliver_at",
        "status",
    )
    list_filter = ("status", "channel", "role", "commitment_key")
    search_fields = ("lead__name", "recipient__name", "subject")
    list_select_related = ("lead", "recipient")
