"""The scorecard, evidence and accountability pages, and the measure CLI in its three formats."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from leadpact.measurement.scorecard.selectors import measure
from leadpact.organization.models import Team
from tests.conftest import member_client
from tests.measurement.scene import add_lead, local, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(demo):
    return member_client(demo.agreement.organization)


@pytest.fixture
def leads(demo):
    org = demo.agreement.organization
    a = add_lead(org, "a", name="Anna Alpha", events=[("handed_over", local(2026, 10, 5, 10), {})])
    b = add_lead(
        org, "b", name="Bert Beta", country="DE", events=[("handed_over", local(2026, 10, 6, 10), {})]
    )
    return a, b


def test_scorecard_links_every_number_to_exactly_its_leads(client, demo, leads):
    a, _ = leads
    html = client.get("/measure/?period=2026-10").content.decode()
    assert "Marketing hands over 1,000 MQLs" in html and 'class="badge' in html
    marketing = Team.objects.get(key="marketing")
    # the tile opens the commitment; each of its rows opens the leads behind that figure
    assert "/measure/mql-volume/?period=2026-10" in html
    detail = client.get("/measure/mql-volume/?period=2026-10").content.decode()
    link = f"/measure/evidence/?commitment=mql-volume&amp;period=2026-10&amp;subject=team:{marketing.pk}"
    assert link in detail
    page = client.get(link.replace("&amp;", "&"))
    assert page.status_code == 200
    counted = client.get(link.replace("&amp;", "&") + "&bucket=counted").content.decode()
    assert "Anna Alpha" in counted and "Bert Beta" not in counted
    excluded = client.get(link.replace("&amp;", "&") + "&bucket=excluded_definition").content.decode()
    assert "Bert Beta" in excluded and "Anna Alpha" not in excluded

    # every number on the scorecard: its evidence's counted ids are the engine's counted leads
    for r in measure(version=demo, period="2026-10", now=local(2026, 10, 20, 12)):
        if r.commitment_key == "mql-volume" and r.subject_kind == "team":
            assert r.evidence["counted"].tolist() == [a.pk]


@pytest.mark.parametrize(
    "url",
    [
        "/measure/?period=banana",
        "/measure/?period=2026-13",
        "/measure/?period=%00",
        "/measure/?agreement=nope",
        "/measure/evidence/?period=2026-10",
        "/measure/evidence/?commitment=mql-volume&period=2026-10&subject=x",
        "/measure/evidence/?commitment=nope&period=2026-10&subject=team:1",
        "/measure/evidence/?commitment=mql-volume&period=2026-10&subject=person:99999",
        "/measure/evidence/?commitment=mql-volume&period=bad&subject=team:1",
        "/accountability/?period=2026-99",
        "/accountability/999999/",
        "/accountability/1/?period=x",
    ],
)
def test_bad_parameters_are_messages_never_server_errors(client, demo, url):
    response = client.get(url)
    assert response.status_code in (200, 400, 404)
    assert response.status_code != 500


def test_measure_without_an_agreement_says_what_to_do(client):
    response = client.get("/measure/")
    assert response.status_code == 200 and "agreement" in response.content.decode().lower()


def test_accountability_pages_show_owned_depended_and_the_lead_flow(client, demo, leads):
    daan, julia = person("daan"), person("julia")
    html = client.get("/accountability/?period=2026-10").content.decode()
    assert f"/accountability/{daan.pk}/" in html
    page = client.get(f"/accountability/{daan.pk}/?period=2026-10").content.decode()
    owns = page.split("Depends on")[0]
    assert "Marketing hands over 1,000 MQLs" in owns
    assert "Sales accepts or rejects every MQL" in page.split("Depends on")[1]
    assert "Julia Bos" in page  # Daan's leads start Julia's clocks
    rep = client.get(f"/accountability/{julia.pk}/?period=2026-10").content.decode()
    assert "Daan Bakker" in rep


def test_measure_cli_formats(demo, leads):
    a, b = leads
    now = local(2026, 10, 20, 12).isoformat()
    out = io.StringIO()
    call_command("measure", "--period", "2026-10", "--now", now, stdout=out)
    assert "mql-volume" in out.getvalue() and "Marketing" in out.getvalue()
    out = io.StringIO()
    call_command(
        "measure",
        "--period",
        "2026-10",
        "--now",
        now,
        "--format",
        "json",
        "--evidence",
        "--team",
        "marketing",
        stdout=out,
    )
    data = json.loads(out.getvalue())
    vol = next(
        m for m in data["measurements"] if m["commitment"] == "mql-volume" and m["subject"].startswith("team")
    )
    assert vol["actual"] == "1" and vol["evidence"]["counted"] == [a.pk]
    assert vol["evidence"]["excluded_definition"] == [b.pk]
    assert {m["commitment"] for m in data["measurements"]} == {
        "mql-volume",
        "handoff-data",
        "acceptance-rate",
    }
    out = io.StringIO()
    call_command(
        "measure",
        "--period",
        "2026-10",
        "--now",
        now,
        "--format",
        "csv",
        "--person",
        "daan.bakker@example.com",
        "--evidence",
        stdout=out,
    )
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert {r["subject_name"] for r in rows} == {"Daan Bakker"}
    assert (
        next(r for r in rows if r["commitment"] == "mql-volume")["evidence"]
        == f"counted: {a.pk}; excluded_definition: {b.pk}"
    )
    with pytest.raises(CommandError, match="--period"):
        call_command("measure", "--period", "2026-13", stdout=io.StringIO())
    with pytest.raises(CommandError, match="--person"):
        call_command("measure", "--period", "2026-10", "--person", "nobody", stdout=io.StringIO())
