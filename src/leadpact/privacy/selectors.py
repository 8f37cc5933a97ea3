"""Everything leadpact holds about one person — a lead or an employee — as JSON-able data (GDPR art. 15).

The export walks every model that points at the lead or the person (``_meta.related_objects``), so a
model added later is exported without a change here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core import serializers
from django.db import models

from leadpact.leads.models import Lead
from leadpact.organization.models import Person
from leadpact.privacy._stores import stores_export

__all__ = ["lead_export", "person_export"]

_ROW_LIMIT = 100_000  # per related model: a person with more rows than this is exported in part, and says so


def _rows(queryset: models.QuerySet[Any]) -> list[dict[str, Any]]:
    return [
        {"model": row["model"], "id": row["pk"], **row["fields"]}
        for row in serializers.serialize("python", queryset[:_ROW_LIMIT])
    ]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def _related(obj: models.Model) -> dict[str, list[dict[str, Any]]]:
    """Rows of every model with a foreign key (or one-to-one) to ``obj``, by model label."""
    out: dict[str, list[dict[str, Any]]] = {}
    # hidden relations too: most foreign keys to a person are declared with related_name="+"
    for relation in obj._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete) or not (
            relation.one_to_many or relation.one_to_one
        ):
            continue
        model = relation.related_model
        assert isinstance(model, type)
        field = relation.field.name  # type: ignore[union-attr]
        rows = _rows(model._base_manager.filter(**{field: obj}).order_by("pk"))
        if rows:
            out.setdefault(model._meta.label_lower, []).extend(rows)
    return out


def lead_export(*, lead: Lead) -> dict[str, Any]:
    """The lead, its source ids, events, state, checks, clocks, disputes … — all rows that point at it —
    and the rows elsewhere that quote its values (``mentions``: stored webhook requests, import problems,
    review texts)."""
    data: dict[str, Any] = _plain(
        {
            "kind": "lead",
            "lead": _rows(Lead.objects.filter(pk=lead.pk))[0],
            "related": _related(lead),
            # copies in stores without a key to the lead (webhook bodies, import problems, review texts)
            "mentions": stores_export(lead),
        }
    )
    return data


def person_export(*, person: Person) -> dict[str, Any]:
    """The employee's record, and every row that names them: leads they own, events they recorded,
    targets, leave, alerts sent to them, disputes they opened …"""
    data: dict[str, Any] = _plain(
        {
            "kind": "person",
            "person": _rows(Person.objects.filter(pk=person.pk))[0],
            "related": _related(person),
        }
    )
    return data
