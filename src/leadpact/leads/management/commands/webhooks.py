"""``leadpact webhooks process``: process deliveries that were stored but not processed (e.g. after a crash).

leadpact webhooks process [--limit N]
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from leadpact.leads.webhooks import webhook_deliveries_process_pending


class Command(BaseCommand):
    help = "Process pending webhook deliveries, oldest first."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        process = sub.add_parser("process", help="process every pending delivery")
        process.add_argument("--limit", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        counts = webhook_deliveries_process_pending(limit=options["limit"])
        line = f"{counts['processed']} deliveries processed, {counts['failed']} failed"
        if counts["stuck"]:
            line += f", {counts['stuck']} still pending (see their error in the admin; tried again next run)"
        self.stdout.write(line)
