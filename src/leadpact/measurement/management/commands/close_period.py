"""``leadpact close_period``: freeze a period's figures (a lead of a party closes it); ``--restate``
records how later data differs from a closed period's figures as a pending restatement."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from leadpact.core.periods import Period, PeriodError
from leadpact.errors import ApplicationError
from leadpact.measurement.closing.services import period_close, restatement_record
from leadpact.measurement.periods import VersionNotFound, version_for_period
from leadpact.organization.models import Person


class Command(BaseCommand):
    help = "Close a period: store every figure with its evidence; later data shows as a restatement."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, help="2026-10, 2026-Q4, 2026-W41")
        parser.add_argument("--by", required=True, help="e-mail of the party lead who closes it")
        parser.add_argument("--agreement", help="agreement key (default: the only one)")
        parser.add_argument("--organization", help="organisation key (default: the only one)")
        parser.add_argument(
            "--restate",
            action="store_true",
            help="the period is closed: record how a recomputation differs as a pending restatement",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            version = version_for_period(
                organization=options["organization"], agreement=options["agreement"], period=options["period"]
            )
            period = Period.parse(options["period"])
        except (VersionNotFound, PeriodError) as error:
            raise CommandError(str(error)) from error
        person = Person.objects.filter(
            team__organization=version.agreement.organization, email__iexact=options["by"]
        ).first()
        if person is None:
            raise CommandError(f"--by: no person with e-mail {options['by']!r}")
        if options["restate"]:
            try:
                restatement = restatement_record(
                    version=version, period=period, now=timezone.now(), actor="cli"
                )
            except ApplicationError as error:
                raise CommandError(error.message) from error
            if restatement is None:
                self.stdout.write(f"{period}: nothing to restate (not closed, or no difference)")
            else:
                count = len(restatement.differences)
                self.stdout.write(f"{period}: restatement {restatement.pk} pending, {count} differences")
            return
        try:
            closed = period_close(version=version, period=period, actor=person, now=timezone.now())
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"closed {closed.period} of version {version.number}: {closed.measurements.count()} figures"
        )
