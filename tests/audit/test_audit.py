"""The audit log: hash-chained, append-only, tamper-evident."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from leadpact.audit.models import GENESIS_HASH, AuditAppendOnlyError, AuditEntry
from leadpact.audit.selectors import audit_chain_verify, audit_trail
from leadpact.audit.services import audit_entry_hash, audit_record
from tests.audit import tamper
from tests.organization.factories import NOW, make_organization

pytestmark = pytest.mark.django_db


def _raw(statement: str, params: list) -> None:
    tamper.sql(statement.replace("{table}", "{entries}"), params)


class TestChain:
    def test_each_entry_links_to_the_one_before(self, entries):
        assert [e.action for e in entries] == [
            "organization.create",
            "team.create",
            "person.create",
            "person.update",
            "leave.add",
        ]
        assert entries[0].prev_hash == GENESIS_HASH
        for before, after in itertools.pairwise(entries):
            assert after.prev_hash == before.hash
        assert all(audit_entry_hash(e) == e.hash for e in entries)

    def test_an_untouched_chain_verifies(self, entries):
        result = audit_chain_verify()
        assert result.ok and result.checked == len(entries)
        out = io.StringIO()
        call_command("audit", "verify", stdout=out)
        assert f"{len(entries)} entries verified" in out.getvalue()

    def test_an_entry_changed_with_raw_sql_is_named(self, entries):
        target = entries[3]
        _raw("UPDATE {table} SET after = %s WHERE id = %s", ['{"fte": "1.00"}', target.pk])
        result = audit_chain_verify()
        assert (result.ok, result.broken_id, result.checked) == (False, target.pk, 3)
        assert "changed after it was written" in result.reason
        with pytest.raises(CommandError) as caught:
            call_command("audit", "verify")
        assert caught.value.returncode == 2
        assert f"audit entry {target.pk} (person.update)" in str(caught.value)

    def test_a_changed_actor_label_is_detected(self, entries):
        _raw("UPDATE {table} SET actor_label = %s WHERE id = %s", ["someone-else", entries[1].pk])
        assert audit_chain_verify().broken_id == entries[1].pk

    def test_a_removed_entry_breaks_the_link_of_the_next(self, entries):
        _raw("DELETE FROM {table} WHERE id = %s", [entries[2].pk])
        result = audit_chain_verify()
        assert result.broken_id == entries[3].pk and "prev_hash" in result.reason

    def test_a_rehashed_entry_is_named_by_its_seal(self, entries):
        target = entries[2]
        target.actor_label = "forger"
        forged = audit_entry_hash(target)
        _raw("UPDATE {table} SET actor_label = %s, hash = %s WHERE id = %s", ["forger", forged, target.pk])
        result = audit_chain_verify()
        assert result.broken_id == target.pk and "seal does not match" in result.reason


class TestAppendOnly:
    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE {entries} SET actor_label = 'someone' WHERE id = %s",
            "DELETE FROM {entries} WHERE id = %s",
            "DELETE FROM {checkpoint} WHERE last_id = %s",
            "UPDATE {checkpoint} SET entries = entries - 1 WHERE last_id = %s",
        ],
    )
    def test_the_database_refuses_changes_by_sql(self, entries, statement):
        with pytest.raises(IntegrityError, match=r"append-only|checkpoint"), transaction.atomic():
            tamper.sql(statement, [entries[-1].pk], guarded=True)
        assert audit_chain_verify().ok
        assert AuditEntry.objects.get(pk=entries[-1].pk).actor_label == entries[-1].actor_label

    def test_the_database_refuses_to_move_the_checkpoint_to_another_chain(self, entries):
        with pytest.raises(IntegrityError, match="checkpoint"), transaction.atomic():
            tamper.sql("UPDATE {checkpoint} SET chain = 'other', entries = entries + 1", guarded=True)

    def test_save_of_an_existing_entry_is_refused(self, entries):
        entry = entries[0]
        entry.actor_label = "someone"
        with pytest.raises(AuditAppendOnlyError):
            entry.save()

    def test_delete_is_refused(self, entries):
        with pytest.raises(AuditAppendOnlyError):
            entries[0].delete()
        with pytest.raises(AuditAppendOnlyError):
            AuditEntry.objects.filter(pk=entries[0].pk).delete()

    def test_queryset_update_is_refused(self, entries):
        with pytest.raises(AuditAppendOnlyError):
            AuditEntry.objects.all().update(actor_label="x")
        assert audit_chain_verify().ok


class TestRecord:
    def test_a_naive_time_is_refused(self, entries):
        with pytest.raises(ValueError, match="aware"):
            audit_record(actor="t", action="x.y", obj=entries[0], at=dt.datetime(2026, 1, 1))

    def test_values_are_stored_as_hashed(self, entries):
        entry = audit_record(
            actor="t",
            action="x.y",
            obj=entries[0],
            at=NOW,
            after={"amount": Decimal("12.50"), "day": dt.date(2026, 1, 2), "n": 3, "share": 0.25},
        )
        stored = AuditEntry.objects.get(pk=entry.pk)
        assert stored.after == {"amount": "12.50", "day": "2026-01-02", "n": 3, "share": 0.25}
        assert audit_entry_hash(stored) == stored.hash
        assert audit_chain_verify().ok

    def test_the_trail_of_an_organisation(self, entries):
        other = make_organization("other")
        trail = list(audit_trail(organization=other))
        assert [e.action for e in trail] == ["organization.create"]
        assert len(audit_trail(organization=entries[0].organization)) == len(entries)
