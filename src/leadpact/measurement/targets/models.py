"""The table of targets set by hand: a person's target for one commitment and period."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from leadpact.agreements.models import Agreement
from leadpact.organization.models import Person

__all__ = ["TargetOverride"]


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
        app_label = "measurement"
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
