"""Target overrides, SLA clocks, disputes, closed periods with restatements, and the alert outbox."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from leadpact.agreements.models import Agreement
from leadpact.organization.models import Person

__all__ = [
    "Alert",
    "AlertWebhook",
    "ClosedMeasurement",
    "ClosedPeriod",
    "Dispute",
    "EventSnapshot",
    "LeadClock",
    "Restatement",
    "TargetOverride",
]


class TargetOverride(models.Model):
    """A person's target for one commitment and period, set by hand; the rest of the team shares the rest."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="target_overrides")
    commitment_key = models.SlugField(_("commitment"), max_length=64)
    period = models.CharField(_("period"), max_length=16, help_text=_("e.g. 2026-10, 2026-Q4, 2026-W41"))
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="target_overrides")
    value = models.DecimalField(_("target"), max_digits=14, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("agreement", "commitment_key", "period", "person")
        verbose_name = _("target override")
        constraints = (
            models.UniqueConstraint(
                fields=["agreement", "commitment_key", "period", "person"], name="target_override_unique"
            ),
            models.CheckConstraint(condition=models.Q(value__gte=0), name="target_override_not_negative"),
        )

    def __str__(self) -> str:
        return f"{self.commitment_key} {self.period} {self.person}: {self.value}"


class LeadClock(models.Model):
    """The SLA clock of one lead for one clocked commitment, as the last ``clocks_update`` pass saw it."""

    class State(models.TextChoices):
        RUNNING = "running", _("running")
        AT_RISK = "at_risk", _("at risk")
        PAUSED = "paused", _("paused")
        BREACHED = "breached", _("breached")
        MET = "met", _("met")

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="clocks")
    commitment_key = models.SlugField(max_length=64)
    agreement_version = models.ForeignKey(
        "agreements.AgreementVersion", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    owner = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    elapsed_us = models.BigIntegerField(help_text="business microseconds, pauses left out")
    paused_us = models.BigIntegerField(default=0)
    window_us = models.BigIntegerField()
    level = models.PositiveSmallIntegerField(default=0, help_text="thresholds crossed")
    state = models.CharField(max_length=10, choices=State.choices)
    routing_us = models.BigIntegerField(
        null=True, blank=True, help_text="handed over → assigned, business time (system delay)"
    )
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ("due_at", "id")
        constraints = (models.UniqueConstraint(fields=["lead", "commitment_key"], name="lead_clock_once"),)
        indexes = (models.Index(fields=["state", "due_at"], name="lead_clock_state_due"),)

    def __str__(self) -> str:
        return f"{self.commitment_key} clock of lead {self.lead_id}: {self.state}"


class Dispute(models.Model):
    """Sales contests that a lead met the definition; a lead of either party decides."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        UPHELD = "upheld", _("upheld")
        REJECTED = "rejected", _("rejected")

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="disputes")
    agreement_version = models.ForeignKey(
        "agreements.AgreementVersion", on_delete=models.PROTECT, related_name="+"
    )
    commitment_key = models.SlugField(max_length=64)
    definition_version = models.ForeignKey(
        "agreements.DefinitionVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="disputes_opened")
    opened_at = models.DateTimeField()
    reason = models.TextField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="disputes_decided"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ("-opened_at", "-id")
        constraints = (
            models.UniqueConstraint(
                fields=["lead", "commitment_key"],
                condition=models.Q(status="open"),
                name="dispute_one_open_per_lead",
            ),
        )

    def __str__(self) -> str:
        return f"dispute {self.pk} on lead {self.lead_id} ({self.status})"


class ClosedPeriod(models.Model):
    """A measured period whose figures are frozen: later data shows as a restatement, never silently."""

    agreement_version = models.ForeignKey(
        "agreements.AgreementVersion", on_delete=models.PROTECT, related_name="closed_periods"
    )
    period = models.CharField(max_length=16)
    closed_at = models.DateTimeField()
    closed_by = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    measured_at = models.DateTimeField(help_text="the 'now' the stored figures were measured at")

    class Meta:
        ordering = ("agreement_version", "period")
        constraints = (
            models.UniqueConstraint(fields=["agreement_version", "period"], name="closed_period_once"),
        )

    def __str__(self) -> str:
        return f"{self.period} closed ({self.agreement_version_id})"


class ClosedMeasurement(models.Model):
    """One stored figure of a closed period: commitment × subject, with its evidence as JSON."""

    closed_period = models.ForeignKey(ClosedPeriod, on_delete=models.CASCADE, related_name="measurements")
    commitment_key = models.SlugField(max_length=64)
    subject = models.CharField(max_length=32, help_text="team:<id> or person:<id>")
    data = models.JSONField(help_text="actual, target, status … as text, evidence as lead ids")

    class Meta:
        ordering = ("closed_period", "commitment_key", "subject")
        constraints = (
            models.UniqueConstraint(
                fields=["closed_period", "commitment_key", "subject"], name="closed_measurement_once"
            ),
        )

    def __str__(self) -> str:
        return f"{self.commitment_key} {self.subject}"


class Restatement(models.Model):
    """Recomputed figures of a closed period that differ from the stored ones, until a party lead accepts."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        ACCEPTED = "accepted", _("accepted")
        SUPERSEDED = "superseded", _("superseded")

    closed_period = models.ForeignKey(ClosedPeriod, on_delete=models.CASCADE, related_name="restatements")
    created_at = models.DateTimeField()
    measured_at = models.DateTimeField()
    differences = models.JSONField(help_text="[{commitment, subject, field, stored, recomputed}]")
    figures = models.JSONField(help_text="the recomputed figures, keyed like ClosedMeasurement")
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    accepted_by = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = (
            models.UniqueConstraint(
                fields=["closed_period", "fingerprint"], name="restatement_once_per_difference"
            ),
        )

    def __str__(self) -> str:
        return f"restatement {self.pk} of {self.closed_period} ({self.status})"


class AlertWebhook(models.Model):
    """Where a team's (or, without team, the organisation's) alerts are POSTed as ``{"text": …}``."""

    organization = models.ForeignKey("organization.Organization", on_delete=models.CASCADE, related_name="+")
    team = models.OneToOneField(
        "organization.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="alert_webhook"
    )
    url = models.URLField(max_length=500, help_text="Slack or Teams incoming webhook URL")
    active = models.BooleanField(default=True)

    class Meta:
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
        ordering = ("deliver_at", "id")
        constraints = (
            models.UniqueConstraint(
                fields=["lead", "commitment_key", "threshold", "recipient", "channel"], name="alert_once"
            ),
        )
        indexes = (models.Index(fields=["status", "deliver_at"], name="alert_status_due"),)

    def __str__(self) -> str:
        return f"{self.channel} to {self.address}: {self.subject} ({self.status})"


class EventSnapshot(models.Model):
    """Which columnar copy of an organisation's lead events is current, and how far it reaches.

    The copy is a directory under ``DATA_DIR/snapshots`` named by ``token`` (:mod:`._snapshot`): it holds
    exactly ``events`` events, the highest id among them ``upto_id``. A recreated database has no row
    (or a new token), so it never reads a file written for another.
    """

    organization = models.OneToOneField(
        "organization.Organization", on_delete=models.CASCADE, related_name="+"
    )
    token = models.CharField(max_length=32)
    upto_id = models.BigIntegerField(help_text="the highest event id in the snapshot")
    events = models.BigIntegerField(help_text="how many events the snapshot holds")
    built_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"events of organisation {self.organization_id} up to id {self.upto_id} ({self.token})"
