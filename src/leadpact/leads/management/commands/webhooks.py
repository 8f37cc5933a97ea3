"""``leadpact webhooks …``: connect a CRM's webhooks, list them, process stored deliveries.

leadpact webhooks add KIND NAME --by EMAIL [--slug S] [--secret S] [--username U] [--account-id 00D…]
                                 [--public-url URL] [--organization KEY]
leadpact webhooks list [--organization KEY]
leadpact webhooks process [--limit N]

KIND is hubspot, mautic, pipedrive, generic, salesforce (Outbound Messages: ``--account-id`` is the
organisation id every message must carry) or salesforce_cdc (relayed Change Data Capture, signed). The
generated secret, or Pipedrive's user and password, is printed this once and never again.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadpact.errors import ApplicationError
from leadpact.leads.management.commands.events import _operator
from leadpact.leads.models import WebhookIntegration
from leadpact.leads.selectors import organization_for_cli
from leadpact.leads.services import webhook_integration_create
from leadpact.leads.webhooks import webhook_deliveries_process_pending


class Command(BaseCommand):
    help = "Connect a CRM's webhooks, list them, or process pending webhook deliveries, oldest first."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        process = sub.add_parser("process", help="process every pending delivery")
        process.add_argument("--limit", type=int, default=None)
        add = sub.add_parser("add", help="register a webhook sender; prints its URL and credentials once")
        add.add_argument("kind", choices=WebhookIntegration.Kind.values)
        add.add_argument("name")
        add.add_argument("--by", required=True, metavar="EMAIL", help="the operator: a user or person")
        add.add_argument("--slug", help="the URL's last part (default: random)")
        add.add_argument("--secret", default="", help="HubSpot: the app's client secret; else generated")
        add.add_argument("--username", default="", help="Pipedrive: the basic auth user (default leadpact)")
        add.add_argument("--account-id", default="", help="Salesforce: the organisation id (00D…)")
        add.add_argument("--public-url", default="", help="the URL as the sender calls it")
        add.add_argument("--organization", metavar="KEY")
        show = sub.add_parser("list", help="the webhook senders, their URL and (Salesforce CDC) replay id")
        show.add_argument("--organization", metavar="KEY")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "process":
            counts = webhook_deliveries_process_pending(limit=options["limit"])
            line = f"{counts['processed']} deliveries processed, {counts['failed']} failed"
            if counts["stuck"]:
                line += (
                    f", {counts['stuck']} still pending (see their error in the admin; tried again next run)"
                )
            self.stdout.write(line)
            return
        try:
            organization = organization_for_cli(options["organization"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        if options["action"] == "list":
            for row in WebhookIntegration.objects.filter(organization=organization):
                state = "active" if row.active else "inactive"
                cursor = f", replay id {row.cursor}" if row.cursor else ""
                self.stdout.write(f"{row.name} ({row.kind}, {state}): /hooks/{row.kind}/{row.slug}/{cursor}")
            return
        try:
            row, shown = webhook_integration_create(
                organization=organization, kind=options["kind"], name=options["name"], slug=options["slug"],
                secret=options["secret"], username=options["username"], public_url=options["public_url"],
                account_id=options["account_id"], actor=_operator(organization, options["by"]),
            )  # fmt: skip
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{row.name}: POST /hooks/{row.kind}/{row.slug}/")
        if shown.secret:
            self.stdout.write(f"secret (shown this once): {shown.secret}")
        if shown.password:
            self.stdout.write(
                f"basic auth user {shown.username}, password (shown this once): {shown.password}"
            )
