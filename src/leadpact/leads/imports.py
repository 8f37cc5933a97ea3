"""Import a CRM export file: whole batches or nothing, resumable, every refused row reported.

Rows are stored in batches (default 10,000 rows), each in one transaction together with the job's
counters and its ``last_committed_row``; a killed process leaves every batch before the kill whole and
nothing of the batch it was writing. Its job still says ``running``, but the job knows its process and
machine and beats with every batch, so it reads as ``interrupted`` (:func:`import_job_status`) as soon as
the process is gone. ``lead_import(..., resume=True)`` on the same file (same fingerprint) continues
after the last committed row. Two imports that store the same new leads at once (PostgreSQL) meet on
their source ids: the later batch is stored again, finding them. A completed file imported again adds
nothing: the job is reported as already done (and, even when forced, events dedupe by idempotency key and
leads by their source id).

Owners named in the file are matched to people by their user id in that CRM (``Person.crm_ids``), name or
e-mail (case-insensitive); an owner nobody is gets one problem for the whole import, at the first row it
was on, with the number of rows (``unknown owner 'X' on 37 row(s) …``); those leads are stored without
that owner.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import os
import queue
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

from django.db import DatabaseError, connection
from django.utils import timezone

from leadpact.connectors.files import (
    ImportResult,
    UnreadableFile,
    file_fingerprint,
    problems_to_csv,
    read_file,
)
from leadpact.connectors.mapping import Mapping, normalise_header
from leadpact.connectors.records import RowProblem
from leadpact.errors import ApplicationError
from leadpact.leads._handoff import HandoffChecker
from leadpact.leads._prepare import EventItem, LeadItem
from leadpact.leads._reader import ChildReader, Encoded, encode
from leadpact.leads._sql import datetime_adapter, tuned_for_bulk
from leadpact.leads._store import PeopleIndex, store_items, store_retrying
from leadpact.leads.models import ImportJob, ImportProblem
from leadpact.organization.models import Organization

__all__ = [
    "PRESET_FAMILIES",
    "STALE_AFTER",
    "ImportOutcome",
    "import_job_alive",
    "import_job_report_csv",
    "import_job_status",
    "lead_import",
]

log = logging.getLogger(__name__)

#: Preset names that stand for a family of exports; the member is detected from the header.
PRESET_FAMILIES = ("salesforce", "pipedrive")

#: From this file size on, the file is read in a child process (``reader="auto"``); below it, starting a
#: process (~0.5 s) costs more than it saves.
CHILD_READER_BYTES = 4 * 2**20

Reader = Literal["auto", "process", "thread"]

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """The job and what happened: ``imported`` (a new job), ``resumed`` or ``already_imported``."""

    job: ImportJob
    result: Literal["imported", "resumed", "already_imported"]
    #: what the import assumed, in words: ``timezone``, ``encoding``, ``delimiter``, ``dates`` (empty when
    #: nothing was read)
    assumed: dict[str, str] = field(default_factory=dict)


def import_job_report_csv(job: ImportJob) -> str:
    """The job's problems as the downloadable ``row,column,reason`` CSV."""
    problems = [
        RowProblem(row, column or None, reason)
        for row, column, reason in job.problems.order_by("row", "id").values_list("row", "column", "reason")
    ]
    return problems_to_csv(problems)


def _owner_columns(result: ImportResult) -> dict[str, str]:
    present = {normalise_header(h): h for h in result.header}
    out: dict[str, str] = {}
    for header, target in result.mapping.columns:
        if target in ("marketing_owner", "sales_owner") and target not in out:
            found = present.get(normalise_header(header))
            if found is not None:
                out[target] = found
    return out


_DONE = object()


