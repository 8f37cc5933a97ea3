"""In Chromium: an organisation admin imports a CSV of leads with a mapping, in English and in Dutch."""

from __future__ import annotations

import pytest

from leadpact.demo.services import demo_load
from leadpact.leads.models import ImportJob, Lead, LeadEvent, SavedMapping
from leadpact.web.management.commands.start import ensure_first_user
from tests.browser import chromium_page
from tests.web.test_browser import sign_in

SHEET = (
    "Lead number,Full name,Mail,Handed over,Notes\n"
    "A-1,Anna Alpha,anna@example.nl,2026-10-05 10:00,warm\n"
    "A-2,Bram Beta,bram@example.nl,2026-10-06 11:30,\n"
)
DUTCH = (
    "Lead number,Full name,Mail,Handed over,Notes\n"
    "A-2,Bram Beta,bram@example.nl,2026-10-06 11:30,\n"
    "A-3,Cas Gamma,cas@example.nl,2026-10-07 09:15,beurs\n"
)


def _upload(page, path):
    page.set_input_files("input[type=file]", str(path))
    page.click("form.upload [type=submit]")
    page.wait_for_selector("table.mapping-table")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_admin_imports_a_csv_with_a_mapping_in_english_and_dutch(live_server, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    demo_load(with_leads=False)
    name, password = ensure_first_user()
    first, second = tmp_path / "leads.csv", tmp_path / "leads-oktober.csv"
    first.write_text(SHEET, encoding="utf-8")
    second.write_text(DUTCH, encoding="utf-8")
    with chromium_page() as page:
        sign_in(page, live_server.url, name, password, "/data/")
        page.click("nav >> text=Data")
        _upload(page, first)
        assert "Map the columns of leads.csv" in page.content()
        # every column with its first values; nothing known: each is kept as an extra field until mapped
        assert page.locator("table.mapping-table tbody tr").count() == 5
        for column, becomes in (
            ("Lead number", "external_id"),
            ("Full name", "name"),
            ("Mail", "email"),
            ("Handed over", "event:handed_over"),
        ):
            page.get_by_label(column, exact=True).select_option(becomes)
        page.fill("#id_source", "sheet")
        page.fill("#id_save_as", "our-sheet")
        page.click("text=Import the leads")
        page.wait_for_selector("text=Import of leads.csv")
        assert "completed" in page.locator(".page-head").inner_text()
        facts = page.locator("dl.facts").inner_text()
        assert "Rows imported\n2" in facts.replace("\t", "\n")
        assert "No problems: every row was taken." in page.content()

        page.select_option("select[name=language]", "nl")
        page.wait_for_selector("text=Eerdere imports")
        page.goto(f"{live_server.url}/data/")
        _upload(page, second)
        assert "Koppel de kolommen van leads-oktober.csv" in page.content()
        # the saved mapping is suggested, every column as it was saved
        assert page.locator("select[name=base]").input_value() == "saved:our-sheet"
        assert page.get_by_label("Mail", exact=True).input_value() == "email"
        page.click("text=Importeer de leads")
        page.wait_for_selector("text=Import van leads-oktober.csv")
        assert "voltooid" in page.locator(".page-head").inner_text()
        page.click("text=Terug naar de eerdere imports")
        history = page.locator("table").inner_text()
        assert "leads.csv" in history and "leads-oktober.csv" in history

    assert sorted(Lead.objects.values_list("email", flat=True)) == [
        "anna@example.nl",
        "bram@example.nl",
        "cas@example.nl",
    ]
    assert LeadEvent.objects.filter(kind="handed_over").count() == 3
    assert ImportJob.objects.filter(status="completed").count() == 2
    assert SavedMapping.objects.filter(name="our-sheet").exists()
