"""Backup and restore of a whole organisation: :func:`backup_write` and :func:`backup_restore`.

A backup is one file (:mod:`leadpact.backup._file`) with every record of the organisation as stored —
primary keys included, so every foreign key, every audit entry's object id and every figure's evidence
stays valid — read in one consistent snapshot. It is restored into an **empty** database of either engine
in one transaction: all of it, or nothing.

Secrets stay as stored. API tokens and basic-auth passwords are hashes, so they keep working; webhook
signing secrets are sealed with a key derived from ``SECRET_KEY``, so they open where the same
``SECRET_KEY`` (or one of its fallbacks) is set; users' passwords are Django's hashes. The audit key and
``SECRET_KEY`` are never in the file: they are kept beside the database, not in it.

The audit chain. The database's chain is copied entry by entry as stored (hash, link and seal), with its
sealed checkpoint, when the organisation's entries (with those of no organisation) are the whole chain —
the database held this organisation alone. Restored with the same audit key, it is the same chain:
``leadpact audit verify`` checks every original seal, and the restore is its next entry. Restore checks
every entry's link, hash and seal, and the checkpoint's, before it commits, so an entry changed in the file
is named and nothing is written. Where the database's chain also held other organisations' entries (or
the key is not at hand), ``audit="rechain"`` keeps each entry's content and order, checks each one's own
hash (and seal, with the key), and chains and seals them anew under this machine's key; the restore's own
entry then records the source chain's name, key and checkpoint.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    connection,
    connections,
    models,
    transaction,
)
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Q
from django.utils import timezone

import leadpact
from leadpact.audit._local import LocalCheckpoint, local_checkpoint_replace
from leadpact.audit.hashing import audit_entry_hash
from leadpact.audit.models import GENESIS_HASH, AuditCheckpoint, AuditEntry
from leadpact.audit.seal import AuditKey, audit_checkpoint_seal, audit_entry_seal, audit_key
from leadpact.audit.services import Actor, audit_record
from leadpact.backup._file import (
    FORMAT,
    FORMAT_VERSION,
    BackupFileError,
    BodyWriter,
    body_lines,
    encoder,
    file_assemble,
    header_read,
)
from leadpact.backup.scope import Part, audit_entries, backup_parts, part_rows, user_ids
from leadpact.errors import ApplicationError
from leadpact.leads._sql import insert_rows
from leadpact.organization.models import Organization

__all__ = ["AuditMode", "BackupSummary", "RestoreSummary", "backup_restore", "backup_write"]

AuditMode = Literal["keep", "rechain"]
"""``keep``: restore the audit chain as sealed (needs the whole chain and its key); ``rechain``: seal anew."""

_BATCH = 2000


@dataclass(frozen=True, slots=True)
class BackupSummary:
    path: Path
    organization: str
    counts: dict[str, int]
    size: int
    sha256: str
    audit: str
    seconds: float

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class RestoreSummary:
    organization: str
    counts: dict[str, int]
    audit: str
    source_engine: str
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


# ---------------------------------------------------------------------------------------------- backup


@contextlib.contextmanager
def _snapshot() -> Iterator[None]:
    """One transaction that sees the database as at its start (PostgreSQL: repeatable read, read only;
    SQLite: its write lock, so writers wait until the backup is read)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def _migrations() -> dict[str, list[str]]:
    labels = {part.model._meta.app_label for part in backup_parts()}
    applied = MigrationRecorder(connection).applied_migrations()
    return {label: sorted(name for app, name in applied if app == label) for label in sorted(labels)}


def _audit_facts(organization: Organization) -> dict[str, Any]:
    total = AuditEntry.objects.count()
    included = audit_entries(organization).count()
    checkpoint = (
        AuditCheckpoint.objects.order_by("id")
        .values("chain", "entries", "last_id", "last_hash", "key_id", "seal")
        .first()
    )
    chain = "none" if total == 0 else "whole" if included == total else "excerpt"
    return {"chain": chain, "entries": included, "entries_in_database": total, "checkpoint": checkpoint}


