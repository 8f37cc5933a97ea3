"""Read an export file in a child process and hand its rows to the importer as plain tuples.

Parsing, date handling and hashing each event's idempotency key are pure Python and hold the GIL: in a
thread they compete with the importer's own Python for one core. A child process (a fresh interpreter,
so it shares no database connection, lock or thread with the parent) does them on the other core.

Rows cross the pipe as the store's plain tuples (``_prepare``), not as the connector records: loading
pickled slotted dataclasses costs ~40 µs a row, the tuples ~3 µs (measured).

Memory stays flat: the pipe holds a few chunks at most; a child that writes faster than the parent
stores blocks on the pipe (its stdout). The parent going away (killed, interrupted) breaks the pipe
and ends the child; the parent also kills it when it stops reading early.

Nothing here imports Django: the child never sets Django up.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, BinaryIO

from leadpact.connectors.files import ImportedRow, read_file
from leadpact.connectors.records import RowProblem
from leadpact.leads._prepare import (
    LeadItem,
    datetime_adapter_for,
    event_item,
    finder,
    lead_item,
    row_state,
    same_datetime,
)

__all__ = ["ChildReader", "Encoded", "encode"]

_LENGTH = struct.Struct("<I")
_CHUNK = 500  # rows a message: big enough that pickling a message costs little, small enough to stay flat
_AHEAD = 24  # messages read ahead of the importer: about a batch of rows (~12,000, some 30 MB)

#: ``(row, lead, events, state)`` for a row taken (``state``: the lead's if it is new, ``row_state``),
#: ``(row, None, (column, reason), None)`` for a problem of a row.
Encoded = tuple[int, LeadItem | None, Any, tuple[Any, ...] | None]


def encode(
    item: ImportedRow | RowProblem,
    find_owner: Callable[[str], int | None] | None = None,
    adapt: Callable[[datetime | None], Any] = same_datetime,
) -> Encoded:
    """A row as the store takes it: events keyed, hashed and shaped, and the state of the lead if new.

    >>> encode(RowProblem(7, "Email", "not an e-mail address"))
    (7, None, ('Email', 'not an e-mail address'), None)
    """
    if isinstance(item, RowProblem):
        return (item.row, None, (item.column, item.reason), None)
    events = tuple(event_item(e, find_owner=find_owner, adapt=adapt) for e in item.events)
    return (item.row, lead_item(item.lead), events, row_state(events, adapt))


def _send(out: BinaryIO, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_LENGTH.pack(len(data)))
    out.write(data)


def _produce(out: BinaryIO, path: str, options: dict[str, Any], skip_to: int, shape: dict[str, Any]) -> None:
    """The child's work: read the file, send chunks of encoded rows, then ``("done", rows_read)``."""
    find_owner = finder(shape["names"])
    sqlite = shape["sqlite"]
    adapt = datetime_adapter_for(sqlite)  # a row's state repeats its events' instants: adapt each once
    chunk: list[Encoded] = []
    try:
        with read_file(path, **options) as result:
            for item in result:
                if item.row <= skip_to:
                    continue
                chunk.append(encode(item, find_owner, adapt))
                if len(chunk) >= _CHUNK:
                    _send(out, chunk)
                    chunk = []
                    adapt = datetime_adapter_for(sqlite)  # forget the instants of the rows sent
            if chunk:
                _send(out, chunk)
            _send(out, ("done", result.rows_read))
    except (BrokenPipeError, ConnectionResetError):  # the parent is gone: nobody to tell
        return
    except Exception as exc:  # every failure is the parent's to report, after the rows read before it
        if chunk:
            _send(out, chunk)
        try:
            _send(out, ("error", exc))
        except (pickle.PicklingError, TypeError, AttributeError):  # one that cannot be pickled goes as text
            _send(out, ("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
    out.flush()


def main() -> None:
    """``python -m leadpact.leads._reader``: the job (pickled) on stdin, framed messages on stdout."""
    path, options, skip_to, shape = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 - our parent's pipe
    try:
        _produce(sys.stdout.buffer, path, options, skip_to, shape)
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        with contextlib.suppress(OSError):  # the parent closed its end first
            sys.stdout.close()


class ChildReader:
    """Iterate a file's rows (:data:`Encoded`) read by a child process; ``rows_read`` at the end.

    ``options`` are :func:`read_file`'s keyword arguments; rows up to ``skip_to`` are skipped in the
    child (a resumed import). ``names`` are the people (``PeopleIndex.names``) assignments name, and
    ``sqlite`` whether instants go to SQLite (as text) or PostgreSQL (as they are). An error the child
    meets is raised here, after the rows before it. The child is a plain ``python -m`` process (not
    ``multiprocessing``), so it never runs the parent's ``__main__`` again, whatever started the import.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        options: dict[str, Any],
        *,
        names: dict[str, int | None],
        sqlite: bool,
        skip_to: int = 0,
    ) -> None:
        self.rows_read = 0
        self._process = subprocess.Popen(  # noqa: S603 - our own module, this interpreter, no shell
            [sys.executable, "-m", "leadpact.leads._reader", os.fspath(path)],  # the path: for `ps` only
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._stdout = self._process.stdout
        shape = {"names": names, "sqlite": sqlite}
        job = pickle.dumps((os.fspath(path), options, skip_to, shape), protocol=pickle.HIGHEST_PROTOCOL)
        self._process.stdin.write(job)
        self._process.stdin.close()
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=_AHEAD)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, name="import-reader-pipe", daemon=True)

    def _read(self, size: int) -> bytes:
        data = self._stdout.read(size)
        if len(data) != size:
            raise RuntimeError("the import's reader process ended without finishing")
        return data

    def _drain(self) -> None:
        """Read the child's messages as they come (a thread), so the child never waits on a full pipe.

        A pipe holds 64 KB — less than one message — so without this the child stood still for as long
        as the importer spent storing a batch, and the two took turns instead of running side by side.
        The queue is bounded (:data:`_AHEAD` messages), so memory stays flat.
        """
        try:
            while True:
                (size,) = _LENGTH.unpack(self._read(_LENGTH.size))
                message = pickle.loads(self._read(size))  # noqa: S301 - our own child's pipe
                if not self._put(message) or not isinstance(message, list):
                    return
        except BaseException as exc:  # handed to the importing side, raised there
            self._put(("error", exc))

    def _put(self, message: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[Encoded]:
        self._thread.start()
        try:
            while True:
                message = self._queue.get()
                if isinstance(message, list):
                    yield from message
                elif message[0] == "done":
                    self.rows_read = message[1]
                    return
                else:
                    raise message[1]
        finally:
            self.close()

    def close(self) -> None:
        """Stop the child (if it still runs) and release the pipe."""
        self._stop.set()
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait(timeout=5)
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._stdout.close()


if __name__ == "__main__":
    main()
