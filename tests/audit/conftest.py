"""A small audit log: an organisation, a team, a person, a change of FTE and some leave."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from leadpact.audit.models import AuditEntry
from leadpact.organization.services import leave_add, person_update
from tests.organization.factories import NOW, make_organization, make_person, make_team


@pytest.fixture
def entries(db, django_capture_on_commit_callbacks):
    """Written as if committed: this machine's copy of the checkpoint follows them."""
    with django_capture_on_commit_callbacks(execute=True):
        organization = make_organization()
        sales = make_team(organization, "sales")
        person = make_person(sales, "Sam Seller")
        person_update(person=person, fte=Decimal("0.80"), actor="hr", now=NOW)
        leave_add(
            person=person, first_day=dt.date(2026, 5, 4), end_day=dt.date(2026, 5, 9), actor="hr", now=NOW
        )
    return list(AuditEntry.objects.order_by("id"))
