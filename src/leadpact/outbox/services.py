"""Writes of the outbox: keep a message as it was sent, and only the newest :data:`KEEP` of them."""

from __future__ import annotations

import datetime as dt
from email.mime.base import MIMEBase
from email.utils import parsedate_to_datetime
from typing import Any

from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from leadpact.outbox.models import OutboxAttachment, OutboxMessage

__all__ = ["KEEP", "outbox_store"]

#: the outbox keeps this many messages (the newest); older ones are removed as new ones arrive
KEEP = 1000


def _sent_at(message: EmailMessage) -> dt.datetime:
    """The message's ``Date`` when its sender set one (a service that takes ``now``), else now."""
    for name, value in (message.extra_headers or {}).items():
        if name.lower() == "date":
            try:
                stamp = parsedate_to_datetime(str(value))
            except (TypeError, ValueError):
                break
            # "-0000" (what formatdate writes by default) is UTC with the sender's zone unknown: naive here
            return stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp.astimezone(dt.UTC)
    return timezone.now()


def _html(message: EmailMessage) -> str:
    if getattr(message, "content_subtype", "plain") == "html":
        return str(message.body)
    for content, mimetype in getattr(message, "alternatives", ()) or ():
        if mimetype == "text/html":
            return content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content)
    return ""


def _attachments(message: EmailMessage) -> list[tuple[str, str, bytes]]:
    """(name, content type, bytes) of every attachment."""
    out: list[tuple[str, str, bytes]] = []
    for item in message.attachments:
        if isinstance(item, MIMEBase):
            payload: Any = item.get_payload(decode=True)
            out.append((item.get_filename() or "attachment", item.get_content_type(), bytes(payload or b"")))
            continue
        name, content, mimetype = item
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        out.append((str(name or "attachment"), str(mimetype or "application/octet-stream"), data))
    return out


@transaction.atomic
def outbox_store(*, message: EmailMessage, organization_id: int | None) -> OutboxMessage:
    """Keep ``message`` (recipients, subject, text and HTML body, attachments) for ``organization_id``."""
    html = _html(message)
    body = "" if getattr(message, "content_subtype", "plain") == "html" else str(message.body)
    kept = OutboxMessage.objects.create(
        organization_id=organization_id,
        sent_at=_sent_at(message),
        from_email=str(message.from_email or ""),
        to=[str(a) for a in message.to],
        cc=[str(a) for a in message.cc],
        bcc=[str(a) for a in message.bcc],
        reply_to=[str(a) for a in message.reply_to],
        subject=" ".join(str(message.subject).split())[:1000],
        body=body,
        html=html,
    )
    OutboxAttachment.objects.bulk_create(
        OutboxAttachment(message=kept, name=name[:300], content_type=kind[:200], size=len(data), content=data)
        for name, kind, data in _attachments(message)
    )
    old = OutboxMessage.objects.order_by("-sent_at", "-id").values_list("id", flat=True)[KEEP : KEEP + 500]
    if old:
        OutboxMessage.objects.filter(pk__in=list(old)).delete()
    return kept
