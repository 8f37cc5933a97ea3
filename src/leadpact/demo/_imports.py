"""The demo's import history, made by the real importer (``leads.imports.lead_import``) from files written
here: what an organisation admin finds on **Data** (``/data/``).

- Five weeks back, the trade fair's badge scans exported from HubSpot (a contacts export with labels):
  240 contacts, not yet handed over (marketing nurtures them), five problem rows — a contact without a
  record id, a create date that is no date, a score that is no number, and an owner nobody in leadpact is
  (the fair's agency staff, on three rows: one problem for the import).
- A week later, the same contacts exported again (sorted by name): every row is known, so the import adds
  no lead and no event — what a re-run does.

The files are generated from a seed; the leads land as source ``hubspot``, so they never meet the
generated traffic's (``demo-crm``) and change none of its figures: no handoffs, so no clock, no target.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import tempfile
from collections.abc import Callable
from pathlib import Path

from leadpact.demo._leads import AMS, COMPANIES, FIRST_NAMES, LAST_NAMES, demo_first_day
from leadpact.leads.imports import lead_import
from leadpact.leads.models import ImportJob
from leadpact.organization.models import Organization

__all__ = ["FAIR_FILE", "FAIR_ROWS", "REEXPORT_FILE", "demo_imports_load"]

FAIR_FILE = "hubspot-contacts-b2b-marketing-live.csv"
REEXPORT_FILE = "hubspot-contacts-b2b-marketing-live-by-name.csv"
FAIR_ROWS = 240
AGENCY_OWNER = "Hans Kramer"  # the fair agency's booth staff: no person in leadpact
HEADER = (
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Company Name",
    "Country/Region",
    "Job Title",
    "Original Source",
    "Original Source Drill-Down 2",
    "HubSpot Score",
    "Contact owner",
    "Lifecycle Stage",
    "Create Date",
)
JOBS = ("Marketing manager", "CMO", "Head of sales", "Operations", "Sales director", "Founder")


def _fair_rows(fair: dt.date, seed: int = 2026) -> list[list[str]]:
    """The badge scans of the fair's three days (Tuesday to Thursday), with their five problem rows."""
    rng = random.Random(seed)
    rows: list[list[str]] = []
    for n in range(FAIR_ROWS):
        day = fair + dt.timedelta(days=n % 3)
        at = dt.datetime.combine(day, dt.time(9 + rng.randrange(8), rng.randrange(60)))
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = rng.choice(COMPANIES)
        domain = company.split()[0].lower()
        rows.append(
            [
                str(51_200_300 + n * 7),
                first,
                last,
                f"{first.lower()}.{last.lower().replace(' ', '')}.{n}@{domain}.example",
                company,
                rng.choices(["Netherlands", "Belgium", "Germany"], [0.7, 0.25, 0.05])[0],
                rng.choice(JOBS),
                "OFFLINE",
                "b2b-marketing-live",
                str(max(0, min(100, int(rng.gauss(38, 12))))),
                "",
                "lead",
                at.strftime("%Y-%m-%d %H:%M"),
            ]
        )
    rows[17][0] = ""  # a contact without a record id: the row is refused
    rows[58][12] = "Wednesday"  # typed by hand at the booth: no date
    rows[131][9] = "high"  # a score that is no number: the lead lands without it
    for index in (77, 78, 203):
        rows[index][10] = AGENCY_OWNER  # an owner nobody in leadpact is
    return rows


def _write(path: Path, rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # as HubSpot writes it
    writer.writerow(HEADER)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8-sig")
    return path


def _clock(start: dt.datetime) -> Callable[[], dt.datetime]:
    """The importer's clock for an import run in the past: a second more each time it is read."""
    ticks = iter(range(10**6))
    return lambda: start + dt.timedelta(seconds=next(ticks))


def demo_imports_load(organization: Organization, *, now: dt.datetime) -> int:
    """The two imports (see the module's docstring) unless the organisation has an import; returns the
    leads they added."""
    if ImportJob.objects.filter(organization=organization).exists():
        return 0
    today = now.astimezone(AMS).date()
    day = max(today - dt.timedelta(days=35), demo_first_day(now) + dt.timedelta(days=14))
    imported_on = day - dt.timedelta(days=day.weekday()) + dt.timedelta(days=7)  # the Monday after
    if imported_on + dt.timedelta(days=8) >= today:
        return 0  # the traffic is too short for a history of imports
    fair = imported_on - dt.timedelta(days=6)  # the Tuesday before
    rows = _fair_rows(fair)
    added = 0
    with tempfile.TemporaryDirectory(prefix="leadpact-demo-") as folder:
        first = _write(Path(folder) / FAIR_FILE, rows)
        start = dt.datetime.combine(imported_on, dt.time(10, 12), tzinfo=AMS)
        outcome = lead_import(
            organization=organization, path=first, preset="hubspot", clock=_clock(start), reader="thread"
        )
        added += outcome.job.leads_added
        by_name = sorted(rows, key=lambda r: (r[2], r[1], r[0]))
        again = _write(Path(folder) / REEXPORT_FILE, by_name)
        start = dt.datetime.combine(imported_on + dt.timedelta(days=7), dt.time(14, 40), tzinfo=AMS)
        outcome = lead_import(
            organization=organization, path=again, preset="hubspot", clock=_clock(start), reader="thread"
        )
        added += outcome.job.leads_added
    return added
