"""The ``leadpact`` command: Django's management commands under one name.

``leadpact start`` prepares the database and serves; ``leadpact agreement …``, ``leadpact import …`` and
the rest are management commands of the apps.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadpact.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else ["leadpact", *argv])
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
