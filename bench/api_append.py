"""API batch append: events/s through ``POST /api/events/batch`` (Django's test client, SQLite, in-process).

    python bench/api_append.py [BATCHES]       (default 50 batches of 1,000 events)

Every request goes through the whole stack: token check, JSON parsing, per-item validation, the store, the
state refresh. Goal: at least 5,000 events/s.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

BATCHES = int(sys.argv[1]) if len(sys.argv) > 1 else 50
PER_BATCH = 1000
LEADS = 5000


def main() -> None:
    data = Path(tempfile.mkdtemp(prefix="leadpact-bench-"))
    os.environ["LEADPACT_DATA_DIR"] = str(data)
    os.environ["DATABASE_URL"] = f"sqlite:///{data / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "leadpact.settings"
    os.environ.setdefault("LEADPACT_DEBUG", "0")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from leadpact.leads.models import LeadEvent
    from leadpact.leads.services import api_token_create
    from leadpact.organization.services import organization_create

    call_command("migrate", verbosity=0)
    organization = organization_create(key="bench", name="Bench", actor="bench")
    _, token = api_token_create(organization=organization, name="bench", scope="write", actor="bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    leads = [{"source": "crm", "external_id": f"L-{i}", "email": f"p{i}@example.nl"} for i in range(LEADS)]
    for start in range(0, LEADS, 1000):
        body = json.dumps({"leads": leads[start : start + 1000]})
        response = client.post("/api/leads/batch", body, content_type="application/json")
        assert response.status_code == 200, response.content[:300]

    kinds = ["handed_over", "contact_attempt", "accepted", "contact_attempt", "qualified"]
    bodies = []
    n = 0
    for b in range(BATCHES):
        events = []
        for _ in range(PER_BATCH):
            lead = n % LEADS
            step = n // LEADS
            events.append(
                {
                    "source": "crm",
                    "external_id": f"L-{lead}",
                    "kind": kinds[step % len(kinds)],
                    "occurred_at": f"2026-03-{1 + step % 28:02d}T{8 + b % 10:02d}:{n % 60:02d}:"
                    f"{step % 60:02d}+01:00",
                    "channel": "phone",
                    "human": True,
                }
            )
            n += 1
        bodies.append(json.dumps({"events": events}))

    started = time.perf_counter()
    cpu = time.process_time()
    for body in bodies:
        response = client.post("/api/events/batch", body, content_type="application/json")
        assert response.status_code == 200, response.content[:300]
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    stored = LeadEvent.objects.count()
    total = BATCHES * PER_BATCH
    print(f"events sent:     {total:,} in {BATCHES} batches of {PER_BATCH:,} ({stored:,} stored)")
    print(f"time:            {elapsed:.1f} s ({elapsed / BATCHES * 1000:.0f} ms per batch)")
    print(f"speed:           {total / elapsed:,.0f} events/s (goal >= 5,000)")
    print(
        f"per CPU second:  {total / cpu:,.0f} events/s (this process's CPU time; the machine may be shared)"
    )

    started = time.perf_counter()
    for body in bodies[:10]:
        response = client.post("/api/events/batch", body, content_type="application/json")
        assert response.status_code == 200
    elapsed = time.perf_counter() - started
    print(f"replay:          {10 * PER_BATCH / elapsed:,.0f} events/s (all duplicates, nothing stored)")


if __name__ == "__main__":
    main()
