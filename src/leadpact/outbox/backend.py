"""A Django e-mail backend that keeps every message in the outbox instead of sending it.

``EMAIL_BACKEND = "leadpact.outbox.backend.EmailBackend"`` (the default outside production). A message
is kept for the organisation its sender named with :func:`leadpact.outbox.context.mail_for`.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.db import DatabaseError

from leadpact.outbox.context import mail_organization

__all__ = ["EmailBackend"]


class EmailBackend(BaseEmailBackend):
    """Keeps each message (with at least one recipient) in the database; returns how many."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        from leadpact.outbox.services import outbox_store

        kept = 0
        for message in email_messages:
            if not message.recipients():
                continue
            try:
                outbox_store(message=message, organization_id=mail_organization())
            except DatabaseError:
                if not self.fail_silently:
                    raise
                continue
            kept += 1
        return kept
