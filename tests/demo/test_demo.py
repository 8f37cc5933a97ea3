"""The demo: an organisation, a signed agreement in force, and weeks of believable lead traffic."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from leadpact.demo.services import demo_load
from leadpact.leads.models import HandoffCheck, Lead, LeadEvent
from leadpact.organization.models import Organization, Person
from leadpact.organization.services import organization_create

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


@pytest.mark.django_db
def test_reset_refuses_a_database_that_holds_other_organisations():
    call_command("demo", "--no-leads", verbosity=0)
    organization_create(key="acme", name="Acme", actor="test")
    with pytest.raises(CommandError, match="other organisations too \\(acme\\)"):
        call_command("demo", "--reset", "--no-leads", verbosity=0)
    assert Organization.objects.count() == 2 and Person.objects.filter(team__organization__key="noordkaap")


@pytest.mark.django_db(transaction=True)
def test_reset_loads_the_demo_afresh(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("demo", "--no-leads", verbosity=0)
    Person.objects.filter(email="milan.visser@example.com").update(name="Someone else")
    out = io.StringIO()
    call_command("demo", "--reset", "--no-leads", stdout=out)
    assert "14 people (14 new)" in out.getvalue()
    assert Person.objects.get(email="milan.visser@example.com").name == "Milan Visser"
    with pytest.raises(CommandError, match="at least 1"):
        call_command("demo", "--leads", "0")
