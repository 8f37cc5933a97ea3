"""Within an organisation, writes that shape the figures need the right person, and leave a trace."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from leadpact.audit.models import AuditEntry
from leadpact.errors import ApplicationError
from leadpact.measurement.closing.services import period_close, restatement_record
from leadpact.measurement.models import Restatement, TargetOverride
from leadpact.measurement.targets.services import target_override_remove, target_override_set
from leadpact.organization.models import Membership
from tests.conftest import member_client
from tests.measurement.scene import add_lead, local, person

pytestmark = pytest.mark.django_db


def _override(demo, actor, who="daan"):
    return target_override_set(
        agreement=demo.agreement,
        commitment_key="mql-volume",
        period="2026-10",
        person=person(who),
        value=Decimal(100),
        reason="trade fair",
        actor=actor,
    )


def test_only_the_team_lead_or_an_admin_sets_a_persons_target(demo):
    org = demo.agreement.organization
    member_client(org, username="julia-login", person=person("julia"))  # a sales rep, a member
    member_client(org, username="sanne-login", person=person("sanne"))  # marketing's team lead
    member_client(org, username="bram-login", person=person("bram"))  # sales' team lead
    users = get_user_model().objects
    entries = AuditEntry.objects.count()
    for refused in ("julia-login", "bram-login"):  # a member; the lead of another team
        with pytest.raises(ApplicationError) as error:
            _override(demo, users.get(username=refused))
        assert error.value.code == "target_override.actor"
    assert not TargetOverride.objects.exists() and AuditEntry.objects.count() == entries

    override = _override(demo, users.get(username="sanne-login"))  # daan is in sanne's team
    assert AuditEntry.objects.filter(action="target.override").count() == 1

    admin = users.create_user(username="org-admin")
    Membership.objects.create(user=admin, organization=org, role=Membership.Role.ADMIN)
    _override(demo, admin)
    with pytest.raises(ApplicationError):
        target_override_remove(override=override, actor=users.get(username="julia-login"))
    assert TargetOverride.objects.count() == 1
    target_override_remove(override=override, actor=admin)
    assert not TargetOverride.objects.exists()


def test_the_admin_refuses_a_member_with_model_permissions(demo):
    org = demo.agreement.organization
    client = member_client(org, username="julia-login", person=person("julia"))
    user = get_user_model().objects.get(username="julia-login")
    user.is_staff = True
    user.save()
    from django.contrib.auth.models import Permission

    user.user_permissions.add(*Permission.objects.filter(codename__endswith="targetoverride"))
    response = client.post(
        reverse("admin:measurement_targetoverride_add"),
        {
            "agreement": demo.agreement.pk,
            "commitment_key": "mql-volume",
            "period": "2026-10",
            "person": person("daan").pk,
            "value": "100",
            "reason": "trade fair",
        },
    )
    assert response.status_code == 403  # the admin is for the organisation's admins only
    assert not TargetOverride.objects.exists()


def test_recording_a_restatement_needs_a_party_lead_and_is_audited(demo):
    org = demo.agreement.organization
    add_lead(org, "a", events=[("handed_over", local(2026, 10, 5, 10), {})])
    period_close(version=demo, period="2026-10", actor=person("sanne"), now=local(2026, 11, 2, 9))
    add_lead(org, "late", trigger="webinar", events=[("handed_over", local(2026, 10, 30, 15), {})])
    url = reverse("measure") + f"?agreement={demo.agreement.key}&period=2026-10"
    member = member_client(org, username="julia-login", person=person("julia"))
    assert member.post(url).status_code == 403
    viewer = member_client(org, role=Membership.Role.VIEWER, username="viewer")
    assert viewer.post(url).status_code == 403
    assert not Restatement.objects.exists()

    restatement_record(version=demo, period="2026-10", now=local(2026, 11, 4, 9), actor="cli")
    restatement_record(version=demo, period="2026-10", now=local(2026, 11, 4, 10), actor="cli")
    entries = AuditEntry.objects.filter(action="restatement.record")
    assert entries.count() == 1  # the same difference recorded again is the same restatement
    assert entries.get().actor_label == "cli"