def _body_write(organization: Organization, writer: BodyWriter, *, chain: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    users = user_ids(organization)
    for part in backup_parts():
        fields = part.fields
        names = [f.attname for f in fields]
        writer.line({"model": part.label, "fields": names})
        count = 0
        if part.model is not AuditCheckpoint or chain == "whole":
            encoders = [encoder(f) for f in fields]
            rows = part_rows(part, organization, users=users).values_list(*names)
            for row in rows.iterator(chunk_size=_BATCH):
                writer.line([encode(value) for encode, value in zip(encoders, row, strict=True)])
                count += 1
        counts[part.label] = count
    return counts


def backup_write(
    organization: Organization, path: Path | str, *, actor: Actor, now: dt.datetime | None = None
) -> BackupSummary:
    """Write every record of ``organization`` to ``path`` (replaced if it exists; 0600), then audit it.

    The records are read in one snapshot; the file appears only once it is complete. Memory stays
    bounded: rows are streamed by primary key, a batch at a time.
    """
    started = time.perf_counter()
    target = Path(path)
    if target.is_dir():
        raise ApplicationError("backup.path", f"{target} is a folder: give the backup file's name")
    if not target.parent.is_dir():
        raise ApplicationError("backup.path", f"{target.parent} does not exist: create the folder first")
    body = target.with_name(f".{target.name}.{secrets.token_hex(4)}.body")
    writer = BodyWriter(body)
    try:
        with _snapshot():
            written_at = timezone.now()
            audit = _audit_facts(organization)
            counts = _body_write(organization, writer, chain=audit["chain"])
            migrations = _migrations()
        writer.close()
        header = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "leadpact": leadpact.__version__,
            "engine": connection.vendor,
            "written_at": written_at.astimezone(dt.UTC).isoformat(),
            "organization": {"id": organization.pk, "key": organization.key, "name": organization.name},
            "counts": counts,
            "audit": audit,
            "migrations": migrations,
            "body_sha256": writer.sha256,
            "body_bytes": writer.bytes,
        }
        size = file_assemble(target, header, body)
    finally:
        writer.close()
        body.unlink(missing_ok=True)
    audit_record(
        actor=actor,
        action="backup.write",
        obj=organization,
        organization=organization,
        at=now or timezone.now(),
        after={"file": target.name, "sha256": writer.sha256, "rows": sum(counts.values()), "bytes": size},
    )
    return BackupSummary(
        path=target,
        organization=organization.key,
        counts=counts,
        size=size,
        sha256=writer.sha256,
        audit=audit["chain"],
        seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------------------------- restore


def _refuse(code: str, message: str) -> ApplicationError:
    return ApplicationError(code, f"{message}; nothing was restored")


def _schema_check(header: dict[str, Any]) -> None:
    migrations = header.get("migrations")
    if not isinstance(migrations, dict):
        raise _refuse("backup.header", "the header has no list of migrations")
    applied = set(MigrationRecorder(connection).applied_migrations())
    missing = [
        f"{app}.{name}"
        for app, names in sorted(migrations.items())
        for name in names
        if (app, name) not in applied
    ]
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise _refuse(
            "backup.schema",
            f"the file was written by a database with migrations this one has not applied ({shown}): run "
            "'leadpact migrate' first (or upgrade leadpact, if it does not know them)",
        )


def _empty_check(header: dict[str, Any]) -> None:
    wanted = header.get("organization") or {}
    held = Organization.objects.filter(Q(pk=wanted.get("id")) | Q(key=wanted.get("key"))).first()
    if held is not None:
        raise _refuse(
            "backup.target_holds",
            f"this database already holds organisation {held.key!r} (id {held.pk}), and the file is of "
            f"{wanted.get('key')!r} (id {wanted.get('id')}); restore goes into an empty database",
        )
    busy = [part.label for part in backup_parts() if part.model._default_manager.exists()]
    if busy:
        shown = ", ".join(busy[:5]) + (f" and {len(busy) - 5} more" if len(busy) > 5 else "")
        raise _refuse(
            "backup.target_not_empty",
            f"the database is not empty (it has rows in {shown}): restore goes into an empty database — "
            "create one and run 'leadpact migrate'",
        )


def _restore_key(header: dict[str, Any], mode: AuditMode) -> tuple[AuditKey | None, bool]:
    """This machine's audit key for the restored chain, and whether the file's seals can be checked."""
    audit = header.get("audit") or {}
    checkpoint = audit.get("checkpoint") or {}
    chain = audit.get("chain")
    if chain == "none":
        return None, False
    source_key = checkpoint.get("key_id", "")
    if mode == "rechain":
        key = audit_key(missing="create")
        return key, key.key_id == source_key
    if chain != "whole":
        raise _refuse(
            "backup.audit_excerpt",
            f"the source database's audit chain also held other organisations' entries (this file has "
            f"{audit.get('entries')} of its {audit.get('entries_in_database')}), so it cannot be restored as "
            "sealed; restore with --rechain-audit to chain and seal the organisation's entries anew under "
            "this machine's key (the restore's entry records the source chain)",
        )
    try:
        key = audit_key(missing="fail")
    except ApplicationError as error:
        raise _refuse(
            "backup.audit_key", f"{error.message} — the file's audit chain is sealed with key {source_key}"
        ) from error
    if key.key_id != source_key:
        raise _refuse(
            "backup.audit_key",
            f"the file's audit chain is sealed with audit key {source_key}, but this machine's key "
            f"({key.source}) is {key.key_id}: set LEADPACT_AUDIT_KEY or put the source's audit.key in the "
            "data folder (it is kept beside the database, never in the backup), or restore with "
            "--rechain-audit",
        )
    return key, True


class _Chain:
    """Checks the audit entries as they are read (and, to re-chain, links and seals them anew)."""

    def __init__(self, name: str, key: AuditKey | None, *, mode: AuditMode, seals: bool, whole: bool) -> None:
        self.name = name
        self.key = key
        self.mode = mode
        self.seals = seals
        self.whole = whole
        self.prev = GENESIS_HASH  # the file's chain
        self.prev_new = GENESIS_HASH  # the chain written (re-chained)
        self.count = 0
        self.last_id: int | None = None

    def _fail(self, line: int, entry: AuditEntry, reason: str) -> BackupFileError:
        return BackupFileError(
            "backup.audit_entry",
            f"{self.name} line {line}: audit entry {entry.pk}: {reason}; nothing was restored",
        )

    def entry(self, line: int, entry: AuditEntry) -> None:
        if self.whole and entry.prev_hash != self.prev:
            raise self._fail(
                line,
                entry,
                "its prev_hash does not link to the entry before it (an entry was "
                "removed, inserted or reordered in the file)",
            )
        if audit_entry_hash(entry) != entry.hash:
            raise self._fail(
                line, entry, "its hash does not match its content (it was changed after it was written)"
            )
        if (
            self.seals
            and self.key is not None
            and not hmac.compare_digest(audit_entry_seal(self.key, entry.hash), entry.seal)
        ):
            raise self._fail(line, entry, "its seal does not match its hash under the audit key")
        self.prev = entry.hash
        if self.mode == "rechain" and self.key is not None:
            entry.prev_hash = self.prev_new
            entry.hash = audit_entry_hash(entry)
            entry.seal = audit_entry_seal(self.key, entry.hash)
        self.prev_new = entry.hash
        self.count += 1
        self.last_id = entry.pk

    def checkpoint(self, line: int, row: AuditCheckpoint) -> None:
        """The file's checkpoint must seal exactly the entries read (keep mode; re-chaining skips it)."""
        reason = ""
        if row.entries != self.count or row.last_hash != self.prev or row.last_id != self.last_id:
            reason = (
                f"it seals {row.entries} entries up to entry {row.last_id}, but the file has {self.count} "
                f"up to entry {self.last_id}"
            )
        elif (
            self.seals
            and self.key is not None
            and not hmac.compare_digest(
                audit_checkpoint_seal(
                    self.key, chain=row.chain, entries=row.entries, last_hash=row.last_hash
                ),
                row.seal,
            )
        ):
            reason = "its seal does not match it under the audit key"
        if reason:
            raise BackupFileError(
                "backup.audit_checkpoint",
                f"{self.name} line {line}: the audit checkpoint: {reason}; nothing was restored",
            )

    def new_checkpoint(self) -> None:
        if self.mode != "rechain" or self.key is None or self.count == 0 or self.last_id is None:
            return
        chain = secrets.token_hex(16)
        AuditCheckpoint.objects.create(
            chain=chain,
            entries=self.count,
            last_id=self.last_id,
            last_hash=self.prev_new,
            key_id=self.key.key_id,
            seal=audit_checkpoint_seal(self.key, chain=chain, entries=self.count, last_hash=self.prev_new),
        )


_INTEGERS = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
}
_TEXTS = {"CharField", "TextField", "SlugField", "EmailField", "URLField"}


