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
from django.core.management.base import BaseCommand, CommandParser

from leadpact.web.passwords import FIRST_LOGIN_FILE


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
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address:port to serve on")
        parser.add_argument("--no-serve", action="store_true", help="prepare only; do not start the server")
        parser.add_argument("--no-demo", action="store_true", help="do not load the demo organisation")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if not options["no_demo"]:
            call_command("demo", verbosity=options["verbosity"])
        username, password = ensure_first_user()
        addr = options["addr"]
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"leadpact is ready at http://{addr}/"))
        if password:
            self.stdout.write(f"  log in as: {username}   password: {password}")
        else:
            self.stdout.write(f"  log in as: {username} (password as you last set it)")
        from leadpact.demo.logins import demo_login_lines  # every role's login, when the demo is loaded

        for line in demo_login_lines():
            self.stdout.write(line)
        self.stdout.write("")
        if not options["no_serve"]:
            call_command("runserver", addr, use_reloader=False)
