"""``leadpact flush``: Django's flush, which empties every table — the audit log included.

The audit tables refuse DELETE (and TRUNCATE on PostgreSQL) by trigger; erasing the whole database is
the one exception, taken here explicitly (:func:`leadpact.audit._guard.audit_log_erasable`).
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush

from leadpact.audit._guard import audit_log_erasable


class Command(flush.Command):
    help = flush.Command.help + " The audit log is erased with it."

    def handle(self, **options: Any) -> None:
        with audit_log_erasable(options["database"]):
            super().handle(**options)
