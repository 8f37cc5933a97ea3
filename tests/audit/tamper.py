"""What someone who owns the database can do: drop the guard rails and change the audit tables by SQL.

Everything runs inside the test's transaction, so the triggers are back once the test ends.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.db import connection

from leadpact.audit.models import AuditCheckpoint, AuditEntry

_triggers = importlib.import_module("leadpact.audit.migrations.0005_append_only_triggers")


def triggers_drop() -> None:
    statements = _triggers.POSTGRESQL_DROP if connection.vendor == "postgresql" else _triggers.SQLITE_DROP
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def sql(statement: str, params: list[Any] | None = None, *, guarded: bool = False) -> None:
    """Run ``statement`` with ``{entries}`` and ``{checkpoint}`` standing for the two audit tables.

    Without ``guarded`` the triggers are dropped first, as an attacker who owns the database would.
    """
    if not guarded:
        triggers_drop()
    quote = connection.ops.quote_name
    text = statement.format(
        entries=quote(AuditEntry._meta.db_table), checkpoint=quote(AuditCheckpoint._meta.db_table)
    )
    with connection.cursor() as cursor:
        cursor.execute(text, params or [])
