"""Issue 15 cases 3 and 4 at the file layer: a cut-off file and a stray Windows-1252 byte are problems of
their rows, never data, never a guess for the whole file."""

from __future__ import annotations

import io

from leadpact.connectors.files import ImportedRow, read_file
from leadpact.connectors.records import RowProblem

HEADER = "Record ID,First Name,Last Name,Email,Company Name,Create Date\n"


def taken(data: bytes) -> tuple[list[ImportedRow], list[RowProblem], str | None]:
    with read_file(io.BytesIO(data), preset="hubspot", tz="Europe/Amsterdam") as result:
        items = list(result)
        encoding = result.encoding
    return (
        [i for i in items if isinstance(i, ImportedRow)],
        [i for i in items if isinstance(i, RowProblem)],
        encoding,
    )


class TestCutOff:
    def test_file_ending_inside_a_quote_reports_its_last_row(self):
        data = (
            HEADER + '51,Anna,Jansen,a@x.nl,"Acme, Inc.",2026-10-07 09:00\n52,Bo,Berg,b@x.nl,"Acme,'
        ).encode()
        rows, problems, _ = taken(data)
        assert [r.lead.external_id for r in rows] == ["51"]
        assert [p.row for p in problems] == [3]
        assert "quoted cell" in problems[0].reason

    def test_a_quoted_cell_cut_after_a_line_break_is_no_data(self):
        data = (HEADER + '52,Bo,Berg,b@x.nl,"Acme,\nInc.').encode()
        rows, problems, _ = taken(data)
        assert rows == [] and len(problems) == 1 and "quoted cell" in problems[0].reason

    def test_file_cut_mid_row_reports_the_short_row(self):
        data = (HEADER + "51,Anna,Jansen,a@x.nl,Acme,2026-10-07 09:00\n52,Bo,Berg,b@x").encode()
        rows, problems, _ = taken(data)
        assert [r.lead.external_id for r in rows] == ["51"]
        assert [(p.row, p.column) for p in problems] == [(3, None)]
        assert "4 values, the header has 6 columns" in problems[0].reason

    def test_whole_file_without_a_final_line_break_is_whole(self):
        rows, problems, _ = taken((HEADER + '51,Anna,Jansen,a@x.nl,"Acme, Inc.",2026-10-07 09:00').encode())
        assert problems == [] and rows[0].lead.fields.company == "Acme, Inc."


class TestDecoding:
    def test_one_stray_1252_byte_in_a_utf8_file_is_its_rows_problem(self):
        good = "51,Inès,Moreau,ines@x.fr,Société Générale,2026-10-07 09:00\n".encode()
        many = "".join(f"{60 + i},Zoë,Ærø,z{i}@x.dk,Café Ñ,2026-10-07 09:00\n" for i in range(5)).encode()
        bad = b"52,Ren" + b"\xe9" + b",Roux,r@x.fr,Acme,2026-10-07 09:00\n"
        rows, problems, encoding = taken(HEADER.encode() + good + many + bad)
        assert encoding == "utf-8"
        assert rows[0].lead.fields.name == "Inès Moreau"
        assert [p.row for p in problems] == [8]
        assert "0xE9" in problems[0].reason and "not utf-8" in problems[0].reason
        assert all("Ã" not in r.lead.fields.name for r in rows)

    def test_a_1252_file_is_still_read_as_1252(self):
        rows, problems, encoding = taken(
            (HEADER + "51,Inès,Moreau,ines@x.fr,Société,2026-10-07 09:00\n").encode("cp1252")
        )
        assert encoding == "windows-1252" and problems == []
        assert rows[0].lead.fields.name == "Inès Moreau"


def test_a_whitespace_only_short_row_is_blank_not_a_problem():
    rows, problems, _ = taken((HEADER + "51,Anna,Jansen,a@x.nl,Acme,2026-10-07 09:00\n   \n").encode())
    assert [r.lead.external_id for r in rows] == ["51"] and problems == []
