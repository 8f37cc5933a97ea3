"""``leadpact start``: prepare the database, make sure a first user exists, and serve.

The first user's password is generated on first run (never stored in the repository) and kept in the
data folder, readable only by its owner, so that the start command can print the login again until the
password is changed.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadpact.web.passwords import FIRST_LOGIN_FILE
from leadpact.web.serving import Listener, listener_open, serve_gunicorn


def ensure_first_user(username: str = "admin") -> tuple[str, str | None]:
    """Create the first superuser if there is none; return its name and its password if still known."""
    user_model = get_user_model()
    path = settings.DATA_DIR / FIRST_LOGIN_FILE
    existing = user_model.objects.filter(is_superuser=True).order_by("pk").first()
    if existing is None:
        password = secrets.token_urlsafe(12)
        user_model.objects.create_superuser(username=username, email="", password=password)
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{username}\n{password}\n")
        path.chmod(0o600)
        return username, password
    if path.exists():
        name, _, stored = path.read_text().partition("\n")
        stored = stored.strip()
        if name == existing.get_username() and existing.check_password(stored):
            return name, stored
    return existing.get_username(), None


class Command(BaseCommand):
    help = "Prepare the database, create the first user if needed, load the demo, and serve leadpact."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--addr", default="127.0.0.1:8000", help="address:port to serve on (the next free port if taken)"
        )
        parser.add_argument(
            "--dev",
            action="store_true",
            help="Django's development server instead of gunicorn (reloads code)",
        )
        parser.add_argument("--workers", type=int, default=2, help="gunicorn processes (default 2)")
        parser.add_argument("--no-serve", action="store_true", help="prepare only; do not start the server")
        parser.add_argument("--no-demo", action="store_true", help="do not load the demo organisation")

    def handle(self, *args: Any, **options: Any) -> None:
        listener = self._listen(options) if not options["no_serve"] else None
        call_command("migrate", interactive=False, verbosity=0)
        if not options["no_demo"]:
            call_command("demo", verbosity=options["verbosity"])
        username, password = ensure_first_user()
        url = listener.url if listener else f"http://{options['addr']}/"
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"leadpact is ready at {url}"))
        if password:
            self.stdout.write(f"  log in as: {username}   password: {password}")
        else:
            self.stdout.write(f"  log in as: {username} (password as you last set it)")
        from leadpact.demo.logins import demo_login_lines  # every role's login, when the demo is loaded

        for line in demo_login_lines():
            self.stdout.write(line)
        self.stdout.write("")
        if listener is not None:
            self._serve(listener, options)

    def _listen(self, options: dict[str, Any]) -> Listener:
        """Bind first, so a taken port is known — and said — before anything else is printed."""
        try:
            listener = listener_open(options["addr"], move=True)
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot listen on {options['addr']}: {error}") from error
        if listener.moved:
            self.stdout.write(f"port {listener.wanted} is in use; serving on port {listener.port} instead")
        return listener

    def _serve(self, listener: Listener, options: dict[str, Any]) -> None:
        self.stdout.flush()
        if options["dev"]:  # runserver binds by itself: hand the port over
            addr = f"{listener.host}:{listener.port}"
            listener.sock.close()
            call_command("runserver", addr, use_reloader=False)
        else:
            serve_gunicorn(listener, workers=max(1, options["workers"]), threads=4)
