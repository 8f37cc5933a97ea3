"""A whole organisation backed up, the database emptied, restored: every row and every figure the same."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest
from django.core.management import call_command

from leadpact.audit.models import AuditEntry
from leadpact.audit.selectors import audit_chain_verify
from leadpact.backup.scope import backup_parts
from leadpact.backup.services import backup_restore, backup_write
from leadpact.demo.services import demo_load
from leadpact.leads.models import Lead
from leadpact.organization.models import Organization
from tests.backup.helpers import audit_rows, figures, months_before, tables
from tests.measurement.scene import add_lead

NOW = dt.datetime(2026, 11, 20, 11, 0, tzinfo=dt.UTC)


@pytest.mark.django_db(transaction=True)
def test_restore_gives_back_every_row_and_every_figure(tmp_path):
    demo_load(leads=80, now=NOW)  # the demo's history: versions, disputes, closed months, reviews, clocks
    organization = Organization.objects.get()
    periods = [*months_before(NOW, 4), "2026-Q3"]
    before = figures(periods, now=NOW)
    rows = tables()
    chain = audit_rows()
    assert rows["leads.lead"] and rows["measurement.closedperiod"] and rows["reviews.review"]
    assert rows["agreements.signature"] and rows["measurement.dispute"] and rows["organization.leave"]

    path = tmp_path / "org.jsonl.gz"
    summary = backup_write(organization, path, actor="test")
    assert summary.audit == "whole"
    with gzip.open(path, "rt") as handle:
        header = json.loads(handle.readline())
    assert header["counts"] == {label: len(r) for label, r in rows.items()} | {"audit.auditcheckpoint": 1}
    assert header["organization"]["key"] == organization.key and header["body_sha256"] == summary.sha256
    assert AuditEntry.objects.order_by("id").last().action == "backup.write"

    call_command("flush", interactive=False, verbosity=0)
    assert not any(part.model._default_manager.exists() for part in backup_parts())

    restored = backup_restore(path, actor="test")

    assert restored.counts == header["counts"]
    assert tables() == rows | {"audit.auditentry": tables()["audit.auditentry"]}
    after = audit_rows()
    assert after[:-1] == chain  # the chain as sealed, then the restore's own entry
    assert after[-1][1] == "backup.restore"
    verified = audit_chain_verify()
    assert verified.ok, verified.reason
    assert verified.checked == len(chain) + 1
    assert figures(periods, now=NOW) == before

    # new rows take new ids (PostgreSQL's sequences were moved past the restored ones)
    lead = add_lead(organization, "after-restore")
    assert lead.pk > max(Lead.objects.exclude(pk=lead.pk).values_list("pk", flat=True))
    assert audit_chain_verify().ok
