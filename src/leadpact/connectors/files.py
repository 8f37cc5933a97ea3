"""Read CRM export files (CSV, XLSX) as a stream of lead records, events and row problems.

>>> import io
>>> data = b"Record ID,First Name,Email,Contact owner,Create Date\\n51,Anna,a@b.nl,Bo,2026-11-26 14:05\\n"
>>> result = read_file(io.BytesIO(data))
>>> result.preset, result.encoding, result.delimiter
('hubspot', 'utf-8', ',')
>>> [(item.row, item.lead.external_id, [e.kind for e in item.events]) for item in result]
[(2, '51', ['created'])]
"""

from __future__ import annotations

import csv
import hashlib
import io
import operator
import os
import re
import tempfile
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from typing import IO, Any, BinaryIO, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadpact.connectors._dates import (
    AmbiguousDates,
    DateOrder,
    classify,
    detect_column,
    parse_date,
    text_precision,
)
from leadpact.connectors._sniff import detect_delimiter, detect_encoding
from leadpact.connectors._values import parse_amount, parse_consent, parse_count, to_country
from leadpact.connectors.bounds import event_problems, lead_problems
from leadpact.connectors.mapping import EventRule, Mapping, MappingError, normalise_header
from leadpact.connectors.presets import detect_preset, get_preset
from leadpact.connectors.records import EventRecord, LeadFields, LeadRecord, RowProblem

__all__ = [
    "AmbiguousDates",
    "ImportResult",
    "ImportedRow",
    "Table",
    "UnreadableFile",
    "file_fingerprint",
    "open_table",
    "problems_to_csv",
    "read_file",
]

Source = str | os.PathLike[str] | IO[bytes]
FileFormat = Literal["csv", "xlsx"]

_SAMPLE_ROWS = 1000
_HEADER_SEARCH = 20
_FOOTER_BUFFER = 100
_TEXT_FIELDS = frozenset(
    {"name", "first_name", "last_name", "email", "phone", "company", "source", "campaign", "job_title",
     "industry", "company_size", "trigger"}
)  # fmt: skip


class UnreadableFile(ValueError):  # noqa: N818 - named like whenever's SkippedTime, not *Error
    """The file as a whole cannot be imported (not CSV/XLSX, no header, no id column ...)."""


@dataclass(slots=True)
class ImportedRow:
    """One row taken: its spreadsheet row number, the lead and the lead's events (oldest first)."""

    row: int
    lead: LeadRecord
    events: tuple[EventRecord, ...]


def file_fingerprint(source: Source) -> str:
    """sha256 hex of the file's bytes, to recognise a file imported before (a stream is rewound)."""
    digest = hashlib.sha256()
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()
    start = source.tell()
    while chunk := source.read(1 << 20):
        digest.update(chunk)
    source.seek(start)
    return digest.hexdigest()


