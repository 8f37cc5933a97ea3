"""``leadpact measure``: every commitment's figure for a period, per team and per person, with evidence."""

from __future__ import annotations

import datetime as dt
import json
import typing
from typing import Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone
from rich.console import Console
from rich.table import Table

from leadpact.core.periods import PeriodError
from leadpact.core.tabular import tabular_csv
from leadpact.errors import ApplicationError
from leadpact.measurement.periods import VersionNotFound, period_or_this_month, version_for_period
from leadpact.measurement.scorecard.results import MeasureResult, result_data
from leadpact.measurement.scorecard.selectors import measure
from leadpact.organization.models import Person, Team

_COLUMNS = (
    "commitment",
    "subject_name",
    "actual",
    "target",
    "expected_to_date",
    "attainment",
    "pace",
    "status",
    "sample_size",
)


def _shown(value: str | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "percent":
        return f"{round(float(value), 1)}%"
    if unit == "duration":
        return f"{round(float(value) / 3600, 2)} h"
    if unit == "amount":
        return f"€ {float(value):,.2f}"
    return f"{float(value):g}" if "." in value else value


class Command(BaseCommand):
    help = "Measure every commitment for a period: actual, target, expected to date, status, evidence."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", help="2026-10, 2026-Q4, 2026-W41 (default: this month)")
        parser.add_argument("--agreement", help="agreement key (default: the only one)")
        parser.add_argument("--organization", help="organisation key (default: the only one)")
        parser.add_argument("--team", help="only this team (key)")
        parser.add_argument("--person", help="only this person (e-mail or name)")
        parser.add_argument("--format", choices=["table", "json", "csv"], default="table")
        parser.add_argument("--evidence", action="store_true", help="list the lead ids behind every figure")
        parser.add_argument("--now", help="measure as at this instant (ISO 8601 with offset; default now)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            version = version_for_period(
                organization=options["organization"], agreement=options["agreement"], period=options["period"]
            )
        except VersionNotFound as error:
            raise CommandError(str(error)) from error
        try:
            period = period_or_this_month(options["period"], version)
        except PeriodError as error:
            raise CommandError(f"--period: {error}") from error
        now = timezone.now()
        if options["now"]:
            try:
                now = dt.datetime.fromisoformat(options["now"])
            except ValueError as error:
                raise CommandError(f"--now {options['now']!r}: not an ISO 8601 instant") from error
            if now.tzinfo is None:
                raise CommandError(f"--now {options['now']!r}: give the offset, e.g. +01:00")
        org = version.agreement.organization
        subject: Team | Person | None = None
        if options["team"]:
            subject = Team.objects.filter(organization=org, key=options["team"]).first()
            if subject is None:
                raise CommandError(f"--team: no team {options['team']!r}")
        if options["person"]:
            who = options["person"]
            found = list(
                Person.objects.filter(team__organization=org).filter(
                    Q(email__iexact=who) | Q(name__iexact=who)
                )
            )
            if len(found) != 1:
                raise CommandError(f"--person: {'no' if not found else 'more than one'} person {who!r}")
            subject = found[0]
        try:
            results = measure(version=version, period=period, now=now, subject=subject)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        records = [self._record(r, options["evidence"]) for r in results]
        warnings = results[0].warnings if results else ()
        for warning in warnings:  # on stderr: the table, CSV and JSON on stdout stay as they are
            self.stderr.write(f"warning: {warning}")
        if options["format"] == "json":
            payload = {
                "agreement": version.agreement.key,
                "version": version.number,
                "period": str(period),
                "measured_at": now.isoformat(),
                "measurements": records,
                "warnings": list(warnings),
            }
            self.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False))
            return
        if options["format"] == "csv":
            fields = [*_COLUMNS, "subject", "unit", "currency", "closed", "restatement"] + (
                ["evidence"] if options["evidence"] else []
            )
            rows = []
            for rec in records:
                row = dict(rec)
                if options["evidence"]:
                    row["evidence"] = "; ".join(
                        f"{k}: {' '.join(map(str, v))}" for k, v in rec["evidence"].items() if v
                    )
                rows.append(row)
            # names, titles and keys come from people: a cell must never run as a formula
            self.stdout.write(tabular_csv(fields, rows), ending="")
            return
        console = Console(file=cast(typing.IO[str], self.stdout), width=160, force_terminal=False)
        table = Table(title=f"{version.agreement.title} v{version.number} · {period}")
        names = ("commitment", "who", "actual", "target", "expected", "attainment", "pace", "status", "n")
        for name in names:
            table.add_column(name, justify="left" if name in ("commitment", "who", "status") else "right")
        for rec in records:
            attainment = "—" if rec["attainment"] is None else f"{round(float(rec['attainment']) * 100)}%"
            pace = "—" if rec["pace"] is None else f"{round(float(rec['pace']) * 100)}%"
            untargeted = rec["status"] == "no_target"
            table.add_row(
                rec["commitment"],
                rec["subject_name"],
                _shown(rec["actual"], rec["unit"]),
                "—" if untargeted else _shown(rec["target"], rec["unit"]),
                "—" if untargeted else _shown(rec["expected_to_date"], rec["unit"]),
                attainment,
                pace,
                rec["status"].replace("_", " ") + (" (restated)" if rec["restatement"] else ""),
                str(rec["sample_size"]),
            )
        console.print(table)
        if options["evidence"]:
            for rec in records:
                for bucket, ids in rec["evidence"].items():
                    if ids:
                        line = f"{rec['commitment']} · {rec['subject_name']} · {bucket}: "
                        console.print(
                            line + " ".join(map(str, ids)),
                            markup=False,
                            highlight=False,
                        )

    @staticmethod
    def _record(r: MeasureResult, evidence: bool) -> dict[str, Any]:
        data = result_data(r) if evidence else {**result_data(r), "evidence": {}}
        data["closed"] = r.closed
        data["restatement"] = r.restatement_id
        return data
