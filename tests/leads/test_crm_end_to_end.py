"""Issue 15, done when: a CSV plus the webhooks of the same contacts measure exactly as the CSV alone.

The webhooks report the same facts to the millisecond that the export gives to the minute (and an owner
by HubSpot user id where the export names them), plus a lead status change that is no contact attempt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.utils import timezone

from leadpact.leads.imports import lead_import
from leadpact.leads.models import LeadEvent, WebhookDelivery
from leadpact.leads.services import webhook_integration_create
from leadpact.leads.webhooks import webhook_delivery_process
from leadpact.measurement.scorecard.selectors import measure_periods
from leadpact.organization.models import Person

AMS = ZoneInfo("Europe/Amsterdam")
NOW = dt.datetime(2026, 10, 31, 12, tzinfo=dt.UTC)
HEADER = (
    "Record ID,First Name,Last Name,Email,Country/Region,HubSpot Score,Recent Conversion,"
    "Legal basis for processing contact's data,Contact owner,Create Date,Owner assigned date,"
    "Became a Marketing Qualified Lead Date,Last Contacted\n"
)
# (id, day, created, assigned, handed over, last contacted): local times, minutes as an export gives them
CONTACTS = [
    (601, 6, "09:10", "09:40", "09:40", "09:41"),  # called a minute after the handoff
    (602, 7, "10:00", "10:00", "10:00", "10:58"),  # within the hour
    (603, 8, "13:00", "13:20", "13:20", "16:40"),  # hours later: breached for the 1-hour clause
    (604, 13, "08:55", "09:05", "09:05", ""),  # never contacted
    (605, 14, "15:30", "15:31", "15:31", "15:31"),  # called within the same minute as the handoff
]


def _local(day: int, hhmm: str) -> dt.datetime:
    hour, minute = map(int, hhmm.split(":"))
    return dt.datetime(2026, 10, day, hour, minute, tzinfo=AMS)


def csv_text() -> str:
    rows = [
        f"{rid},Lead,{rid},lead{rid}@example.nl,Netherlands,70,demo_request,"
        "Freely given consent from contact,"
        f"Julia Bos,2026-10-{day:02d} {created},2026-10-{day:02d} {assigned},2026-10-{day:02d} {handed},"
        + (f"2026-10-{day:02d} {called}" if called else "")
        for rid, day, created, assigned, handed, called in CONTACTS
    ]
    return HEADER + "\n".join(rows) + "\n"


def webhook_body(rid: int, day: int, created: str, assigned: str, handed: str) -> bytes:
    def ms(at: dt.datetime, extra_ms: int) -> int:
        return int(at.timestamp() * 1000) + extra_ms

    def change(name: str, value: str, at: int, n: int) -> dict:
        return {"subscriptionType": "object.propertyChange", "objectTypeId": "0-1", "objectId": rid,
                "propertyName": name, "propertyValue": value, "occurredAt": at, "eventId": n,
                "subscriptionId": 1, "portalId": 1, "attemptNumber": 0}  # fmt: skip

    return json.dumps(
        [
            {"subscriptionType": "contact.creation", "objectId": rid,
             "occurredAt": ms(_local(day, created), 12_345), "eventId": 1, "subscriptionId": 2,
             "portalId": 1, "attemptNumber": 0},
            change("hubspot_owner_id", "7301", ms(_local(day, assigned), 456), 2),
            change("lifecyclestage", "marketingqualifiedlead", ms(_local(day, handed), 123), 3),
            change("hs_lead_status", "ATTEMPTED_TO_CONTACT", ms(_local(day, handed), 30_000), 4),
        ]
    ).encode()  # fmt: skip


def figures(version) -> list[tuple]:
    results = measure_periods(version=version, periods=["2026-10"], now=NOW)["2026-10"]
    return sorted(
        (r.commitment_key, r.subject_kind, r.subject_id, r.metric, r.actual, r.status, r.sample_size,
         r.attainment)
        for r in results
    )  # fmt: skip


def test_csv_plus_webhooks_measure_as_the_csv_alone(demo, tmp_path: Path):
    organization = demo.agreement.organization
    julia = Person.objects.get(team__organization=organization, email="julia.bos@example.com")
    call_command("crm_ids", "set", julia.email, "--crm", "hubspot", "--id", "7301", "--by", julia.email,
                 stdout=io.StringIO())  # fmt: skip
    path = tmp_path / "contacts.csv"
    path.write_text(csv_text())
    outcome = lead_import(organization=organization, path=path, preset="hubspot")
    assert outcome.job.rows_imported == len(CONTACTS) and outcome.job.problems_count == 0
    csv_alone = figures(demo)
    assert any(f[4] for f in csv_alone)  # the leads were measured at all (consent, definition …)
    events_before = LeadEvent.objects.exclude(kind="voided").count()

    hook = webhook_integration_create(organization=organization, kind="hubspot", name="hs", slug="hs",
                                      secret="hubspot-client-secret-0123456789", actor="test")[0]  # fmt: skip
    for rid, day, created, assigned, handed, _called in CONTACTS:
        body = webhook_body(rid, day, created, assigned, handed)
        row = WebhookDelivery.objects.create(
            integration=hook, headers={}, body=body, body_digest=hashlib.sha256(body).digest(),
            received_at=timezone.now(),
        )  # fmt: skip
        done = webhook_delivery_process(row)
        assert done.status == "processed" and not done.error, done.error

    with_webhooks = figures(demo)
    assert with_webhooks == csv_alone
    voided = set(LeadEvent.objects.filter(kind="voided").values_list("data__event_id", flat=True))
    live = LeadEvent.objects.exclude(kind="voided").exclude(pk__in=voided)
    # every fact once: the webhooks' created/assigned/handed over replaced the export's; the status
    # change is a field change, not a contact attempt
    assert live.count() == events_before + len(CONTACTS)
    assert live.filter(kind="field_changed").count() == len(CONTACTS)
    assert live.filter(kind="contact_attempt").count() == 4
    assert live.filter(kind="handed_over").count() == len(CONTACTS)
