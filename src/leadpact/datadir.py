"""The data folder is its owner's alone: the folder 0700, the files in it 0600.

The SQLite database, its ``-wal`` and ``-shm`` files, the secret key, the audit key and checkpoint and the
first-login file all live in ``LEADPACT_DATA_DIR``.  Files leadpact writes itself are created 0600 from
the first byte (:func:`private_file_create`); the database file is created by SQLite with the process's
umask, so every new SQLite connection tightens it (:func:`sqlite_files_protect`, run from the
``connection_created`` signal).  SQLite gives the ``-wal`` and ``-shm`` files it creates later the
database file's own mode.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from django.conf import settings

__all__ = ["private_dir", "private_file_create", "sqlite_files_protect"]

_DIR_MODE = 0o700
_FILE_MODE = 0o600


def _tighten(path: Path, mode: int) -> None:
    """chmod ``path`` to ``mode`` when group or others have any access; a file not ours is left as is."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
        if current & 0o077:
            path.chmod(current & mode)
    except (FileNotFoundError, PermissionError):
        pass


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) if missing and make it 0700; return it."""
    path.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, _DIR_MODE)
    return path


def private_file_create(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` as a new 0600 file, atomically; False (and nothing written) if it exists.

    The text goes to a private temporary file first and is then linked into place, so a reader racing
    the writer sees either no file or the whole text — never an empty or partial one.
    """
    private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def sqlite_files_protect(*, sender: Any = None, connection: Any, **kwargs: Any) -> None:
    """After a new SQLite connection: its folder 0700, the database and its -wal/-shm files 0600.

    A receiver of ``connection_created``; other databases and in-memory SQLite are left alone, and so is
    the folder of a database file that lives outside the data folder.
    """

    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    database = Path(name)
    if not database.is_file():
        return
    if database.parent.resolve() == Path(settings.DATA_DIR).resolve():
        _tighten(database.parent, _DIR_MODE)
    for path in (database, Path(f"{name}-wal"), Path(f"{name}-shm")):
        _tighten(path, _FILE_MODE)
