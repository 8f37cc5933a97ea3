"""Who may do what in an organisation: one matrix of roles × actions, read by every page, form and API.

A user's **role** in an organisation comes from two places that each have one meaning:

- their :class:`~leadpact.organization.models.Membership` says *admin*, *member* or *viewer*;
- the person they are in one of the organisation's teams says whether they **lead a party**
  (``Person.role == "lead"``), which is what signs agreements and decides disputes.

A superuser (the operator of the installation) is treated as an organisation admin everywhere.

>>> ROLES
('admin', 'lead', 'member', 'viewer')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from django.db.models import QuerySet

from leadpact.organization.models import Membership, Organization, Person, Team

__all__ = [
    "ACTIONS",
    "ROLES",
    "Access",
    "Action",
    "Role",
    "access_for",
    "organizations_of",
]

Role = Literal["admin", "lead", "member", "viewer"]
ROLES: tuple[Role, ...] = get_args(Role)

Action = Literal[
    "view",  # every page of the organisation: transparency is part of the SLA
    "lead.work",  # log an attempt, accept, reject, give feedback, mark a duplicate on a lead
    "dispute.open",  # contest that a lead met the definition
    "dispute.decide",  # uphold or reject a dispute
    "restatement.decide",  # accept or decline a restatement of a closed period
    "period.close",  # freeze a period's figures
    "target.override",  # set a person's target by hand
    "agreement.edit",  # start and edit a draft, propose it
    "agreement.sign",  # sign for a party (only the party's lead, in person)
    "agreement.activate",  # put a signed version in force
    "team.manage",  # people, FTE, leave, invitations of a team
    "review.run",  # agenda, attendance, decisions, action items, closing a review
    "note.post",  # information exchange: a note for the next review
    "organization.manage",  # organisation settings, teams and calendars, memberships
    "integrations.manage",  # API tokens, webhook receivers, imports, alert channels
]
ACTIONS: tuple[Action, ...] = get_args(Action)


@dataclass(frozen=True, slots=True)
class Access:
    """What one user may do in one organisation."""

    organization: Organization
    membership_role: str  # Membership.Role, or "admin" for a superuser
    person: Person | None = None
    led_team_ids: frozenset[int] = field(default_factory=frozenset)
    user_id: int | None = None

    @property
    def role(self) -> Role:
        """The role the matrix reads: admin, lead (of at least one party), member or viewer."""
        if self.membership_role == Membership.Role.ADMIN:
            return "admin"
        if self.membership_role == Membership.Role.VIEWER:
            return "viewer"
        return "lead" if self.led_team_ids else "member"

    @property
    def is_admin(self) -> bool:
        return self.membership_role == Membership.Role.ADMIN

    @property
    def is_viewer(self) -> bool:
        return self.membership_role == Membership.Role.VIEWER

    def leads_team(self, team: Team | int | None = None) -> bool:
        """Leads ``team`` (any party when ``team`` is None) — and is not a read-only viewer."""
        if self.is_viewer or not self.led_team_ids:
            return False
        if team is None:
            return True
        return (team if isinstance(team, int) else team.pk) in self.led_team_ids

    def owns_lead(self, lead: Any) -> bool:
        """The lead's marketing or sales owner is this user's person."""
        if self.person is None:
            return False
        return self.person.pk in (lead.marketing_owner_id, lead.sales_owner_id)

    def allows(self, action: Action, *, team: Team | int | None = None, lead: Any = None) -> bool:
        """Whether this user may take ``action`` (on ``team``'s behalf, or on ``lead``)."""
        if action not in _RULES:
            raise ValueError(f"unknown action {action!r}")
        return _RULES[action](self, team, lead)


def _lead_side(access: Access, team: Team | int | None, lead: Any) -> bool:
    # acting on a lead: its owner, the lead of the owner's team, or any party lead when unowned
    if access.is_viewer:
        return False
    if lead is None:
        return access.person is not None or access.leads_team()
    if access.owns_lead(lead):
        return True
    teams = _owner_team_ids(lead)
    if not teams:
        return access.leads_team()
    return any(access.leads_team(t) for t in teams)


def _owner_team_ids(lead: Any) -> set[int]:
    teams = set()
    for owner in (getattr(lead, "marketing_owner", None), getattr(lead, "sales_owner", None)):
        if owner is not None:
            teams.add(owner.team_id)
    return teams


_RULES: dict[str, Callable[[Access, Team | int | None, Any], bool]] = {
    "view": lambda a, t, lead: True,
    "lead.work": _lead_side,
    "dispute.open": _lead_side,
    "dispute.decide": lambda a, t, lead: a.leads_team(t),
    "restatement.decide": lambda a, t, lead: a.leads_team(t),
    "period.close": lambda a, t, lead: a.leads_team(t),
    "target.override": lambda a, t, lead: a.leads_team(t),
    "agreement.edit": lambda a, t, lead: a.is_admin or a.leads_team(t),
    "agreement.sign": lambda a, t, lead: a.leads_team(t),
    "agreement.activate": lambda a, t, lead: a.leads_team(t),
    "team.manage": lambda a, t, lead: a.is_admin or a.leads_team(t),
    "review.run": lambda a, t, lead: a.is_admin or a.leads_team(t),
    "note.post": lambda a, t, lead: not a.is_viewer,
    "organization.manage": lambda a, t, lead: a.is_admin,
    "integrations.manage": lambda a, t, lead: a.is_admin,
}
assert set(_RULES) == set(ACTIONS), "every action has exactly one rule"


def organizations_of(user: Any) -> QuerySet[Organization]:
    """The organisations a user may open: their memberships' (every one, for a superuser)."""
    if not getattr(user, "is_authenticated", False):
        return Organization.objects.none()
    if user.is_superuser:
        return Organization.objects.order_by("name")
    return Organization.objects.filter(memberships__user=user).order_by("name").distinct()


def access_for(user: Any, organization: Organization) -> Access | None:
    """The user's access to ``organization``, or None when they have none."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    membership = Membership.objects.filter(user=user, organization=organization).first()
    if membership is None and not user.is_superuser:
        return None
    person = Person.objects.filter(user=user, team__organization=organization).select_related("team").first()
    led: Iterable[int] = ()
    if person is not None and person.role == Person.Role.LEAD:
        led = (person.team_id,)
    return Access(
        organization=organization,
        membership_role=membership.role if membership is not None else Membership.Role.ADMIN,
        person=person,
        led_team_ids=frozenset(led),
        user_id=user.pk,
    )
