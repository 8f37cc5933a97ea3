"""The child process that prepares the scale-out test's database (``test_scale_out.py``): migrate, the demo
organisation with its agreement in force, a 9–17 sales calendar, an API token, a generic webhook sender,
an alert webhook for the sales team and a review series whose pack is due at the workers' instant.

    python -m tests.deploy.scaleout_setup HOOK_URL SIGNING_SECRET    # prints {"token": "lp_…"}

Run with the test's environment (``DATABASE_URL`` the fresh database, the shared ``SECRET_KEY`` and
``LEADPACT_AUDIT_KEY``, ``LEADPACT_ALERT_WEBHOOKS_ALLOW_PRIVATE=1`` for the loopback receiver).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from zoneinfo import ZoneInfo

AMS = ZoneInfo("Europe/Amsterdam")
NINE_TO_FIVE = {
    "timezone": "Europe/Amsterdam",
    "hours": {"mon-fri": ["09:00-17:00"]},
    "holidays": {"country": "NL"},
}


def main(hook_url: str, secret: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadpact.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from leadpact.agreements.models import AgreementVersion
    from leadpact.demo.services import demo_load
    from leadpact.leads.services import api_token_create, webhook_integration_create
    from leadpact.measurement.alerts.models import AlertWebhook
    from leadpact.measurement.alerts.services import alert_webhook_save
    from leadpact.organization.models import Team
    from leadpact.reviews.services import series_create

    demo_load(with_leads=False)
    version = AgreementVersion.objects.select_related("agreement__organization").get(status="active")
    organization = version.agreement.organization
    Team.objects.filter(organization=organization, key="sales").update(calendar=NINE_TO_FIVE)
    sales = Team.objects.get(organization=organization, key="sales")
    _, token = api_token_create(organization=organization, name="scale-out", scope="write", actor="test")
    webhook_integration_create(
        organization=organization, kind="generic", name="forms", slug="forms", secret=secret, actor="test"
    )
    alert_webhook_save(
        webhook=AlertWebhook(organization=organization, team=sales, url=hook_url), actor="test"
    )
    # Wednesdays 10:00; the pack goes out 24 hours before: due at the workers' Tuesday 11:30
    series_create(
        agreement=version.agreement,
        key="weekly",
        name="Weekly operating review",
        rrule="FREQ=WEEKLY;BYDAY=WE",
        starts_on=dt.date(2026, 9, 2),
        time=dt.time(10, 0),
        send_before_hours=24,
        actor="test",
        now=dt.datetime(2026, 9, 1, 9, tzinfo=AMS),
    )
    print(json.dumps({"token": token}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
