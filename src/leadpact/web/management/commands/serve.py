"""``leadpact serve``: leadpact behind gunicorn, static files by whitenoise — the production server.

Run ``leadpact migrate`` first (the systemd unit in ``deploy/`` does); ``leadpact worker`` runs beside it
for clocks and alerts.  Each web process is stateless: sessions, measurements and the audit chain live in
the database, so any number of ``serve`` and ``worker`` processes may share one PostgreSQL.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadpact.web.serving import listener_open, serve_gunicorn


def default_workers() -> int:
    """``LEADPACT_WEB_WORKERS`` or two per core, at most eight."""
    if os.environ.get("LEADPACT_WEB_WORKERS"):
        return max(1, int(os.environ["LEADPACT_WEB_WORKERS"]))
    return max(2, min(8, 2 * (os.cpu_count() or 1)))


class Command(BaseCommand):
    help = "Serve leadpact with gunicorn (static files by whitenoise); run 'leadpact worker' beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--addr",
            default=os.environ.get("LEADPACT_ADDR", "127.0.0.1:8000"),
            help="host:port to listen on (default $LEADPACT_ADDR or 127.0.0.1:8000)",
        )
        parser.add_argument("--workers", type=int, default=None, help="processes (default 2 per core, ≤ 8)")
        parser.add_argument("--threads", type=int, default=4, help="threads per process (default 4)")
        parser.add_argument(
            "--any-port", action="store_true", help="if the port is taken, serve on the next free one"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            listener = listener_open(options["addr"], move=options["any_port"])
        except ValueError as error:
            raise CommandError(str(error)) from error
        except OSError as error:
            raise CommandError(
                f"cannot listen on {options['addr']}: {error.strerror}; choose another with --addr"
                " or pass --any-port"
            ) from error
        if listener.moved:
            self.stdout.write(f"port {listener.wanted} is in use; serving on port {listener.port} instead")
        if settings.PRODUCTION:
            call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(f"leadpact serves at {listener.url}")
        self.stdout.flush()
        serve_gunicorn(listener, workers=options["workers"] or default_workers(), threads=options["threads"])
