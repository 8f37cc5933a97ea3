"""The Data pages: upload a file, map its columns, import it (again: nothing twice), its problems as CSV,
the history; who may do what."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leadpact.leads.models import ImportJob, Lead, LeadEvent, LeadSource, SavedMapping
from leadpact.organization.models import Membership, Organization
from leadpact.web.data_mapping import column_choices
from tests.conftest import member_client

pytestmark = pytest.mark.django_db

SHEET = (
    "Lead number;Full name;Mail;Handed over;Notes\n"
    "A-1;Anna Alpha;anna@example.nl;2026-10-05 10:00;warm\n"
    "A-2;Bram Beta;bram@example.nl;2026-10-06 11:30;\n"
    "A-3;Cas Gamma;cas@example.nl;;from the fair\n"
)
CHOICES = ["external_id", "name", "email", "event:handed_over", "extra"]


@pytest.fixture
def org(demo):
    return demo.agreement.organization


@pytest.fixture
def admin(org):
    return member_client(org, role=Membership.Role.ADMIN, username="ops")


def _upload(client, text: str, name: str = "leads.csv"):
    response = client.post("/data/", {"file": SimpleUploadedFile(name, text.encode(), "text/csv")})
    assert response.status_code == 302, response.content.decode()[:500]
    return response["Location"]


def _map(client, location: str, choices, **extra):
    data = {f"col_{i}": c for i, c in enumerate(choices)}
    data.update({"source": "sheet", "dayfirst": "", "save_as": "", "import": "1", "base": "none"})
    data.update(extra)
    return client.post(location, data)


def test_an_upload_shows_every_column_with_values_and_what_it_becomes(admin):
    location = _upload(admin, SHEET)
    html = admin.get(location + "?base=none").content.decode()
    for header in ("Lead number", "Full name", "Mail", "Handed over", "Notes"):
        assert header in html
    assert "anna@example.nl" in html and "from the fair" in html
    assert "header on row 1" in html and "<span>Lead number</span>" not in html  # the header is no value
    assert 'name="col_4"' in html and "kept with the lead as an extra field" in html


def test_a_mapped_upload_imports_the_right_leads_and_a_replay_adds_nothing(admin, org):
    location = _upload(admin, SHEET)
    response = _map(admin, location, CHOICES, save_as="our-sheet")
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.get(organization=org)
    assert response["Location"] == f"/data/imports/{job.pk}/"
    assert (job.status, job.rows_read, job.rows_imported, job.problems_count) == ("completed", 3, 3, 0)
    leads = {lead.email: lead for lead in Lead.objects.filter(organization=org)}
    assert set(leads) == {"anna@example.nl", "bram@example.nl", "cas@example.nl"}
    assert leads["anna@example.nl"].name == "Anna Alpha"
    assert leads["anna@example.nl"].extra == {"Notes": "warm"}
    assert set(LeadSource.objects.filter(organization=org).values_list("source", "external_id")) == {
        ("sheet", "A-1"),
        ("sheet", "A-2"),
        ("sheet", "A-3"),
    }
    handed = LeadEvent.objects.filter(organization=org, kind="handed_over")
    assert sorted(handed.values_list("lead__email", flat=True)) == ["anna@example.nl", "bram@example.nl"]
    saved = SavedMapping.objects.get(organization=org, name="our-sheet")
    assert ["Lead number", "external_id"] in saved.mapping["columns"]

    events_before = LeadEvent.objects.filter(organization=org).count()
    # the same file again: the saved mapping is suggested with every column as before, nothing is added
    again = _upload(admin, SHEET)
    page = admin.get(again).content.decode()
    assert re.search(r'<option value="saved:our-sheet" selected', page)
    replay = _map(admin, again, CHOICES, base="saved:our-sheet")
    assert replay["Location"] == f"/data/imports/{job.pk}/"
    assert "was imported before" in admin.get(replay["Location"]).content.decode()
    assert Lead.objects.filter(organization=org).count() == 3
    assert LeadEvent.objects.filter(organization=org).count() == events_before
    # a later export with one more row and the same rows again: one lead more, none twice
    later = _upload(admin, SHEET + "A-4;Dirk Delta;dirk@example.nl;2026-10-07 09:00;\n", "leads-2.csv")
    assert _map(admin, later, CHOICES, base="saved:our-sheet").status_code == 302
    assert Lead.objects.filter(organization=org).count() == 4
    assert LeadEvent.objects.filter(organization=org, kind="handed_over").count() == 3
    history = admin.get("/data/").content.decode()
    assert "leads.csv" in history and "leads-2.csv" in history


def test_the_problem_report_downloads_with_formula_cells_neutralised(admin, org):
    text = 'id,name,=HYPERLINK("http://x")\nB-1,Ok,2026-10-05\nB-2,Bad,31-02-2026\n'
    location = _upload(admin, text, "bad.csv")
    response = _map(admin, location, ["external_id", "name", "event:handed_over"], dayfirst="day")
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.get(organization=org)
    assert job.problems_count == 1
    page = admin.get(f"/data/imports/{job.pk}/").content.decode()
    assert "Download the problems (CSV)" in page
    download = admin.get(f"/data/imports/{job.pk}/problems.csv")
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["row", "column", "reason"]
    assert rows[1][0] == "3"
    assert rows[1][1] == '\'=HYPERLINK("http://x")'  # a spreadsheet shows it, never runs it
    assert "31-02-2026" in rows[1][2]
    progress = admin.get(f"/data/imports/{job.pk}/progress/").json()
    assert progress == {
        "status": "completed",
        "done": True,
        "rows_read": 2,
        "rows_imported": 1,
        "leads_added": 1,
        "events_added": 1,  # the handoff of B-1; the bad row added nothing
        "problems": 1,
        "total": None,
        "percent": 100,
    }


def test_a_mapping_without_an_id_or_with_two_columns_for_one_field_is_refused_on_the_field(admin, org):
    location = _upload(admin, SHEET)
    response = _map(admin, location, ["name", "name", "email", "extra", "extra"])
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose the column that holds the lead&#x27;s id in the CRM." in html
    assert "“Lead number” already becomes name" in html
    assert not Lead.objects.filter(organization=org).exists()


def test_ambiguous_dates_ask_which_comes_first_and_write_nothing(admin, org):
    text = "id,name,when\nC-1,A,03/04/2026\nC-2,B,05/06/2026\n"
    location = _upload(admin, text, "dates.csv")
    response = _map(admin, location, ["external_id", "name", "event:handed_over"])
    assert response.status_code == 400
    assert "read both ways" in response.content.decode()
    assert not ImportJob.objects.exists()
    ok = _map(admin, location, ["external_id", "name", "event:handed_over"], dayfirst="day")
    assert ok.status_code == 302
    event = LeadEvent.objects.get(organization=org, kind="handed_over", lead__name="A")
    assert (event.occurred_at.month, event.occurred_at.day) in ((4, 3), (4, 2))  # 3 April, local midnight


def test_a_preset_is_suggested_from_the_header(admin):
    header = (
        "Record ID,First Name,Last Name,Email,Contact owner,Create Date\n1,A,B,a@b.nl,,2026-10-01 10:00\n"
    )
    location = _upload(admin, header, "hubspot.csv")
    page = admin.get(location).content.decode()
    assert re.search(r'<option value="preset:hubspot" selected', page)
    assert re.search(r'<option value="external_id" selected', page)


def test_a_wrong_file_is_refused_on_the_field(admin):
    response = admin.post("/data/", {"file": SimpleUploadedFile("leads.pdf", b"%PDF", "application/pdf")})
    assert response.status_code == 400
    assert "leads.pdf is not a CSV or XLSX file." in response.content.decode()


@pytest.mark.parametrize("role", [Membership.Role.MEMBER, Membership.Role.VIEWER])
def test_members_and_viewers_read_the_history_but_cannot_upload(org, admin, role):
    location = _upload(admin, SHEET)
    client = member_client(org, role=role, username=f"u-{role}")
    page = client.get("/data/")
    assert page.status_code == 200 and 'type="file"' not in page.content.decode()
    refused = client.post("/data/", {"file": SimpleUploadedFile("x.csv", SHEET.encode(), "text/csv")})
    assert refused.status_code == 403
    assert client.get(location).status_code == 403
    assert _map(client, location, CHOICES).status_code == 403
    assert not Lead.objects.exists()


def test_another_organisations_upload_and_import_are_not_found(org, admin):
    location = _upload(admin, SHEET)
    _map(admin, _upload(admin, SHEET.replace("A-", "Z-"), "z.csv"), CHOICES)
    job = ImportJob.objects.get()
    other = Organization.objects.create(key="other", name="Other B.V.")
    outsider = member_client(other, role=Membership.Role.ADMIN, username="outsider")
    assert outsider.get(location).status_code == 404
    for url in (
        f"/data/imports/{job.pk}/",
        f"/data/imports/{job.pk}/progress/",
        f"/data/imports/{job.pk}/problems.csv",
    ):
        assert outsider.get(url).status_code == 404
    assert "z.csv" not in outsider.get("/data/").content.decode()


def test_column_choices_read_a_preset_as_it_is():
    from leadpact.connectors.presets import get_preset

    header = ("Record ID", "Email", "Became a Marketing Qualified Lead Date", "Recent Deal Amount", "Mystery")
    assert column_choices(get_preset("hubspot"), header) == [
        "external_id",
        "email",
        "event:handed_over",
        column_choices(get_preset("hubspot"), header)[3],
        "extra",
    ]
    assert column_choices(get_preset("hubspot"), header)[3].startswith("rule:")


@pytest.mark.django_db(transaction=True)
def test_a_big_file_imports_in_the_background_and_its_progress_is_polled(monkeypatch):
    import time

    from leadpact.demo.services import demo_load
    from leadpact.web.views import data

    demo_load(with_leads=False)
    org = Organization.objects.get()
    admin = member_client(org, role=Membership.Role.ADMIN, username="ops")
    monkeypatch.setattr(data, "INLINE_BYTES", 0)  # every file counts as big
    rows = "".join(f"B-{i};Name {i};b{i}@example.nl;2026-10-05 10:00;\n" for i in range(300))
    location = _upload(admin, SHEET.split("\n", 1)[0] + "\n" + rows, "big.csv")
    response = _map(admin, location, CHOICES)
    assert response.status_code == 302
    job = ImportJob.objects.get(organization=org)
    assert response["Location"] == f"/data/imports/{job.pk}/"
    deadline = time.monotonic() + 60
    while True:
        progress = admin.get(f"/data/imports/{job.pk}/progress/").json()
        if progress["done"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert progress["status"] == "completed" and progress["total"] == 300
    assert progress["rows_imported"] == 300 and progress["percent"] == 100
    assert Lead.objects.filter(organization=org).count() == 300
    # the same file again: straight to the import that took it, nothing added
    replay = _map(admin, _upload(admin, SHEET.split("\n", 1)[0] + "\n" + rows, "big.csv"), CHOICES)
    assert replay["Location"] == f"/data/imports/{job.pk}/"
    assert "was imported before" in admin.get(replay["Location"]).content.decode()
    assert ImportJob.objects.count() == 1 and Lead.objects.filter(organization=org).count() == 300


def test_an_xlsx_export_is_previewed_and_imported(admin, org):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Lead number", "Full name", "Mail", "Handed over", "Notes"])
    sheet.append(["X-1", "Xena Xlsx", "xena@example.nl", dt.datetime(2026, 10, 5, 10, 0), "x"])
    out = io.BytesIO()
    book.save(out)
    upload = SimpleUploadedFile("leads.xlsx", out.getvalue(), "application/octet-stream")
    location = admin.post("/data/", {"file": upload})["Location"]
    page = admin.get(location).content.decode()
    assert "xena@example.nl" in page and "2026-10-05 10:00" in page
    assert _map(admin, location, CHOICES).status_code == 302
    lead = Lead.objects.get(organization=org, email="xena@example.nl")
    assert lead.events.filter(kind="handed_over").exists()


def test_an_upload_left_at_the_mapping_step_is_removed_a_day_later(admin, org, settings):
    import os
    import time
    from pathlib import Path

    location = _upload(admin, SHEET)
    token = location.rstrip("/").rsplit("/", 1)[1]
    folder = Path(settings.DATA_DIR) / "uploads" / str(org.pk)
    staged = folder / f"{token}.csv"
    old = time.time() - 25 * 3600
    os.utime(staged, (old, old))
    _upload(admin, SHEET, "next.csv")
    assert not staged.exists()
    assert admin.get(location).status_code == 404


SAMPLES = Path(__file__).resolve().parents[1] / "connectors" / "samples"


@pytest.mark.parametrize(
    "sample",
    ["hubspot_labels.csv", "hubspot_internal.csv", "salesforce_report.csv", "salesforce_bulk.csv",
     "pipedrive_deals.csv", "pipedrive_leads.csv"],
)  # fmt: skip
def test_every_column_left_as_suggested_reads_the_export_exactly_as_its_preset(sample):
    from leadpact.connectors import read_file
    from leadpact.web.data_mapping import mapping_from_choices

    def records(result):
        return [(r.row, r.lead, r.events) if hasattr(r, "lead") else r for r in result]

    with read_file(SAMPLES / sample, dayfirst=True) as by_preset:
        preset, header, expected = by_preset.mapping, by_preset.header, records(by_preset)
    mapping = mapping_from_choices(preset, header, column_choices(preset, header), source=preset.source)
    with read_file(SAMPLES / sample, mapping=mapping, dayfirst=True) as by_choices:
        assert records(by_choices) == expected
    assert expected


def test_a_changed_column_drops_its_preset_use_and_takes_the_new_one():
    from leadpact.connectors.presets import get_preset
    from leadpact.web.data_mapping import mapping_from_choices

    base = get_preset("hubspot")
    header = ("Record ID", "Email", "Became a Customer Date", "Recent Deal Amount", "Lead Source Detail")
    choices = column_choices(base, header)
    assert choices[2] == "event:won" and choices[3].startswith("rule:")
    changed = ["external_id", "email", "event:won", "ignore", "campaign"]
    mapping = mapping_from_choices(base, header, changed, source="hubspot")
    won = next(rule for rule in mapping.events if rule.kind == "won")
    assert "Recent Deal Amount" not in won.amount  # its amount column is now ignored
    assert ("Recent Deal Amount", "ignore") in mapping.columns
    assert ("Lead Source Detail", "campaign") in mapping.columns[:2]  # before the preset's own columns


def test_times_without_a_zone_are_the_organisations_local_time(admin, org):
    org.timezone = "America/New_York"
    org.save(update_fields=["timezone"])
    location = _upload(admin, SHEET)
    assert "read as America/New_York time" in admin.get(location).content.decode()
    assert _map(admin, location, CHOICES).status_code == 302
    event = LeadEvent.objects.get(organization=org, kind="handed_over", lead__email="anna@example.nl")
    assert event.occurred_at == dt.datetime(2026, 10, 5, 14, 0, tzinfo=dt.UTC)  # 10:00 EDT