def problems_to_csv(problems: Sequence[RowProblem]) -> str:
    """The downloadable report: ``row,column,reason`` lines, one per problem.

    >>> problems_to_csv([RowProblem(3, "Create Date", "'31-02-2026' is not a valid date")])
    "row,column,reason\\r\\n3,Create Date,'31-02-2026' is not a valid date\\r\\n"
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "column", "reason"])
    for p in problems:
        writer.writerow([p.row, p.column or "", p.reason])
    return out.getvalue()


# --- the table layer: bytes → rows of cells -------------------------------------------------------------


def _seekable(source: Source) -> tuple[BinaryIO, bool]:
    """A seekable binary stream for the source, and whether we opened (and must close) it."""
    if isinstance(source, str | os.PathLike):
        return open(source, "rb"), True
    if not isinstance(source, io.IOBase) and not hasattr(source, "read"):
        raise UnreadableFile(f"cannot read {type(source).__name__}: give a path or a binary stream")
    stream: Any = source
    if isinstance(source, io.TextIOBase):
        raise UnreadableFile("the file was opened as text: open it in binary mode ('rb')")
    try:
        seekable = stream.seekable()
    except (AttributeError, ValueError):
        seekable = False
    if seekable:
        return stream, False
    # a non-seekable upload: spool it (to disk past 8 MiB) so it can be read more than once
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115 - closed by ImportResult.close
    while chunk := stream.read(1 << 20):
        spool.write(chunk)
    spool.seek(0)
    return spool, True  # type: ignore[return-value]


class Table:
    """Rows of a CSV or XLSX file; every call to :meth:`rows` reads from the top again.

    ``encoding`` / ``delimiter`` say what was detected (``None`` for XLSX); ``notes`` say why.
    Cells are text for CSV; for XLSX, text or the cell's own value (number, datetime) — see
    :meth:`rows`.
    """

    def __init__(self, stream: BinaryIO, *, sheet: str | None = None) -> None:
        self._stream = stream
        self._start = stream.tell()
        head = stream.read(4)
        stream.seek(self._start)
        self.notes: list[str] = []
        self.encoding: str | None = None
        self.delimiter: str | None = None
        self.excel_epoch: datetime | None = None
        #: bytes of a utf-8 file that do not decode (their rows are problems, see :attr:`broken`)
        self.stray_bytes = False
        #: row number → why the row is no data (bytes that do not decode, cut off inside a quote); filled
        #: as :meth:`rows` reads
        self.broken: dict[int, str] = {}
        self._workbook: Any = None
        self._sheet: Any = None
        if head == b"PK\x03\x04":
            self.format: FileFormat = "xlsx"
            self._open_xlsx(sheet)
        else:
            self.format = "csv"
            if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
                raise UnreadableFile("the file is utf-16: save it as csv utf-8 or xlsx")
            if b"\x00" in stream.read(4096):
                stream.seek(self._start)
                raise UnreadableFile("the file is not a csv or xlsx file (it holds binary data)")
            stream.seek(self._start)
            encoding, why = detect_encoding(stream)
            self.encoding = encoding
            self.stray_bytes = encoding == "utf-8" and "do not" in why
            self.notes.append(f"encoding {encoding}: {why}")
            sample = stream.read(64 * 1024).decode(_codec(encoding), errors="replace")
            stream.seek(self._start)
            self.delimiter = detect_delimiter(sample)
            self.notes.append(f"delimiter {self.delimiter!r}")

    def _open_xlsx(self, sheet: str | None) -> None:
        try:
            import openpyxl
        except ImportError:  # pragma: no cover - openpyxl is installed with leadpact
            raise UnreadableFile("reading xlsx needs openpyxl") from None
        try:
            self._workbook = openpyxl.load_workbook(self._stream, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken zip
            raise UnreadableFile(f"the xlsx file cannot be opened ({exc.__class__.__name__})") from None
        if sheet is not None:
            if sheet not in self._workbook.sheetnames:
                raise UnreadableFile(f"the workbook has no sheet {sheet!r}")
            self._sheet = self._workbook[sheet]
        else:
            self._sheet = self._workbook.worksheets[0]
        self.excel_epoch = self._workbook.epoch
        self.notes.append(f"sheet {self._sheet.title!r}")

    def rows(self) -> Generator[tuple[int, list[Any]], None, None]:
        """``(row number, cells)`` from the first row; row numbers as the spreadsheet shows them."""
        if self.format == "xlsx":
            yield from self._xlsx_rows()
            return
        self._stream.seek(self._start)
        # a utf-8 file with stray bytes: keep them apart (lone surrogates) so their rows are reported
        errors = "surrogateescape" if self.stray_bytes else "replace"
        text = io.TextIOWrapper(self._stream, encoding=_codec(self.encoding), errors=errors, newline="")
        box: list[list[str]] = [[]]  # the physical lines of the record being read

        def lines() -> Iterator[str]:
            for line in text:
                box[0].append(line)
                yield line

        number = 0
        held: tuple[int, list[Any]] | None = None
        last: list[str] = []
        stray = self.stray_bytes
        broken = self.broken
        try:
            reader = csv.reader(lines(), delimiter=self.delimiter or ",")
            for number, cells in enumerate(reader, start=1):
                if held is not None:
                    yield held
                last, box[0] = box[0], []
                if stray and any(_STRAY.search(c) for c in cells):
                    broken[number] = _undecodable(cells)
                held = (number, cells)
            if held is not None:
                why = _cut_off(last)
                if why:
                    broken[held[0]] = why
                yield held
        except csv.Error as exc:
            if held is not None:  # the row before the break is whole
                yield held
            # in practice an unclosed quote: the rest of the file ran into one cell
            raise UnreadableFile(
                f"row {number + 1}: the file cannot be read on ({exc}; an unclosed quote?)"
            ) from None
        finally:
            text.detach()

    def _xlsx_rows(self) -> Generator[tuple[int, list[Any]], None, None]:
        self._sheet.reset_dimensions()
        number = 0
        try:
            for number, values in enumerate(self._sheet.iter_rows(values_only=True), start=1):
                yield number, [_cell(v) for v in values]
        except Exception as exc:  # openpyxl raises many kinds for broken sheet XML
            raise UnreadableFile(
                f"row {number + 1}: the sheet cannot be read on ({exc.__class__.__name__})"
            ) from None

    def close(self) -> None:
        """Release the workbook (XLSX); the stream is closed by its owner."""
        if self._workbook is not None:
            self._workbook.close()


_STRAY = re.compile("[\udc80-\udcff]")


def _undecodable(cells: list[str]) -> str:
    """Why a row with bytes that are not utf-8 is not taken, naming the bytes."""
    found = sorted({f"0x{ord(m.group()) - 0xDC00:02X}" for c in cells for m in _STRAY.finditer(c)})
    return (
        f"the row holds byte(s) {', '.join(found[:5])} that are not utf-8 while the rest of the file is: "
        "it was not guessed; fix the row (or save the file as utf-8) and import it again"
    )


def _cut_off(lines: list[str]) -> str:
    """Why the file's last record is no data ("" when it is whole): it ends inside a quoted cell."""
    try:
        list(csv.reader(lines, strict=True))
    except csv.Error as exc:
        if "end of data" in str(exc):
            return "the file ends inside a quoted cell of this row (a cut-off file?): the row is not taken"
    return ""


