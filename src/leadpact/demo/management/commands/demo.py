"""``leadpact demo``: load the demo organisation (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Load the demo organisation: teams, people, agreement (safe to run twice)."

    def handle(self, *args: Any, **options: Any) -> None:
        from leadpact.demo.services import demo_load

        summary = demo_load()
        if options["verbosity"]:
            self.stdout.write(summary)
