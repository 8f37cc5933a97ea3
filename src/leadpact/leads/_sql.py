"""Bulk writes with ``executemany`` for the import hot path: id allocation, inserts, upserts.

Django's ``bulk_create`` prepares every value of every row through the field machinery (measured: ~80% of
an import's time); here the values are adapted once per column type. Only for rows whose model has no
custom ``save()`` logic to skip: new leads, their source ids, new events (append-only: inserts are what
they allow) and the state cache.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model

from leadpact.leads._prepare import adapt_json, datetime_adapter_for, sqlite_datetime

__all__ = [
    "BULK_PRAGMAS",
    "adapt_datetime",
    "adapt_json",
    "allocate_ids",
    "datetime_adapter",
    "in_values",
    "insert_rows",
    "tuned_for_bulk",
]


def adapt_datetime(value: dt.datetime | None) -> Any:
    """An aware datetime as the database column takes it (SQLite: UTC text, as Django writes it)."""
    return sqlite_datetime(value) if connection.vendor == "sqlite" else value


def datetime_adapter() -> Any:
    """:func:`adapt_datetime` for the current database, looked up once (for per-row loops; one a batch)."""
    return datetime_adapter_for(connection.vendor == "sqlite")


#: What a bulk load sets on its SQLite connection (and puts back afterwards). A larger page cache keeps
#: inserts into big indexes in memory. A checkpoint every 64 Ki pages (256 MiB of WAL) where SQLite's
#: default is 1,000: a batch's inserts into the random-keyed indexes (the events' key digests, the leads'
#: e-mails) touch pages all over them, so each commit wrote tens of MB to the WAL and, past 1,000 pages,
#: copied them into the database and synced it — every batch. Checkpointing less often copies a page
#: once for several batches (the commit cost a row fell from ~30 to ~14 µs in a 600,000-row load).
BULK_PRAGMAS = {"cache_size": -65536, "wal_autocheckpoint": 65536}


@contextlib.contextmanager
def tuned_for_bulk() -> Iterator[None]:
    """Run a bulk load with :data:`BULK_PRAGMAS` on SQLite; then put the connection's values back and
    checkpoint the WAL (passively: readers are not kept waiting). Elsewhere it does nothing."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        before = {}
        for name, value in BULK_PRAGMAS.items():
            cursor.execute(f"PRAGMA {name}")
            before[name] = cursor.fetchone()[0]
            cursor.execute(f"PRAGMA {name} = {int(value)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name, value in before.items():
                cursor.execute(f"PRAGMA {name} = {int(value)}")
            if not connection.in_atomic_block:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")


def in_values(values: Sequence[Any]) -> tuple[str, list[Any]]:
    """``(sql, params)`` of a ``column <sql>`` test for membership in ``values``: ``IN (%s, …)`` on SQLite,
    ``= ANY(%s)`` with one array on PostgreSQL (psycopg parses a query's placeholders in Python: 900 of
    them cost more than the query, measured).

    The caller writes ``f"… AND external_id {sql}"`` and appends ``params`` to its own.
    """
    if connection.vendor == "postgresql":
        return "= ANY(%s)", [list(values)]
    return f"IN ({', '.join(['%s'] * len(values))})", list(values)


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


#: From this many rows on, PostgreSQL gets them by ``COPY`` (psycopg 3's copy protocol) rather than one
#: ``INSERT`` a row: measured on a 1,000-event batch, ~9 µs a row instead of ~60 (a round trip each).
COPY_FROM_ROWS = 64


def insert_rows(
    model: type[Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: str = "",
) -> int:
    """``INSERT`` the rows (values already adapted) with one ``executemany``; returns the rows written.

    ``conflict`` is appended as is, e.g. ``ON CONFLICT DO NOTHING`` or an upsert clause. On PostgreSQL,
    :data:`COPY_FROM_ROWS` rows or more go by ``COPY``: straight into the table when there is no
    ``conflict`` clause, else into a staging table and from there by one set-based ``INSERT … SELECT``
    with the clause (:func:`_copy_rows`); the outcome is the same.
    """
    if not rows:
        return 0
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(c) for c in columns)
    if connection.vendor == "postgresql" and len(rows) >= COPY_FROM_ROWS:
        return _copy_rows(model._meta.db_table, columns, rows, conflict)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks}) {conflict}"  # noqa: S608 - names from the model
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
        return int(max(cursor.rowcount, 0))


def _copy_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], conflict: str) -> int:
    """PostgreSQL: the rows by ``COPY``; with a ``conflict`` clause through a staging table (temporary,
    the listed columns only, emptied at every commit and after every use), then one ``INSERT … SELECT``.

    An upsert's clause may meet a key once a statement, as ``executemany``'s one statement a row may
    meet it again: the callers' rows have each key once (the state cache's leads, the events' digests).
    Errors are Django's (``IntegrityError`` …), as ``execute`` raises them, so retries work alike.
    """
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    with connection.wrap_database_errors, connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own cursor: Django's wrapper has no copy()
        if not conflict:
            with cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return len(rows)
        stage = _stage(cursor, table, columns)
        with cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {quote(table)} ({names}) SELECT {names} FROM {stage} {conflict}"  # noqa: S608
        )
        written = max(cursor.rowcount, 0)
        cursor.execute(f"TRUNCATE {stage}")
        return int(written)


def _stage(cursor: Any, table: str, columns: Sequence[str]) -> str:
    """The session's staging table for ``table``'s ``columns`` (made when missing: a rolled-back
    transaction takes it away again)."""
    quote = connection.ops.quote_name
    name = quote(f"stage_{table}_{zlib.crc32(' '.join(columns).encode()):08x}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ON COMMIT DELETE ROWS AS "  # noqa: S608
        f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)} WITH NO DATA"
    )
    return name
