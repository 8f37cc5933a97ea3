"""What the demo has mailed, kept in the outbox (only when the outbox is the e-mail backend: a demo loaded
where mail goes out by SMTP sends nothing to its invented people).

The worker's own services do the sending: ``reviews_send_due`` mailed the last held monthly review's pack
(the PDF attached, the HTML beside the text) the day before it, run at that moment, so the message is
dated then (the earlier reviews' packs are left out for the load time, :data:`PACKS`); ``alerts_deliver``
sends the SLA alerts due now (none at night: they wait for the recipient's working hours, as they would in
production; ``leadpact worker`` sends them then).

The held review is closed by the time the demo mails it, so its pack is the frozen one (with the
meeting's minutes): the content a little ahead of its date, which the demo accepts for one render.
"""

from __future__ import annotations

import datetime as dt

from leadpact.measurement.alerts.services import alerts_deliver
from leadpact.organization.models import Organization
from leadpact.outbox.models import OutboxMessage
from leadpact.outbox.selectors import outbox_in_use
from leadpact.reviews.models import Review
from leadpact.reviews.services import reviews_send_due

__all__ = ["PACKS", "demo_mail_load"]

#: how many of the latest held reviews' packs the demo mails: each PDF is ~3.4 s of CPU (WeasyPrint),
#: about a tenth of the whole demo's load, so one
PACKS = 1


def demo_mail_load(organization: Organization, *, now: dt.datetime) -> int:
    """Mail the last held review's pack (at its time) and the alerts due now, unless the outbox has the
    organisation's mail already; returns how many messages were sent."""
    if not outbox_in_use() or OutboxMessage.objects.filter(organization=organization).exists():
        return 0
    sent = 0
    held = Review.objects.filter(
        series__agreement__organization=organization,
        series__send_before_hours__gt=0,
        emailed_at__isnull=True,
        starts_at__lt=now,
    ).select_related("series")
    for review in held.order_by("-starts_at")[:PACKS]:
        # the worker's pass a few minutes after the pack became due
        at = review.starts_at - dt.timedelta(hours=review.series.send_before_hours, minutes=-4)
        sent += reviews_send_due(now=at)
    return sent + alerts_deliver(now=now, organization=organization).sent
