"""Upgrading a database whose log was written before entries were sealed: the migration seals it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from leadpact.audit.models import GENESIS_HASH, AuditCheckpoint
from leadpact.audit.selectors import audit_chain_verify
from leadpact.audit.services import audit_entry_hash
from tests.organization.factories import NOW

BEFORE = [("audit", "0002_verbose_names")]


@pytest.mark.django_db(transaction=True)
def test_a_log_written_before_sealing_is_sealed_and_counted_on_upgrade():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("audit", "AuditEntry")
    prev = GENESIS_HASH
    for i in range(3):
        entry = old(
            at=NOW, actor_label="old", action="x.y", object_type="t", object_id=str(i), after={"i": i}
        )
        entry.prev_hash = prev
        entry.hash = prev = audit_entry_hash(entry)
        entry.save()

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    result = audit_chain_verify()
    assert (result.ok, result.checked) == (True, 3), result.reason
    assert AuditCheckpoint.objects.get().entries == 3