def _plain(field: models.Field[Any, Any]) -> type | None:
    """The JSON type whose values ``field`` stores as they are (no conversion either way), if any."""
    target = field.target_field if field.is_relation else field  # type: ignore[attr-defined]
    kind = target.get_internal_type()
    if kind in _INTEGERS:
        return int
    if kind in _TEXTS:
        return str
    if kind == "BooleanField":
        return bool
    return None


@dataclass(slots=True)
class _Table:
    part: Part
    fields: list[models.Field[Any, Any]]
    plain: list[type | None]
    absent: list[models.Field[Any, Any]]  # not in the file (written by an older leadpact): their defaults
    defaults: list[Any]
    pk_index: int | None
    batch: list[list[Any]]
    count: int = 0

    @property
    def columns(self) -> list[str]:
        return [str(f.column) for f in (*self.fields, *self.absent)]


def _table_begin(
    name: str, line: int, item: dict[str, Any], parts: dict[str, Part], seen: set[str]
) -> _Table:
    label = item.get("model")
    part = parts.get(label) if isinstance(label, str) else None
    if part is None or not isinstance(label, str):
        raise BackupFileError(
            "backup.table",
            f"{name} line {line}: table {label!r} is not one this leadpact restores; nothing was restored",
        )
    if label in seen:
        raise BackupFileError(
            "backup.table", f"{name} line {line}: table {label} appears twice; nothing was restored"
        )
    seen.add(label)
    names = item.get("fields")
    by_attname = {f.attname: f for f in part.fields}
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise BackupFileError(
            "backup.table", f"{name} line {line}: table {label} has no list of fields; nothing was restored"
        )
    unknown = [n for n in names if n not in by_attname]
    if unknown:
        raise BackupFileError(
            "backup.field",
            f"{name} line {line}: table {label} has no field {unknown[0]!r} in this leadpact (the file is of "
            "another version); nothing was restored",
        )
    absent = [f.attname for f in part.fields if f.attname not in names and not (f.has_default() or f.null)]
    if absent:
        raise BackupFileError(
            "backup.field",
            f"{name} line {line}: table {label} lacks field {absent[0]!r}, which has no default here; "
            "nothing was restored",
        )
    fields = [by_attname[n] for n in names]
    plain = [None if isinstance(f, models.JSONField) else _plain(f) for f in fields]
    absent_fields = [f for f in part.fields if f.attname not in names]
    defaults = [f.get_db_prep_save(f.get_default(), connection) for f in absent_fields]
    pk = part.model._meta.pk
    pk_index = names.index(pk.attname) if pk is not None and pk.attname in names else None
    return _Table(part, fields, plain, absent_fields, defaults, pk_index, [])


