"""A login for every role of the demo organisation, kept (like the first login) in the data folder.

Each password is generated the first time the demo is loaded (never stored in the repository) and
written to ``demo-logins.txt`` in the data folder, readable only by its owner, so that ``leadpact start``
can print the logins again. Changing a password (any way: the password page, the admin,
``changepassword``) forgets its line (:class:`DemoLoginForgotten`); loading the demo again after
``leadpact demo --reset`` re-uses the passwords still kept.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model

from leadpact.organization.models import Membership, Organization, Person
from leadpact.organization.services import membership_grant, person_update

__all__ = [
    "DEMO_LOGINS",
    "DEMO_LOGINS_FILE",
    "DemoLogin",
    "DemoLoginForgotten",
    "demo_login_lines",
    "demo_logins_ensure",
]

DEMO_LOGINS_FILE = "demo-logins.txt"


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """One demo login: the user name, what the role is in words, the membership, and the person it is."""

    username: str
    what: str
    role: str  # Membership.Role
    email: str = ""  # the person (in organisation.yaml) this login is; "" for none


#: every role the product knows: an admin, each party's lead, a marketer, an SDR, an account executive
#: and a read-only viewer
DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("revops", "admin (revenue operations)", Membership.Role.ADMIN),
    DemoLogin("sanne.devries", "marketing lead", Membership.Role.MEMBER, "sanne.devries@example.com"),
    DemoLogin("bram.degroot", "sales lead", Membership.Role.MEMBER, "bram.degroot@example.com"),
    DemoLogin("noah.smit", "sales development lead", Membership.Role.MEMBER, "noah.smit@example.com"),
    DemoLogin("daan.bakker", "marketer", Membership.Role.MEMBER, "daan.bakker@example.com"),
    DemoLogin(
        "lotte.meijer", "sales development rep (SDR)", Membership.Role.MEMBER, "lotte.meijer@example.com"
    ),
    DemoLogin("julia.bos", "account executive", Membership.Role.MEMBER, "julia.bos@example.com"),
    DemoLogin("ceo", "viewer (managing director)", Membership.Role.VIEWER),
)


def _path() -> Path:
    return settings.DATA_DIR / DEMO_LOGINS_FILE


def _kept() -> dict[str, str]:
    """The passwords still kept in the data folder, by user name."""
    path = _path()
    if not path.exists():
        return {}
    kept = {}
    for line in path.read_text().splitlines():
        name, _, password = line.partition(" ")
        if name and password:
            kept[name] = password.strip()
    return kept


def _write(kept: dict[str, str]) -> None:
    path = _path()
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)  # before the passwords are in it
    path.write_text("".join(f"{name} {password}\n" for name, password in kept.items()))


def demo_logins_ensure(*, organization: Organization, actor: Any) -> list[str]:
    """Give every demo role a login in ``organization``; return the user names that were new.

    A user that exists keeps its password; a new one gets the password kept for its name (after a
    reset) or a fresh one, written to the data folder before it is used.
    """
    user_model = get_user_model()
    kept = _kept()
    made = []
    for login in DEMO_LOGINS:
        person = (
            Person.objects.filter(team__organization=organization, email=login.email).first()
            if login.email
            else None
        )
        user = user_model.objects.filter(username=login.username).first()
        if user is None:
            password = kept.get(login.username) or secrets.token_urlsafe(12)
            kept[login.username] = password
            _write(kept)
            user = user_model(username=login.username, email=login.email, first_name=login.what)
            if person is not None:
                user.first_name = person.name
            user.set_password(password)
            user.save()
            made.append(login.username)
        elif not user.has_usable_password() and login.username not in kept:
            # a party lead made by the organisation loader to sign: now a login a person can use
            kept[login.username] = secrets.token_urlsafe(12)
            _write(kept)
            user.set_password(kept[login.username])
            user.save()
            made.append(login.username)
        membership_grant(user=user, organization=organization, role=login.role, actor=actor)
        if person is not None and person.user_id != user.pk:
            person_update(person=person, user=user, actor=actor)
    return made


def demo_login_lines() -> list[str]:
    """The demo logins as lines to print (``leadpact start``): user name, role, and the password while
    it is still the generated one; nothing when the demo is not loaded."""
    user_model = get_user_model()
    present = set(
        user_model.objects.filter(username__in=[x.username for x in DEMO_LOGINS]).values_list(
            "username", flat=True
        )
    )
    if not present:
        return []
    kept = _kept()
    width = max(len(x.username) for x in DEMO_LOGINS)
    lines = ["  demo logins (every role of Noordkaap Software; kept in the data folder until changed):"]
    for login in DEMO_LOGINS:
        if login.username not in present:
            continue
        password = kept.get(login.username)
        shown = f"password: {password}" if password else "(password as you last set it)"
        lines.append(f"    {login.username:<{width}}  {shown:<32}  {login.what}")
    return lines


class DemoLoginForgotten:
    """A password "validator" that checks nothing: when a demo login's password changes, its line in
    the data folder is forgotten (the same as :class:`leadpact.web.passwords.FirstLoginForgotten`)."""

    def validate(self, password: str, user: Any = None) -> None:
        return None

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is None or not _path().exists():
            return
        kept = _kept()
        name = user.get_username()
        if name in kept and kept[name] != password:
            del kept[name]
            _write(kept)

    def get_help_text(self) -> str:
        return ""
