"""The scorecard pages: tiles that say in words where each commitment stands, a commitment with its
charts and rows, the leads behind a figure with their facts, exports that open safely, the lead page."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from leadpact.agreements.services import agreement_version_document
from leadpact.organization.models import Team
from tests.conftest import member_client
from tests.measurement.scene import add_lead, local, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(demo):
    org = demo.agreement.organization
    leads = []
    for i in range(55):  # more than a page of evidence
        leads.append(
            add_lead(
                org,
                f"l{i}",
                name=f"Lead {i:02d}",
                campaign="spring" if i % 2 else "autumn",
                events=[("handed_over", local(2026, 10, 1 + i % 28, 10), {})],
            )
        )
    add_lead(
        org,
        "evil",
        name='=HYPERLINK("https://evil.example","click")',
        campaign="spring",
        events=[
            ("handed_over", local(2026, 10, 6, 10), {}),
            ("contact_attempt", local(2026, 10, 8, 10), {"human": True}),
        ],
    )
    return demo, member_client(org)


def test_the_overview_has_a_tile_per_commitment_with_its_status_in_words(scene):
    version, client = scene
    html = client.get("/measure/?period=2026-10").content.decode()
    commitments = agreement_version_document(version).commitments
    assert html.count('class="tile ') == len(commitments) == 11
    # the volume tile: actual of target, in words, linking to its page
    tile = html.split('id="mql-volume"')[1].split("</a>")[0]
    assert "/measure/mql-volume/?period=2026-10" in html
    assert re.search(r"56 of 1,039\.", tile), tile
    assert "commitments off track" in html or "commitment off track" in html
    assert "Marketing commits" in html and "Sales commits" in html


def test_a_month_before_the_agreement_is_not_in_force_not_met(scene):
    _version, client = scene
    html = client.get("/measure/?period=2025-11").content.decode()
    assert "not in force" in html and "· met" not in html
    assert "The agreement is not in force in this period." in html


def test_the_commitment_page_draws_pacing_and_trend_with_the_numbers_beside(scene):
    _version, client = scene
    response = client.get("/measure/mql-volume/?period=2026-10")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<svg class="chart"') == 2
    assert "<title>Pacing of Marketing hands over" in html
    assert "The numbers" in html and "Daan Bakker" in html
    sanne = person("sanne")
    one = client.get(f"/measure/mql-volume/?period=2026-10&subject=person:{sanne.pk}").content.decode()
    assert "Sanne de Vries" in one.split('class="lede"')[1]
    assert client.get("/measure/no-such/?period=2026-10").status_code == 404
    assert client.get("/measure/mql-volume/?period=2026-10&subject=person:999999").status_code == 404


def test_evidence_pages_through_every_lead_with_no_silent_cut_off(scene):
    _version, client = scene
    marketing = Team.objects.get(key="marketing")
    base = f"/measure/evidence/?commitment=mql-volume&period=2026-10&subject=team:{marketing.pk}"
    first = client.get(base).content.decode()
    assert "56 leads" in first and "Page 1 of 2" in first
    second = client.get(base + "&page=2").content.decode()
    names = set(re.findall(r"Lead \d\d", first)) | set(re.findall(r"Lead \d\d", second))
    assert len(names) == 55  # every lead on one page or the other
    spring = client.get(base + "&campaign=spring").content.decode()
    assert "28 leads" in spring and "Lead 00" not in spring  # even numbers are autumn
    found = client.get(base + "&q=Lead 07").content.decode()
    assert "1 lead" in found and "Lead 07" in found


def test_evidence_exports_every_row_and_neutralises_formulas(scene):
    _version, client = scene
    marketing = Team.objects.get(key="marketing")
    base = f"/measure/evidence/?commitment=mql-volume&period=2026-10&subject=team:{marketing.pk}"
    response = client.get(base + "&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + 56
    names = [r[1] for r in rows[1:]]
    assert '\'=HYPERLINK("https://evil.example","click")' in names
    book = load_workbook(io.BytesIO(client.get(base + "&format=xlsx").content))
    sheet = book.active
    cells = [
        c
        for row in sheet.iter_rows(min_row=2)
        for c in row
        if isinstance(c.value, str) and "HYPERLINK" in c.value
    ]
    assert cells and all(c.data_type == "s" for c in cells)
    assert cells[0].value == '=HYPERLINK("https://evil.example","click")'  # the text as it is, never run
    assert sheet.max_row == 1 + 56


def test_the_lead_page_shows_each_clock_with_its_due_instant_and_the_handoff_check(scene):
    _version, client = scene
    from leadpact.leads.models import Lead

    lead = Lead.objects.get(name__startswith="=HYPERLINK")
    html = client.get(f"/leads/{lead.pk}/").content.decode()
    assert "First human contact attempt on a high-intent MQL within 1 business hour" in html
    assert ("due" in html and "in time" in html) or "too late" in html
    assert "&quot;https://evil.example&quot;" in html  # escaped, not markup
    assert "Data contract" in html and "Timeline" in html


def test_numbers_follow_the_language(scene):
    _version, client = scene
    english = client.get("/measure/?period=2026-10").content.decode()
    assert re.search(r"€[0-9]{1,3}(,[0-9]{3})+", english)
    client.post("/i18n/setlang/", {"language": "nl", "next": "/"})
    dutch = client.get("/measure/?period=2026-10").content.decode()
    assert re.search(r"€\xa0[0-9]{1,3}(\.[0-9]{3})+", dutch)
    assert "Scorekaart" in dutch or "Scorecard" in dutch


def test_the_overview_reads_the_database_a_bounded_number_of_times(scene):
    _version, client = scene
    client.get("/measure/?period=2026-10")  # warm the snapshot
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/measure/?period=2026-10").status_code == 200
    assert len(queries) <= 120, len(queries)
