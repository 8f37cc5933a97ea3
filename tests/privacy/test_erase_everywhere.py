"""Erasure reaches every copy of a lead's personal data: after ``lead_erase`` no row of any table — every
model, every field, request bodies included — holds the lead's name, e-mail address, phone number, company
or job title, while another lead in the same requests keeps its own; scorecards do not move; the export
before it lists the copies that have no key to the lead (webhook bodies, import problems, review texts)."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from django.apps import apps
from django.test import Client

from leadpact.audit.selectors import audit_chain_verify
from leadpact.connectors.webhooks import sign_generic
from leadpact.leads.models import ImportJob, ImportProblem, Lead, PullConnector, WebhookDelivery
from leadpact.leads.services import webhook_integration_create
from leadpact.measurement.alerts.models import Alert
from leadpact.measurement.clocks.services import clocks_update
from leadpact.measurement.disputes.services import dispute_open
from leadpact.measurement.scorecard.results import result_data
from leadpact.measurement.scorecard.selectors import measure
from leadpact.organization.models import Person, Team
from leadpact.outbox.models import OutboxAttachment, OutboxMessage
from leadpact.privacy.services import lead_erase, lead_export_record, retention_apply
from leadpact.reviews.models import Review
from leadpact.reviews.services import (
    decision_add,
    review_close,
    review_for_day,
    review_note_post,
    series_create,
)
from tests.measurement.scene import GOOD, NINE_TO_FIVE, local, person

pytestmark = pytest.mark.django_db

SECRET = "privacy-signing-secret-0123456789"
ANN = {
    "name": "Ann Bos",
    "email": "ann.bos@example.nl",
    "phone": "+31 6 1111 2222",
    "company": "Bos Advies BV",
    "job_title": "Chief Financial Officer",
}
KEES = {
    "name": "Kees Jong",
    "email": "kees.jong@example.nl",
    "company": "Jong Techniek",
    "phone": "+31 6 3333",
}
NOW = local(2026, 10, 28, 12)


def _lead(ext: str, fields: dict[str, str]) -> dict[str, Any]:
    values = {
        **GOOD,
        **fields,
        "extra": {"linkedin": f"https://www.linkedin.com/in/{fields['email'].split('@')[0]}"},
    }
    return {
        "external_id": ext,
        "created_at": "2026-10-06T09:00:00+02:00",
        "sales_owner": "julia.bos@example.com",
        "marketing_owner": "daan.bakker@example.com",
        "fields": values,
    }


def _deliver(payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    headers = sign_generic(body, secret=SECRET, timestamp=int(time.time()))
    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    response = Client().post("/hooks/generic/forms/", data=body, content_type="application/json", **meta)
    assert response.status_code == 200 and response.json()["status"] == "processed", response.content


@pytest.fixture
def scene(demo):
    """Ann and Kees arrive by a signed webhook (one request, both leads); Ann's clock breaches (alerts),
    a rep writes about her (a call note, a dispute, a review note and a decision), the review closes (its
    pack), an import and a CRM pull quoted her address."""
    org = demo.agreement.organization
    Team.objects.filter(organization=org, key="sales").update(calendar=NINE_TO_FIVE)
    webhook_integration_create(
        organization=org, kind="generic", name="forms", slug="forms", secret=SECRET, actor="test"
    )
    handoff = "2026-10-06T10:00:00+02:00"
    _deliver(
        {
            "source": "forms",
            "leads": [_lead("F-101", ANN), _lead("F-102", KEES)],
            "events": [
                {"external_id": "F-101", "kind": "handed_over", "occurred_at": handoff},
                {"external_id": "F-102", "kind": "handed_over", "occurred_at": handoff},
            ],
        }
    )
    clocks_update(now=local(2026, 10, 6, 10, 50))  # 80% of Ann's (and Kees') first hour: alerts name them
    _deliver(
        {
            "source": "forms",
            "events": [
                {
                    "external_id": "F-101",
                    "kind": "contact_attempt",
                    "occurred_at": "2026-10-06T10:55:00+02:00",
                    "human": True,
                    "channel": "phone",
                    "data": {"note": "Ann Bos asked to be called on +31 6 1111 2222"},
                }
            ],
        }
    )
    ann = Lead.objects.get(email=ANN["email"])
    julia = person("julia")
    dispute_open(
        lead=ann,
        commitment_key="mql-volume",
        opened_by=julia,
        reason="Ann Bos is a student; ann.bos@example.nl is a university alias",
        now=local(2026, 10, 7, 9),
    )
    series = series_create(
        agreement=demo.agreement,
        key="weekly",
        name="Weekly operating review",
        rrule="FREQ=WEEKLY;BYDAY=MO",
        starts_on=dt.date(2026, 1, 5),
        time=dt.time(10, 0),
        actor="test",
        now=local(2026, 1, 1, 9),
    )
    review = review_for_day(series=series, day=dt.date(2026, 10, 12))
    review_note_post(
        author=julia,
        direction="sales_to_marketing",
        category="lead_quality",
        text="Ann Bos (Bos Advies BV) wants a proposal before the budget round",
        now=local(2026, 10, 8, 9),
        review=review,
        lead=ann,
    )
    sanne = Person.objects.get(email__startswith="sanne")
    decision_add(
        review=review,
        text="Call ann.bos@example.nl with the CFO package",
        author=sanne,
        now=local(2026, 10, 12, 10),
    )
    review_close(review=review, person=sanne, now=local(2026, 10, 12, 11))
    job = ImportJob.objects.create(
        organization=org,
        file_name="contacts.csv",
        fingerprint="f" * 64,
        mapping={},
        started_at=local(2026, 10, 9, 9),
    )
    ImportProblem.objects.create(
        job=job, row=7, column="Email", reason="'ann.bos@example.nl' is on row 3 too"
    )
    PullConnector.objects.create(
        organization=org,
        kind="hubspot",
        name="crm",
        token_sealed="sealed",
        created_at=local(2026, 10, 1, 9),
        last_result="1 contacts in 1 page(s); 1 note(s): lead 0: email: 'ann.bos@example.nl' is a list",
    )
    # the mail kept outside production: an alert that names her, a pack's PDF beside its HTML
    message = OutboxMessage.objects.create(
        organization=org,
        sent_at=local(2026, 10, 6, 10, 50),
        from_email="leadpact@localhost",
        to=["julia.bos@example.com"],
        subject="At risk: Ann Bos",
        body="Ann Bos (ann.bos@example.nl) waits for a first call",
        html="<p>Ann Bos, Bos Advies BV</p>",
    )
    OutboxAttachment.objects.create(
        message=message, name="pack.pdf", content_type="application/pdf", size=7, content=b"Ann Bos"
    )
    return demo, ann, Lead.objects.get(email=KEES["email"])


def _database_text() -> str:
    """Every value of every row of every table, as text (bytes decoded), one long string."""
    parts: list[str] = []
    for model in apps.get_models(include_auto_created=True):
        for row in model._base_manager.values_list():
            for value in row:
                if isinstance(value, bytes | memoryview):
                    value = bytes(value).decode("utf-8", "replace")
                parts.append(value if isinstance(value, str) else json.dumps(value, default=str))
    return "\n".join(parts)


def _personal(values: dict[str, str]) -> list[str]:
    return [*values.values(), f"linkedin.com/in/{values['email'].split('@')[0]}"]


def _scorecard(version):
    return [result_data(r) for r in measure(version=version, period="2026-10", now=NOW)]


def test_no_table_holds_the_erased_leads_data_and_the_other_lead_keeps_its_own(scene):
    version, ann, kees = scene
    text = _database_text().casefold()
    for value in _personal(ANN):  # the scene did put them everywhere
        assert value.casefold() in text, value
    assert Alert.objects.filter(lead=ann).exists() and WebhookDelivery.objects.count() == 2
    before = _scorecard(version)
    exported = lead_export_record(lead=ann, actor="dpo", now=NOW)
    mentions = exported["mentions"]
    assert {"leads.webhookdelivery", "leads.importproblem", "reviews.text"} <= set(mentions)
    assert len(mentions["leads.webhookdelivery"]) == 2
    assert "Ann Bos" in mentions["leads.webhookdelivery"][0]["body"]

    lead_erase(lead=ann, actor="dpo", now=NOW, reason="request 7")

    text = _database_text().casefold()
    left = [value for value in _personal(ANN) if value.casefold() in text]
    assert left == []
    for value in _personal(KEES):  # Kees, in the same request, is untouched
        assert value.casefold() in text, value
    assert Lead.objects.get(pk=kees.pk).email == KEES["email"]
    assert _scorecard(version) == before
    body = json.loads(bytes(WebhookDelivery.objects.order_by("pk").first().body))  # still JSON, same shape
    assert [lead["external_id"] for lead in body["leads"]] == ["F-101", "F-102"]
    assert body["leads"][0]["fields"]["email"] == "[erased]" and body["leads"][0]["fields"]["country"] == "NL"
    review = Review.objects.get(status="closed")
    assert review.pack is not None and "[erased]" in json.dumps(review.pack)
    entry = apps.get_model("audit", "AuditEntry").objects.filter(action="privacy.lead_erase").get()
    assert {"webhook_deliveries", "import_problems", "disputes", "alerts", "outbox_messages"} <= set(
        entry.after["stores"]
    )
    assert not OutboxAttachment.objects.exists()  # a PDF that may name her is not searched: it goes
    assert audit_chain_verify().ok


def test_retention_empties_old_request_bodies_and_import_problems(scene):
    _, ann, kees = scene
    Lead.objects.filter(pk__in=[ann.pk, kees.pk]).update(created_at=local(2024, 1, 1, 9))
    WebhookDelivery.objects.update(received_at=local(2024, 1, 1, 9))
    ImportJob.objects.update(started_at=local(2024, 1, 1, 9))
    report = retention_apply(now=NOW, months=24)
    assert report.anonymised == 2
    text = _database_text().casefold()
    assert [v for v in (*_personal(ANN), *_personal(KEES)) if v.casefold() in text] == []
    entry = apps.get_model("audit", "AuditEntry").objects.get(action="privacy.retention")
    assert entry.after["stores"]["webhook_deliveries"] == 2 and entry.after["leads_anonymised"] == 2
