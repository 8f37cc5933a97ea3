"""Every table of the ``measurement`` app, each defined in its room; here too the event snapshot's row.

The rooms: targets (overrides), clocks, alerts (outbox and webhooks), disputes, closing (closed periods,
stored figures, restatements). They keep the app label ``measurement`` and their tables' names.
"""

from __future__ import annotations

from django.db import models

from leadpact.measurement.alerts.models import Alert, AlertWebhook
from leadpact.measurement.clocks.models import LeadClock
from leadpact.measurement.closing.models import ClosedMeasurement, ClosedPeriod, Restatement
from leadpact.measurement.disputes.models import Dispute
from leadpact.measurement.targets.models import TargetOverride

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


class EventSnapshot(models.Model):
    """Which columnar copy of an organisation's lead events is current in one data folder, and how far it
    reaches.

    The copy is a directory under ``DATA_DIR/snapshots`` named by ``token`` (:mod:`._snapshot`): it holds
    exactly ``events`` events, the highest id among them ``upto_id``. A recreated database has no row
    (or a new token), so it never reads a file written for another. Each data folder (``place``: a random
    name kept in the folder) has a row of its own, so machines that share the database but not a disk
    each keep their copy instead of rebuilding over each other's.
    """

    organization = models.ForeignKey("organization.Organization", on_delete=models.CASCADE, related_name="+")
    place = models.CharField(max_length=32, default="", help_text="the data folder that holds the copy")
    token = models.CharField(max_length=32)
    upto_id = models.BigIntegerField(help_text="the highest event id in the snapshot")
    events = models.BigIntegerField(help_text="how many events the snapshot holds")
    built_at = models.DateTimeField()

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["organization", "place"], name="event_snapshot_one_per_place"),
        )

    def __str__(self) -> str:
        return f"events of organisation {self.organization_id} up to id {self.upto_id} ({self.token})"
