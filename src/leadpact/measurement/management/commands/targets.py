"""``leadpact targets``: every commitment's target for a period, per team and per person, with why."""

from __future__ import annotations

import json
import typing
from typing import Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from leadpact.core.explain import Lang, format_number
from leadpact.core.periods import PeriodError
from leadpact.core.tabular import tabular_csv
from leadpact.measurement.periods import VersionNotFound, period_or_this_month, version_for_period
from leadpact.measurement.targets.selectors import CommitmentTarget, commitment_targets


def _value(value: object, unit: str, lang: Lang) -> str:
    if unit == "percent":
        return f"{value}%"
    if unit == "amount":
        return f"€ {format_number(value, lang, places=2)}"  # type: ignore[arg-type]
    return str(value)


class Command(BaseCommand):
    help = "Show every commitment's target for a period, per team and per person, with its explanation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", help="2026-10, 2026-Q4, 2026-W41 or 2026-10-07 (default: this month)")
        parser.add_argument("--agreement", help="agreement key (default: the only one)")
        parser.add_argument("--organization", help="organisation key (default: the only one)")
        parser.add_argument("--team", help="only commitments owned by this team (key)")
        parser.add_argument("--person", help="only this person (e-mail or name)")
        parser.add_argument("--explain", action="store_true", help="print each target's arithmetic")
        parser.add_argument("--lang", choices=["en", "nl"], default="en")
        parser.add_argument("--format", choices=["table", "json", "csv"], default="table")

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
        rows = commitment_targets(version=version, period=period)
        if options["team"]:
            rows = [r for r in rows if r.team.key == options["team"]]
        who = (options["person"] or "").casefold()
        lang = cast(Lang, options["lang"])
        records = list(self._records(rows, who, lang, options["explain"] or options["format"] != "table"))
        if options["format"] == "json":
            self.stdout.write(
                json.dumps(
                    {
                        "agreement": version.agreement.key,
                        "version": version.number,
                        "period": str(period),
                        "targets": records,
                    },
                    indent=2,
                    ensure_ascii=False,
                )
            )
            return
        if options["format"] == "csv":
            # names and explanations come from people: a cell must never run as a formula
            fields = list(records[0]) if records else ["commitment"]
            self.stdout.write(tabular_csv(fields, records), ending="")
            return
        console = Console(file=cast(typing.IO[str], self.stdout), width=140, force_terminal=False)
        table = Table(title=f"{version.agreement.title} v{version.number} · {period}")
        for name in ("commitment", "team", "person", "target", "exact", "basis days"):
            table.add_column(name, justify="right" if name in ("target", "exact", "basis days") else "left")
        for r in records:
            table.add_row(
                r["commitment"], r["team"], r["person"] or "—", r["target"], r["exact"], r["basis_days"]
            )
        console.print(table)
        if options["explain"]:
            for r in records:
                console.print(r["explanation"], markup=False, highlight=False)
                console.print("")

    @staticmethod
    def _records(rows: list[CommitmentTarget], who: str, lang: Lang, explain: bool) -> Any:
        for row in rows:
            base = {"commitment": row.commitment.key, "team": row.team.key, "unit": row.unit}
            if not who:
                yield base | {
                    "person": "",
                    "target": _value(row.value, row.unit, lang),
                    "exact": format_number(row.exact, lang, places=2),
                    "basis_days": "" if row.basis_days is None else str(row.basis_days),
                    "overridden": False,
                    "explanation": row.explanation.render(lang) if explain else "",
                }
            for person in row.people:
                if who and who not in (person.person.email.casefold(), person.person.name.casefold()):
                    continue
                yield base | {
                    "person": person.person.name,
                    "target": _value(person.value, row.unit, lang),
                    "exact": format_number(person.exact, lang, places=2),
                    "basis_days": "",
                    "overridden": person.overridden,
                    "explanation": person.explanation.render(lang) if explain else "",
                }
