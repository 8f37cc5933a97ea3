"""This machine's copy of the audit checkpoint, in the data folder (``audit.checkpoint``, 0600).

After each committed audit entry the writer records the checkpoint here too, so that rolling the
database's checkpoint back together with its newest entries still shows: the file only moves forward.
One line of JSON per chain (the random name of one database's log), the most recent 16 kept; writers
of several processes take turns under an ``flock`` on ``audit.checkpoint.lock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings

from leadpact.datadir import private_dir

__all__ = [
    "LOCAL_FILE",
    "LocalCheckpoint",
    "local_checkpoint",
    "local_checkpoint_path",
    "local_checkpoint_replace",
    "local_checkpoint_store",
]

LOCAL_FILE = "audit.checkpoint"
_KEEP = 16


@dataclass(frozen=True, slots=True)
class LocalCheckpoint:
    chain: str
    entries: int
    last_id: int
    last_hash: str
    seal: str


def local_checkpoint_path() -> Path:
    return Path(settings.DATA_DIR) / LOCAL_FILE


def _read(path: Path) -> dict[str, LocalCheckpoint]:
    found: dict[str, LocalCheckpoint] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return found
    for line in text.splitlines():
        with contextlib.suppress(ValueError, TypeError, KeyError):
            record = json.loads(line)
            checkpoint = LocalCheckpoint(
                chain=str(record["chain"]),
                entries=int(record["entries"]),
                last_id=int(record["last_id"]),
                last_hash=str(record["last_hash"]),
                seal=str(record["seal"]),
            )
            found[checkpoint.chain] = checkpoint
    return found


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    private_dir(path.parent)
    fd = os.open(path.with_name(f"{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def local_checkpoint(chain: str) -> LocalCheckpoint | None:
    """The checkpoint this machine last recorded for ``chain``, if any."""
    return _read(local_checkpoint_path()).get(chain)


def local_checkpoint_store(checkpoint: LocalCheckpoint) -> None:
    """Record ``checkpoint`` unless this machine already holds one as far along for its chain."""
    _store(checkpoint, replace=False)


def local_checkpoint_replace(checkpoint: LocalCheckpoint) -> None:
    """Record ``checkpoint`` even where this machine holds one further along: the one deliberate step back,
    taken by ``leadpact restore`` once a backup of the chain is restored (and audited as such)."""
    _store(checkpoint, replace=True)


def _store(checkpoint: LocalCheckpoint, *, replace: bool) -> None:
    path = local_checkpoint_path()
    with _locked(path):
        known = _read(path)
        held = known.get(checkpoint.chain)
        if held is not None and held.entries >= checkpoint.entries and not replace:
            return
        known.pop(checkpoint.chain, None)
        known[checkpoint.chain] = checkpoint  # the most recently written chain last
        lines = [json.dumps(asdict(c), sort_keys=True) for c in list(known.values())[-_KEEP:]]
        temporary = path.with_name(f".{path.name}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        # No fsync: a copy lost in a crash only lags behind (it is a lower bound), and costs ~10 ms a
        # write here; a damaged line is skipped when read.
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        os.replace(temporary, path)
