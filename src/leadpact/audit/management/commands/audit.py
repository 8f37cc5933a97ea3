"""``leadpact audit verify|log|key``: check the sealed audit chain, read the trail, show the key in use.

leadpact audit verify      walk the chain, hold it against the sealed checkpoints, name the first fault
leadpact audit log [--agreement KEY] [--limit N]
leadpact audit key         which audit key seals the log, and where it lives (back it up with the data)
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadpact.agreements.models import Agreement
from leadpact.audit.seal import audit_key
from leadpact.audit.selectors import audit_chain_verify, audit_operator, audit_trail
from leadpact.audit.services import audit_key_replace
from leadpact.errors import ApplicationError


class Command(BaseCommand):
    help = "Audit log tools: 'verify' checks that no entry was changed, removed or inserted."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{verify,log,key,rekey}")
        sub.add_parser("verify", help="walk the sealed hash chain and report the first fault")
        sub.add_parser("key", help="the audit key's id and where it lives; back it up with the database")
        rekey = sub.add_parser(
            "rekey", help="the log's key is lost for good: seal with this machine's key from now on (audited)"
        )
        rekey.add_argument("--operator", required=True, help="you: a staff user's name or e-mail, audited")
        log = sub.add_parser("log", help="read the trail, newest last (per agreement with --agreement)")
        log.add_argument("--agreement", help="agreement key")
        log.add_argument("--limit", type=int, default=50, help="the last N entries (default 50)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "log":
            self._log(options["agreement"], options["limit"])
            return
        if options["action"] == "key":
            self._key()
            return
        if options["action"] == "rekey":
            self._rekey(options["operator"])
            return
        result = audit_chain_verify()
        if not result.ok:
            advice = "" if result.fault == "key" else "; restore the log from a backup"
            raise CommandError(f"{result.reason}{advice} and run 'leadpact audit verify' again", returncode=2)
        sealed = f", sealed with audit key {result.key_id}" if result.key_id else ""
        self.stdout.write(f"audit chain intact: {result.checked} entries verified{sealed}")

    def _rekey(self, name: str) -> None:
        try:
            entry = audit_key_replace(operator=audit_operator(name))
        except ApplicationError as error:
            raise CommandError(error.message, returncode=2) from error
        after = entry.after or {}
        self.stdout.write(
            f"audit log re-keyed by {entry.actor_label}: its {after['entries']} entries were sealed with key "
            f"{after['old_key_id']}; entry {entry.pk} and later are sealed with {after['new_key_id']}"
        )

    def _key(self) -> None:
        try:
            key = audit_key(missing="fail")
        except ApplicationError as error:
            raise CommandError(error.message, returncode=2) from error
        self.stdout.write(
            f"audit key {key.key_id} from {key.source}; keep a copy with every backup of the database: "
            "a restored log is verified with this key only"
        )

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
