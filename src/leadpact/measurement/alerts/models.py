"""The alert outbox and where a team's alerts are posted."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from leadpact.organization.models import Person

__all__ = ["Alert", "AlertWebhook"]


class AlertWebhook(models.Model):
    """Where a team's (or, without team, the organisation's) alerts are POSTed as ``{"text": …}``."""

    organization = models.ForeignKey("organization.Organization", on_delete=models.CASCADE, related_name="+")
    team = models.OneToOneField(
        "organization.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="alert_webhook"
    )
    url = models.URLField(max_length=500, help_text="Slack or Teams incoming webhook URL")
    active = models.BooleanField(default=True)

    class Meta:
        app_label = "measurement"
        ordering = ("organization", "team")

    def __str__(self) -> str:
        return self.url


class Alert(models.Model):
    """One message to one recipient on one channel, queued in the database (the outbox).

    Delivery is at-most-once: a worker claims a row (``sending``) in its own transaction before it
    sends, and marks it ``sent`` after; a row left ``sending`` by a crash is never sent again.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        WEBHOOK = "webhook", _("webhook")

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="alerts")
    commitment_key = models.SlugField(max_length=64)
    threshold = models.CharField(max_length=16, help_text="the threshold crossed, e.g. 0.8 or 1")
    recipient = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="alerts")
    role = models.CharField(max_length=8, help_text="owner or manager")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    address = models.CharField(max_length=500, help_text="e-mail address or webhook URL")
    subject = models.CharField(max_length=300)
    body = models.TextField()
    created_at = models.DateTimeField()
    deliver_at = models.DateTimeField(help_text="the recipient's next business moment")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="when a worker took it to send")
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        app_label = "measurement"
        ordering = ("deliver_at", "id")
        constraints = (
            models.UniqueConstraint(
                fields=["lead", "commitment_key", "threshold", "recipient", "channel"], name="alert_once"
            ),
        )
        indexes = (models.Index(fields=["status", "deliver_at"], name="alert_status_due"),)

    def __str__(self) -> str:
        return f"{self.channel} to {self.address}: {self.subject} ({self.status})"
