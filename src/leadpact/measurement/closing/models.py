"""The tables of closed periods: the stored figures and the restatements waiting for a party lead."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from leadpact.organization.models import Person

__all__ = ["ClosedMeasurement", "ClosedPeriod", "Restatement"]


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
        app_label = "measurement"
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
        app_label = "measurement"
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
        DECLINED = "declined", _("declined")

    closed_period = models.ForeignKey(ClosedPeriod, on_delete=models.CASCADE, related_name="restatements")
    created_at = models.DateTimeField()
    measured_at = models.DateTimeField()
    differences = models.JSONField(help_text="[{commitment, subject, field, stored, recomputed}]")
    figures = models.JSONField(help_text="the recomputed figures, keyed like ClosedMeasurement")
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    accepted_by = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField(null=True, blank=True)
    # who declined (or accepted) it and why; a declined difference is not recorded again
    note = models.TextField(blank=True)

    class Meta:
        app_label = "measurement"
        ordering = ("-created_at", "-id")
        constraints = (
            models.UniqueConstraint(
                fields=["closed_period", "fingerprint"], name="restatement_once_per_difference"
            ),
        )

    def __str__(self) -> str:
        return f"restatement {self.pk} of {self.closed_period} ({self.status})"
