"""An organisation with the small agreement imported and both parties' leads (with logins)."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadpact.agreements.services import agreement_import
from leadpact.organization.models import Person, Team
from tests.organization.factories import NOW, make_organization, make_person

SMALL = (Path(__file__).parent / "small.yaml").read_text(encoding="utf-8")


@pytest.fixture
def organization(db):
    return make_organization()


@pytest.fixture
def draft(organization):
    return agreement_import(organization=organization, yaml_text=SMALL, actor="test", now=NOW)


@pytest.fixture
def leads(draft):
    """The lead of marketing and the lead of sales, each with a linked login."""
    marketing = Team.objects.get(organization=draft.agreement.organization, key="marketing")
    sales = Team.objects.get(organization=draft.agreement.organization, key="sales")
    return (
        make_person(marketing, "Mia Marketing", role=Person.Role.LEAD, with_user=True),
        make_person(sales, "Sid Sales", role=Person.Role.LEAD, with_user=True),
    )
