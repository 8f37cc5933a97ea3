"""``leadpact pull …``: read a CRM on a schedule (HubSpot's CRM v3 objects API with a private app token).

leadpact pull add "HubSpot" --token pat-eu1-… [--since 2026-01-01T00:00:00+01:00] [--every 300]
leadpact pull run [--name NAME]     # once now (``leadpact worker`` runs them every --every seconds)
leadpact pull list

The token needs the scope ``crm.objects.contacts.read``; it is sealed at once and never shown again.
Each page read is stored with the cursor, so a run that stops resumes where it stopped.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadpact.errors import ApplicationError
from leadpact.leads.models import PullConnector
from leadpact.leads.pull import pull_connector_create, pull_connector_run
from leadpact.leads.selectors import organization_for_cli


class Command(BaseCommand):
    help = "Read a CRM on a schedule: add a HubSpot connector, run it once, list them."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        add = sub.add_parser("add", help="connect HubSpot with a private app token")
        add.add_argument("name")
        add.add_argument("--token", help="the private app's access token (default: $HUBSPOT_TOKEN)")
        add.add_argument("--since", default="", help="read contacts changed from this instant (ISO 8601)")
        add.add_argument("--every", type=int, default=300, help="seconds between reads (default 300)")
        add.add_argument("--base-url", default="https://api.hubapi.com")
        add.add_argument("--organization", metavar="KEY")
        run = sub.add_parser("run", help="read now")
        run.add_argument("--name", help="only this connector")
        run.add_argument("--organization", metavar="KEY")
        show = sub.add_parser("list", help="the connectors, their cursor and last result")
        show.add_argument("--organization", metavar="KEY")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            organization = organization_for_cli(options["organization"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        rows = PullConnector.objects.filter(organization=organization).select_related("organization")
        if options["action"] == "add":
            token = options["token"] or os.environ.get("HUBSPOT_TOKEN", "")
            try:
                row = pull_connector_create(
                    organization=organization, kind="hubspot", name=options["name"], token=token,
                    base_url=options["base_url"], since=options["since"], every_seconds=options["every"],
                    actor="cli",
                )  # fmt: skip
            except ApplicationError as exc:
                raise CommandError(exc.message) from None
            self.stdout.write(
                f"{row.name}: connected; `leadpact worker` reads it every {row.every_seconds} s"
            )
            return
        if options["action"] == "list":
            for row in rows:
                self.stdout.write(
                    f"{row.name} ({row.kind}) cursor {row.cursor or '-'}, last run "
                    f"{row.last_run_at:%Y-%m-%d %H:%M} UTC: {row.last_result}"
                    if row.last_run_at
                    else f"{row.name} ({row.kind}) cursor {row.cursor or '-'}, not run yet"
                )
            return
        if options["name"]:
            rows = rows.filter(name=options["name"])
        if not rows:
            raise CommandError("no pull connector to run (leadpact pull add NAME --token …)")
        for row in rows:
            outcome = pull_connector_run(row)
            self.stdout.write(f"{row.name}: {outcome}; cursor {outcome.cursor or '-'}")
