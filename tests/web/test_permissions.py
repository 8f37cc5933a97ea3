"""The permission matrix, proved role by role and action by action on the pages and the API.

Roles: an organisation **admin** (no person in a team), a **lead** of a party (Bram, who leads Sales),
a **member** who owns the lead (Julia, its sales owner), a member who does not (Lotte), and a read-only
**viewer** who nonetheless owns the lead (Daan, its marketing owner). Every refused action answers 403
and writes nothing; every allowed one writes. The API is used by organisation tokens (an admin makes
them): a read-only token is refused a write with 403 as a viewer is on the pages, and no token reaches
another organisation's leads.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.forms.models import model_to_dict
from django.test import Client
from django.utils import timezone

from leadpact.leads.services import api_token_create
from leadpact.measurement.closing.models import Restatement
from leadpact.measurement.closing.services import period_close
from leadpact.measurement.disputes.services import dispute_open
from leadpact.organization.models import Membership, Organization, Person, Team
from leadpact.web.access import current_access
from tests.conftest import member_client
from tests.measurement.scene import NINE_TO_FIVE, add_lead, person

pytestmark = pytest.mark.django_db

ROLES = ("admin", "lead", "member", "other_member", "viewer")
# who may, per action (the matrix in leadpact.organization.access, read as a user meets it)
ALLOWED = {
    "lead.work": {"lead", "member"},
    "dispute.open": {"lead", "member"},
    "dispute.decide": {"lead"},
    "restatement.decide": {"lead"},
    "period.close": {"lead"},
    "team.manage": {"admin", "lead"},
}


@pytest.fixture
def scene(demo):
    org = demo.agreement.organization
    now = timezone.now()
    events = [("handed_over", now - dt.timedelta(hours=3), {}), ("assigned", now - dt.timedelta(hours=3), {})]
    lead = add_lead(org, "m1", name="Matrix Lead", events=events)  # Daan markets it, Julia sells it
    other = add_lead(org, "m2", name="Other Lead", events=events)
    dispute = dispute_open(
        lead=other, commitment_key="mql-volume", opened_by=person("julia"), reason="x", now=now
    )
    closed = period_close(version=demo, period="2026-08", actor=person("sanne"), now=now)
    restatement = Restatement.objects.create(
        closed_period=closed, created_at=now, measured_at=now, differences=[], figures={}, fingerprint="p"
    )
    clients = {
        "admin": member_client(org, role=Membership.Role.ADMIN, username="ada"),
        "lead": member_client(org, username="bram", person=person("bram")),
        "member": member_client(org, username="julia", person=person("julia")),
        "other_member": member_client(org, username="lotte", person=person("lotte")),
        "viewer": member_client(org, role=Membership.Role.VIEWER, username="daan", person=person("daan")),
    }
    return {"org": org, "lead": lead, "dispute": dispute, "restatement": restatement, "clients": clients}


def _requests(scene):
    """Per action, the page requests that take it (method, url, data)."""
    lead, dispute, restatement = scene["lead"], scene["dispute"], scene["restatement"]
    sales = Team.objects.get(organization=scene["org"], key="sales")
    act = f"/leads/{lead.pk}/act"
    return {
        "lead.work": [
            ("post", f"{act}/attempt/", {"attempt-channel": "phone"}),
            ("post", f"{act}/accept/", {}),
            ("post", f"{act}/reject/", {"reject-reason_code": "not_icp"}),
            ("post", f"{act}/feedback/", {"feedback-text": "fine"}),
            ("post", f"{act}/duplicate/", {"duplicate-original": scene["dispute"].lead_id}),
        ],
        "dispute.open": [
            ("post", f"{act}/dispute/", {"dispute-commitment": "mql-volume", "dispute-reason": "a student"})
        ],
        "dispute.decide": [("post", f"/disputes/{dispute.pk}/decide/", {"decide-decision": "upheld"})],
        "restatement.decide": [
            ("post", f"/restatements/{restatement.pk}/decide/", {"restatement-decision": "decline"})
        ],
        "period.close": [
            ("get", "/close/?period=2026-09", {}),
            ("post", "/close/?period=2026-09", {"confirm": "on"}),
        ],
        "team.manage": [
            (
                "post",
                "/team/invite/",
                {
                    "team": sales.pk,
                    "name": "New Person",
                    "email": "new@example.com",
                    "role": "member",
                    "access": "member",
                    "fte": "1",
                    "start_date": "2026-12-01",
                    "language": "en",
                },
            )
        ],
    }


_WRITTEN = ("organization", "agreements", "leads", "measurement", "audit")
_TOKEN_USE = ("leads.ApiToken",)  # a token records when it was last used, refused or not


def _state(*, besides: tuple[str, ...] = ()):
    """Every row an action could write (the app's tables and the logins), to prove nothing was written."""
    return {
        model._meta.label: sorted(repr(sorted(model_to_dict(row).items())) for row in model.objects.all())
        for model in apps.get_models()
        if (model._meta.app_label in _WRITTEN or model._meta.label == "auth.User")
        and model._meta.label not in besides
    }


def test_the_roles_are_what_the_matrix_reads(scene):
    for role, client in scene["clients"].items():
        request = client.get("/").wsgi_request
        access = current_access(request)
        assert access is not None
        expected = {"other_member": "member"}.get(role, role)
        assert access.role == expected, role


@pytest.mark.parametrize("action", list(ALLOWED))
def test_every_refused_action_is_refused_and_writes_nothing(scene, action):
    requests = _requests(scene)[action]
    for role in ROLES:
        if role in ALLOWED[action]:
            continue
        client = scene["clients"][role]
        before = _state()
        for method, url, data in requests:
            response = getattr(client, method)(url, data)
            assert response.status_code == 403, (role, action, url, response.status_code)
        assert _state() == before, (role, action)


@pytest.mark.parametrize(("action", "role"), [(a, r) for a, roles in ALLOWED.items() for r in sorted(roles)])
def test_every_allowed_action_is_taken(scene, action, role):
    client = scene["clients"][role]
    for method, url, data in _requests(scene)[action]:
        before = _state()
        response = getattr(client, method)(url, data)
        assert response.status_code in (200, 302), (role, action, url, response.status_code)
        if method == "post":
            assert _state() != before, (role, action, url)


def test_every_role_sees_the_pages_and_only_allowed_roles_see_the_buttons(scene):
    lead = scene["lead"]
    for role, client in scene["clients"].items():
        for url in (
            "/",
            "/disputes/",
            "/restatements/",
            "/team/",
            f"/leads/{lead.pk}/",
            "/measure/?period=2026-09",
        ):
            assert client.get(url).status_code == 200, (role, url)
        html = client.get(f"/leads/{lead.pk}/").content.decode()
        assert ("Log a contact attempt" in html) == (role in ALLOWED["lead.work"]), role
        assert ('action="/disputes/' in client.get("/disputes/").content.decode()) == (role == "lead"), role
        assert ('action="/team/invite/' in client.get("/team/").content.decode()) == (
            role in ALLOWED["team.manage"]
        ), role


def test_a_lead_manages_only_their_own_team(scene):
    marketing = Team.objects.get(organization=scene["org"], key="marketing")
    data = {"team": marketing.pk, "name": "N", "email": "n@example.com", "role": "member", "access": "member",
            "fte": "1", "start_date": "2026-12-01", "language": "en"}  # fmt: skip
    assert scene["clients"]["lead"].post("/team/invite/", data).status_code == 403
    assert not Person.objects.filter(email="n@example.com").exists()


def test_the_api_refuses_a_read_only_token_a_write_and_every_token_another_organisations_leads(scene):
    org = scene["org"]
    lead = scene["lead"]
    _row, read = api_token_create(organization=org, name="reader", scope="read", actor="test")
    _row, write = api_token_create(organization=org, name="writer", scope="write", actor="test")
    event = {
        "source": "api",
        "external_id": "m1",
        "kind": "contact_attempt",
        "occurred_at": timezone.now().isoformat(),
        "channel": "phone",
        "human": True,
    }
    client = Client()

    def post(token, body):
        return client.post(
            "/api/events", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
        )

    before = _state(besides=_TOKEN_USE)
    assert post(read, event).status_code == 403
    assert _state(besides=_TOKEN_USE) == before
    other = Organization.objects.create(key="other", name="Other B.V.")
    Team.objects.create(organization=other, key="sales", name="Sales", kind="sales", calendar=NINE_TO_FIVE)
    _row, foreign = api_token_create(organization=other, name="theirs", scope="write", actor="test")
    before = _state(besides=_TOKEN_USE)
    assert post(foreign, event).status_code == 422  # no lead m1 in their organisation: nothing written
    assert client.get(f"/api/leads/{lead.pk}", HTTP_AUTHORIZATION=f"Bearer {foreign}").status_code == 404
    assert _state(besides=_TOKEN_USE) == before
    assert post(write, event).status_code == 201


def test_nobody_of_another_organisation_acts_on_this_ones_records(scene):
    other = Organization.objects.create(key="other", name="Other B.V.")
    team = Team.objects.create(
        organization=other, key="sales", name="Sales", kind="sales", calendar=NINE_TO_FIVE
    )
    boss = Person.objects.create(
        team=team, name="Olga", email="olga@other.example", role="lead", start_date=dt.date(2026, 1, 1)
    )
    for role in (Membership.Role.ADMIN, Membership.Role.MEMBER):
        client = member_client(other, role=role, username=f"olga-{role}", person=boss)
        before = _state()
        for requests in _requests(scene).values():
            for method, url, data in requests:
                response = getattr(client, method)(url, data)
                # 404 for our records; their own close page says they have no agreement; our team is not
                # a choice on their invitation form (400)
                assert response.status_code in (200, 400, 403, 404), (role, url, response.status_code)
                assert "Matrix Lead" not in response.content.decode()
        assert _state() == before, role
