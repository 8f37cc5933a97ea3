"""The operators' admin, sealed per organisation.

Every model registered in the admin is scoped by the one site here, so no app's admin class can forget:
a staff user who is not a superuser sees, changes and chooses only records of the organisations where
they are an **organisation admin** (a :class:`~leadpact.organization.models.Membership`). A record belongs
to an organisation by the shortest chain of foreign keys from its model to ``Organization``
(:func:`organization_path`); a model without one (users, groups, sign-in attempts) is for superusers only.
Lists, change and delete pages, history, actions, list filters, the choices of every related field and
raw id lookups all read through the scoped queryset; a record outside it answers 404.
"""

from __future__ import annotations

from collections import deque
from functools import cache
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import Http404, HttpRequest

from leadpact.organization.models import Membership, Organization

__all__ = ["LeadpactAdminSite", "admin_organization_ids", "organization_path"]


@cache
def organization_path(model: Any) -> str | None:
    """The shortest lookup from ``model`` to its organisation (``"pk"`` for Organization itself), following
    forward foreign keys and one-to-one fields — through required fields where such a chain exists, so
    that a record is never orphaned by an empty optional field; None when the model belongs to no
    organisation.

    >>> from leadpact.leads.models import HandoffCheck
    >>> organization_path(HandoffCheck)
    'lead__organization'
    """
    if model is Organization:
        return "pk"
    return _path(model, required_only=True) or _path(model, required_only=False)


def _path(model: type[models.Model], *, required_only: bool) -> str | None:
    seen = {model}
    queue: deque[tuple[type[models.Model], str]] = deque([(model, "")])
    while queue:
        current, path = queue.popleft()
        for field in current._meta.get_fields():
            if not (field.many_to_one or field.one_to_one) or not field.concrete:
                continue
            if required_only and field.null:
                continue
            target = field.related_model
            if not isinstance(target, type) or target in seen:
                continue
            lookup = f"{path}{field.name}"
            if target is Organization:
                return lookup
            seen.add(target)
            queue.append((target, f"{lookup}__"))
    return None


def admin_organization_ids(request: HttpRequest) -> set[int] | None:
    """The organisations this staff user administers (None: every one, a superuser). Cached per request."""
    user = request.user
    if user.is_superuser:
        return None
    cached = getattr(request, "_leadpact_admin_orgs", None)
    if cached is None:
        cached = set(
            Membership.objects.filter(user_id=user.pk or 0, role=Membership.Role.ADMIN).values_list(
                "organization_id", flat=True
            )
        )
        request._leadpact_admin_orgs = cached  # type: ignore[attr-defined]
    return cached


def _scope(queryset: models.QuerySet[Any], request: HttpRequest) -> models.QuerySet[Any]:
    allowed = admin_organization_ids(request)
    if allowed is None:
        return queryset
    path = organization_path(queryset.model)  # type: ignore[arg-type]
    if path is None:
        return queryset.none()
    return queryset.filter(**{f"{path}__in": allowed})


class _ScopedFields:
    """Related fields offer only records of the user's organisations; URLs without a scheme are https."""

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if isinstance(db_field, models.URLField):
            kwargs.setdefault("assume_scheme", "https")
        return super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
        if field is not None and hasattr(field, "queryset"):
            field.queryset = _scope(field.queryset, request)
        return field

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]
        if field is not None and hasattr(field, "queryset"):
            field.queryset = _scope(field.queryset, request)
        return field


class _ScopedAdmin(_ScopedFields):
    """Mixed in front of every registered ModelAdmin by :class:`LeadpactAdminSite`."""

    model: type[models.Model]

    def _in_scope(self, request: HttpRequest) -> bool:
        allowed = admin_organization_ids(request)
        return allowed is None or (bool(allowed) and organization_path(self.model) is not None)

    def get_queryset(self, request: HttpRequest) -> Any:
        return _scope(super().get_queryset(request), request)  # type: ignore[misc]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._in_scope(request) and super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._in_scope(request) and super().has_view_permission(request, obj)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        if self.model is Organization and not request.user.is_superuser:
            return False  # a new organisation is an operator's (or onboarding's) to make
        return self._in_scope(request) and super().has_add_permission(request, *args)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._in_scope(request) and super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._in_scope(request) and super().has_delete_permission(request, obj)  # type: ignore[misc]

    def get_list_filter(self, request: HttpRequest) -> Any:
        # a filter on a relation lists only the related records present in the (scoped) list
        filters = []
        for item in super().get_list_filter(request):  # type: ignore[misc]
            if isinstance(item, str) and "__" not in item:
                field = self.model._meta.get_field(item)
                if field.is_relation:
                    item = (item, admin.RelatedOnlyFieldListFilter)
            filters.append(item)
        return filters

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts: Any, object_id: str) -> Any:
        raise Http404  # a record of another organisation is not found, it is not "deleted"


class LeadpactAdminSite(admin.AdminSite):
    """The admin site; :meth:`register` seals each model admin (and its inlines) per organisation."""

    site_header = "leadpact"
    site_title = "leadpact"

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        base = admin_class or admin.ModelAdmin
        inlines = [
            type(inline.__name__, (_ScopedFields, inline), {"__module__": inline.__module__})
            for inline in getattr(base, "inlines", ())
        ]
        scoped = type(
            base.__name__, (_ScopedAdmin, base), {"__module__": base.__module__, "inlines": inlines}
        )
        super().register(model_or_iterable, scoped, **options)
