"""Any list or scorecard as a file people open in a spreadsheet: CSV or XLSX, every cell safe.

Text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` …) is neutralised: in CSV by
:func:`leadpact.core.tabular.cell_text`; in XLSX every text cell is written as a string cell, never a
formula, so the text stays exactly as it was. Numbers stay numbers, instants are written in the
organisation's time zone without it (spreadsheets know no zones; the header names it).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from leadpact.core.tabular import tabular_csv

__all__ = ["ExportFormat", "export_response"]

ExportFormat = Literal["csv", "xlsx"]
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _plain(value: Any, zone: dt.tzinfo | None) -> Any:
    if isinstance(value, dt.datetime):
        local = value.astimezone(zone) if zone is not None and value.tzinfo else value
        return local.replace(tzinfo=None, microsecond=0)
    if isinstance(value, dt.timedelta):
        return Decimal(int(value.total_seconds()))
    return value


def _xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]], title: str, zone: dt.tzinfo | None) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=(title or "leadpact")[:31])
    sheet.append(list(header))
    for row in rows:
        cells = []
        for value in row:
            plain = _plain(value, zone)
            if isinstance(plain, Decimal):
                plain = float(plain) if plain != plain.to_integral_value() else int(plain)
            cell = WriteOnlyCell(sheet, value=plain)
            if isinstance(plain, str):
                cell.data_type = "s"  # text, never a formula
            elif isinstance(plain, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_response(
    *,
    fmt: ExportFormat,
    filename: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    zone: dt.tzinfo | None = None,
) -> HttpResponse:
    """A download of ``rows`` under ``header`` as ``filename.csv`` or ``filename.xlsx``."""
    if fmt == "xlsx":
        body = _xlsx(header, rows, filename, zone)
        response = HttpResponse(body, content_type=_XLSX)
    else:
        text = tabular_csv(header, ([_plain(v, zone) for v in row] for row in rows))
        response = HttpResponse("\ufeff" + text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
