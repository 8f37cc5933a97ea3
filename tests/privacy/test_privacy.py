"""Privacy (GDPR / AVG): erasure keeps every figure, export finds everything, retention anonymises the
old leads only; all of it audited without personal values; logs carry no personal data."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.core.management import call_command
from django.test import Client

from leadpact.audit.models import AuditEntry
from leadpact.audit.selectors import audit_chain_verify
from leadpact.leads.models import Lead, LeadEvent
from leadpact.measurement.scorecard.results import result_data
from leadpact.measurement.scorecard.selectors import measure
from leadpact.privacy.services import (
    PERSONAL_FIELDS,
    lead_erase,
    lead_export_record,
    months_before,
    person_export_record,
    retention_apply,
)
from tests.measurement.scene import add_lead, local, person

pytestmark = pytest.mark.django_db

NOW = local(2026, 10, 28, 12)


@pytest.fixture
def leads(demo):
    org = demo.agreement.organization
    made = [
        add_lead(
            org,
            "ann",
            name="Ann Bos",
            email="ann.bos@example.nl",
            job_title="CFO",
            events=[
                ("handed_over", local(2026, 10, 5, 10), {}),
                ("assigned", local(2026, 10, 5, 10, 5), {}),
                ("contact_attempt", local(2026, 10, 5, 11), {"human": True}),
                ("accepted", local(2026, 10, 5, 12), {}),
                ("won", local(2026, 10, 20, 10), {"amount": "1500.50"}),
            ],
        ),
        add_lead(
            org,
            "piet",
            name="Piet Smit",
            email="piet.smit@example.nl",
            phone="+31 6 1234 5678",
            events=[
                ("handed_over", local(2026, 10, 6, 10), {}),
                ("rejected", local(2026, 10, 6, 15), {"reason_code": "no-budget", "reason": "Piet said no"}),
            ],
        ),
        add_lead(org, "kees", name="Kees Jong", events=[("handed_over", local(2026, 10, 7, 9), {})]),
    ]
    return demo, made


def _scorecard(version):
    return [result_data(r) for r in measure(version=version, period="2026-10", now=NOW)]


def test_erasure_blanks_the_person_and_keeps_every_figure(leads, django_capture_on_commit_callbacks):
    version, made = leads
    before = _scorecard(version)
    events_before = LeadEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        for lead in made:
            lead_erase(lead=lead, actor="dpo", now=NOW, reason="request 42")
    assert _scorecard(version) == before
    assert LeadEvent.objects.count() == events_before
    for lead in Lead.objects.filter(pk__in=[lead.pk for lead in made]):
        assert all(getattr(lead, field) == "" for field in PERSONAL_FIELDS)
        assert set(lead.extra) == {"erased"}
    rejected = LeadEvent.objects.get(kind="rejected")
    assert rejected.data["reason_code"] == "no-budget" and rejected.data["reason"] == ""
    entries = AuditEntry.objects.filter(action="privacy.lead_erase")
    assert entries.count() == 3
    trail = json.dumps([e.after for e in entries])
    assert "email" in trail and "ann.bos" not in trail and "Piet" not in trail  # field names, never values
    assert audit_chain_verify().ok


def test_export_of_a_lead_and_of_an_employee_holds_what_is_kept_about_them(leads):
    _, made = leads
    data = lead_export_record(lead=made[1], actor="dpo", now=NOW)
    text = json.dumps(data)
    assert data["lead"]["email"] == "piet.smit@example.nl" and "+31 6 1234 5678" in text
    assert {e["kind"] for e in data["related"]["leads.leadevent"]} == {"handed_over", "rejected"}
    assert "leads.leadsource" in data["related"]
    rep = person("julia")
    data = person_export_record(person=rep, actor="dpo", now=NOW)
    assert data["person"]["email"] == rep.email
    owned = {row["id"] for row in data["related"]["leads.lead"]}
    assert {lead.pk for lead in made} <= owned  # the leads she is the sales owner of
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"privacy.lead_export", "privacy.person_export"} <= actions


def test_retention_anonymises_only_leads_older_than_the_period_once(leads):
    _, made = leads
    old = made[0]
    Lead.objects.filter(pk=old.pk).update(created_at=local(2024, 9, 1, 9))
    report = retention_apply(now=NOW, months=24)
    assert report.cutoff == local(2024, 10, 28, 12) and report.anonymised == 1
    assert Lead.objects.get(pk=old.pk).email == ""
    assert Lead.objects.get(pk=made[1].pk).email == "piet.smit@example.nl"
    assert retention_apply(now=NOW, months=24).anonymised == 0
    entry = AuditEntry.objects.get(action="privacy.retention")
    assert entry.after["leads_anonymised"] == 1
    assert retention_apply(now=NOW, months=None).cutoff is None  # no setting: nothing happens


def test_months_before_clamps_to_the_end_of_a_shorter_month():
    assert months_before(local(2026, 5, 31, 8), 3) == local(2026, 2, 28, 8)
    assert months_before(local(2026, 1, 15, 8), 13) == local(2024, 12, 15, 8)


def test_the_command_line_erases_and_exports(leads):
    _, made = leads
    out = io.StringIO()
    call_command("privacy", "export", "--lead", str(made[2].pk), stdout=out)
    assert json.loads(out.getvalue())["lead"]["name"] == "Kees Jong"
    call_command("privacy", "erase", "--lead", str(made[2].pk), stdout=io.StringIO())
    assert Lead.objects.get(pk=made[2].pk).name == ""
    out = io.StringIO()
    call_command("privacy", "export", "--person", person("julia").email, stdout=out)
    assert json.loads(out.getvalue())["kind"] == "person"


def test_logs_carry_no_personal_data(leads, caplog, admin_client):
    _, made = leads
    caplog.set_level(logging.DEBUG)
    admin_client.get("/admin/leads/lead/", {"q": "ann.bos@example.nl"})
    admin_client.get("/leads/ann.bos@example.nl/")  # a 404 whose path holds an address
    Client().post("/api/leads", {"email": "piet.smit@example.nl"}, content_type="application/json")
    lead_erase(lead=made[0], actor="dpo", now=NOW)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Not Found" in logged  # the request log was captured
    for value in ("ann.bos", "piet.smit", "Ann Bos", "Piet Smit"):
        assert value not in logged