def _read_ahead(
    result: ImportResult,
    stop: threading.Event,
    find_owner: Callable[[str], int | None],
    adapt: Callable[[dt.datetime | None], Any],
) -> Iterator[Encoded]:
    """The file's rows as the store takes them (``_reader.encode``), read and hashed in a thread.

    Reading, parsing and hashing (Python) then overlap with the database's work on the previous batch
    (SQLite runs without the GIL), which is most of an import's time.
    """
    chunks: queue.Queue[Any] = queue.Queue(maxsize=4)

    def work() -> None:
        chunk: list[Encoded] = []
        try:
            for item in result:
                chunk.append(encode(item, find_owner, adapt))
                if len(chunk) >= 256:
                    while not stop.is_set():
                        try:
                            chunks.put(chunk, timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
                    chunk = []
            chunks.put(chunk)
            chunks.put(_DONE)
        except BaseException as exc:  # handed to the reading side, raised there after the rows before it
            chunks.put(chunk)
            chunks.put(exc)

    thread = threading.Thread(target=work, name="import-reader", daemon=True)
    thread.start()
    try:
        while True:
            got = chunks.get()
            if got is _DONE:
                break
            if isinstance(got, BaseException):
                raise got
            yield from got
    finally:
        stop.set()
        thread.join(timeout=5)


#: A running job that has not committed a batch (nor started) for this long is taken as interrupted,
#: whichever machine ran it; on the same machine a job whose process is gone is interrupted at once.
STALE_AFTER = dt.timedelta(minutes=15)
_HOST = socket.gethostname()[:255]


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def import_job_alive(job: ImportJob, *, now: dt.datetime | None = None) -> bool:
    """Whether a ``running`` job is still being run: its process lives (on this machine) and it gave a sign
    of life within :data:`STALE_AFTER`. A killed import (``kill -9``, a crash) is not."""
    if job.status != ImportJob.Status.RUNNING or job.pid is None:  # no process claims it
        return False
    moment = timezone.now() if now is None else now
    seen = job.heartbeat_at or job.started_at
    if moment - seen > STALE_AFTER:
        return False
    return not (job.host == _HOST and job.pid is not None and not _process_alive(job.pid))


def import_job_status(job: ImportJob, *, now: dt.datetime | None = None) -> str:
    """The job's status as people should read it: a ``running`` job that is not (:func:`import_job_alive`)
    is ``interrupted`` — resumable with ``leadpact import FILE --resume``."""
    if job.status == ImportJob.Status.RUNNING and not import_job_alive(job, now=now):
        return ImportJob.Status.INTERRUPTED
    return str(job.status)


def _find_job(organization: Organization, fingerprint: str) -> ImportJob | None:
    return (
        ImportJob.objects.filter(organization=organization, fingerprint=fingerprint).order_by("-id").first()
    )


def lead_import(
    *,
    organization: Organization,
    path: str | os.PathLike[str],
    preset: str | None = None,
    mapping: Mapping | None = None,
    dayfirst: bool | None = None,
    tz: str | None = None,
    resume: bool = False,
    batch_size: int = 10000,
    clock: Clock = timezone.now,
    on_batch: Callable[[ImportJob], None] | None = None,
    reader: Reader = "auto",
) -> ImportOutcome:
    """Import one file; raises ``AmbiguousDates`` / ``UnreadableFile`` / ``MappingError`` before writing.

    An unfinished job for the same file is continued with ``resume=True`` and refused without it.
    ``reader`` says where the file is parsed: in a child process (``process``: on another core, for big
    files), in a thread of this process (``thread``), or by size (``auto``); the outcome is the same.
    """
    path = Path(path)
    fingerprint = file_fingerprint(path)
    previous = _find_job(organization, fingerprint)
    job: ImportJob | None = None
    if previous is not None and previous.status == ImportJob.Status.COMPLETED:
        return ImportOutcome(previous, "already_imported")
    if previous is not None and previous.status == ImportJob.Status.RUNNING:
        if import_job_alive(previous):
            raise ApplicationError(
                "import.running",
                f"import {previous.pk} of {previous.file_name} is running (process {previous.pid} on "
                f"{previous.host or 'another machine'}, row {previous.last_committed_row} so far); "
                "wait for it to finish",
                extra={"job": previous.pk},
            )
        ImportJob.objects.filter(pk=previous.pk, status=ImportJob.Status.RUNNING).update(
            status=ImportJob.Status.INTERRUPTED
        )
        previous.status = ImportJob.Status.INTERRUPTED
    if previous is not None:
        if not resume:
            raise ApplicationError(
                "import.unfinished",
                f"import {previous.pk} of {previous.file_name} stopped after row "
                f"{previous.last_committed_row} ({previous.status}); pass --resume to continue it",
                extra={"job": previous.pk},
            )
        job = previous
        mapping = Mapping.from_dict(previous.mapping)
        preset = None
        dayfirst = None
        tz = None
    zone_why = "given"
    if tz is None and job is None:
        # times without an offset are the organisation's local times unless the caller says otherwise
        tz, zone_why = organization.timezone, "the organisation's"
    elif tz is None:
        zone_why = "as the interrupted import read it"
    family = preset if preset in PRESET_FAMILIES else None
    options: dict[str, Any] = {
        "preset": None if family else preset,
        "mapping": mapping,
        "dayfirst": dayfirst,
        "tz": tz,
    }
    result = read_file(path, **options)
    if family is not None and not (result.preset or "").startswith(family):
        result.close()
        raise UnreadableFile(f"the file is not a {family} export (its header looks like {result.preset})")
    assumed = _assumed(result, zone_why)
    with result:
        started = clock()
        if job is None:
            job = ImportJob.objects.create(
                organization=organization,
                file_name=path.name,
                fingerprint=fingerprint,
                preset=result.preset or "",
                mapping=result.mapping.to_dict(),
                started_at=started,
                heartbeat_at=started,
                host=_HOST,
                pid=os.getpid(),
            )
            kind: Literal["imported", "resumed"] = "imported"
        else:
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportJob.Status.RUNNING, error="", heartbeat_at=started, host=_HOST, pid=os.getpid()
            )
            job.status = ImportJob.Status.RUNNING
            job.heartbeat_at, job.host, job.pid = started, _HOST, os.getpid()
            kind = "resumed"
        try:
            in_child = reader == "process" or (reader == "auto" and path.stat().st_size >= CHILD_READER_BYTES)
            # an import allocates millions of tuples and makes no cycles: the collector's passes over them
            # were ~3% of an import's instructions (callgrind); it collects again when the import ends
            collecting = gc.isenabled()
            gc.disable()
            try:
                with tuned_for_bulk():
                    _run(
                        job,
                        result,
                        organization=organization,
                        batch_size=batch_size,
                        clock=clock,
                        on_batch=on_batch,
                        child=(path, options) if in_child else None,
                    )
            finally:
                if collecting:
                    gc.enable()
        except KeyboardInterrupt:
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportJob.Status.INTERRUPTED, finished_at=clock()
            )
            raise
        except Exception as exc:
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportJob.Status.FAILED, error=str(exc)[:2000], finished_at=clock()
            )
            raise
    job.refresh_from_db()
    return ImportOutcome(job, kind, assumed)


