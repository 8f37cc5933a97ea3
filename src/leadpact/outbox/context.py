"""Which organisation a message is sent for, said by the sender around its ``send``.

A context variable, not a header: nothing of it travels with a message sent by SMTP.

>>> with mail_for(7):
...     mail_organization()
7
>>> mail_organization() is None
True
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["mail_for", "mail_organization"]

_ORGANIZATION: ContextVar[int | None] = ContextVar("leadpact_mail_organization", default=None)


@contextmanager
def mail_for(organization: Any) -> Iterator[None]:
    """Messages sent inside the block are ``organization``'s (an Organization, its id, or None)."""
    pk = getattr(organization, "pk", organization)
    token = _ORGANIZATION.set(int(pk) if pk is not None else None)
    try:
        yield
    finally:
        _ORGANIZATION.reset(token)


def mail_organization() -> int | None:
    """The id of the organisation the message being sent is for, if the sender said."""
    return _ORGANIZATION.get()
