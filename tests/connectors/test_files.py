"""Reading CRM export files: presets, encodings, delimiters, dates, broken rows."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadpact.connectors import (
    PRESETS,
    AmbiguousDates,
    EventRule,
    ImportedRow,
    Mapping,
    MappingError,
    UnreadableFile,
    detect_preset,
    file_fingerprint,
    open_table,
    problems_to_csv,
    read_file,
)

SAMPLES = Path(__file__).parent / "samples"
AMS = ZoneInfo("Europe/Amsterdam")


def collect(result):
    rows, problems = [], []
    for item in result:
        (rows if isinstance(item, ImportedRow) else problems).append(item)
    return rows, problems


def kinds(row):
    return [e.kind for e in row.events]


def read_sample(name, **kw):
    result = read_file(SAMPLES / name, **kw)
    rows, problems = collect(result)
    return result, rows, problems


class TestHubSpot:
    def test_label_export(self):
        result, rows, problems = read_sample("hubspot_labels.csv")
        assert (result.preset, result.encoding, result.delimiter) == ("hubspot", "utf-8-sig", ",")
        assert problems == []
        assert [r.row for r in rows] == [2, 3, 4, 5]
        sanne = rows[0].lead
        assert sanne.source == "hubspot" and sanne.external_id == "40112"
        assert sanne.fields.name == "Sanne de Vries"
        assert (sanne.fields.first_name, sanne.fields.last_name) == ("Sanne", "de Vries")
        assert sanne.fields.country == "NL" and sanne.fields.score == 72
        assert sanne.fields.company == "Bakkerij De Vries B.V." and sanne.fields.source == "Paid Search"
        assert sanne.fields.trigger == "Demo request" and sanne.fields.company_size == "51-200"
        assert sanne.sales_owner == "Jeroen Bakker"
        assert sanne.created_at == datetime(2026, 9, 1, 9, 14, tzinfo=AMS)
        assert sanne.fields.extra["Lifecycle Stage"] == "Customer"
        assert kinds(rows[0]) == [
            "created", "handed_over", "assigned", "qualified", "opportunity", "contact_attempt", "won",
        ]  # fmt: skip
        won = rows[0].events[-1]
        assert won.amount == Decimal("14500") and won.occurred_at == datetime(2026, 10, 20, 16, 5, tzinfo=AMS)
        assigned = rows[0].events[2]
        assert assigned.data == {"value": "Jeroen Bakker"}
        attempt = rows[0].events[5]
        assert attempt.human is True

    def test_lead_status_becomes_a_rejection_with_its_reason_code(self):
        _, rows, _ = read_sample("hubspot_labels.csv")
        pieter, lotte, marc = rows[1], rows[2], rows[3]
        rejected = [e for e in pieter.events if e.kind == "rejected"]
        assert [(e.reason_code, e.occurred_at) for e in rejected] == [
            ("unqualified", datetime(2026, 10, 9, 11, 22, tzinfo=AMS))
        ]
        assert "last modification" in rejected[0].data["note"]
        assert kinds(lotte) == ["created"]
        assert [e.reason_code for e in marc.events if e.kind == "rejected"] == ["bad_timing"]
        assert lotte.lead.fields.email == "lotte@smit-advies"  # a bad e-mail is kept, not a reason to reject

    def test_internal_values_export(self):
        result, rows, problems = read_sample("hubspot_internal.csv")
        assert result.preset == "hubspot" and problems == []
        sanne = rows[0]
        assert sanne.lead.created_at == datetime(2026, 9, 1, 7, 14, 3, 511000, tzinfo=UTC)
        assert sanne.lead.sales_owner == "81234567"
        assert sanne.lead.fields.job_title == "Operations Manager"
        assert kinds(sanne) == ["created", "handed_over", "assigned", "qualified", "opportunity", "won"]
        assert sanne.events[-1].amount == Decimal("14500.00")
        assert [e.reason_code for e in rows[1].events if e.kind == "rejected"] == ["unqualified"]
        assert rows[2].lead.fields.score is None and rows[2].lead.fields.company == ""


class TestSalesforce:
    def test_report_with_footer_and_month_first_dates(self):
        result, rows, problems = read_sample("salesforce_report.csv")
        assert result.preset == "salesforce_report"
        assert problems == [], "the footer lines are not broken rows"
        assert [r.lead.external_id for r in rows] == [
            "00Q5g00000AbCdEEA1",
            "00Q5g00000AbCdFEA1",
            "00Q5g00000AbCdGEA1",
        ]
        assert result.date_formats["Create Date"] == "month-day-year"
        first = rows[0]
        assert first.lead.created_at == datetime(2026, 11, 2, 9, 14, tzinfo=AMS)
        assert first.lead.sales_owner == "Jeroen Bakker" and first.lead.fields.country == "NL"
        assert [(e.kind, e.occurred_at) for e in first.events] == [
            ("created", datetime(2026, 11, 2, 9, 14, tzinfo=AMS)),
            ("qualified", datetime(2026, 11, 24, tzinfo=AMS)),
        ]
        assert rows[1].lead.created_at == datetime(2026, 11, 5, 13, 40, tzinfo=AMS)  # 1:40 PM
        assert [e.reason_code for e in rows[1].events if e.kind == "rejected"] == ["not_converted"]

    def test_dutch_report_in_windows_1252_with_semicolons(self):
        result, rows, problems = read_sample("salesforce_report_nl.csv")
        assert (result.encoding, result.delimiter, result.preset) == (
            "windows-1252",
            ";",
            "salesforce_report",
        )
        assert "windows-1252" in result.notes[0]
        assert problems == []
        assert [r.lead.fields.name for r in rows] == [
            "Sébastien Leclercq",
            "Inès Maréchal",
            "Joëlle van Dijk",
        ]
        assert rows[0].lead.sales_owner == "René Lefèvre"
        assert rows[0].lead.created_at == datetime(2026, 11, 2, 9, 14, tzinfo=AMS)
        assert result.date_formats["Aanmaakdatum"] == "day-month-year"
        assert rows[2].lead.fields.company == "Van Dijk; Partners"
        assert rows[2].lead.fields.job_title == "Marketing, communicatie"
        assert [e.kind for e in rows[1].events] == ["created", "rejected"]

    def test_bulk_api_export_in_utc(self):
        result, rows, problems = read_sample("salesforce_bulk.csv")
        assert result.preset == "salesforce_bulk" and problems == []
        assert rows[2].lead.created_at == datetime(2026, 11, 26, 14, 5, tzinfo=UTC)
        assert rows[0].lead.sales_owner == "0055g00000AAAAAAA1"
        qualified = [e for e in rows[0].events if e.kind == "qualified"]
        assert qualified[0].occurred_at == datetime(2026, 11, 24, tzinfo=AMS)  # a date: local midnight
        assert rows[0].lead.fields.extra["IsConverted"] == "true"

    def test_footer_lookalikes_before_more_data_are_rows(self):
        data = (
            '"Lead Owner","First Name","Create Date","Lead ID"\n'
            '"Emma","Anna","26/11/2026, 14:05","L1"\n'
            '"","","",""\n'
            '"Grand Totals (2 records)","","",""\n'
            '"Emma","Bas","27/11/2026, 09:00","L2"\n'
        )
        rows, problems = collect(read_file(io.BytesIO(data.encode()), preset="salesforce_report"))
        assert [r.lead.external_id for r in rows] == ["L1", "L2"]
        assert [(p.row, p.column) for p in problems] == [(4, "Lead ID")]


class TestPipedrive:
    def test_leads_export(self):
        result, rows, problems = read_sample("pipedrive_leads.csv")
        assert result.preset == "pipedrive_leads" and problems == []
        lead = rows[0].lead
        assert lead.external_id == "2f4e8c1a-7b7d-11ef-9c1a-0242ac120002"
        assert (
            lead.fields.name == "Sanne de Vries" and lead.fields.email == "sanne.devries@bakkerij-devries.nl"
        )
        assert lead.fields.extra["title"] == "Bakkerij De Vries lead" and lead.fields.source == "Web forms"
        assert lead.created_at == datetime(2026, 11, 2, 9, 14, 33, tzinfo=AMS)

    def test_deals_export(self):
        result, rows, problems = read_sample("pipedrive_deals.csv")
        assert result.preset == "pipedrive_deals" and problems == []
        won, lost, open_ = rows
        assert kinds(won) == ["created", "opportunity", "won"]
        assert [(e.amount, e.currency) for e in won.events[1:]] == [(Decimal("14500"), "EUR")] * 2
        assert kinds(lost) == ["created", "opportunity", "lost"]
        assert lost.events[-1].amount == Decimal("8250.50")
        assert lost.events[-1].reason == "Went with a competitor"
        assert kinds(open_) == ["created", "opportunity"]


def test_detect_preset_from_each_sample_header():
    expected = {
        "hubspot_labels.csv": "hubspot",
        "hubspot_internal.csv": "hubspot",
        "salesforce_report.csv": "salesforce_report",
        "salesforce_report_nl.csv": "salesforce_report",
        "salesforce_bulk.csv": "salesforce_bulk",
        "pipedrive_leads.csv": "pipedrive_leads",
        "pipedrive_deals.csv": "pipedrive_deals",
        "ambiguous_dates.csv": "generic",
    }
    for name, preset in expected.items():
        table, close = open_table(SAMPLES / name)
        header = next(cells for _, cells in table.rows())
        close()
        assert detect_preset(header) == preset, name
    assert detect_preset(["Naam", "Adres", "Woonplaats"]) is None


class TestBrokenRows:
    def test_each_broken_row_is_reported_and_the_rest_is_kept(self):
        result, rows, problems = read_sample("broken_rows.csv")
        assert [r.lead.external_id for r in rows] == ["50001", "50003", "50008"]
        assert [(p.row, p.column, p.reason) for p in problems] == [
            (3, "Record ID", "the id is missing"),
            (5, "HubSpot Score", "'veel' is not a number"),
            (6, "Create Date", "'2026-02-31 09:00' is not a valid date"),
            (7, "Recent Deal Amount", "'veertienduizend' is not an amount"),
        ]
        assert rows[-1].row == 9, "the blank row 8 still counts as a spreadsheet row"
        assert (result.rows_taken, result.problem_count) == (3, 4)

    def test_problems_report_as_csv(self):
        _, _, problems = read_sample("broken_rows.csv")
        report = list(csv.reader(io.StringIO(problems_to_csv(problems))))
        assert report[0] == ["row", "column", "reason"]
        assert report[1] == ["3", "Record ID", "the id is missing"]
        assert len(report) == 5

    def test_a_row_with_too_many_values(self):
        data = b"external_id,name,created_at\ng-1,Anna,2026-11-26\ng-2,Bas,2026-11-26,surprise\n"
        data += b"g-3,Cas,2026-11-26,,\n"
        rows, problems = collect(read_file(io.BytesIO(data)))
        assert [r.lead.external_id for r in rows] == ["g-1", "g-3"]
        assert [(p.row, p.column, p.reason) for p in problems] == [
            (3, None, "the row has 4 values, the header has 3 columns")
        ]

    def test_several_problems_in_one_row_are_all_named(self):
        data = b"Record ID,Email,HubSpot Score,Create Date\n,x@y.z,lots,31-31-2026\n"
        rows, problems = collect(read_file(io.BytesIO(data)))
        assert rows == []
        assert [p.column for p in problems] == ["Record ID", "HubSpot Score", "Create Date"]


class TestDates:
    def test_all_ambiguous_dates_ask_before_any_row(self):
        with pytest.raises(AmbiguousDates) as info:
            read_file(SAMPLES / "ambiguous_dates.csv")
        assert info.value.column == "created_at"
        assert info.value.examples[:2] == ("03-04-2026 09:00", "04-05-2026 11:30")
        assert "dayfirst" in str(info.value)

    @pytest.mark.parametrize(
        ("dayfirst", "expected"),
        [(True, datetime(2026, 4, 3, 9, 0, tzinfo=AMS)), (False, datetime(2026, 3, 4, 9, 0, tzinfo=AMS))],
    )
    def test_the_answer_decides(self, dayfirst, expected):
        _, rows, problems = read_sample("ambiguous_dates.csv", dayfirst=dayfirst)
        assert problems == [] and rows[0].lead.created_at == expected
        assert rows[0].events[1].kind == "handed_over"

    def test_one_telling_value_past_the_sample_settles_the_whole_file(self):
        lines = ["external_id,created_at"] + [f"g-{i},0{1 + i % 9}-0{1 + i % 8}-2026" for i in range(1200)]
        lines.append("g-last,11-26-2026")
        result = read_file(io.BytesIO("\n".join(lines).encode()))
        rows, problems = collect(result)
        assert problems == [] and len(rows) == 1201
        assert rows[0].lead.created_at == datetime(2026, 1, 1, tzinfo=AMS)
        assert rows[1].lead.created_at == datetime(2026, 2, 2, tzinfo=AMS)
        assert rows[-1].lead.created_at == datetime(2026, 11, 26, tzinfo=AMS)
        assert any("row 1202 settles it" in n for n in result.notes)

    def test_the_values_overrule_a_wrong_answer(self):
        data = b"external_id,created_at\ng-1,26/11/2026\ng-2,03/04/2026\n"
        result = read_file(io.BytesIO(data), dayfirst=False)
        rows, problems = collect(result)
        assert result.date_formats["created_at"] == "day-month-year" and problems == []
        assert any("answer was not used" in note for note in result.notes)
        assert [r.lead.created_at.date() for r in rows] == [date(2026, 11, 26), date(2026, 4, 3)]

    def test_a_file_with_both_orders_asks_and_the_misfits_become_problems(self):
        data = b"external_id,created_at\ng-1,26/11/2026\ng-2,03/04/2026\ng-3,11/26/2026\n"
        with pytest.raises(AmbiguousDates) as info:
            read_file(io.BytesIO(data))
        assert info.value.examples == ("26/11/2026", "11/26/2026", "03/04/2026")
        rows, problems = collect(read_file(io.BytesIO(data), dayfirst=True))
        assert [r.lead.created_at.date() for r in rows] == [date(2026, 11, 26), date(2026, 4, 3)]
        assert [(p.row, p.column) for p in problems] == [(4, "created_at")]
        assert "read as dd-mm-yyyy" in problems[0].reason

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2026-11-26T14:05:00.000Z", datetime(2026, 11, 26, 14, 5, tzinfo=UTC)),
            ("2026-11-26T14:05:00+01:00", datetime(2026, 11, 26, 13, 5, tzinfo=UTC)),
            ("2026-11-26", datetime(2026, 11, 26, tzinfo=AMS)),
            ("2026-11-26 14:05", datetime(2026, 11, 26, 14, 5, tzinfo=AMS)),
            ("26-11-2026", datetime(2026, 11, 26, tzinfo=AMS)),
            ("26/11/2026, 14:05", datetime(2026, 11, 26, 14, 5, tzinfo=AMS)),
            ("6-1-2026 9:05", datetime(2026, 1, 6, 9, 5, tzinfo=AMS)),
            ("2026/11/26 14:05", datetime(2026, 11, 26, 14, 5, tzinfo=AMS)),
        ],
    )
    def test_day_first_forms(self, text, expected):
        data = f"external_id,created_at\nx,{text!r}\ny,13-01-2026\n".replace("'", '"').encode()
        rows, problems = collect(read_file(io.BytesIO(data)))
        assert problems == [] and rows[0].lead.created_at == expected

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("11/26/2026 2:05 PM", datetime(2026, 11, 26, 14, 5, tzinfo=AMS)),
            ("11/26/2026 12:30 AM", datetime(2026, 11, 26, 0, 30, tzinfo=AMS)),
            ("11/26/2026 12:30 PM", datetime(2026, 11, 26, 12, 30, tzinfo=AMS)),
            ("1/2/2026", datetime(2026, 1, 2, tzinfo=AMS)),
        ],
    )
    def test_month_first_forms(self, text, expected):
        data = f'external_id,created_at\nx,"{text}"\ny,01/13/2026\n'.encode()
        rows, problems = collect(read_file(io.BytesIO(data)))
        assert problems == [] and rows[0].lead.created_at == expected

    def test_dst_rule_for_naive_local_times(self):
        data = b"external_id,created_at\ngap,2026-03-29 02:30\ntwice,2026-10-25 02:30\n"
        rows, _ = collect(read_file(io.BytesIO(data)))
        gap, twice = (r.lead.created_at for r in rows)
        assert gap.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST: moved by the gap
        assert twice.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # first 02:30 (CEST)

    def test_timezone_parameter(self):
        data = b"external_id,created_at\nx,2026-11-26 14:05\n"
        rows, _ = collect(read_file(io.BytesIO(data), tz="America/New_York"))
        assert rows[0].lead.created_at.astimezone(UTC) == datetime(2026, 11, 26, 19, 5, tzinfo=UTC)
        with pytest.raises(ValueError, match="timezone 'Mars/Olympus' is unknown"):
            read_file(io.BytesIO(data), tz="Mars/Olympus")

    def test_explicit_format_in_a_mapping(self):
        mapping = Mapping(
            source="crm",
            columns=(("Nr", "external_id"), ("Datum", "created_at")),
            date_formats=(("Datum", "%d.%m.%y %H.%M"),),
        )
        data = b"Nr;Datum\n7;26.11.26 14.05\n8;26-11-2026\n"
        rows, problems = collect(read_file(io.BytesIO(data), mapping=mapping))
        assert rows[0].lead.created_at == datetime(2026, 11, 26, 14, 5, tzinfo=AMS)
        assert problems[0].reason == "'26-11-2026' does not match the date format '%d.%m.%y %H.%M'"


# --- encodings and delimiters ----------------------------------------------------------------------------

HEADER_TEXT = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789_-/", min_size=1, max_size=12
).filter(lambda s: s.strip() != "")
# letters that exist in windows-1252; as cp1252 bytes they are never valid utf-8 (no continuation bytes)
CELL_TEXT = st.text(alphabet="abcXYZ 019,;\t\"'\n.-éëöüçñàïÉÖßøå", max_size=15)


@st.composite
def tables(draw):
    width = draw(st.integers(min_value=2, max_value=6))
    header = draw(st.lists(HEADER_TEXT, min_size=width, max_size=width))
    body = draw(st.lists(st.lists(CELL_TEXT, min_size=width, max_size=width), min_size=1, max_size=8))
    body = [row for row in body if any(cell.strip() for cell in row)] or [["x"] * width]
    return [header, *body]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    table=tables(),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    terminator=st.sampled_from(["\r\n", "\n"]),
)
def test_any_table_in_any_delimiter_and_encoding_reads_back_equal(table, delimiter, encoding, terminator):
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator=terminator).writerows(table)
    data = buf.getvalue().encode(encoding)
    read, close = open_table(io.BytesIO(data))
    try:
        assert read.delimiter == delimiter
        has_non_ascii = any(ord(ch) > 127 for row in table for cell in row for ch in cell)
        expected_encoding = {
            "utf-8-sig": "utf-8-sig",
            "utf-8": "utf-8",
            "cp1252": "windows-1252" if has_non_ascii else "utf-8",
        }[encoding]
        assert read.encoding == expected_encoding
        assert [cells for _, cells in read.rows()] == table
    finally:
        close()


def test_euro_sign_in_windows_1252():
    data = "Deal - ID;Deal - Value;Deal - Currency;Deal - Deal created;Deal - Owner\n"
    data += "9;€ 1.250,00;EUR;2026-11-26 10:00;Émile\n"
    rows, problems = collect(read_file(io.BytesIO(data.encode("cp1252"))))
    assert problems == []
    assert rows[0].events[1].amount == Decimal("1250.00") and rows[0].lead.sales_owner == "Émile"


def test_utf16_is_refused_with_advice():
    with pytest.raises(UnreadableFile, match="utf-16"):
        read_file(io.BytesIO("Record ID,Email\n".encode("utf-16")))


# --- XLSX ------------------------------------------------------------------------------------------------


def test_xlsx_with_title_rows_datetime_cells_and_serial_numbers(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Contacts"
    ws.append(["Contacts export"])
    ws.append([])
    ws.append(
        ["Record ID", "First Name", "Last Name", "HubSpot Score", "Create Date", "Became a Customer Date",
         "Recent Deal Amount"]
    )  # fmt: skip
    ws.append([40112.0, "Sanne", "de Vries", 72.0, datetime(2026, 9, 1, 9, 14), 46315.5, 14500])
    ws.append([40113, "Pieter", "Janssens", None, "2026-10-05 13:40", None, None])
    ws.append([None, "Geen", "Id", 10, datetime(2026, 10, 6), None, None])
    path = tmp_path / "contacts.xlsx"
    wb.save(path)
    result = read_file(path)
    assert (result.format, result.encoding, result.preset, result.header_row) == ("xlsx", None, "hubspot", 3)
    rows, problems = collect(result)
    assert [(p.row, p.column) for p in problems] == [(6, "Record ID")]
    sanne, pieter = rows
    assert (sanne.row, sanne.lead.external_id, sanne.lead.fields.score) == (4, "40112", 72)
    assert sanne.lead.created_at == datetime(2026, 9, 1, 9, 14, tzinfo=AMS)
    won = sanne.events[-1]
    assert won.kind == "won" and won.occurred_at == datetime(
        2026, 10, 20, 12, 0, tzinfo=AMS
    )  # serial 46315.5
    assert won.amount == Decimal("14500")
    assert pieter.lead.created_at == datetime(2026, 10, 5, 13, 40, tzinfo=AMS)


# --- mappings ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_round_trips_through_json(name):
    preset = PRESETS[name]
    assert Mapping.from_json(preset.to_json()) == preset


def test_a_saved_mapping_reads_the_users_own_layout():
    mapping = Mapping.from_json(
        """{"name": "beurs 2026", "source": "events",
            "columns": {"Bezoeker": "external_id", "Naam": "name", "Organisatie": "company",
                        "Land": "country", "Toestemming": "consent", "Interesse": "extra.interest"},
            "events": [{"kind": "handed_over", "at": "Overgedragen op", "actor": "Verkoper"}],
            "dayfirst": true}"""
    )
    data = "Bezoeker;Naam;Organisatie;Land;Toestemming;Interesse;Overgedragen op;Verkoper;Stand\n"
    data += "B-1;Anna de Groot;Acme;België;ja;SLA;03-04-2026 10:00;Jeroen;12\n"
    rows, problems = collect(read_file(io.BytesIO(data.encode()), mapping=mapping))
    assert problems == []
    lead = rows[0].lead
    assert (lead.source, lead.fields.country, lead.fields.consent) == ("events", "BE", True)
    assert lead.fields.extra == {"interest": "SLA", "Stand": "12"}
    assert lead.created_at is None
    (handed,) = rows[0].events
    assert (handed.kind, handed.actor, handed.occurred_at) == (
        "handed_over", "Jeroen", datetime(2026, 4, 3, 10, tzinfo=AMS),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"source": "x", "columns": {"A": "email"}}', "no column maps to external_id"),
        ('{"source": "x", "columns": {"A": "external_id", "B": "shoe_size"}}', "unknown target 'shoe_size'"),
        (
            '{"source": "x", "columns": {"A": "external_id"}, "timezone": "Europe/Atlantis"}',
            "unknown timezone",
        ),
        ('{"source": "x", "columns": {"A": "external_id"}, "events": [{"kind": "won"}]}', "'at' must name"),
        (
            '{"source": "x", "columns": {"A": "external_id"}, "events": [{"kind": "wow", "at": "B"}]}',
            "not an event kind",
        ),
        ('{"source": "x", "columns": {"A": "external_id"}, "colour": "red"}', "unknown key 'colour'"),
        ("{not json", "not valid json"),
    ],
)
def test_bad_mappings_say_what_is_wrong(text, message):
    with pytest.raises(MappingError, match=message):
        Mapping.from_json(text)


def test_mapping_without_its_id_column_in_the_file():
    mapping = Mapping(source="x", columns=(("Klantnummer", "external_id"),))
    with pytest.raises(UnreadableFile, match="no header row with an id column \\('Klantnummer'\\)"):
        read_file(io.BytesIO(b"Naam,Email\nAnna,a@b.c\n"), mapping=mapping)


def test_an_unknown_export_asks_for_a_preset_or_mapping():
    with pytest.raises(UnreadableFile, match="not recognised"):
        read_file(io.BytesIO(b"Naam,Email\nAnna,a@b.c\n"))
    with pytest.raises(UnreadableFile, match="empty"):
        read_file(io.BytesIO(b""))
    with pytest.raises(ValueError, match="not both"):
        read_file(io.BytesIO(b"a"), mapping=PRESETS["generic"], preset="generic")


def test_event_rule_json_keeps_every_setting():
    rule = EventRule(
        kind="lost", at=("A", "B"), when_column=("S",), when_values=("lost",), amount=("V",), currency=("C",),
        reason=("R",), actor=("O",), value=("X",), code=("K",), reason_code="other", channel="phone",
        human=False, note="n",
    )  # fmt: skip
    assert EventRule.from_dict(rule.to_dict()) == rule


# --- streams and fingerprints ----------------------------------------------------------------------------


class _Pipe(io.RawIOBase):
    """A non-seekable byte stream, like a request body."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b):  # type: ignore[no-untyped-def]
        chunk = self._data.read(len(b))
        b[: len(chunk)] = chunk
        return len(chunk)


