"""The audit key and the seals made with it: HMAC-SHA256 over each entry and over the checkpoint.

The key lives outside the database, so whoever can write to the database alone cannot re-seal a
rewritten log.  It comes from ``LEADPACT_AUDIT_KEY`` (at least 32 characters) or else from the file
``audit.key`` in the data folder, created 0600 with 32 random bytes on first use.  Back it up with the
database: a restored database is verified with the key it was sealed with, nothing else.

>>> key = AuditKey(secret=b"k" * 32, source="test")
>>> audit_entry_seal(key, "0" * 64) == audit_entry_seal(key, "0" * 64) != audit_entry_seal(key, "1" * 64)
True
>>> key.key_id
'16acd1438bc97c34'
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from django.conf import settings

from leadpact.datadir import private_file_create
from leadpact.errors import ApplicationError

__all__ = [
    "KEY_ENV",
    "KEY_FILE",
    "AuditKey",
    "audit_checkpoint_seal",
    "audit_entry_seal",
    "audit_key",
    "audit_key_path",
]

KEY_ENV = "LEADPACT_AUDIT_KEY"
KEY_FILE = "audit.key"
_MIN_LENGTH = 32


@dataclass(frozen=True, slots=True)
class AuditKey:
    """The secret and where it came from; ``key_id`` names it without revealing it."""

    secret: bytes
    source: str

    @property
    def key_id(self) -> str:
        return hashlib.sha256(b"leadpact audit key id\n" + self.secret).hexdigest()[:16]


def audit_key_path() -> Path:
    """Where the key file lives (used when ``LEADPACT_AUDIT_KEY`` is not set)."""
    return Path(settings.DATA_DIR) / KEY_FILE


_file_keys: dict[Path, AuditKey] = {}


def _key_error(message: str) -> ApplicationError:
    return ApplicationError("audit.key", message)


def audit_key(*, missing: Literal["create", "fail"] = "create") -> AuditKey:
    """The audit key: ``LEADPACT_AUDIT_KEY`` if set, else the data folder's key file.

    ``missing="create"`` makes the key file on first use (writers); ``"fail"`` raises instead, so that
    checking a restored database never invents a new key.
    """
    value = os.environ.get(KEY_ENV, "")
    if value:
        if len(value) < _MIN_LENGTH:
            raise _key_error(
                f"{KEY_ENV} must be at least {_MIN_LENGTH} characters; "
                "make one with: python3 -c 'import secrets; print(secrets.token_hex(32))'"
            )
        return AuditKey(secret=value.encode(), source=KEY_ENV)
    path = audit_key_path()
    cached = _file_keys.get(path)
    if cached is not None:
        return cached
    if not path.exists():
        if missing == "fail":
            raise _key_error(
                f"no audit key: {path} does not exist and {KEY_ENV} is not set; restore the key file "
                "from the backup of this database (or set the variable)"
            )
        private_file_create(path, secrets.token_hex(32) + "\n")  # another process may win: read theirs
    text = path.read_text(encoding="utf-8").strip()
    if len(text) < _MIN_LENGTH:
        raise _key_error(f"the audit key file {path} is damaged (shorter than {_MIN_LENGTH} characters)")
    key = _file_keys[path] = AuditKey(secret=text.encode(), source=str(path))
    return key


def audit_entry_seal(key: AuditKey, entry_hash: str) -> str:
    """HMAC-SHA256 (hex) of one entry's hash: only the key's holder can seal a rewritten entry."""
    message = f"leadpact audit entry v1\n{entry_hash}".encode()
    return hmac.new(key.secret, message, hashlib.sha256).hexdigest()


def audit_checkpoint_seal(key: AuditKey, *, chain: str, entries: int, last_hash: str) -> str:
    """HMAC-SHA256 (hex) of a checkpoint: the chain, how many entries it has, and the newest one's hash."""
    message = f"leadpact audit checkpoint v1\n{chain}\n{entries}\n{last_hash}".encode()
    return hmac.new(key.secret, message, hashlib.sha256).hexdigest()
