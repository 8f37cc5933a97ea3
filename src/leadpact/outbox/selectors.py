"""Reads of the outbox: the messages a user may read (see the package's docstring for the rule)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet

from leadpact.organization.models import Organization
from leadpact.outbox.models import OutboxMessage

__all__ = ["outbox_in_use", "outbox_messages"]


def outbox_messages(*, user: Any, organization: Organization) -> QuerySet[OutboxMessage]:
    """Newest first: every message for the operator (a superuser), else ``organization``'s only.

    The caller has checked that ``user`` administers ``organization``.
    """
    messages = OutboxMessage.objects.select_related("organization").annotate(files=Count("attachments"))
    if getattr(user, "is_superuser", False):
        return messages.order_by("-sent_at", "-id")
    return messages.filter(organization=organization).order_by("-sent_at", "-id")


def outbox_in_use() -> bool:
    """Whether e-mail is kept in the outbox (the default outside production) rather than sent."""
    return str(settings.EMAIL_BACKEND) == "leadpact.outbox.backend.EmailBackend"
