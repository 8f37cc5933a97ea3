"""The database's own guard on the audit tables, and the one way past it: erasing everything (flush).

Triggers (migration 0005) refuse every UPDATE and DELETE of an audit entry, and any change that moves
the checkpoint backwards, on SQLite and PostgreSQL alike.  Deleting is allowed only while
:func:`audit_log_erasable` is active, which leadpact's ``flush`` command uses to empty the whole database
(tests do that between transactional tests).  On SQLite the triggers ask the connection function
``leadpact_audit_erasable()``, which only leadpact's own connections have: any other program's DELETE
fails.  On PostgreSQL they read the session setting ``leadpact.audit_erasable``.

The triggers are a guard rail against mistakes and against writes through the application; someone who
owns the database can drop them.  What catches that is the seal (:mod:`leadpact.audit.seal`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from django.db import connections

__all__ = ["audit_log_erasable", "sqlite_functions_register"]

_ERASABLE: ContextVar[bool] = ContextVar("leadpact_audit_erasable", default=False)
_SETTING = "leadpact.audit_erasable"


def sqlite_functions_register(*, sender: Any = None, connection: Any, **kwargs: Any) -> None:
    """A receiver of ``connection_created``: give each SQLite connection the function the triggers ask."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("leadpact_audit_erasable", 0, lambda: int(_ERASABLE.get()))


@contextlib.contextmanager
def audit_log_erasable(using: str = "default") -> Iterator[None]:
    """While active, the audit tables may be emptied (by ``flush``): for erasing a whole database only."""
    connection = connections[using]
    token = _ERASABLE.set(True)
    postgresql = connection.vendor == "postgresql"
    try:
        if postgresql:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, 'on', false)", [_SETTING])
        yield
    finally:
        _ERASABLE.reset(token)
        if postgresql:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, '', false)", [_SETTING])