def _decode(field: models.Field[Any, Any], value: Any) -> Any:
    if value is None or isinstance(field, models.JSONField):
        return value
    return field.to_python(value)


def _row(name: str, line: int, table: _Table, item: list[Any], db: Any) -> tuple[list[Any], list[Any]]:
    """The row's values as Python values, and as the database takes them (``db``: the connection itself,
    not Django's per-thread proxy, which costs more than the conversions on a large file)."""
    label = table.part.label
    if len(item) != len(table.fields):
        raise BackupFileError(
            "backup.row",
            f"{name} line {line}: a row of {label} has {len(item)} values, its table {len(table.fields)}; "
            "nothing was restored",
        )
    decoded: list[Any] = []
    prepared: list[Any] = []
    for field_, plain, value in zip(table.fields, table.plain, item, strict=True):
        if plain is not None and type(value) is plain:  # ids, text, flags: as they are
            decoded.append(value)
            prepared.append(value)
            continue
        try:
            if value is None and not field_.null and not isinstance(field_, models.JSONField):
                raise ValueError("it is empty, but the field is required")
            python = _decode(field_, value)
            prepared.append(field_.get_db_prep_save(python, db))
            decoded.append(python)
        except (ValidationError, ValueError, TypeError) as error:
            reason = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            pk = item[table.pk_index] if table.pk_index is not None else "?"
            raise BackupFileError(
                "backup.value",
                f"{name} line {line}: {label} {pk}, field {field_.name!r}: {reason}; nothing was restored",
            ) from error
    return decoded, prepared + table.defaults


