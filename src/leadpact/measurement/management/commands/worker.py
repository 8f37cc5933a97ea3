"""``leadpact worker``: update the SLA clocks, deliver the alerts that are due and read the pull
connectors (``leadpact pull``), in a loop (or once); every hour, record how late data moved a closed
period as a pending restatement.

Any number of workers may share one database: each kind of job is claimed by one of them at a time
(:mod:`leadpact.jobs` for a pass — clocks, restatements, retention, a pull connector; row by row in the
database for alerts and review packs), so nothing is done twice and nothing sent twice."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from leadpact.jobs import job_claim
from leadpact.leads.pull import pull_connectors_run_due
from leadpact.measurement.alerts.services import alerts_deliver
from leadpact.measurement.clocks.services import clocks_update
from leadpact.measurement.closing.services import restatements_record_due
from leadpact.privacy.services import retention_apply
from leadpact.reviews.services import reviews_send_due


class Command(BaseCommand):
    help = (
        "Update every SLA clock and send the alerts and review packs that are due; database-backed, safe to "
        "restart."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval", type=float, default=60.0, help="seconds between passes (default 60)"
        )
        parser.add_argument("--once", action="store_true", help="one pass, then exit (tests, cron)")
        parser.add_argument(
            "--restate-every",
            type=float,
            default=3600.0,
            help="seconds between checks of closed periods for late data (default 3600; 0: never)",
        )
        parser.add_argument("--now", help="the instant to run at (ISO 8601 with offset; tests)")
        parser.add_argument(
            "--alerts-per-pass",
            type=int,
            default=500,
            help="alerts one pass claims and sends at most (default 500); the rest wait for the next pass,"
            " or another worker",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interval = max(float(options["interval"]), 0.1)
        fixed = None
        if options["now"]:
            try:
                fixed = dt.datetime.fromisoformat(options["now"])
            except ValueError as error:
                raise CommandError(f"--now {options['now']!r}: not an ISO 8601 instant") from error
            if fixed.tzinfo is None:
                raise CommandError(f"--now {options['now']!r}: give the offset, e.g. +01:00")
        restate_every = float(options["restate_every"])
        restated_at: float | None = None
        while True:
            now = fixed or timezone.now()
            with job_claim("clocks") as mine:
                update = clocks_update(now=now) if mine else None
            report = alerts_deliver(now=now, limit=max(1, int(options["alerts_per_pass"])))
            packs = reviews_send_due(now=now)
            pulled = "".join(
                f", pulled {connector.name}: {outcome}"
                for connector, outcome in pull_connectors_run_due(now=now)
            )
            restated = ""
            if restate_every > 0 and (restated_at is None or time.monotonic() - restated_at >= restate_every):
                restated_at = time.monotonic()
                with job_claim("restatements") as mine:
                    if mine:
                        restated = f", restatements pending {len(restatements_record_due(now=now))}"
                    else:
                        restated = ", restatements: another worker's turn"
                with job_claim("retention") as mine:
                    # LEADPACT_RETENTION_MONTHS; nothing when unset
                    retained = retention_apply(now=now) if mine else None
                if retained is not None and retained.anonymised:
                    restated += f", leads anonymised (retention) {retained.anonymised}"
            clocks = (
                "clocks: another worker's pass, alerts queued 0"
                if update is None
                else f"clocks {update.clocks} (written {update.written}, {update.compute_seconds:.3f}s),"
                f" alerts queued {update.alerts}"
            )
            self.stdout.write(
                f"{now:%Y-%m-%d %H:%M:%S} {clocks}, sent {report.sent},"
                f" retried {report.retried}, failed {report.failed}, interrupted {report.interrupted}"
                f"{restated}, review packs sent {packs}{pulled}"
            )
            if options["once"]:
                return
            time.sleep(interval)
