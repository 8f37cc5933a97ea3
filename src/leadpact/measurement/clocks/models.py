"""The table of SLA clocks, as the last clock pass saw them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from leadpact.organization.models import Person

__all__ = ["LeadClock"]


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
        app_label = "measurement"
        ordering = ("due_at", "id")
        constraints = (models.UniqueConstraint(fields=["lead", "commitment_key"], name="lead_clock_once"),)
        indexes = (models.Index(fields=["state", "due_at"], name="lead_clock_state_due"),)

    def __str__(self) -> str:
        return f"{self.commitment_key} clock of lead {self.lead_id}: {self.state}"