def _codec(encoding: str | None) -> str:
    return "cp1252" if encoding == "windows-1252" else (encoding or "utf-8")


def _cell(value: Any) -> Any:
    """XLSX cell value: text stays text, whole floats become integer text, dates and numbers stay."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, time):
        return value.isoformat()
    return value  # int, float, datetime, date: converted where the column's type is known


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def open_table(source: Source, *, sheet: str | None = None) -> tuple[Table, Callable[[], None]]:
    """The raw table of a file and a function that closes what was opened.

    >>> table, close = open_table(io.BytesIO("a;b\\n1;é\\n".encode("cp1252")))
    >>> table.encoding, table.delimiter, [cells for _, cells in table.rows()]
    ('windows-1252', ';', [['a', 'b'], ['1', 'é']])
    >>> close()
    """
    stream, owned = _seekable(source)
    try:
        table = Table(stream, sheet=sheet)
    except BaseException:
        if owned:
            stream.close()
        raise

    def close() -> None:
        table.close()
        if owned:
            stream.close()

    return table, close


# --- the mapping layer: rows → records ------------------------------------------------------------------


def _resolve(index: dict[str, int], headers: Sequence[str]) -> int | None:
    for h in headers:
        i = index.get(normalise_header(h))
        if i is not None:
            return i
    return None


def _norm_value(value: str) -> str:
    return " ".join(value.replace("_", " ").split()).casefold()


@dataclass(frozen=True, slots=True)
class _EventPlan:
    rule: EventRule
    at: tuple[int, ...]
    when: int | None
    when_values: frozenset[str]
    amount: int | None
    currency: int | None
    reason: int | None
    actor: int | None
    value: int | None
    code: int | None
    matches: dict[str, bool]  # cell value → whether it is one of when_values (statuses repeat)

    def applies(self, cells: list[Any]) -> bool:
        if self.when is None:
            return True
        raw = cells[self.when]
        hit = self.matches.get(raw)
        if hit is None:
            hit = _norm_value(_text(raw)) in self.when_values
            if len(self.matches) < 1024:
                self.matches[raw] = hit
        return hit


class ImportResult:
    """A file being imported: what was detected, and (iterated once) its rows.

    Iterating yields :class:`ImportedRow` for every row taken and a :class:`RowProblem` for every
    problem of a row not taken (a row may have several). Blank rows and recognised report footers are
    skipped silently. ``rows_read``, ``rows_taken`` and ``problem_count`` count as it goes.
    Use as a context manager, or call :meth:`close`, to release the file. Iteration ends with
    :class:`UnreadableFile` if the rest of the file cannot be read at all (an unclosed quote that runs
    a cell past 128 KB, a broken XLSX sheet); the rows before it were yielded.

    Known before iterating: ``format`` (csv/xlsx), ``encoding`` and ``delimiter`` (CSV), ``preset``
    (the detected or given preset name; ``None`` for an own mapping), ``mapping`` (with the answers
    ``dayfirst``/``tz`` applied), ``header`` and ``header_row``, ``unmapped`` (headers kept in
    ``extra``), ``date_formats`` (header → ``iso``, ``day-month-year``, ``month-day-year`` or the
    explicit format) and ``notes`` (what was detected and why, in words).
    """

    def __init__(
        self,
        source: Source,
        *,
        mapping: Mapping | None,
        preset: str | None,
        dayfirst: bool | None,
        tz: str | None,
        sheet: str | None,
    ) -> None:
        self.table, self._close = open_table(source, sheet=sheet)
        try:
            self._setup(mapping=mapping, preset=preset, dayfirst=dayfirst, tz=tz)
        except BaseException:
            self._close()
            raise
        self.rows_read = 0
        self.rows_taken = 0
        self.problem_count = 0
        self._iterated = False

    # detection ------------------------------------------------------------------------------------------

    def _setup(
        self, *, mapping: Mapping | None, preset: str | None, dayfirst: bool | None, tz: str | None
    ) -> None:
        if mapping is not None and preset is not None:
            raise ValueError("give a mapping or a preset, not both")
        chosen = mapping if mapping is not None else (get_preset(preset) if preset is not None else None)
        head: list[tuple[int, list[Any]]] = []
        rows = self.table.rows()
        for item in _readable(rows):
            head.append(item)
            if len(head) >= _HEADER_SEARCH:
                break
        header_at: int | None = None
        detected: str | None = None
        for i, (_, cells) in enumerate(head):
            texts = [_text(c) for c in cells]
            if chosen is not None:
                ids = [h for h, t in chosen.columns if t == "external_id"]
                if _resolve({normalise_header(t): j for j, t in enumerate(texts)}, ids) is not None:
                    header_at = i
                    break
            else:
                detected = detect_preset(texts)
                if detected is not None:
                    header_at = i
                    break
        rows.close()
        if header_at is None:
            if not any(any(_text(c).strip() for c in cells) for _, cells in head):
                raise UnreadableFile("the file is empty")
            if chosen is not None:
                wanted = ", ".join(repr(h) for h, t in chosen.columns if t == "external_id")
                raise UnreadableFile(
                    f"no header row with an id column ({wanted}) in the first {_HEADER_SEARCH} rows"
                )
            first = next(cells for _, cells in head if any(_text(c).strip() for c in cells))
            shown = ", ".join(repr(_text(c)) for c in first[:8])
            raise UnreadableFile(
                f"the export is not recognised (header {shown}): choose a preset or map the columns"
            )
        if chosen is None:
            assert detected is not None
            chosen = get_preset(detected)
        self.preset: str | None = detected if mapping is None else None
        if preset is not None:
            self.preset = preset
        if tz is not None:
            try:
                ZoneInfo(tz)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"timezone {tz!r} is unknown") from None
            chosen = chosen.replace(timezone=tz)
        if dayfirst is not None:
            chosen = chosen.replace(dayfirst=dayfirst)
        self.mapping: Mapping = chosen
        self.tz: tzinfo = ZoneInfo(chosen.timezone)
        self.header_row: int = head[header_at][0]
        self.header: tuple[str, ...] = tuple(_text(c).strip() for c in head[header_at][1])
        self._plan()
        self._detect_dates()

    def _plan(self) -> None:
        m = self.mapping
        index: dict[str, int] = {}
        for i, h in enumerate(self.header):
            index.setdefault(normalise_header(h), i)
        self._index = index
        targets: dict[str, int] = {}
        for header, target in m.columns:
            found = index.get(normalise_header(header))
            if found is not None and target not in targets:
                targets[target] = found
        id_idx = targets.pop("external_id", None)
        if id_idx is None:
            ids = ", ".join(repr(h) for h, t in m.columns if t == "external_id")
            raise MappingError(f"mapping {m.name!r}: the file has no id column ({ids})")
        targets.pop("ignore", None)
        self._id_idx = id_idx
        self._targets = targets
        used = {id_idx, *targets.values()}
        used.update(
            i
            for h, t in m.columns
            if t == "ignore"
            for i in [index.get(normalise_header(h))]
            if i is not None
        )
        plans: list[_EventPlan] = []
        for rule in m.events:
            at = tuple(i for h in rule.at for i in [index.get(normalise_header(h))] if i is not None)
            if not at:
                continue
            when = _resolve(index, rule.when_column) if rule.when_column else None
            if rule.when_column and when is None:
                continue
            plan = _EventPlan(
                rule=rule,
                at=at,
                when=when,
                when_values=frozenset(_norm_value(v) for v in rule.when_values),
                amount=_resolve(index, rule.amount),
                currency=_resolve(index, rule.currency),
                reason=_resolve(index, rule.reason),
                actor=_resolve(index, rule.actor),
                value=_resolve(index, rule.value),
                code=_resolve(index, rule.code),
                matches={},
            )
            plans.append(plan)
            used.update(at)
            used.update(
                i for i in (plan.amount, plan.currency, plan.reason, plan.code, plan.actor) if i is not None
            )
        self._events = tuple(plans)
        self._extra = (
            tuple((i, h) for i, h in enumerate(self.header) if i not in used and h)
            if m.keep_unmapped == "keep"
            else ()
        )
        self.unmapped: tuple[str, ...] = tuple(h for _, h in self._extra)
        date_idx = {i for p in plans for i in p.at}
        if "created_at" in targets:
            date_idx.add(targets["created_at"])
        self._date_idx = frozenset(date_idx)
        self._footer = tuple(re.compile(p) for p in m.footer)

    def _detect_dates(self) -> None:
        """Per date column: the day/month order from the values, the answer given, or a question."""
        formats = {normalise_header(h): f for h, f in self.mapping.date_formats}
        self.date_formats: dict[str, str] = {}
        samples: dict[int, list[str]] = {i: [] for i in self._date_idx}
        precision: dict[int, str] = {}
        ranks = {"day": 0, "minute": 1, "second": 2, "millisecond": 3, "microsecond": 4}
        rows = self.table.rows()
        try:
            for number, cells in rows if self._date_idx else ():
                if number <= self.header_row:
                    continue
                for i in self._date_idx:
                    if (
                        i < len(cells)
                        and cells[i] != ""
                        and not (isinstance(cells[i], str) and cells[i].isspace())
                    ):
                        # a column is as precise as its coarsest value in the sample
                        shown = text_precision(cells[i])
                        if ranks[shown] < ranks[precision.get(i, "microsecond")]:
                            precision[i] = shown
                        if isinstance(cells[i], str):
                            samples[i].append(cells[i])
                if number - self.header_row >= _SAMPLE_ROWS:
                    break
        except UnreadableFile:
            pass  # the sample ends where the file breaks; the stream reports it at that row
        rows.close()
        found: dict[int, Any] = {}
        evidence: set[DateOrder] = set()
        for i in sorted(self._date_idx):
            fmt = formats.get(normalise_header(self.header[i]), "")
            if fmt:
                self.date_formats[self.header[i]] = fmt
                continue
            info = detect_column(samples[i])
            found[i] = info
            if info.evidence is not None:
                evidence.add(info.evidence)
        orders: dict[int, DateOrder | None] = {}
        answer: DateOrder | None = None
        if self.mapping.dayfirst is not None:
            answer = "dmy" if self.mapping.dayfirst else "mdy"
        for i, info in found.items():
            if info.conflict:
                # the file itself disagrees (26/11 and 11/26 in one column): only the answer can settle it
                if answer is None:
                    raise AmbiguousDates(self.header[i], info.proof + info.examples)
                orders[i] = answer
                self.table.notes.append(f"{self.header[i]!r}: both orders occur; {answer} as answered")
        open_columns = [
            i
            for i, info in found.items()
            if info.kind == "numeric" and info.evidence is None and info.examples and not info.conflict
        ]
        if open_columns:
            file_order: DateOrder | None = next(iter(evidence)) if len(evidence) == 1 else None
            if file_order is None and answer is None:
                file_order = self._scan_for_evidence(open_columns)
            if file_order is None and answer is not None:
                file_order = answer
                self.table.notes.append(f"day/month order {file_order} as answered (dayfirst)")
            if file_order is None:
                i = open_columns[0]
                raise AmbiguousDates(self.header[i], found[i].examples)
            for i in open_columns:
                orders[i] = file_order
        for i, info in found.items():
            if info.evidence is not None:
                orders[i] = info.evidence
                if answer is not None and answer != info.evidence:
                    self.table.notes.append(
                        f"{self.header[i]!r}: the values are {info.evidence} (e.g. {info.proof[0]}),"
                        " so the day/month answer was not used for it"
                    )
            shown = {"dmy": "day-month-year", "mdy": "month-day-year"}.get(orders.get(i) or "", info.kind)
            self.date_formats[self.header[i]] = shown
        self._orders = orders
        #: date column → how precise its values are (the events' identity across sources needs it)
        self.precision: dict[int, str] = precision
        self._kinds = {i: info.kind for i, info in found.items()}
        self._fmt = {i: formats.get(normalise_header(self.header[i]), "") for i in self._date_idx}
        self._compile()

    def _scan_for_evidence(self, columns: list[int]) -> DateOrder | None:
        """Read the whole file for a value that settles the day/month order (only when the sample did not)."""
        rows = self.table.rows()
        for number, cells in _readable(rows):
            if number <= self.header_row:
                continue
            for i in columns:
                if i < len(cells) and isinstance(cells[i], str):
                    _, order = classify(cells[i].strip())
                    if order is not None:
                        rows.close()
                        self.table.notes.append(f"day/month order {order}: row {number} settles it")
                        return order
        return None

    # the stream -----------------------------------------------------------------------------------------

    @property
    def encoding(self) -> str | None:
        """``utf-8-sig``, ``utf-8`` or ``windows-1252`` for CSV; ``None`` for XLSX."""
        return self.table.encoding

    @property
    def delimiter(self) -> str | None:
        """``,``, ``;`` or tab for CSV; ``None`` for XLSX."""
        return self.table.delimiter

    @property
    def format(self) -> FileFormat:
        """``csv`` or ``xlsx``."""
        return self.table.format

    @property
    def notes(self) -> list[str]:
        """What was detected and why, in words (encoding, delimiter, sheet, date order)."""
        return self.table.notes

    def __enter__(self) -> ImportResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the file."""
        self._close()

    def __iter__(self) -> Iterator[ImportedRow | RowProblem]:
        if self._iterated:
            raise RuntimeError("an import result can be iterated once; call read_file again")
        self._iterated = True
        return self._stream()

    def _is_footer(self, cells: list[Any]) -> bool:
        for c in cells:
            if isinstance(c, str) and c.strip():
                text = c.strip()
                return any(p.search(text) for p in self._footer)
        return False

    def _stream(self) -> Iterator[ImportedRow | RowProblem]:
        convert = self._convert
        footer = bool(self._footer)
        header_row = self.header_row
        pending: list[tuple[int, list[Any]]] = []
        broken = self.table.broken
        try:
            for number, cells in self.table.rows():
                if number <= header_row or not any(cells):
                    continue
                if broken and number in broken:
                    self.rows_read += 1
                    self.problem_count += 1
                    yield RowProblem(number, None, broken.pop(number))
                    continue
                if footer:
                    nonblank = sum(1 for c in cells if c != "" and not (isinstance(c, str) and c.isspace()))
                    if nonblank == 0:
                        continue
                    if nonblank == 1 or self._is_footer(cells):
                        pending.append((number, cells))
                        if len(pending) <= _FOOTER_BUFFER:
                            continue
                    if pending:
                        for n, c in pending:
                            yield from _items(convert(n, c))
                        pending.clear()
                        if number == n:
                            continue
                out = convert(number, cells)
                if isinstance(out, ImportedRow):
                    yield out
                elif out:
                    yield from out
            if pending and not any(self._is_footer(c) for _, c in pending):
                for n, c in pending:
                    yield from _items(convert(n, c))
        finally:
            self._close()

    def _compile(self) -> None:
        """Turn the plan into flat lists and cached date parsers for the per-row loop."""
        kinds: dict[str, list[tuple[str, int]]] = {
            "text": [], "owner": [], "country": [], "count": [], "consent": [], "opt_out": [], "extra": []
        }  # fmt: skip
        for target, i in self._targets.items():
            if target == "created_at":
                continue
            if target in _TEXT_FIELDS:
                kinds["text"].append((target, i))
            elif target in ("marketing_owner", "sales_owner"):
                kinds["owner"].append((target, i))
            elif target == "country":
                kinds["country"].append((target, i))
            elif target in ("score", "recent_touches"):
                kinds["count"].append((target, i))
            elif target == "consent":
                kinds["consent"].append((target, i))
            elif target == "consent_opt_out":
                kinds["opt_out"].append(("consent", i))
            elif target.startswith("extra."):
                kinds["extra"].append((target[6:], i))
        self._k = {k: tuple(v) for k, v in kinds.items()}
        self._text_get = _getter(self._k["text"])
        self._extra_get = _getter(tuple((h, i) for i, h in self._extra))
        self._created_idx = self._targets.get("created_at")
        # a field a bound refuses → the column it came from (the row's problem names it)
        columns = {target: self.header[i] for target, i in self._targets.items()}
        columns.update((f"extra.{h}", h) for _, h in self._extra)
        if "source" in columns:
            columns["lead_source"] = columns.pop("source")
        columns["external_id"] = self.header[self._id_idx]
        if "name" not in columns:
            columns["name"] = columns.get("first_name") or columns.get("last_name") or ""
        self._field_columns = columns
        self._parsers = {i: self._parser(i) for i in self._date_idx}
        self._specs = tuple(
            (
                p,
                p.at,
                p.rule.kind,
                p.amount,
                p.currency,
                p.reason,
                p.actor,
                p.value,
                p.code,
                (p.rule.reason_code, p.rule.channel, p.rule.human, p.rule.note),
            )
            for p in self._events
        )

    def _parser(self, i: int) -> Callable[[Any], datetime]:
        order = self._orders.get(i)
        fmt = self._fmt.get(i, "")
        tz = self.tz
        epoch = self.table.excel_epoch
        cache: dict[str, datetime] = {}
        if not fmt and self._kinds.get(i) == "iso":
            fromiso = datetime.fromisoformat

            def parse_iso(raw: Any) -> datetime:
                # the column is ISO 8601: the C parser first, the general one for anything else
                if type(raw) is str:
                    try:
                        dt = fromiso(raw)
                    except ValueError:
                        return parse_date(raw, order=order, tz=tz, fmt=fmt, excel_epoch=epoch)
                    if dt.tzinfo is not None:
                        return dt
                    # positional construction: a third of the cost of dt.replace(tzinfo=tz); fold stays 0
                    return datetime(
                        dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond, tz
                    )
                return parse_date(raw, order=order, tz=tz, fmt=fmt, excel_epoch=epoch)

            return parse_iso

        def parse(raw: Any) -> datetime:
            if type(raw) is str:
                dt = cache.get(raw)
                if dt is None:
                    dt = parse_date(raw, order=order, tz=tz, fmt=fmt, excel_epoch=epoch)
                    if len(cache) >= 8192:
                        cache.clear()
                    cache[raw] = dt
                return dt
            return parse_date(raw, order=order, tz=tz, fmt=fmt, excel_epoch=epoch)

        return parse

    def _convert(self, number: int, cells: list[Any]) -> ImportedRow | list[RowProblem] | None:
        """One row to a record, or to the list of its problems; ``None`` for a blank row."""
        header = self.header
        width = len(header)
        problems: list[RowProblem] = []
        if len(cells) != width:
            if len(cells) > width and any(_text(c).strip() for c in cells[width:]):
                problems.append(
                    RowProblem(
                        number, None, f"the row has {len(cells)} values, the header has {width} columns"
                    )
                )
            elif len(cells) < width:
                if all(type(c) is str and not c.strip() for c in cells):
                    return None  # whitespace only: a blank row
                if self.table.format == "csv":
                    self.rows_read += 1
                    self.problem_count += 1
                    return [
                        RowProblem(
                            number,
                            None,
                            f"the row has {len(cells)} values, the header has {width} columns "
                            "(a cut-off row?): the row is not taken",
                        )
                    ]
                cells = cells + [""] * (width - len(cells))
        if self.table.format == "xlsx":
            dates = self._date_idx
            cells = [c if (i in dates or isinstance(c, str)) else _text(c) for i, c in enumerate(cells)]
        source = self.mapping.source
        external_id = cells[self._id_idx].strip()
        if not external_id:
            if all(type(c) is str and not c.strip() for c in cells):
                return None  # whitespace only: a blank row
            problems.append(RowProblem(number, header[self._id_idx], "the id is missing"))
        self.rows_read += 1
        k = self._k
        parsers = self._parsers
        default_currency = self.mapping.currency
        text_names, text_get = self._text_get
        values: dict[str, Any] = {
            t: v for t, v in zip(text_names, map(str.strip, text_get(cells)), strict=True) if v
        }
        owners = {"marketing_owner": "", "sales_owner": ""}
        for target, i in k["owner"]:
            owners[target] = cells[i].strip()
        for target, i in k["country"]:
            text = cells[i].strip()
            if text:
                values[target] = to_country(text)
        for target, i in k["count"]:
            text = cells[i].strip()
            if text:
                try:
                    values[target] = parse_count(text)
                except ValueError as exc:
                    problems.append(RowProblem(number, header[i], str(exc)))
        extra: dict[str, str] = {}
        for target, i in k["consent"]:
            text = cells[i].strip()
            if text:
                values[target] = consent = parse_consent(text)
                if consent is None:
                    extra["consent"] = text
        for target, i in k["opt_out"]:
            # "Email Opt Out" / "Unsubscribed from all email": yes takes consent away, no leaves it given
            # unless a consent column said otherwise
            text = cells[i].strip()
            opted_out = parse_consent(text) if text else None
            if opted_out:
                values[target] = False
            elif opted_out is False and values.get(target) is None:
                values[target] = True
        for key, i in k["extra"]:
            text = cells[i].strip()
            if text:
                extra[key] = text
        extra_names, extra_get = self._extra_get
        if extra_names:
            extra.update(
                (h, v) for h, v in zip(extra_names, map(str.strip, extra_get(cells)), strict=True) if v
            )
        created_at: datetime | None = None
        ci = self._created_idx
        if ci is not None:
            raw = cells[ci]
            if raw != "" and not (type(raw) is str and raw.isspace()):
                try:
                    created_at = parsers[ci](raw)
                except ValueError as exc:
                    problems.append(RowProblem(number, header[ci], str(exc)))
        events: list[EventRecord] = []
        precision = self.precision
        for plan, at, kind, amount_i, currency_i, reason_i, actor_i, value_i, code_i, fixed in self._specs:
            if plan.when is not None and not plan.applies(cells):
                continue
            for i in at:
                raw = cells[i]
                if raw != "" and not (type(raw) is str and raw.isspace()):
                    break
            else:
                continue
            try:
                occurred_at = parsers[i](raw)
            except ValueError as exc:
                problems.append(RowProblem(number, header[i], str(exc)))
                continue
            amount: Decimal | None = None
            currency = ""
            if amount_i is not None:
                text = cells[amount_i].strip()
                if text:
                    try:
                        amount = parse_amount(text)
                    except ValueError as exc:
                        problems.append(RowProblem(number, header[amount_i], str(exc)))
                        continue
                    currency = default_currency
                    if currency_i is not None:
                        currency = cells[currency_i].strip().upper() or currency
            reason_code, channel, human, note = fixed
            data: dict[str, str] = {}
            if value_i is not None:
                value = cells[value_i].strip()
                if value:
                    data["value"] = value
            if note:
                data["note"] = note
            if code_i is not None:
                reason_code = cells[code_i].strip() or reason_code
            if external_id:
                record = EventRecord(
                    source,
                    external_id,
                    kind,
                    occurred_at,
                    cells[actor_i].strip() if actor_i is not None else "",
                    channel,
                    human,
                    reason_code,
                    cells[reason_i].strip() if reason_i is not None else "",
                    amount,
                    currency,
                    data,
                    "",
                    precision.get(i, ""),
                )
                refused = event_problems(record, identity=False)
                if refused:
                    where = {"occurred_at": i, "amount": amount_i, "currency": currency_i, "actor": actor_i,
                             "reason": reason_i, "reason_code": code_i, "data.value": value_i}  # fmt: skip
                    for name, why in refused:
                        column = where.get(name)
                        problems.append(RowProblem(number, None if column is None else header[column], why))
                    continue
                events.append(record)
        if problems:
            self.problem_count += len(problems)
            return problems
        if "name" not in values:
            first = values.get("first_name", "")
            last = values.get("last_name", "")
            if first or last:
                values["name"] = f"{first} {last}" if first and last else first or last
        lead = LeadRecord(
            source=source,
            external_id=external_id,
            fields=LeadFields(extra=extra, **values),
            created_at=created_at,
            **owners,
        )
        refused = lead_problems(lead)
        if refused:
            columns = self._field_columns
            self.problem_count += len(refused)
            return [RowProblem(number, columns.get(name) or None, why) for name, why in refused]
        if created_at is not None and self.mapping.created_event:
            events.insert(
                0,
                EventRecord(
                    source=source,
                    external_id=external_id,
                    kind="created",
                    occurred_at=created_at,
                    actor=owners["marketing_owner"],
                    precision=precision.get(ci, "") if ci is not None else "",
                ),
            )
        if len(events) > 1:
            events.sort(key=_WHEN)
        self.rows_taken += 1
        return ImportedRow(number, lead, tuple(events))