def _flush(name: str, table: _Table | None) -> None:
    """Insert the batch as it is (not through ``save()`` or ``bulk_create``: their ``pre_save`` would set
    the ``auto_now`` fields to the time of the restore)."""
    if table is not None and table.batch:
        try:
            insert_rows(table.part.model, table.columns, table.batch)
        except DatabaseError as error:
            raise BackupFileError(
                "backup.rows",
                f"{name}: rows of {table.part.label} up to row {table.count} do not fit the database "
                f"({str(error).strip()}); nothing was restored",
            ) from error
        table.batch.clear()


def _load(path: Path, header: dict[str, Any], chain: _Chain) -> dict[str, int]:
    """Insert every row of the file (in this transaction) and return the rows per table."""
    parts = {part.label: part for part in backup_parts()}
    counts: dict[str, int] = {}
    seen: set[str] = set()
    table: _Table | None = None
    name = path.name
    db = connections[DEFAULT_DB_ALIAS]
    for line, item in body_lines(path):
        if isinstance(item, dict):
            _flush(name, table)
            if table is not None:
                counts[table.part.label] = table.count
            table = _table_begin(name, line, item, parts, seen)
            continue
        if not isinstance(item, list) or table is None:
            raise BackupFileError(
                "backup.line", f"{name} line {line}: not a row of a table; nothing was restored"
            )
        decoded, prepared = _row(name, line, table, item, db)
        table.count += 1
        model = table.part.model
        if model is AuditEntry:
            entry = AuditEntry(**{f.attname: v for f, v in zip(table.fields, decoded, strict=True)})
            chain.entry(line, entry)  # checked; re-chained in place when asked
            for index, f in enumerate(table.fields):
                if f.attname in ("prev_hash", "hash", "seal"):
                    prepared[index] = getattr(entry, f.attname)
        elif model is AuditCheckpoint:
            chain.checkpoint(
                line, AuditCheckpoint(**{f.attname: v for f, v in zip(table.fields, decoded, strict=True)})
            )
            if chain.mode == "rechain":
                continue  # replaced by the new chain's checkpoint
        table.batch.append(prepared)
        if len(table.batch) >= _BATCH:
            _flush(name, table)
    _flush(name, table)
    if table is not None:
        counts[table.part.label] = table.count
    expected = header.get("counts")
    if counts != expected:
        differ = sorted(
            label
            for label in set(counts) | set(expected or {})
            if counts.get(label) != (expected or {}).get(label)
        )
        label = differ[0] if differ else "?"
        raise BackupFileError(
            "backup.counts",
            f"{name}: table {label} has {counts.get(label, 0)} rows, the header says "
            f"{(expected or {}).get(label)}; nothing was restored",
        )
    chain.new_checkpoint()
    return counts


