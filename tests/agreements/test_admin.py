"""The admin: every registered model's list and change page open for a superuser; rules are checked."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib import admin
from django.urls import reverse

from leadpact.agreements.models import DefinitionVersion
from leadpact.audit.models import AuditEntry
from leadpact.organization.models import Leave
from leadpact.organization.services import leave_add, membership_grant
from tests.agreements.helpers import activate

pytestmark = pytest.mark.django_db

MINE = {"organization", "agreements", "audit"}


@pytest.fixture
def superuser_client(client, django_user_model):
    user = django_user_model.objects.create_superuser(username="root", email="", password=None)
    client.force_login(user)
    return client


@pytest.fixture
def everything(draft, leads):
    version = activate(draft, leads, dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    leave_add(person=leads[0], first_day=dt.date(2026, 2, 2), end_day=dt.date(2026, 2, 4), actor="test")
    membership_grant(user=leads[0].user, organization=draft.agreement.organization, actor="test")
    return version


def test_every_changelist_and_change_page_opens(superuser_client, everything):
    seen = set()
    for model in admin.site._registry:
        opts = model._meta
        response = superuser_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert response.status_code == 200, opts.label
        obj = model._default_manager.order_by("pk").first()
        if opts.app_label in MINE:
            assert obj is not None, f"no {opts.label} row to open"
            seen.add(opts.label)
        if obj is not None:
            response = superuser_client.get(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            )
            assert response.status_code == 200, opts.label
    assert seen == {
        "organization.Organization",
        "organization.Team",
        "organization.Person",
        "organization.Leave",
        "organization.Membership",
        "agreements.Agreement",
        "agreements.AgreementVersion",
        "agreements.DefinitionVersion",
        "agreements.Signature",
        "agreements.Commitment",
        "audit.AuditEntry",
    }


def test_a_signed_version_is_read_only_in_the_admin(superuser_client, everything):
    url = reverse("admin:agreements_agreementversion_change", args=[everything.pk])
    page = superuser_client.get(url).content.decode()
    assert 'name="document"' not in page and 'name="status"' not in page
    assert 'name="_save"' not in page
    assert "key: marketing-sales" in page  # the document, as its YAML


def test_a_rule_with_an_error_is_refused_in_the_admin_with_its_position(superuser_client, draft):
    url = reverse("admin:agreements_definitionversion_add")
    assert superuser_client.get(url).status_code == 200
    form = {
        "organization": draft.agreement.organization.pk,
        "key": "sql",
        "term": "SQL",
        "text": "A qualified lead.",
        "rule": "lead.score >= 50 && lead.budgett > 0",
    }
    response = superuser_client.post(url, form)
    assert response.status_code == 200
    assert "unknown field lead.budgett" in response.content.decode()
    assert "line 1, column 21" in response.content.decode()
    assert not DefinitionVersion.objects.filter(key="sql").exists()
    response = superuser_client.post(url, {**form, "rule": "lead.score >= 70"})
    assert response.status_code == 302
    created = DefinitionVersion.objects.get(key="sql")
    assert (created.number, len(created.content_hash)) == (1, 64)
    assert AuditEntry.objects.filter(action="definition.create", object_id=str(created.pk)).exists()


def test_a_change_in_the_admin_is_audited(superuser_client, leads):
    leave = leave_add(person=leads[0], first_day=dt.date(2026, 2, 2), end_day=dt.date(2026, 2, 4), actor="t")
    url = reverse("admin:organization_leave_change", args=[leave.pk])
    response = superuser_client.post(
        url, {"person": leads[0].pk, "first_day": "2026-02-02", "end_day": "2026-02-05", "note": "longer"}
    )
    assert response.status_code == 302
    assert Leave.objects.get().end_day == dt.date(2026, 2, 5)
    entry = AuditEntry.objects.get(action="leave.update")
    assert entry.actor_label == "root"
    assert entry.before == {"end_day": "2026-02-04", "note": ""}
    assert entry.after == {"end_day": "2026-02-05", "note": "longer"}


def test_an_inline_change_in_the_admin_is_audited(superuser_client, leads):
    lead = leads[1]
    team = lead.team
    url = reverse("admin:organization_team_change", args=[team.pk])
    form = {
        "organization": team.organization_id,
        "key": team.key,
        "name": team.name,
        "kind": team.kind,
        "calendar": json.dumps(team.calendar),
        "people-TOTAL_FORMS": "1",
        "people-INITIAL_FORMS": "1",
        "people-MIN_NUM_FORMS": "0",
        "people-MAX_NUM_FORMS": "1000",
        "people-0-id": lead.pk,
        "people-0-team": team.pk,
        "people-0-name": lead.name,
        "people-0-email": lead.email,
        "people-0-role": lead.role,
        "people-0-fte": "0.60",
        "people-0-start_date": lead.start_date.isoformat(),
        "people-0-end_date": "",
        "people-0-user": lead.user_id,
    }
    response = superuser_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    lead.refresh_from_db()
    assert str(lead.fte) == "0.60"
    entry = AuditEntry.objects.get(action="person.update", object_id=str(lead.pk))
    assert (entry.before, entry.after, entry.actor_label) == ({"fte": "1.00"}, {"fte": "0.60"}, "root")
    assert not AuditEntry.objects.filter(action="team.update").exists()  # the team itself did not change


def test_propose_from_the_version_list(superuser_client, draft):
    url = reverse("admin:agreements_agreementversion_changelist")
    response = superuser_client.post(url, {"action": "propose", "_selected_action": [draft.pk]})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "proposed"
    assert AuditEntry.objects.get(action="version.propose").actor_label == "root"
    response = superuser_client.post(url, {"action": "activate", "_selected_action": [draft.pk]}, follow=True)
    assert "only a signed version can be activated" in response.content.decode()
