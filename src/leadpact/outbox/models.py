"""A message the outbox kept, and its attachments."""

from __future__ import annotations

from django.db import models

__all__ = ["OutboxAttachment", "OutboxMessage"]


class OutboxMessage(models.Model):
    """One e-mail as leadpact sent it (development and demos: nothing left the machine)."""

    organization = models.ForeignKey(
        "organization.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="the organisation it was sent for; none: only the operator reads it",
    )
    sent_at = models.DateTimeField(db_index=True)
    from_email = models.CharField(max_length=500)
    to = models.JSONField(default=list, help_text="every recipient: to, cc and bcc")
    cc = models.JSONField(default=list)
    bcc = models.JSONField(default=list)
    reply_to = models.JSONField(default=list)
    subject = models.CharField(max_length=1000)
    body = models.TextField(blank=True, help_text="the plain-text body")
    html = models.TextField(blank=True, help_text="the HTML alternative, when the message had one")

    class Meta:
        ordering = ("-sent_at", "-id")

    def __str__(self) -> str:
        return self.subject

    @property
    def recipients(self) -> list[str]:
        return [*self.to, *self.cc, *self.bcc]


class OutboxAttachment(models.Model):
    """A file the message carried (the review pack's PDF), kept whole so it can be downloaded."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(max_length=300)
    content_type = models.CharField(max_length=200)
    size = models.PositiveIntegerField()
    content = models.BinaryField()

    class Meta:
        ordering = ("message", "id")

    def __str__(self) -> str:
        return self.name