def _sequences_reset() -> None:
    """PostgreSQL: move every id sequence past the restored ids, so new rows do not collide."""
    statements = connection.ops.sequence_reset_sql(no_style(), [part.model for part in backup_parts()])
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def _statistics_refresh() -> None:
    """PostgreSQL: gather the planner's statistics of the restored tables now (autovacuum would, later).

    Without them the planner takes the tables for nearly empty, and joins through them (a backup's, a
    scorecard's) run as nested loops over every row: the demo's clocks took 43 s to read instead of 0.3.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    quote = connection.ops.quote_name
    tables = ", ".join(quote(part.model._meta.db_table) for part in backup_parts())
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def _local_checkpoint_reset(key: AuditKey) -> None:
    """After the restore commits: this machine's copy of the checkpoint is the restored chain's.

    Restoring a backup of a chain this machine kept (the same database, backed up and restored here) steps
    the chain back to the backup's end and on by the restore's entry; the copy in the data folder, which
    only moves forward, would then name entries the restored log never had.  The restore is the one
    deliberate step back, so it sets the copy to the committed checkpoint (if its seal holds).
    """
    row = (
        AuditCheckpoint.objects.order_by("id")
        .values("chain", "entries", "last_id", "last_hash", "seal")
        .first()
    )
    if row is None:
        return
    local = LocalCheckpoint(**row)
    seal = audit_checkpoint_seal(key, chain=local.chain, entries=local.entries, last_hash=local.last_hash)
    if hmac.compare_digest(seal, local.seal):
        local_checkpoint_replace(local)


def backup_restore(
    path: Path | str, *, actor: Actor, audit: AuditMode = "keep", now: dt.datetime | None = None
) -> RestoreSummary:
    """Restore the organisation in the backup at ``path`` into this (empty) database, in one transaction.

    The file is read through once before anything is written (format, version, checksum); then every row
    is decoded, checked and inserted, the audit chain checked entry by entry, the counts held against the
    header's, the id sequences moved on, and one ``backup.restore`` entry appended. Any fault raises an
    :class:`~leadpact.errors.ApplicationError` that names the line, table, record and field, and the
    transaction rolls back: nothing is written.
    """
    started = time.perf_counter()
    source = Path(path)
    header = header_read(source)
    _schema_check(header)
    key, seals = _restore_key(header, audit)
    facts = header.get("audit") or {}
    checkpoint = facts.get("checkpoint") or {}
    chain = _Chain(source.name, key, mode=audit, seals=seals, whole=facts.get("chain") == "whole")
    wanted = header.get("organization") or {}
    try:
        with transaction.atomic():
            _empty_check(header)
            counts = _load(source, header, chain)
            # every foreign key now, so that a dangling one is named (table, row, column, value)
            connection.check_constraints(table_names=[part.model._meta.db_table for part in backup_parts()])
            _sequences_reset()
            organization = Organization.objects.filter(pk=int(wanted.get("id") or 0)).first()
            if organization is None:
                raise BackupFileError(
                    "backup.organization",
                    f"{source.name}: the header's organisation {wanted.get('id')} is not among the file's "
                    "rows; nothing was restored",
                )
            kept = "none" if facts.get("chain") == "none" else audit
            audit_record(
                actor=actor,
                action="backup.restore",
                obj=organization,
                organization=organization,
                at=now or timezone.now(),
                after={
                    "file": source.name,
                    "sha256": header.get("body_sha256"),
                    "written_at": header.get("written_at"),
                    "source_engine": header.get("engine"),
                    "rows": sum(counts.values()),
                    "audit": kept,
                    "source_chain": {
                        k: checkpoint.get(k) for k in ("chain", "entries", "last_hash", "key_id")
                    },
                },
            )
            if key is not None:
                transaction.on_commit(lambda: _local_checkpoint_reset(key), robust=True)
    except IntegrityError as error:  # a foreign key without its record, checked at commit
        raise BackupFileError(
            "backup.integrity",
            f"{source.name}: the rows do not hold together ({str(error).strip()}); nothing was restored",
        ) from error

    _statistics_refresh()
    notes = []
    if kept == "rechain":
        notes.append(
            f"audit: {chain.count} entries chained and sealed anew under key {key.key_id if key else '?'}"
            + ("" if seals else " (their original seals could not be checked: the source's key is not here)")
        )
    return RestoreSummary(
        organization=organization.key,
        counts=counts,
        audit=kept,
        source_engine=str(header.get("engine")),
        seconds=time.perf_counter() - started,
        notes=notes,
    )
