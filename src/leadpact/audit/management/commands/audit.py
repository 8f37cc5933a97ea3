"""``leadpact audit verify``: walk the audit chain and name the first broken link."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadpact.agreements.models import Agreement
from leadpact.audit.selectors import audit_chain_verify, audit_trail


class Command(BaseCommand):
    help = "Audit log tools: 'verify' checks that no entry was changed, removed or inserted."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{verify,log}")
        sub.add_parser("verify", help="walk the hash chain and report the first broken link")
        log = sub.add_parser("log", help="read the trail, newest last (per agreement with --agreement)")
        log.add_argument("--agreement", help="agreement key")
        log.add_argument("--limit", type=int, default=50, help="the last N entries (default 50)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "log":
            self._log(options["agreement"], options["limit"])
            return
        result = audit_chain_verify()
        if not result.ok:
            raise CommandError(
                f"{result.reason}; restore the entry from a backup and run 'leadpact audit verify' again",
                returncode=2,
            )
        self.stdout.write(f"audit chain intact: {result.checked} entries verified")

    def _log(self, key: str | None, limit: int) -> None:
        agreement = None
        if key:
            agreement = Agreement.objects.filter(key=key).first()
            if agreement is None:
                raise CommandError(f"no agreement {key!r}; see 'leadpact agreement list'", returncode=2)
        entries = list(audit_trail(agreement=agreement).reverse()[: max(limit, 0)])
        for entry in reversed(entries):
            change = ""
            if isinstance(entry.before, dict) and isinstance(entry.after, dict):
                keys = sorted(
                    k
                    for k in set(entry.before) | set(entry.after)
                    if entry.before.get(k) != entry.after.get(k)
                )
                change = " " + ", ".join(
                    f"{k}: {entry.before.get(k)!r} -> {entry.after.get(k)!r}" for k in keys
                )
            self.stdout.write(
                f"{entry.at:%Y-%m-%d %H:%M:%S} {entry.actor_label:<12} {entry.action:<24} "
                f"{entry.object_type} {entry.object_id}{change}  [{entry.hash[:10]}]"
            )
