"""A few of the demo's scorecards recomputed from its raw events with plain arithmetic.

The reference reads the stored leads and events one by one and applies the agreement's words — the MQL
definition's text rather than its CEL rule, "a lead counts through its first handoff in the month",
"upheld disputes leave marketing's count", "won amounts of the leads sales owns" — then compares with
what the measurement selectors (numpy over the columnar snapshot) say for the team and every person.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from leadpact.agreements.models import AgreementVersion
from leadpact.demo.services import demo_load
from leadpact.leads.models import Lead, LeadEvent
from leadpact.measurement.closing.models import ClosedPeriod, Restatement
from leadpact.measurement.disputes.models import Dispute
from leadpact.measurement.scorecard.selectors import measure_periods
from leadpact.organization.models import Person

AMS = ZoneInfo("Europe/Amsterdam")
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def _mql(lead: Lead) -> bool:
    """The MQL definition in words: consent, an e-mail address, the Netherlands or Belgium, and a score
    of 50 or more or a demo or pricing request."""
    return bool(
        lead.consent
        and lead.email
        and lead.country in ("NL", "BE")
        and ((lead.score or 0) >= 50 or lead.trigger in ("demo_request", "pricing_request"))
    )


def _bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    year, number = map(int, month.split("-"))
    start = dt.datetime(year, number, 1, tzinfo=AMS)
    end = dt.datetime(year + number // 12, number % 12 + 1, 1, tzinfo=AMS)
    return start, end


def _reference(month: str) -> tuple[dict[int, int], dict[int, Decimal]]:
    """MQLs handed over in ``month`` by marketing owner, and won amounts in ``month`` by sales owner."""
    start, end = _bounds(month)
    upheld = set(
        Dispute.objects.filter(commitment_key="mql-volume", status="upheld").values_list("lead_id", flat=True)
    )
    events: dict[int, list[LeadEvent]] = defaultdict(list)
    for e in LeadEvent.objects.filter(kind__in=("handed_over", "won")).order_by("occurred_at", "pk"):
        events[e.lead_id].append(e)
    volume: dict[int, int] = defaultdict(int)
    won: dict[int, Decimal] = defaultdict(Decimal)
    for lead in Lead.objects.filter(duplicate_of__isnull=True):
        mine = events.get(lead.pk, [])
        handoffs = [e.occurred_at for e in mine if e.kind == "handed_over"]
        if not handoffs or not _mql(lead):
            continue
        first_in = [t for t in handoffs if start <= t < end]
        if first_in and lead.pk not in upheld and lead.marketing_owner_id:
            volume[lead.marketing_owner_id] += 1
        wins = [
            e
            for e in mine
            if e.kind == "won" and start <= e.occurred_at < end and e.occurred_at >= handoffs[0]
        ]
        if wins and lead.sales_owner_id:
            won[lead.sales_owner_id] += Decimal(wins[-1].data["amount"])
    return volume, won


def _figures(results, key: str) -> dict[str, Decimal]:
    return {
        r.subject_name: r.actual for r in results if r.commitment_key == key and r.subject_kind != "outside"
    }


@pytest.mark.django_db
def test_the_demo_s_scorecards_add_up_from_its_raw_events():
    demo_load(now=NOW, leads=3000)
    version = AgreementVersion.objects.get(status="active")
    assert version.number == 2 and version.parties.filter(key="sdr").exists()
    people = {p.pk: p for p in Person.objects.select_related("team")}

    month = "2026-10"  # in force under version 2, not closed
    results = measure_periods(version=version, periods=[month], now=NOW)[month]
    volume, won = _reference(month)
    marketing = _figures(results, "mql-volume")
    for pk, count in volume.items():
        assert marketing[people[pk].name] == count, people[pk].name
    assert marketing["Marketing"] == sum(volume.values()) > 50
    revenue = _figures(results, "won-revenue")
    sales_won = {pk: amount for pk, amount in won.items() if people[pk].team.key == "sales"}
    for pk, amount in sales_won.items():
        assert revenue[people[pk].name] == amount
    assert revenue["Sales"] == sum(sales_won.values()) > 0
    sdr_won = sum(amount for pk, amount in won.items() if people[pk].team.key == "sdr")
    assert sdr_won == sum(won.values()) - sum(sales_won.values())  # SDR deals are not sales' revenue

    # the last closed month keeps its stored figures; the restatement waiting for a lead is exactly the
    # dispute upheld after it was closed: one MQL fewer for its marketer and for the team
    closed = ClosedPeriod.objects.order_by("period").last()
    assert closed is not None and Restatement.objects.get(status="pending").closed_period == closed
    stored = _figures(
        measure_periods(version=version, periods=[closed.period], now=NOW)[closed.period], "mql-volume"
    )
    fresh = measure_periods(version=version, periods=[closed.period], now=NOW, closed="recompute")[
        closed.period
    ]
    recomputed = _figures(fresh, "mql-volume")
    volume, _ = _reference(closed.period)
    assert recomputed["Marketing"] == sum(volume.values())
    assert stored["Marketing"] - recomputed["Marketing"] == 1
    late = Dispute.objects.filter(status="upheld").order_by("decided_at", "pk").last()
    moved = [name for name in recomputed if stored[name] != recomputed[name]]
    assert sorted(moved) == sorted(["Marketing", late.lead.marketing_owner.name])
