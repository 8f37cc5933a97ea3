"""``leadpact restore``: restore an organisation from a ``leadpact backup`` file into an empty database.

leadpact migrate && leadpact restore acme.jsonl.gz            # the audit chain as sealed (same audit key)
leadpact restore acme.jsonl.gz --rechain-audit                # seal the chain anew with this machine's key
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadpact.audit.selectors import audit_chain_verify
from leadpact.backup.services import AuditMode, backup_restore
from leadpact.errors import ApplicationError

ACTOR = "cli"


class Command(BaseCommand):
    help = "Restore an organisation from a backup file into an empty database (all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the backup file (leadpact backup)")
        parser.add_argument(
            "--rechain-audit",
            action="store_true",
            help="chain and seal the audit entries anew under this machine's key (when the source's key is "
            "not at hand, or its chain held other organisations too)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        mode: AuditMode = "rechain" if options["rechain_audit"] else "keep"
        try:
            summary = backup_restore(path, actor=ACTOR, audit=mode)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"restored organisation {summary.organization} from {summary.source_engine}: "
            f"{summary.rows:,} rows in {sum(1 for n in summary.counts.values() if n)} tables "
            f"({summary.seconds:.1f} s)"
        )
        for note in summary.notes:
            self.stdout.write(note)
        verified = audit_chain_verify()
        if not verified.ok:
            raise CommandError(
                f"restored, but the audit chain does not verify: {verified.reason}", returncode=2
            )
        self.stdout.write(f"audit chain intact: {verified.checked} entries verified")
