"""Two imports of overlapping files at once on PostgreSQL: every lead and every event once, exactly as
after importing the whole file alone.  (In turn on SQLite's in-memory test database, which refuses
concurrent writers.)"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

from leadpact.leads.imports import lead_import
from leadpact.leads.models import Lead, LeadEvent
from tests.organization.factories import make_organization

SAMPLE = Path(__file__).parents[1] / "connectors" / "samples" / "hubspot_labels.csv"


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_imports_at_once_store_each_event_once(tmp_path):
    organization = make_organization()
    lines = SAMPLE.read_text(encoding="utf-8-sig").splitlines()
    header, rows = lines[0], lines[1:]
    assert len(rows) >= 4
    first = tmp_path / "first.csv"  # rows 1-3
    first.write_text("\n".join([header, *rows[:3]]) + "\n", encoding="utf-8")
    second = tmp_path / "second.csv"  # rows 2-end: two rows shared
    second.write_text("\n".join([header, *rows[1:]]) + "\n", encoding="utf-8")
    parallel = connection.vendor == "postgresql"
    start = threading.Barrier(2 if parallel else 1)

    def run(path: Path) -> None:
        try:
            start.wait(timeout=60)
            lead_import(organization=organization, path=path, reader="thread")
        finally:
            if parallel:
                connection.close()

    with ThreadPoolExecutor(max_workers=2 if parallel else 1) as pool:
        list(pool.map(run, [first, second]))
    leads, events = Lead.objects.count(), LeadEvent.objects.count()
    keys = list(LeadEvent.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == len(set(keys))
    # the same as one import of the whole file into an empty organisation
    alone = make_organization(key="alone")
    whole = tmp_path / "whole.csv"
    whole.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    lead_import(organization=alone, path=whole, reader="thread")
    assert leads == Lead.objects.filter(organization=alone).count() == len(rows)
    assert events == LeadEvent.objects.filter(organization=alone).count() > 0
