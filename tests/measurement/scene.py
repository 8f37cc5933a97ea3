"""A hand-built scene on the demo organisation: leads and events stored through the leads app."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from leadpact.connectors.records import EventRecord, LeadFields, LeadRecord
from leadpact.leads.models import Lead
from leadpact.leads.services import leads_store
from leadpact.organization.models import Organization, Person

AMS = ZoneInfo("Europe/Amsterdam")
NINE_TO_FIVE = {
    "timezone": "Europe/Amsterdam",
    "hours": {"mon-fri": ["09:00-17:00"]},
    "holidays": {"country": "NL"},
}
GOOD = {
    "email": "a@b.nl",
    "country": "NL",
    "consent": True,
    "score": 80,
    "name": "A",
    "company": "C",
    "source": "web",
    "campaign": "x",
    "trigger": "demo_request",
    "recent_touches": 2,
}


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMS)  # type: ignore[misc]


def person(email_start: str) -> Person:
    return Person.objects.get(email__startswith=email_start)


def add_lead(
    org: Organization,
    ext: str,
    *,
    marketer: str = "daan.bakker@example.com",
    rep: str = "julia.bos@example.com",
    events: list[tuple[str, dt.datetime, dict[str, Any]]] = (),  # type: ignore[assignment]
    **fields: Any,
) -> Lead:
    # an address of its own: leads sharing one are duplicates (Lead.duplicate_of, marked at handoff)
    values = {**GOOD, "email": f"{ext}@b.nl", **fields}
    created = events[0][1] if events else local(2026, 10, 1, 9)
    record = LeadRecord("api", ext, LeadFields(**values), created, marketing_owner=marketer, sales_owner=rep)
    evs = []
    for kind, at, extra in events:
        kw = dict(extra)
        if "amount" in kw:
            kw["amount"] = Decimal(kw["amount"])
        evs.append(EventRecord("api", ext, kind, at, **kw))  # type: ignore[arg-type]
    out = leads_store(organization=org, leads=[record], events=evs, now=local(2026, 12, 31, 12))
    assert not out.problems, out.problems
    return Lead.objects.get(pk=out.lead_ids[0])


def event(org: Organization, ext: str, kind: str, at: dt.datetime, **extra: Any) -> None:
    if "amount" in extra:
        extra["amount"] = Decimal(extra["amount"])
    out = leads_store(organization=org, events=[EventRecord("api", ext, kind, at, **extra)], now=at)  # type: ignore[arg-type]
    assert not out.problems, out.problems


def paused_version(demo: Any, *, now: dt.datetime) -> Any:
    """Version 2 of the demo agreement, in force from ``now``: the high-intent first-attempt clock pauses
    while the lead is ``waiting_on_customer``."""
    from leadpact.agreements.services import agreement_export, agreement_import
    from tests.agreements.helpers import activate

    text = agreement_export(version=demo)
    head, _, tail = text.partition("key: first-attempt-high-intent")
    assert tail, "the demo agreement has a first-attempt-high-intent commitment"
    tail = tail.replace("pause: []", "pause: [waiting_on_customer]", 1)
    version = agreement_import(
        organization=demo.agreement.organization, yaml_text=head + "key: first-attempt-high-intent" + tail,
        actor="test", now=now,
    )  # fmt: skip
    leads = tuple(Person.objects.filter(team__key__in=["marketing", "sales"], role="lead").order_by("pk"))
    return activate(version, leads, now)
