"""Bulk writes with ``executemany`` for the import hot path: id allocation, inserts, upserts.

Django's ``bulk_create`` prepares every value of every row through the field machinery (measured: ~80% of
an import's time); here the values are adapted once per column type. Only for rows whose model has no
custom ``save()`` logic to skip: new leads, their source ids, new events (append-only: inserts are what
they allow) and the state cache.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Model

from leadpact.leads._prepare import adapt_json, datetime_adapter_for, sqlite_datetime

__all__ = ["adapt_datetime", "adapt_json", "allocate_ids", "datetime_adapter", "insert_rows", "tune_for_bulk"]


def adapt_datetime(value: dt.datetime | None) -> Any:
    """An aware datetime as the database column takes it (SQLite: UTC text, as Django writes it)."""
    return sqlite_datetime(value) if connection.vendor == "sqlite" else value


def datetime_adapter() -> Any:
    """:func:`adapt_datetime` for the current database, looked up once (for per-row loops; one a batch)."""
    return datetime_adapter_for(connection.vendor == "sqlite")


def tune_for_bulk() -> None:
    """Give SQLite a larger page cache for this connection (inserts into big indexes stay in memory)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -65536")  # 64 MiB


def allocate_ids(model: type[Model], count: int) -> list[int]:
    """``count`` fresh primary keys for ``model``; call inside the transaction that inserts them.

    PostgreSQL: from the id sequence. SQLite: after the highest id ever used (writers are serialised by
    ``BEGIN IMMEDIATE``, so nobody else can take them before the commit).
    """
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        highest = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(highest, row[0] if row else 0) + 1
    return list(range(start, start + count))


def insert_rows(
    model: type[Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: str = "",
) -> int:
    """``INSERT`` the rows (values already adapted) with one ``executemany``; returns the rows written.

    ``conflict`` is appended as is, e.g. ``ON CONFLICT DO NOTHING`` or an upsert clause.
    """
    if not rows:
        return 0
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks}) {conflict}"  # noqa: S608 - names from the model
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
        return int(max(cursor.rowcount, 0))
