"""``leadpact demo``: load the demo organisation and its year of history (idempotent).

leadpact demo                    # the demo as ``leadpact start`` loads it (about 13,000 leads)
leadpact demo --reset            # empty the database first, then load it afresh (today's dates)
leadpact demo --leads 1000000    # the benchmark-sized organisation, with a progress bar
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadpact.errors import ApplicationError


class Command(BaseCommand):
    help = "Load the demo organisation: teams, people, logins, agreement history, a year of leads."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset", action="store_true", help="empty the database first (only a demo database)"
        )
        parser.add_argument(
            "--leads", type=int, default=None, help="about this many leads instead of the natural ~13,000"
        )
        parser.add_argument("--no-leads", action="store_true", help="only the organisation and its agreement")

    def handle(self, *args: Any, **options: Any) -> None:
        from leadpact.demo.services import demo_load, demo_reset

        leads = options["leads"]
        if leads is not None and leads < 1:
            raise CommandError(f"--leads {leads}: give a number of leads of at least 1")
        started = time.perf_counter()
        try:
            if options["reset"]:
                demo_reset()
            if options["no_leads"]:
                summary = demo_load(with_leads=False)
            elif options["verbosity"] and leads is not None and leads >= 50_000:
                summary = self._with_progress(demo_load, leads)
            else:
                summary = demo_load(leads=leads)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        if options["verbosity"]:
            self.stdout.write(f"{summary} in {time.perf_counter() - started:.0f} s")

    def _with_progress(self, demo_load: Any, leads: int) -> str:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskID,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns = (
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        parts = {"history": "disputes, closed months", "clocks": "SLA clocks", "reviews": "review packs"}
        with Progress(*columns, transient=False) as bar:
            task = bar.add_task("demo leads", total=leads)
            current: list[TaskID] = [task]

            def advance(n: int) -> None:
                bar.update(task, advance=n)

            def stage(part: str) -> None:
                # the part before is done: its bar ends full (the leads': at what was made, "about" N)
                before = bar.tasks[-1]
                bar.update(current[0], total=before.completed or 1, completed=before.completed or 1)
                bar.stop_task(current[0])
                current[0] = bar.add_task(parts.get(part, part), total=1)

            summary: str = demo_load(leads=leads, progress=advance, stage=stage)
            bar.update(current[0], completed=1)
        return summary