_WHEN = operator.attrgetter("occurred_at")


def _readable(rows: Iterator[tuple[int, list[Any]]]) -> Iterator[tuple[int, list[Any]]]:
    """The rows up to where the file breaks (the stream itself reports the break)."""
    try:
        yield from rows
    except UnreadableFile:
        return


def _getter(
    pairs: tuple[tuple[str, int], ...],
) -> tuple[tuple[str, ...], Callable[[list[Any]], tuple[Any, ...]]]:
    """Names and a C-speed getter returning the cells of those indexes as a tuple (also for one)."""
    names = tuple(n for n, _ in pairs)
    indexes = [i for _, i in pairs]
    if len(indexes) == 1:
        only = indexes[0]
        return names, lambda cells: (cells[only],)
    if not indexes:
        return names, lambda cells: ()
    return names, operator.itemgetter(*indexes)


def _items(out: ImportedRow | list[RowProblem] | None) -> list[ImportedRow] | list[RowProblem]:
    if out is None:
        return []
    return [out] if isinstance(out, ImportedRow) else out


def read_file(
    source: Source,
    *,
    mapping: Mapping | None = None,
    preset: str | None = None,
    dayfirst: bool | None = None,
    tz: str | None = None,
    sheet: str | None = None,
) -> ImportResult:
    """Open a CSV or XLSX export for import; iterate the result for rows and problems.

    The preset is detected from the header unless ``preset`` or ``mapping`` is given. ``dayfirst``
    answers :class:`AmbiguousDates` (raised here, before any row, when every date could be read either
    way). ``tz`` (default: the mapping's, Europe/Amsterdam) is where naive times are local; ``sheet``
    picks an XLSX sheet (default the first). Raises :class:`UnreadableFile` or ``MappingError`` when
    the file as a whole cannot be read.
    """
    return ImportResult(source, mapping=mapping, preset=preset, dayfirst=dayfirst, tz=tz, sheet=sheet)
