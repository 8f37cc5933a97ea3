"""Agreements in the admin.  Versions change only through the services (import, propose, sign, activate);
the admin shows them, signed versions entirely read-only, and offers propose and activate as actions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from leadpact.agreements.models import (
    Agreement,
    AgreementVersion,
    Commitment,
    DefinitionVersion,
    Signature,
)
from leadpact.audit.services import actor_from_request
from leadpact.errors import ApplicationError

if TYPE_CHECKING:
    ModelAdmin = admin.ModelAdmin[Any]
    TabularInline = admin.TabularInline[Any, Any]
else:  # the admin classes are not subscriptable at run time
    ModelAdmin = admin.ModelAdmin
    TabularInline = admin.TabularInline

__all__ = [
    "AgreementAdmin",
    "AgreementVersionAdmin",
    "CommitmentAdmin",
    "DefinitionVersionAdmin",
    "SignatureAdmin",
]


class _ReadOnlyInline(TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class VersionInline(_ReadOnlyInline):
    model = AgreementVersion
    fields = ("number", "status", "effective_from", "effective_until", "activated_at", "content_hash")
    readonly_fields = fields
    show_change_link = True


@admin.register(Agreement)
class AgreementAdmin(ModelAdmin):
    list_display = ("key", "title", "organization")
    list_filter = ("organization",)
    search_fields = ("key", "title")
    readonly_fields = ("organization", "key")
    inlines = (VersionInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # agreements come in by import (leadpact agreement import)


class SignatureInline(_ReadOnlyInline):
    model = Signature
    fields = ("party", "signed_by", "signed_at", "content_hash")
    readonly_fields = fields


class CommitmentInline(_ReadOnlyInline):
    model = Commitment
    fields = ("key", "title", "kind", "owner", "beneficiary", "covers")
    readonly_fields = fields
    show_change_link = True


@admin.register(AgreementVersion)
class AgreementVersionAdmin(ModelAdmin):
    list_display = (
        "agreement",
        "number",
        "status",
        "effective_from",
        "effective_until",
        "activated_at",
        "short_hash",
    )
    list_filter = ("status", "agreement")
    search_fields = ("agreement__key", "agreement__title", "content_hash")
    date_hierarchy = "effective_from"
    list_select_related = ("agreement",)
    inlines = (SignatureInline, CommitmentInline)
    actions = ("propose", "activate")
    readonly_fields = (
        "agreement",
        "number",
        "status",
        "effective_from",
        "effective_until",
        "document_yaml",
        "content_hash",
        "parties",
        "definitions",
        "created_by",
        "created_at",
        "proposed_at",
        "signed_at",
        "activated_at",
        "superseded_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a version is imported or made as a new draft

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # the list and its actions (propose, activate) need it; a version's page is for reading only
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or obj.status == AgreementVersion.Status.DRAFT

    def delete_model(self, request: HttpRequest, obj: AgreementVersion) -> None:
        from leadpact.agreements.services import agreement_version_delete_draft

        agreement_version_delete_draft(version=obj, actor=actor_from_request(request, anonymous="admin"))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AgreementVersion]) -> None:
        from leadpact.agreements.services import agreement_version_delete_draft

        actor = actor_from_request(request, anonymous="admin")
        for version in queryset:
            try:
                agreement_version_delete_draft(version=version, actor=actor)
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)

    @admin.display(description=_("document"))
    def document_yaml(self, obj: AgreementVersion) -> str:
        from leadpact.agreements.services import agreement_export

        return format_html("<pre>{}</pre>", agreement_export(version=obj))

    @admin.display(description=_("content hash"))
    def short_hash(self, obj: AgreementVersion) -> str:
        return obj.content_hash[:12]

    def _run(
        self, request: HttpRequest, queryset: QuerySet[AgreementVersion], what: Literal["propose", "activate"]
    ) -> None:
        from leadpact.agreements import services

        actor, now = actor_from_request(request, anonymous="admin"), timezone.now()
        for version in queryset.order_by("agreement_id", "number"):
            try:
                if what == "propose":
                    services.agreement_version_propose(version=version, actor=actor, now=now)
                    done = gettext("%(version)s: proposed")
                else:
                    services.agreement_version_activate(version=version, actor=actor, now=now)
                    done = gettext("%(version)s: activated")
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, done % {"version": version})

    @admin.action(description=_("Propose the selected drafts for signature"))
    def propose(self, request: HttpRequest, queryset: QuerySet[AgreementVersion]) -> None:
        self._run(request, queryset, "propose")

    @admin.action(description=_("Activate the selected signed versions"))
    def activate(self, request: HttpRequest, queryset: QuerySet[AgreementVersion]) -> None:
        self._run(request, queryset, "activate")


@admin.register(DefinitionVersion)
class DefinitionVersionAdmin(ModelAdmin):
    """New definition content can be added here (its rule is checked, with the position of any error);
    an existing definition version never changes."""

    list_display = ("key", "number", "term", "rule", "organization")
    list_filter = ("organization", "key")
    search_fields = ("key", "term", "text", "rule")
    fields = ("organization", "key", "number", "term", "text", "rule", "content_hash")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["number", "content_hash"]
        return list(self.fields)

    def save_model(self, request: HttpRequest, obj: DefinitionVersion, form: Any, change: bool) -> None:
        from leadpact.agreements.services import definition_version_get_or_create

        if change:
            return  # a definition version never changes; new content is added as a new one
        saved = definition_version_get_or_create(
            organization=obj.organization,
            key=obj.key,
            term=obj.term,
            text=obj.text,
            rule=obj.rule,
            actor=actor_from_request(request, anonymous="admin"),
        )
        obj.pk, obj.number, obj.content_hash = saved.pk, saved.number, saved.content_hash
        obj._state.adding = False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Signature)
class SignatureAdmin(ModelAdmin):
    list_display = ("version", "party", "signed_by", "signed_at", "content_hash")
    list_filter = ("party", "version__agreement")
    search_fields = ("signed_by__name", "signed_by__email", "content_hash")
    list_select_related = ("version__agreement", "party", "signed_by")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Signature._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Commitment)
class CommitmentAdmin(ModelAdmin):
    list_display = ("key", "kind", "owner", "beneficiary", "covers", "version")
    list_filter = ("kind", "owner", "version__agreement", "version__status")
    search_fields = ("key", "title")
    list_select_related = ("owner", "beneficiary", "covers", "version__agreement")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Commitment._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