def _unknown_owner(reason: str, count: int, source: str) -> str:
    """One line for an owner no person is, with the rows it was on (from this row on)."""
    crm = source.split("_", 1)[0]
    return (
        f"{reason} on {count} row(s) from this one: those leads are stored without that owner; give the "
        f"person their {crm} user id (leadpact crm_ids set) or this name or e-mail"
    )


def _assumed(result: ImportResult, zone_why: str) -> dict[str, str]:
    """What the reader assumed about the file, in words (the CLI prints it before anything else)."""
    out = {"timezone": f"{result.mapping.timezone} ({zone_why})"}
    if result.encoding is not None:
        why = next((n.split(": ", 1)[1] for n in result.notes if n.startswith("encoding ")), "")
        out["encoding"] = f"{result.encoding} ({why})" if why else result.encoding
    if result.delimiter is not None:
        out["delimiter"] = {"\t": "tab", ",": "comma (,)", ";": "semicolon (;)"}.get(
            result.delimiter, repr(result.delimiter)
        )
    if result.date_formats:
        out["dates"] = ", ".join(f"{column!r} {shape}" for column, shape in result.date_formats.items())
    return out


_COUNTERS = ["rows_read", "rows_imported", "problems_count", "last_committed_row", "heartbeat_at"]


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]


