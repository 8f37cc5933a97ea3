"""``leadpact backup``: write a whole organisation to one file (gzip'd JSON lines), audited.

leadpact backup              # the only organisation, to ./leadpact-<key>-<UTC time>.jsonl.gz
leadpact backup --organization acme --output /var/backups/acme.jsonl.gz
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadpact.backup.services import backup_write
from leadpact.errors import ApplicationError
from leadpact.organization.models import Organization

ACTOR = "cli"


def organization_named(key: str | None) -> Organization:
    """The organisation with ``key``, or the only one when none is named."""
    if key:
        found = Organization.objects.filter(key=key).first()
        if found is None:
            raise CommandError(f"--organization: no organisation {key!r}")
        return found
    organizations = list(Organization.objects.order_by("key")[:2])
    if len(organizations) != 1:
        raise CommandError(
            "no organisation in this database"
            if not organizations
            else "several organisations: name one with --organization"
        )
    return organizations[0]


class Command(BaseCommand):
    help = "Back up a whole organisation to one file: every record as stored, and the audit chain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", help="organisation key (default: the only one)")
        parser.add_argument(
            "--output", "-o", help="the file to write (default: leadpact-<key>-<UTC time>.jsonl.gz here)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organization = organization_named(options["organization"])
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        path = Path(options["output"] or f"leadpact-{organization.key}-{stamp}.jsonl.gz")
        try:
            summary = backup_write(organization, path, actor=ACTOR)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"{summary.path}: organisation {summary.organization}, {summary.rows:,} rows in "
            f"{sum(1 for n in summary.counts.values() if n)} tables, audit chain {summary.audit}; "
            f"{summary.size:,} bytes, sha256 {summary.sha256} ({summary.seconds:.1f} s)"
        )
