"""An organisation with marketing and sales people, and helpers to build records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from leadpact.connectors.records import EventRecord, LeadFields, LeadRecord
from tests.organization.factories import make_organization, make_person, make_team

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def lead(external_id: str = "L-1", *, source: str = "api", **fields: Any) -> LeadRecord:
    owners = {k: fields.pop(k) for k in ("marketing_owner", "sales_owner") if k in fields}
    created = fields.pop("created_at", T0)
    return LeadRecord(source, external_id, LeadFields(**fields), created, **owners)


def event(
    kind: str, external_id: str = "L-1", *, at: dt.datetime = T0, source: str = "api", **kw: Any
) -> EventRecord:
    if "amount" in kw and kw["amount"] is not None:
        kw["amount"] = Decimal(kw["amount"])
    return EventRecord(source, external_id, kind, at, **kw)  # type: ignore[arg-type]


@pytest.fixture
def organization(db):
    return make_organization()


@pytest.fixture
def people(organization):
    marketing = make_team(organization, "marketing")
    sales = make_team(organization, "sales")
    return {
        "mia": make_person(marketing, "Mia Marketing"),
        "sid": make_person(sales, "Sid Sales"),
    }
