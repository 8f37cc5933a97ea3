"""``leadpact import FILE``: a CRM export (CSV or XLSX) into leads and lead events.

    leadpact import FILE [--preset hubspot|salesforce|pipedrive|generic] [--mapping FILE.json|NAME]
                         [--save-mapping NAME|FILE.json]
                         [--day-first | --month-first] [--timezone Europe/Amsterdam]
                         [--resume] [--report problems.csv] [--organization KEY] [--batch-size N]

Rows are committed in whole batches; a refused row is reported with its row number, column and reason
(``--report`` writes them as CSV). Ambiguous dates stop the command before anything is written.
"""

# ruff: noqa: N999 - the command is `leadpact import`, so the module is import.py
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from leadpact.connectors import PRESETS, AmbiguousDates, Mapping, MappingError, UnreadableFile
from leadpact.errors import ApplicationError
from leadpact.leads.imports import PRESET_FAMILIES, import_job_report_csv, lead_import
from leadpact.leads.models import ImportJob, SavedMapping
from leadpact.leads.selectors import organization_for_cli
from leadpact.leads.services import saved_mapping_save


def _count_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            count += chunk.count(b"\n")
    return max(count - 1, 1)


def _load_mapping(organization: Any, given: str) -> Mapping:
    """A mapping from a JSON file (a path that exists or ends in .json) or saved under that name."""
    path = Path(given)
    if path.suffix.lower() == ".json" or path.is_file():
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"--mapping {given}: cannot read the file ({exc.strerror or exc})") from None
        try:
            return Mapping.from_json(text)
        except MappingError as exc:
            raise CommandError(f"--mapping {given}: {exc}") from None
    saved = SavedMapping.objects.filter(organization=organization, name=given).first()
    if saved is None:
        raise CommandError(f"no saved mapping named {given!r} and no file {given!r}")
    return Mapping.from_dict(saved.mapping)


class Command(BaseCommand):
    help = "Import a CRM export file (CSV or XLSX) into leads and lead events."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--preset",
            choices=sorted({*PRESETS, *PRESET_FAMILIES}),
            help="default: detected from the header (salesforce and pipedrive: which export is detected)",
        )
        parser.add_argument(
            "--mapping",
            metavar="FILE|NAME",
            help="a mapping instead of a preset: a JSON file (as --save-mapping FILE.json writes it) or the "
            "name of a saved mapping",
        )
        parser.add_argument(
            "--save-mapping",
            metavar="NAME|FILE.json",
            help="save the mapping used (with its date order) under NAME, or write it to FILE.json",
        )
        order = parser.add_mutually_exclusive_group()
        order.add_argument("--day-first", dest="dayfirst", action="store_const", const=True, default=None)
        order.add_argument("--month-first", dest="dayfirst", action="store_const", const=False)
        parser.add_argument("--timezone", metavar="ZONE", help="where times without an offset are local")
        parser.add_argument(
            "--resume", action="store_true", help="continue an unfinished import of this file"
        )
        parser.add_argument("--report", type=Path, metavar="CSV", help="write the problems to this CSV file")
        parser.add_argument("--organization", metavar="KEY", help="default: the only organisation")
        parser.add_argument("--batch-size", type=int, default=10000, help="rows per transaction")
        parser.add_argument(
            "--reader",
            choices=("auto", "process", "thread"),
            default="auto",
            help="parse the file in a child process (on another core) or a thread; default: by file size",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            organization = organization_for_cli(options["organization"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        mapping: Mapping | None = None
        if options["mapping"]:
            if options["preset"]:
                raise CommandError("give --preset or --mapping, not both")
            mapping = _load_mapping(organization, options["mapping"])
        # the command's own stderr (call_command may redirect it)
        console = Console(file=cast(TextIO, self.stderr._out))
        total = _count_lines(path) if path.suffix.lower() != ".xlsx" else None
        started = time.monotonic()
        progress = Progress(
            TextColumn("[bold]import[/bold] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>9} rows/s  {task.fields[problems]} problems"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        task = progress.add_task(path.name, total=total, rate="", problems=0)

        def on_batch(job: ImportJob) -> None:
            elapsed = max(time.monotonic() - started, 1e-6)
            progress.update(
                task,
                completed=job.rows_read,
                rate=f"{job.rows_read / elapsed:,.0f}",
                problems=job.problems_count,
            )

        try:
            with progress:
                outcome = lead_import(
                    organization=organization,
                    path=path,
                    preset=options["preset"],
                    mapping=mapping,
                    dayfirst=options["dayfirst"],
                    tz=options["timezone"],
                    resume=options["resume"],
                    batch_size=options["batch_size"],
                    on_batch=on_batch,
                    reader=options["reader"],
                )
        except AmbiguousDates as exc:
            raise CommandError(
                f"{exc.column!r}: dates such as {', '.join(exc.examples[:3])} read both as day-month and "
                "month-day; nothing was imported. Run again with --day-first or --month-first."
            ) from None
        except (UnreadableFile, MappingError) as exc:
            raise CommandError(f"{path.name}: {exc}; nothing was imported") from None
        except ValueError as exc:
            raise CommandError(f"{path.name}: {exc}") from None
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        job = outcome.job
        if outcome.assumed:
            self.stdout.write(
                "assumed: " + "; ".join(f"{name} {value}" for name, value in outcome.assumed.items())
            )
        if outcome.result == "already_imported":
            self.stdout.write(
                f"{path.name} was imported before (import {job.pk}, {job.rows_imported} rows); nothing added"
            )
        else:
            rate = job.rows_read / max(time.monotonic() - started, 1e-6)
            self.stdout.write(
                f"import {job.pk}: {job.rows_read} rows read, {job.rows_imported} imported, "
                f"{job.problems_count} problems ({rate:,.0f} rows/s); new: {job.leads_added} leads, "
                f"{job.events_added} events"
            )
        if options["save_mapping"]:
            target = options["save_mapping"]
            if target.lower().endswith(".json"):
                Path(target).write_text(Mapping.from_dict(job.mapping).to_json(), encoding="utf-8")
                self.stdout.write(f"mapping written to {target}; reuse it with --mapping {target}")
            else:
                saved_mapping_save(
                    organization=organization, name=target, mapping=Mapping.from_dict(job.mapping)
                )
                self.stdout.write(f"mapping saved as {target!r}; reuse it with --mapping")
        if options["report"]:
            options["report"].write_text(import_job_report_csv(job), encoding="utf-8", newline="")
            self.stdout.write(f"problems written to {options['report']}")
        elif job.problems_count:
            for problem in job.problems.order_by("row", "id")[:10]:
                self.stdout.write(f"  {problem}")
            if job.problems_count > 10:
                self.stdout.write(f"  … and {job.problems_count - 10} more (use --report FILE)")
