"""What the backup tests compare: every table as stored, and the measurements of several periods."""

from __future__ import annotations

import datetime as dt
from typing import Any

from leadpact.audit.models import AuditCheckpoint, AuditEntry
from leadpact.backup.scope import backup_parts
from leadpact.measurement.periods import version_for_period
from leadpact.measurement.scorecard.results import result_data
from leadpact.measurement.scorecard.selectors import measure


def months_before(now: dt.datetime, count: int) -> list[str]:
    """The ``count`` months before ``now``'s month, oldest first, as ``YYYY-MM``."""
    year, month = now.year, now.month
    out = []
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        out.insert(0, f"{year}-{month:02d}")
    return out


def figures(periods: list[str], *, now: dt.datetime) -> dict[str, list[dict[str, Any]]]:
    """Every commitment's figure per team and person in each period, with its evidence, as JSON data."""
    out = {}
    for period in periods:
        version = version_for_period(organization=None, agreement=None, period=period)
        out[period] = [result_data(r) for r in measure(version=version, period=period, now=now)]
    return out


def tables() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table a backup holds, by primary key (the audit checkpoint left out: it moves
    with each entry)."""
    out = {}
    for part in backup_parts():
        if part.model is AuditCheckpoint:
            continue
        names = [f.attname for f in part.fields]
        out[part.label] = list(part.model._default_manager.order_by("pk").values_list(*names))
    return out


def audit_rows() -> list[tuple[Any, ...]]:
    return list(AuditEntry.objects.order_by("id").values_list("id", "action", "hash"))
