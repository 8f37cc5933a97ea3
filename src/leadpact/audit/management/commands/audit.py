"""``leadpact audit verify``: walk the audit chain and name the first broken link."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadpact.audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Audit log tools: 'verify' checks that no entry was changed, removed or inserted."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{verify}")
        sub.add_parser("verify", help="walk the hash chain and report the first broken link")

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_chain_verify()
        if not result.ok:
            raise CommandError(
                f"{result.reason}; restore the entry from a backup and run 'leadpact audit verify' again",
                returncode=2,
            )
        self.stdout.write(f"audit chain intact: {result.checked} entries verified")
