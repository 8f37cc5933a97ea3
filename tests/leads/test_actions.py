"""leads.actions: a person's actions on a lead are events stored by the API's path, refused with a reason
when the input is wrong, and audited once (a replay stores nothing twice)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from leadpact.agreements.services import agreement_version_document
from leadpact.audit.models import AuditEntry
from leadpact.errors import ApplicationError
from leadpact.leads.actions import lead_attempt, lead_reject
from leadpact.leads.models import LeadEvent, LeadState
from tests.measurement.scene import add_lead, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(demo):
    now = timezone.now()
    return add_lead(
        demo.agreement.organization, "x1", events=[("handed_over", now - dt.timedelta(hours=1), {})]
    )


def test_other_needs_a_text_and_an_unknown_code_is_refused(demo, lead):
    codes = agreement_version_document(demo).reason_codes
    with pytest.raises(ApplicationError, match="needs a text"):
        lead_reject(lead=lead, actor="test", reason_code="other", reason=" ", reason_codes=codes)
    with pytest.raises(ApplicationError, match="not in the agreement's list"):
        lead_reject(lead=lead, actor="test", reason_code="nope", reason_codes=codes)
    assert not LeadEvent.objects.filter(lead=lead, kind="rejected").exists()
    lead_reject(lead=lead, actor="test", reason_code="other", reason="a reseller", reason_codes=codes)
    assert LeadState.objects.get(lead=lead).reason_code == "other"


def test_the_same_attempt_twice_is_one_event_and_one_audit_entry(lead):
    at = timezone.now() - dt.timedelta(minutes=5)
    julia = person("julia")
    first = lead_attempt(lead=lead, actor="test", by=julia, channel="phone", occurred_at=at)
    again = lead_attempt(lead=lead, actor="test", by=julia, channel="phone", occurred_at=at)
    assert first.pk == again.pk
    assert AuditEntry.objects.filter(action="lead.contact_attempt").count() == 1
    with pytest.raises(ApplicationError, match="channel"):
        lead_attempt(lead=lead, actor="test", channel="pigeon")
    with pytest.raises(ApplicationError, match="future"):
        lead_attempt(
            lead=lead, actor="test", channel="phone", occurred_at=timezone.now() + dt.timedelta(days=1)
        )