def test_a_non_seekable_stream_is_read():
    data = (SAMPLES / "hubspot_internal.csv").read_bytes()
    rows, problems = collect(read_file(_Pipe(data)))
    assert len(rows) == 3 and problems == []


def test_file_fingerprint(tmp_path):
    path = SAMPLES / "hubspot_labels.csv"
    copy = tmp_path / "again.csv"
    copy.write_bytes(path.read_bytes())
    assert file_fingerprint(path) == file_fingerprint(copy) == file_fingerprint(io.BytesIO(path.read_bytes()))
    copy.write_bytes(path.read_bytes() + b"\n")
    assert file_fingerprint(path) != file_fingerprint(copy)
    stream = io.BytesIO(b"abc")
    file_fingerprint(stream)
    assert stream.read() == b"abc", "the stream is rewound"


def test_a_result_iterates_once_and_closes(tmp_path):
    with read_file(SAMPLES / "hubspot_labels.csv") as result:
        assert len(list(result)) == 4
        with pytest.raises(RuntimeError, match="once"):
            iter(result)


def test_idempotency_keys_equal_when_the_same_file_is_read_again():
    first = [
        e.idempotency_key for r in collect(read_file(SAMPLES / "hubspot_labels.csv"))[0] for e in r.events
    ]
    again = [
        e.idempotency_key for r in collect(read_file(SAMPLES / "hubspot_labels.csv"))[0] for e in r.events
    ]
    assert first == again and len(set(first)) == len(first)


