"""The measurement admin: every page opens with real rows; disputes are decided through the service."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from leadpact.agreements.models import AgreementVersion
from leadpact.demo.services import demo_load
from leadpact.leads.models import HandoffCheck
from leadpact.measurement.clocks.services import clocks_update
from leadpact.measurement.disputes.services import dispute_open
from leadpact.measurement.models import Dispute
from leadpact.measurement.targets.services import target_override_set
from leadpact.organization.models import Person

NOW = dt.datetime(2026, 1, 20, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def scene(db):
    demo_load(now=NOW)
    version = AgreementVersion.objects.get(status="active")
    clocks_update(now=NOW)
    rep = Person.objects.get(email="julia.bos@example.com")
    check = HandoffCheck.objects.filter(met=True).order_by("pk").first()
    dispute = dispute_open(
        lead=check.lead, commitment_key="mql-volume", opened_by=rep, reason="student, not a buyer", now=NOW
    )
    target_override_set(
        agreement=version.agreement,
        commitment_key="mql-volume",
        period="2026-01",
        person=Person.objects.get(email="daan.bakker@example.com"),
        value=Decimal(150),
        reason="trade fair week",
        actor="test",
    )
    lead = Person.objects.get(email="sanne.devries@example.com")
    lead.user.is_staff = lead.user.is_superuser = True
    lead.user.save()
    client = Client()
    client.force_login(lead.user)
    return client, dispute


def test_every_measurement_admin_page_opens(scene):
    client, _ = scene
    for model in admin.site._registry:
        opts = model._meta
        if opts.app_label != "measurement":
            continue
        assert client.get(reverse(f"admin:measurement_{opts.model_name}_changelist")).status_code == 200
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            url = reverse(f"admin:measurement_{opts.model_name}_change", args=[obj.pk])
            assert client.get(url).status_code == 200, opts.label


def test_a_party_lead_upholds_a_dispute_from_the_admin(scene):
    client, dispute = scene
    response = client.post(
        reverse("admin:measurement_dispute_changelist"),
        {"action": "uphold", "_selected_action": [dispute.pk]},
        follow=True,
    )
    assert response.status_code == 200
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.UPHELD
    assert dispute.decided_by.email == "sanne.devries@example.com"
