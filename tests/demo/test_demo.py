"""The demo: an organisation, a signed agreement in force, and weeks of believable lead traffic."""

from __future__ import annotations

import datetime as dt

import pytest

from leadpact.demo.services import demo_load
from leadpact.leads.models import HandoffCheck, Lead, LeadEvent

NOW = dt.datetime(2026, 2, 2, 9, 0, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_demo_leads_are_deterministic_complete_and_loaded_once():
    summary = demo_load(now=NOW)
    leads = Lead.objects.count()
    events = LeadEvent.objects.count()
    assert 800 < leads < 2000, summary
    assert f"{leads} leads ({leads} new)" in summary
    assert not LeadEvent.objects.filter(occurred_at__gte=NOW).exists()
    assert LeadEvent.objects.filter(kind="created").count() == leads
    handed = LeadEvent.objects.filter(kind="handed_over").count()
    checks = HandoffCheck.objects.all()
    assert checks.count() == handed
    assert all(c.definition_version_id is not None for c in checks[:50])
    met = checks.filter(met=True).count()
    assert 0.6 * handed < met < handed  # most meet the MQL definition, not all
    rejected = LeadEvent.objects.filter(kind="rejected")
    assert rejected.exists()
    without_code = [e for e in rejected if not e.data.get("reason_code")]
    assert 0 < len(without_code) < 0.2 * rejected.count()  # the silent rejections the review should catch
    assert LeadEvent.objects.filter(kind="contact_attempt", data__human=False).exists()
    feedback = LeadEvent.objects.filter(kind="feedback")
    assert feedback.exists() and all(e.data.get("reason_code") for e in feedback)  # dispositions with codes

    again = demo_load(now=NOW)
    assert (Lead.objects.count(), LeadEvent.objects.count()) == (leads, events)
    assert "(0 new)" in again
