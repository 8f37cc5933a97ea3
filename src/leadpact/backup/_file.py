"""The backup file: one gzip stream of JSON lines, a header line first, then the tables' rows.

Layout (``FORMAT_VERSION`` 1)::

    {"format": "leadpact-backup", "format_version": 1, …, "body_sha256": "…"}  the header (a gzip member)
    {"model": "organization.team", "fields": ["id", "organization_id", …]}     a table begins
    [1, 1, "marketing", …]                                                     a row, values in that order
    …

The header is written last but stored first: the body goes to a temporary gzip member while its sha256
is taken, then the file is the header's member followed by the body's bytes (a gzip file may hold several
members; every reader sees one stream). Values are JSON: datetimes, dates and times in ISO 8601 (UTC for
datetimes), decimals and durations as text, binary as base64, JSON fields as they are; each is read back
with its field's own ``to_python``, so both engines read the same values.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import json
import os
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.db import models
from django.utils.duration import duration_iso_string

from leadpact.errors import ApplicationError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "BackupFileError",
    "BodyWriter",
    "body_lines",
    "encoder",
    "file_assemble",
    "header_read",
]

FORMAT = "leadpact-backup"
FORMAT_VERSION = 1
_HEADER_LIMIT = 16 * 1024 * 1024
_CHUNK = 1024 * 1024


class BackupFileError(ApplicationError):
    """The file is not a backup this leadpact can restore: damaged, truncated, changed or too new."""


def _damaged(path: Path, error: BaseException) -> BackupFileError:
    if isinstance(error, EOFError):
        reason = "it is truncated (the compressed stream ends before its end marker)"
    elif isinstance(error, gzip.BadGzipFile):
        reason = f"it is not a gzip file ({error})"
    else:
        reason = f"its compressed data is damaged ({error})"
    return BackupFileError("backup.file_damaged", f"{path.name}: {reason}; nothing was restored")


def _identity(value: Any) -> Any:
    return value


def _iso(value: Any) -> Any:
    return None if value is None else value.isoformat()


def _utc(value: Any) -> Any:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def _text(value: Any) -> Any:
    return None if value is None else str(value)


def _duration(value: Any) -> Any:
    return None if value is None else duration_iso_string(value)


def _binary(value: Any) -> Any:
    return None if value is None else base64.b64encode(bytes(value)).decode("ascii")


def encoder(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """How a value of ``field`` (as the database gives it) is written as JSON."""
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return _utc
    if kind in ("DateField", "TimeField"):
        return _iso
    if kind in ("DecimalField", "UUIDField"):
        return _text
    if kind == "DurationField":
        return _duration
    if kind == "BinaryField":
        return _binary
    return _identity


class BodyWriter:
    """Writes the body's lines to a private temporary gzip file, counting and hashing what it writes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._raw = os.fdopen(fd, "wb")
        self._gzip = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=6, mtime=0)
        self._sha = hashlib.sha256()
        self.bytes = 0

    def line(self, value: Any) -> None:
        data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        self._sha.update(data)
        self.bytes += len(data)
        self._gzip.write(data)

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    def close(self) -> None:
        self._gzip.close()
        self._raw.close()


def file_assemble(path: Path, header: dict[str, Any], body: Path) -> int:
    """Write ``path`` (0600) as the header's gzip member followed by the body's; returns its size."""
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            line = json.dumps(header, ensure_ascii=False, sort_keys=True).encode() + b"\n"
            out.write(gzip.compress(line, mtime=0))
            with body.open("rb") as source:
                while chunk := source.read(_CHUNK):
                    out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path.stat().st_size


def _open(path: Path) -> gzip.GzipFile:
    try:
        return gzip.open(path, "rb")
    except OSError as error:
        raise BackupFileError(
            "backup.file_unreadable", f"{path}: cannot be read ({error.strerror or error})"
        ) from error


def header_read(path: Path) -> dict[str, Any]:
    """The header, once the whole file was read through and its body's sha256 matched the header's.

    Raises :class:`BackupFileError` for a file that is not gzip, is truncated or damaged, has no header,
    is of another format or a newer version, or whose body does not match its checksum.
    """
    handle = _open(path)
    try:
        with handle:
            first = handle.readline(_HEADER_LIMIT)
            header = _header_parse(path, first)
            sha = hashlib.sha256()
            size = 0
            while chunk := handle.read(_CHUNK):
                sha.update(chunk)
                size += len(chunk)
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise _damaged(path, error) from error
    if sha.hexdigest() != header.get("body_sha256") or size != header.get("body_bytes"):
        raise BackupFileError(
            "backup.checksum",
            f"{path.name}: the content does not match the header's checksum (sha256 "
            f"{sha.hexdigest()[:16]}… of {size} bytes, the header says "
            f"{str(header.get('body_sha256'))[:16]}… of {header.get('body_bytes')}): the file was changed "
            "or damaged after it was written; nothing was restored",
        )
    return header


def _header_parse(path: Path, first: bytes) -> dict[str, Any]:
    try:
        header = json.loads(first)
    except (UnicodeDecodeError, json.JSONDecodeError):
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupFileError(
            "backup.not_a_backup",
            f"{path.name}: line 1 is not a leadpact backup header; nothing was restored",
        )
    version = header.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise BackupFileError(
            "backup.format",
            f"{path.name}: header field format_version {version!r} is not valid; nothing was restored",
        )
    if version > FORMAT_VERSION:
        raise BackupFileError(
            "backup.too_new",
            f"{path.name}: written in backup format {version} by leadpact {header.get('leadpact')}; this "
            f"leadpact reads format {FORMAT_VERSION} at most: upgrade leadpact, then restore; nothing was "
            "restored",
        )
    return header


def body_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """The body's lines after the header, parsed, with their line numbers (the header is line 1)."""
    try:
        with _open(path) as handle:
            handle.readline(_HEADER_LIMIT)
            for number, raw in enumerate(handle, start=2):
                try:
                    yield number, json.loads(raw)
                except (UnicodeDecodeError, json.JSONDecodeError) as error:
                    raise BackupFileError(
                        "backup.line",
                        f"{path.name} line {number}: not a JSON line ({error}); nothing was restored",
                    ) from error
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise _damaged(path, error) from error
