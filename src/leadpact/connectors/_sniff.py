"""Encoding and delimiter detection for CSV files."""

from __future__ import annotations

import codecs
import csv
import io
import re
from typing import BinaryIO, Literal

__all__ = ["Encoding", "detect_delimiter", "detect_encoding"]

Encoding = Literal["utf-8-sig", "utf-8", "windows-1252"]
DELIMITERS = (",", ";", "\t")
_CHUNK = 1 << 20


def detect_encoding(stream: BinaryIO) -> tuple[Encoding, str]:
    """Choose the encoding of a seekable byte stream and say why; the stream is rewound.

    A UTF-8 byte order mark means UTF-8 with BOM. Otherwise the whole stream is checked (in 1 MiB chunks,
    at C speed): valid UTF-8 is UTF-8. A stream that is not valid UTF-8 is weighed on its evidence
    (:func:`_weigh`): more characters that decode as multi-byte UTF-8 than bytes that do not means a
    UTF-8 file with a few damaged bytes (their rows are reported, never guessed); otherwise Windows-1252,
    what Excel on Windows writes for "CSV" in western European locales.
    """
    start = stream.tell()
    head = stream.read(len(codecs.BOM_UTF8))
    if head == codecs.BOM_UTF8:
        stream.seek(start)
        return "utf-8-sig", "utf-8 with a byte order mark"
    stream.seek(start)
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    try:
        while chunk := stream.read(_CHUNK):
            decoder.decode(chunk)
            offset += len(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        stream.seek(start)
        first = offset + exc.start + 1
        valid, invalid = _weigh(stream)
        stream.seek(start)
        if valid > invalid:
            return "utf-8", (
                f"utf-8: {valid} multi-byte characters decode, {invalid} byte(s) do not (the first at byte "
                f"{first}); rows with such bytes are reported"
            )
        return "windows-1252", (
            f"not valid utf-8 (byte {first}; {valid} multi-byte utf-8 characters against {invalid} bytes "
            "that do not decode), read as windows-1252"
        )
    stream.seek(start)
    return "utf-8", "valid utf-8"


def _weigh(stream: BinaryIO) -> tuple[int, int]:
    """Characters that decode as multi-byte UTF-8 and bytes that do not, over the rest of the stream."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    valid = invalid = 0
    high = bytes(range(128, 256))
    final = False
    while not final:
        chunk = stream.read(_CHUNK)
        final = not chunk
        text = decoder.decode(chunk, final=final)
        bad = sum(1 for _ in _STRAY.finditer(text))
        # non-ASCII characters that decoded = characters - ASCII bytes - stray bytes
        ascii_bytes = len(chunk.translate(None, delete=high))
        valid += len(text) - ascii_bytes - bad if text else 0
        invalid += bad
    return valid, invalid


#: A byte that did not decode (``surrogateescape`` turns it into a lone surrogate).
_STRAY = re.compile("[\udc80-\udcff]")


def _parse(sample: str, delimiter: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(sample), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append(row)
            if len(rows) >= 50:
                break
    except csv.Error:
        pass  # a quoted cell cut off by the end of the sample: judge by the rows before it
    return rows


def detect_delimiter(sample: str) -> str:
    """The delimiter among ``,`` ``;`` and tab that splits the first KBs into the most, consistent columns.

    Parsing is quote-aware (csv module), so delimiters inside quoted cells do not count. The header row
    decides: a delimiter that leaves stray quote characters in header cells is wrong (``"a";"b, c"`` split
    on commas); then the most columns; ties go to the delimiter giving most sampled rows the header's
    width. The last, possibly cut-off, line of the sample is ignored. One column: ``,``.

    >>> detect_delimiter('"Naam";"Bedrijf, BV"\\n"Anna";"Acme, BV"\\n')
    ';'
    """
    cut = sample.rfind("\n")
    if 0 < cut < len(sample) - 1:
        sample = sample[: cut + 1]
    best = ","
    best_score: tuple[int, int, float] | None = None
    for delimiter in DELIMITERS:
        rows = _parse(sample, delimiter)
        if not rows or len(rows[0]) < 2:
            continue
        header = rows[0]
        stray = sum(1 for cell in header if '"' in cell)
        consistent = sum(1 for r in rows if len(r) == len(header)) / len(rows)
        score = (-stray, len(header), consistent)
        if best_score is None or score > best_score:
            best, best_score = delimiter, score
    return best
