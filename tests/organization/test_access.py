"""The permission matrix: role by role and action by action, who may do what in an organisation."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from leadpact.organization.access import ACTIONS, ROLES, access_for, organizations_of
from leadpact.organization.models import Membership, Organization, Person, Team
from tests.organization.factories import make_organization, make_person, make_team

pytestmark = pytest.mark.django_db

Y, N = True, False
# role → action → allowed (for the user's own team, and on a lead they own where a lead matters)
MATRIX = {
    #                       admin lead member viewer
    "view": (Y, Y, Y, Y),
    "lead.work": (Y, Y, Y, N),  # the admin here is also a person in sales who owns the lead
    "dispute.open": (Y, Y, Y, N),
    "dispute.decide": (N, Y, N, N),
    "restatement.decide": (N, Y, N, N),
    "period.close": (N, Y, N, N),
    "target.override": (N, Y, N, N),
    "agreement.edit": (Y, Y, N, N),
    "agreement.sign": (N, Y, N, N),
    "agreement.activate": (N, Y, N, N),
    "team.manage": (Y, Y, N, N),
    "review.run": (Y, Y, N, N),
    "note.post": (Y, Y, Y, N),
    "organization.manage": (Y, N, N, N),
    "integrations.manage": (Y, N, N, N),
}


class _Lead:
    def __init__(self, marketing=None, sales=None):
        self.marketing_owner, self.sales_owner = marketing, sales
        self.marketing_owner_id = marketing.pk if marketing else None
        self.sales_owner_id = sales.pk if sales else None


@pytest.fixture
def scene():
    org = make_organization()
    sales = make_team(org, "sales")
    people = {}
    for role in ROLES:
        user = get_user_model().objects.create_user(role)
        membership = {"admin": "admin", "viewer": "viewer"}.get(role, "member")
        Membership.objects.create(user=user, organization=org, role=membership)
        person_role = "lead" if role == "lead" else "member"
        person = make_person(sales, role, role=person_role)
        person.user = user
        person.save(update_fields=["user"])
        people[role] = person
    return org, sales, people


def test_the_matrix_names_every_action():
    assert set(MATRIX) == set(ACTIONS)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", ROLES)
def test_each_role_may_do_exactly_what_the_matrix_says(scene, role, action):
    org, sales, people = scene
    me = people[role]
    access = access_for(me.user, org)
    assert access is not None and access.role == role
    own_lead = _Lead(sales=me)
    assert access.allows(action, team=sales, lead=own_lead) is MATRIX[action][ROLES.index(role)]


def test_a_member_acts_on_their_own_leads_only_and_a_lead_on_the_teams(scene):
    org, sales, people = scene
    colleague = people["viewer"]
    member = access_for(people["member"].user, org)
    lead = access_for(people["lead"].user, org)
    assert member.allows("lead.work", lead=_Lead(sales=people["member"]))
    assert not member.allows("lead.work", lead=_Lead(sales=colleague))
    assert lead.allows("lead.work", lead=_Lead(sales=colleague))
    other_team = make_team(org, "marketing")
    stranger = make_person(other_team, "stranger")
    assert not lead.allows("lead.work", lead=_Lead(marketing=stranger))
    assert not lead.allows("dispute.decide", team=other_team)
    assert lead.allows("dispute.decide", team=sales)


def test_no_access_without_a_membership_and_none_to_another_organisation(scene):
    org, _, people = scene
    other = Organization.objects.create(key="other", name="Other")
    outsider = get_user_model().objects.create_user("outsider")
    assert access_for(outsider, org) is None
    assert access_for(people["admin"].user, other) is None
    assert list(organizations_of(people["admin"].user)) == [org]
    root = get_user_model().objects.create_superuser("root")
    assert set(organizations_of(root)) == {org, other}
    assert access_for(root, other).role == "admin"


def test_an_inactive_user_has_no_access(scene):
    org, _, people = scene
    user = people["lead"].user
    user.is_active = False
    user.save()
    assert access_for(user, org) is None


def test_an_unknown_action_is_a_programming_error(scene):
    org, _, people = scene
    with pytest.raises(ValueError, match="unknown action"):
        access_for(people["admin"].user, org).allows("lead.delete")  # type: ignore[arg-type]


def test_a_lead_person_in_another_team_than_asked_does_not_lead_it(scene):
    org, sales, people = scene
    marketing = Team.objects.create(organization=org, key="mkt", name="M", calendar=sales.calendar)
    access = access_for(people["lead"].user, org)
    assert access.leads_team(sales) and not access.leads_team(marketing)
    assert Person.objects.get(pk=people["lead"].pk).role == "lead"