def test_offsets_in_the_file_are_kept():
    data = b"external_id,created_at\nx,2026-11-26T14:05:00-05:00\n"
    rows, _ = collect(read_file(io.BytesIO(data)))
    assert rows[0].lead.created_at.utcoffset() == timedelta(hours=-5)
    assert rows[0].lead.created_at == datetime(2026, 11, 26, 14, 5, tzinfo=timezone(timedelta(hours=-5)))


def test_rows_come_one_at_a_time():
    lines = ["external_id,name,created_at"] + [f"g-{i},Lead {i},2026-11-26 10:00" for i in range(5000)]
    result = read_file(io.BytesIO("\n".join(lines).encode()))
    stream = iter(result)
    first = next(stream)
    assert isinstance(first, ImportedRow) and first.row == 2
    assert result.rows_read == 1, "the reader does not run ahead of the caller"
    assert sum(1 for _ in stream) == 4999
    assert result.rows_taken == 5000


def test_unmapped_columns_can_be_dropped():
    mapping = Mapping(source="x", columns=(("Nr", "external_id"),), keep_unmapped="drop")
    rows, _ = collect(read_file(io.BytesIO(b"Nr,Kleur\n1,blauw\n"), mapping=mapping))
    assert rows[0].lead.fields.extra == {}
    rows, _ = collect(
        read_file(io.BytesIO(b"Nr,Kleur\n1,blauw\n"), mapping=mapping.replace(keep_unmapped="keep"))
    )
    assert rows[0].lead.fields.extra == {"Kleur": "blauw"}


def test_connectors_import_no_django():
    code = (
        "import json, sys, leadpact.connectors, leadpact.connectors.webhooks, leadpact.connectors.presets\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True).stdout)
    assert [m for m in loaded if m.split(".")[0] == "django"] == []
    # the pure core is allowed (the event kinds live there); the Django apps are not
    allowed = ("leadpact.connectors", "leadpact.core")
    assert [m for m in loaded if m.startswith("leadpact.") and not m.startswith(allowed)] == []


def test_an_unclosed_quote_ends_the_stream_with_a_clear_error():
    data = b'external_id,name\ng-1,Anna\ng-2,"Bas\n' + b"x" * 200_000 + b"\ng-3,Cas\n"
    stream = iter(read_file(io.BytesIO(data)))
    assert next(stream).lead.external_id == "g-1"
    with pytest.raises(UnreadableFile, match=r"row 3: the file cannot be read on .*an unclosed quote"):
        next(stream)
