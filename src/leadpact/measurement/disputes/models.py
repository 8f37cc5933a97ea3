"""The table of disputes: sales contests that a lead met the definition."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from leadpact.organization.models import Person

__all__ = ["Dispute"]


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
        app_label = "measurement"
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
