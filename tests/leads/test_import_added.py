"""An import says what it added: new leads and new events, counted as stored — so a file whose facts are
all known (the same export saved again, in another order) reads as "added nothing"."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from leadpact.leads.imports import lead_import
from leadpact.leads.models import ImportJob, Lead, LeadEvent

pytestmark = pytest.mark.django_db

HEADER = (
    "Record ID,First Name,Last Name,Email,Create Date,Became a Marketing Qualified Lead Date,Contact owner"
)
ROWS = [
    "101,Anna,Alpha,anna@a.nl,2026-10-05 09:00,2026-10-05 09:30,Julia Bos",
    "102,Bert,Beta,bert@b.nl,2026-10-05 10:00,,",
    "103,Cor,Gamma,cor@c.nl,2026-10-06 11:00,2026-10-06 11:15,Nobody Known",
]


def _file(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_a_file_counts_what_it_added_and_the_same_facts_again_add_nothing(demo, tmp_path):
    org = demo.agreement.organization
    first = lead_import(organization=org, path=_file(tmp_path, "a.csv", ROWS), preset="hubspot").job
    assert (first.rows_imported, first.leads_added) == (3, 3)
    assert first.events_added == LeadEvent.objects.filter(lead__organization=org).count() == 5
    again = lead_import(organization=org, path=_file(tmp_path, "b.csv", ROWS[::-1]), preset="hubspot").job
    assert again.pk != first.pk and again.rows_imported == 3
    assert (again.leads_added, again.events_added) == (0, 0)
    more = [*ROWS, "104,Dirk,Delta,dirk@d.nl,2026-10-07 12:00,2026-10-07 12:05,"]
    third = lead_import(organization=org, path=_file(tmp_path, "c.csv", more), preset="hubspot").job
    assert (third.leads_added, third.events_added) == (1, 2)
    assert Lead.objects.filter(organization=org).count() == 4


def test_the_command_line_and_the_job_page_say_what_was_new(demo, tmp_path):
    from tests.conftest import member_client
    from tests.measurement.scene import person

    org = demo.agreement.organization
    out = io.StringIO()
    call_command("import", str(_file(tmp_path, "a.csv", ROWS)), "--preset", "hubspot", stdout=out)
    assert "new: 3 leads, 5 events" in out.getvalue()
    call_command("import", str(_file(tmp_path, "b.csv", ROWS[::-1])), "--preset", "hubspot", stdout=out)
    assert "new: 0 leads, 0 events" in out.getvalue()
    reader = member_client(org, username="julia", person=person("julia"))
    job = ImportJob.objects.get(organization=org, file_name="b.csv")
    page = reader.get(f"/data/imports/{job.pk}/").content.decode()
    assert "the import added nothing" in page
    history = reader.get("/data/").content.decode()
    assert "New leads" in history and "New events" in history