def _run(
    job: ImportJob,
    result: ImportResult,
    *,
    organization: Organization,
    batch_size: int,
    clock: Clock,
    on_batch: Callable[[ImportJob], None] | None,
    child: tuple[Path, dict[str, Any]] | None = None,
) -> None:
    people = PeopleIndex(organization)
    checker = HandoffChecker(organization)
    owner_columns = _owner_columns(result)
    skip_to = job.last_committed_row
    rows: list[tuple[int, LeadItem, tuple[EventItem, ...]]] = []
    counted = [0, 0, 0, 0]  # the job's rows imported, problems, leads and events added before the batch
    added = [0, 0]  # leads and events the batch being stored added so far
    events: list[EventItem] = []
    states: dict[tuple[str, str], tuple[Any, ...]] = {}  # of leads on one row of the batch
    repeated: set[tuple[str, str]] = set()
    problems: list[RowProblem] = []
    problem_rows: set[int] = set()
    last_row = 0

    rows_seen = job.rows_read if skip_to else 0
    unknown_owners: dict[tuple[str, str], list[int]] = {}  # (column, reason) -> [first row, rows]

    def commit(found: list[RowProblem], imported: int, now: dt.datetime) -> None:
        """The batch's problems and the job's counters, in the batch's transaction."""
        ImportProblem.objects.bulk_create(
            [ImportProblem(job=job, row=p.row, column=p.column or "", reason=p.reason) for p in found],
            batch_size=500,
        )
        job.rows_read = rows_seen
        job.rows_imported = counted[0] + imported
        job.problems_count = counted[1] + len(found)
        job.leads_added = counted[2] + added[0]
        job.events_added = counted[3] + added[1]
        job.last_committed_row = last_row
        job.heartbeat_at = now
        job.save(
            update_fields=[
                "rows_read",
                "rows_imported",
                "problems_count",
                "leads_added",
                "events_added",
                "last_committed_row",
                "heartbeat_at",
            ]
        )

    def store(
        batch: list[tuple[int, LeadItem, tuple[EventItem, ...]]],
        these: list[EventItem],
        ready: dict[tuple[str, str], tuple[Any, ...]],
        now: dt.datetime,
    ) -> list[RowProblem]:
        outcome = store_items(
            organization=organization,
            leads=[lead for _, lead, _ in batch],
            events=these,
            now=now,
            people=people,
            checker=checker,
            states=ready,
            want_ids=False,
        )
        added[0] += outcome.leads_added
        added[1] += outcome.events_added
        found: list[RowProblem] = []
        for p in outcome.problems:
            if p.what != "lead":
                continue
            column = owner_columns.get(p.field, p.field)
            if p.field in ("marketing_owner", "sales_owner") and p.reason.startswith("unknown owner"):
                # an owner nobody is: listed once for the import with a count, not on every row
                unknown_owners.setdefault((column, p.reason), [batch[p.index][0], 0])[1] += 1
                continue
            found.append(RowProblem(batch[p.index][0], column, p.reason))
        return found

    def flush() -> None:
        nonlocal rows, events, problems, problem_rows, states, repeated
        if not rows and not problems:
            return
        now = clock()
        counted[:] = [job.rows_imported, job.problems_count, job.leads_added, job.events_added]

        def whole() -> None:
            added[:] = [0, 0]  # a batch stored again (another import met) counts afresh
            commit(problems + store(rows, events, states, now), len(rows), now)

        try:
            store_retrying(whole)  # another import of the same leads at once: again, finding them
        except DatabaseError as error:
            # a value the database refuses though the bounds took it: each row on its own, the refused
            # ones reported, the rest kept
            log.warning("import %s: batch refused (%s); storing its rows one by one", job.pk, error)
            found = list(problems)
            imported = 0
            added[:] = [0, 0]
            for row in rows:
                key = (row[1][0], row[1][1])
                ready = {key: states[key]} if key in states else {}
                try:
                    found += store_retrying(partial(store, [row], list(row[2]), ready, now))
                    imported += 1
                except DatabaseError as refused:
                    found.append(
                        RowProblem(row[0], None, f"the database refused the row: {_first_line(refused)}")
                    )
            store_retrying(lambda: commit(found, imported, now))
        rows, events, problems, problem_rows, states, repeated = [], [], [], set(), {}, set()
        if on_batch is not None:
            on_batch(job)

    stop = threading.Event()
    source: ChildReader | None = None
    if child is not None:
        sqlite = connection.vendor == "sqlite"
        source = ChildReader(child[0], child[1], names=people.names, sqlite=sqlite, skip_to=skip_to)
        items: Iterator[Encoded] = iter(source)
    else:
        items = _read_ahead(result, stop, people.find, datetime_adapter())
    for number, lead, rest, state in items:
        if number <= skip_to:
            continue
        if number != last_row and len(rows) + len(problem_rows) >= batch_size:
            flush()
        if number != last_row:
            rows_seen += 1
        last_row = number
        if lead is not None:
            rows.append((number, lead, rest))
            events.extend(rest)
            lk = (lead[0], lead[1])
            if lk in states or lk in repeated:  # on two rows: the store derives its state from both
                states.pop(lk, None)
                repeated.add(lk)
            elif state is not None:
                states[lk] = state
        else:
            problems.append(RowProblem(number, *rest))
            problem_rows.add(number)
    flush()
    if unknown_owners:
        owners = [
            RowProblem(first, column, _unknown_owner(reason, count, result.mapping.source))
            for (column, reason), (first, count) in sorted(unknown_owners.items(), key=lambda kv: kv[1][0])
        ]
        ImportProblem.objects.bulk_create(
            [ImportProblem(job=job, row=p.row, column=p.column or "", reason=p.reason) for p in owners]
        )
        job.problems_count += len(owners)
        job.save(update_fields=["problems_count"])
    job.rows_read = source.rows_read if source is not None else result.rows_read
    job.status = ImportJob.Status.COMPLETED
    job.finished_at = clock()
    job.save(update_fields=["rows_read", "status", "finished_at"])
