"""Every main page reads the database a fixed number of times, whatever the number of leads (issue 12).

The demo's traffic, N leads with its history and clocks, then 2N more from a second CRM (3N in all, the
history the same): each page, warmed once (the event snapshot, caches), is asked again with its queries
counted. The count is the same at both sizes, and under the bound stated beside the page. The scorecard's
engine (My page, scorecard, commitment, evidence, close) reads a period's leads by runs of consecutive ids
(``measurement._frames``: at most 64 runs, then ranges 250 to a query), so its count follows the shape of
the ids up to that cap rather than their number: those pages are held to their bound alone.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leadpact.agreements.models import AgreementVersion
from leadpact.demo._history import demo_history_load, demo_versions_load
from leadpact.demo._leads import demo_leads_load
from leadpact.demo.services import demo_load
from leadpact.leads.models import Lead
from leadpact.leads.services import api_token_create
from leadpact.measurement.clocks.models import LeadClock
from leadpact.measurement.clocks.services import clocks_update
from leadpact.organization.models import Membership, Person, Team
from tests.conftest import member_client

N = 150

#: (name, who, path, most queries): ``who`` is ``admin`` (in no team: the organisation's view), ``lead``
#: (the sales lead), ``rep`` (an account executive) or ``api`` (a read token)
PAGES: list[tuple[str, str, str, int]] = [
    ("my page, organisation", "admin", "/", 140),
    ("my page, sales lead", "lead", "/", 140),
    ("my page, rep", "rep", "/", 140),
    ("scorecard", "admin", "/measure/?period={month}", 120),
    ("commitment", "admin", "/measure/mql-volume/?period={month}", 260),
    (
        "evidence",
        "admin",
        "/measure/evidence/?commitment=mql-volume&period={month}&subject=team:{marketing}",
        120,
    ),
    ("lead", "admin", "/leads/{lead}/", 30),
    ("targets", "admin", "/targets/?period={month}", 30),
    ("accountability", "admin", "/accountability/", 20),
    ("agreements", "admin", "/agreements/", 20),
    ("agreement", "admin", "/agreements/{agreement}/", 60),
    ("disputes", "lead", "/disputes/", 30),
    ("restatements", "lead", "/restatements/", 20),
    ("close", "lead", "/close/", 140),
    ("reviews", "admin", "/reviews/", 20),
    ("data", "admin", "/data/", 20),
    ("api: leads", "api", "/api/leads?limit=50", 10),
    ("api: lead", "api", "/api/leads/{lead}", 15),
]


def _shape(sql: str) -> str:
    """A query without its values: what it asks, for the message naming the queries a page added."""
    return re.sub(r"\d+", "N", sql)[:160]


def _load(leads: int, *, more: bool) -> None:
    """The demo's traffic of about ``leads`` leads (``more``: added from a second CRM), then the clocks."""
    now = timezone.now()
    version = AgreementVersion.objects.select_related("agreement__organization").get(status="active")
    org = version.agreement.organization
    if more:
        made = demo_leads_load(org, now=now, leads=leads, batch=500, source="other-crm", seed=7, more=True)
    else:
        demo_versions_load(org, version, now=now)
        made = demo_leads_load(org, now=now, leads=leads, batch=500)
        demo_history_load(org, now=now)
    assert made > 0.4 * leads  # "about": a small scale rounds each day down
    clocks_update(now=now, organization=org)


def _counts() -> dict[str, list[str]]:
    """Each page's queries (their shapes), asked once to warm and once counted."""
    version = AgreementVersion.objects.select_related("agreement__organization").get(status="active")
    org = version.agreement.organization
    clients: dict[str, Any] = {"api": Client()}
    clients["admin"] = member_client(org, role=Membership.Role.ADMIN, username="pages-admin")  # in no team
    bram = Person.objects.get(email="bram.degroot@example.com")
    clients["lead"] = member_client(org, username="pages-lead", person=bram)
    julia = Person.objects.get(email="julia.bos@example.com")
    clients["rep"] = member_client(org, username="pages-rep", person=julia)
    _, secret = api_token_create(organization=org, name="pages", scope="read", actor="test")
    clocked = (
        LeadClock.objects.filter(lead__sources__source="demo-crm")  # the same lead at both sizes
        .order_by("-lead_id")
        .values_list("lead_id", flat=True)
        .first()
    )
    values = {
        "month": timezone.localdate().strftime("%Y-%m"),
        "marketing": Team.objects.get(organization=org, key="marketing").pk,
        "lead": clocked or Lead.objects.order_by("-pk")[0].pk,
        "agreement": version.agreement_id,
    }
    counts: dict[str, list[str]] = {}
    for name, who, path, _bound in PAGES:
        url = path.format(**values)
        headers = {"Authorization": f"Bearer {secret}"} if who == "api" else {}
        client = clients[who]
        assert client.get(url, headers=headers).status_code == 200, url  # warm: snapshot, caches
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, headers=headers).status_code == 200, url
        counts[name] = [_shape(q["sql"]) for q in queries.captured_queries]
    return counts


#: the pages the scorecard's engine reads for (see the module's docstring)
ENGINE = {
    *("my page, organisation", "my page, sales lead", "my page, rep"),
    *("scorecard", "commitment", "evidence", "close"),
}


@pytest.mark.django_db
def test_no_main_page_reads_the_database_more_often_with_more_leads(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    demo_load(with_leads=False)
    _load(N, more=False)
    small = _counts()
    _load(2 * N, more=True)
    large = _counts()
    assert Lead.objects.count() > 2.5 * Lead.objects.filter(sources__source="demo-crm").count()
    grew = {
        name: (len(small[name]), len(large[name]), Counter(large[name]) - Counter(small[name]))
        for name in small
        if len(small[name]) != len(large[name]) and name not in ENGINE
    }
    assert not grew, "\n".join(f"{name}: {n} -> {m}: {more}" for name, (n, m, more) in grew.items())
    over = {name: (len(large[name]), bound) for name, _who, _path, bound in PAGES if len(large[name]) > bound}
    assert not over, over
