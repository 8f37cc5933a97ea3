"""What a backup of an organisation holds: its models in the order they are written and restored.

Every model of leadpact's apps is in a backup (with the tables of its many-to-many fields), found through
the apps' registry, so a new model is backed up without a change here — unless it is named in
:data:`LEFT_OUT` with the reason. A record belongs to an organisation by the shortest chain of foreign
keys to it (:func:`leadpact.web.admin_site.organization_path`, the same one the admin is sealed by).
Three tables are chosen otherwise: the users (those the organisation's records name), the audit entries
(the organisation's, and those that belong to none) and the audit checkpoint (when the chain is the
organisation's alone; see :mod:`leadpact.backup.services`).

The order is that of the foreign keys — a record comes after every record it points to (a lead's
``duplicate_of``, pointing into its own table, is the one exception; the constraint is checked at commit)
— and the audit chain comes last.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from django.apps import apps
from django.contrib.auth.models import User
from django.db import models
from django.db.models import Q

from leadpact.audit.models import AuditCheckpoint, AuditEntry
from leadpact.organization.models import Organization
from leadpact.web.admin_site import organization_path

__all__ = ["LEFT_OUT", "Part", "audit_entries", "backup_parts", "part_rows", "user_ids"]

#: Tables of leadpact's apps that a backup leaves out, and why.
LEFT_OUT: dict[str, str] = {
    "measurement.eventsnapshot": "names a cache file in the data folder; rebuilt from the events when used",
}


@dataclass(frozen=True, slots=True)
class Part:
    """One table in a backup: its model, its name in the file, its path to the organisation."""

    model: type[models.Model]
    label: str
    path: str | None

    @property
    def fields(self) -> list[models.Field[Any, Any]]:
        return list(self.model._meta.concrete_fields)


def _leadpact_models() -> list[type[models.Model]]:
    found = []
    for config in apps.get_app_configs():
        if not config.name.startswith("leadpact."):
            continue
        for model in config.get_models(include_auto_created=True):
            if model._meta.label_lower not in LEFT_OUT and not model._meta.proxy:
                found.append(model)
    return found


def _ordered(found: list[type[models.Model]]) -> list[type[models.Model]]:
    """Every model after the models its foreign keys point to (stable: by label where free to choose)."""
    pending = {m._meta.label_lower: m for m in found}
    done: list[type[models.Model]] = []
    placed: set[str] = set()
    while pending:
        ready = sorted(
            label
            for label, model in pending.items()
            if all(
                target._meta.label_lower in placed
                or target._meta.label_lower not in pending
                or target is model
                for target in (f.related_model for f in model._meta.concrete_fields if f.is_relation)
                if isinstance(target, type)
            )
        )
        if not ready:  # a cycle through nullable keys: take them by name (checked at commit)
            ready = sorted(pending)[:1]
        for label in ready:
            done.append(pending.pop(label))
            placed.add(label)
    return done


@cache
def backup_parts() -> tuple[Part, ...]:
    """The tables of a backup, in the order they are written: users first, the audit chain last."""
    chain = (AuditEntry, AuditCheckpoint)
    models_ = [m for m in _ordered(_leadpact_models()) if m not in chain]
    parts = [Part(User, User._meta.label_lower, None)]
    for model in models_:
        path = organization_path(model)
        if path is None:
            raise LookupError(f"{model._meta.label_lower} has no path to an organisation: add it to LEFT_OUT")
        parts.append(Part(model, model._meta.label_lower, path))
    parts += [Part(model, model._meta.label_lower, None) for model in chain]
    return tuple(parts)


def audit_entries(organization: Organization) -> models.QuerySet[AuditEntry]:
    """The organisation's audit entries and those of no organisation (about users, keys, the system)."""
    return AuditEntry.objects.filter(
        Q(organization=organization)
        | Q(organization__isnull=True, agreement__isnull=True)
        | Q(organization__isnull=True, agreement__organization=organization)
    )


def user_ids(organization: Organization) -> set[int]:
    """The users the organisation's records name: members, people's logins, authors, audit actors."""
    ids: set[int] = set()
    for part in backup_parts():
        if part.model in (User, AuditCheckpoint):
            continue
        for field in part.model._meta.concrete_fields:
            if field.is_relation and field.related_model is User:
                rows = part_rows(part, organization, users=set()).exclude(
                    **{f"{field.attname}__isnull": True}
                )
                ids.update(rows.order_by().values_list(field.attname, flat=True).distinct())
    return ids


def part_rows(
    part: Part, organization: Organization, *, users: set[int] | None = None
) -> models.QuerySet[Any]:
    """The rows of ``part`` that belong to ``organization``, by primary key (``users``: the users' ids,
    when already known)."""
    model = part.model
    rows: models.QuerySet[Any]
    if model is User:
        ids = user_ids(organization) if users is None else users
        rows = User.objects.filter(pk__in=sorted(ids))
    elif model is AuditEntry:
        rows = audit_entries(organization)
    elif model is AuditCheckpoint:
        rows = AuditCheckpoint.objects.all()
    else:
        rows = model._default_manager.filter(**{part.path or "pk": organization.pk})
    return rows.order_by("pk")
