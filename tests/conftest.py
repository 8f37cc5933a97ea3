"""Shared fixtures and helpers."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from leadpact.agreements.models import AgreementVersion
from leadpact.demo.services import demo_load
from leadpact.organization.models import Membership, Organization, Person

PASSWORD = "a-long-enough-passphrase"


@pytest.fixture
def demo(db):
    """The demo organisation and its agreement in force, loaded through the same services as ``leadpact
    start`` (without its months of leads): the active agreement version."""
    demo_load(with_leads=False)
    return AgreementVersion.objects.select_related("agreement__organization").get(status="active")


def member_client(
    organization: Organization,
    *,
    role: str = Membership.Role.MEMBER,
    username: str = "reader",
    person: Person | None = None,
) -> Client:
    """A browser-less client signed in as a user with ``role`` in ``organization`` (and, when given, the
    login of ``person``: a party lead when the person leads their team)."""
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.set_password(PASSWORD)
    user.save()
    Membership.objects.update_or_create(user=user, organization=organization, defaults={"role": role})
    if person is not None:
        person.user = user
        person.save(update_fields=["user"])
    client = Client()
    client.force_login(user)
    return client
