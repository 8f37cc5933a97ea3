"""The audit log is anchored outside the database: sealed entries, a sealed checkpoint, a local copy.

Issue 11, point 6: the chain alone caught an edited or removed middle entry, but not a removed newest
entry or a log rewritten and re-chained by someone who can write to the database.
"""

from __future__ import annotations

import contextlib
import io
import json
import stat

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from leadpact.audit._local import local_checkpoint, local_checkpoint_path
from leadpact.audit.models import GENESIS_HASH, AuditCheckpoint, AuditEntry
from leadpact.audit.seal import KEY_ENV, KEY_FILE, audit_checkpoint_seal, audit_entry_seal, audit_key
from leadpact.audit.selectors import audit_chain_verify
from leadpact.audit.services import audit_entry_hash, audit_key_replace, audit_record
from leadpact.errors import ApplicationError
from tests.audit import tamper
from tests.organization.factories import NOW

pytestmark = pytest.mark.django_db

OTHER_KEY = "another-key-that-is-long-enough-0123456789"


def verify_fails() -> str:
    with pytest.raises(CommandError) as caught:
        call_command("audit", "verify", stdout=io.StringIO())
    assert caught.value.returncode == 2
    return str(caught.value)


def _rechain_from(entries: list[AuditEntry], index: int, *, actor_label: str) -> None:
    """Rewrite entry ``index`` and recompute every hash and link after it, as a forger without the key."""
    prev = entries[index - 1].hash if index else GENESIS_HASH
    for position, entry in enumerate(entries[index:]):
        if position == 0:
            entry.actor_label = actor_label
        entry.prev_hash = prev
        entry.hash = audit_entry_hash(entry)
        tamper.sql(
            "UPDATE {entries} SET actor_label = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [entry.actor_label, entry.prev_hash, "x" + entry.hash[1:], entry.pk],
        )
        prev = entry.hash
    # the unique columns are written in two steps so that no intermediate row collides
    for entry in entries[index:]:
        tamper.sql("UPDATE {entries} SET hash = %s WHERE id = %s", [entry.hash, entry.pk])
    tamper.sql("UPDATE {checkpoint} SET last_hash = %s", [entries[-1].hash])


class TestSealed:
    def test_every_entry_is_sealed_and_the_checkpoint_counts_them(self, entries):
        key = audit_key()
        assert all(e.seal == audit_entry_seal(key, e.hash) for e in entries)
        checkpoint = AuditCheckpoint.objects.get()
        assert (checkpoint.entries, checkpoint.last_id, checkpoint.last_hash, checkpoint.key_id) == (
            len(entries),
            entries[-1].pk,
            entries[-1].hash,
            key.key_id,
        )
        assert checkpoint.seal == audit_checkpoint_seal(
            key, chain=checkpoint.chain, entries=len(entries), last_hash=entries[-1].hash
        )
        out = io.StringIO()
        call_command("audit", "verify", stdout=out)
        assert (
            out.getvalue() == f"audit chain intact: 5 entries verified, sealed with audit key {key.key_id}\n"
        )

    def test_a_removed_newest_entry_is_named(self, entries):
        newest = entries[-1]
        tamper.sql("DELETE FROM {entries} WHERE id = %s", [newest.pk])
        result = audit_chain_verify()
        assert (result.ok, result.broken_id, result.checked) == (False, newest.pk, len(entries) - 1)
        assert result.fault == "missing"
        message = verify_fails()
        assert f"the log ends at entry {entries[-2].pk} after 4 entries" in message
        assert f"the newest being entry {newest.pk}: the newest 1 entry was removed" in message

    def test_the_newest_entries_removed_down_to_none_are_named(self, entries):
        tamper.sql("DELETE FROM {entries}")
        result = audit_chain_verify()
        assert result.broken_id == entries[-1].pk
        assert "the log is empty, but the checkpoint sealed 5" in result.reason

    def test_a_rewritten_and_rechained_log_is_named_at_the_first_rewritten_entry(self, entries):
        _rechain_from(entries, 2, actor_label="forger")
        result = audit_chain_verify()
        assert (result.broken_id, result.checked, result.fault) == (entries[2].pk, 2, "entry")
        assert "seal does not match its hash (the log was rewritten and re-chained" in result.reason
        assert f"audit entry {entries[2].pk} (person.create)" in verify_fails()

    def test_a_rechained_log_resealed_with_a_guessed_key_is_still_named(self, entries, monkeypatch):
        _rechain_from(entries, 1, actor_label="forger")
        monkeypatch.setenv(KEY_ENV, OTHER_KEY)
        guessed = audit_key()
        monkeypatch.delenv(KEY_ENV)
        for entry in entries[1:]:
            tamper.sql(
                "UPDATE {entries} SET seal = %s WHERE id = %s",
                [audit_entry_seal(guessed, entry.hash), entry.pk],
            )
        assert audit_chain_verify().broken_id == entries[1].pk

    def test_a_checkpoint_changed_without_the_key_is_detected(self, entries):
        tamper.sql(
            "UPDATE {checkpoint} SET entries = 4, last_id = %s, last_hash = %s",
            [entries[3].pk, entries[3].hash],
        )
        tamper.sql("DELETE FROM {entries} WHERE id = %s", [entries[-1].pk])
        result = audit_chain_verify()
        assert "checkpoint's seal does not match" in result.reason and result.fault == "checkpoint"

    def test_a_deleted_checkpoint_is_detected(self, entries):
        tamper.sql("DELETE FROM {checkpoint}")
        result = audit_chain_verify()
        assert result.broken_id == entries[0].pk and "no checkpoint" in result.reason

    def test_a_second_checkpoint_is_detected(self, entries):
        tamper.sql(
            "INSERT INTO {checkpoint} (chain, entries, last_id, last_hash, key_id, seal) "
            "VALUES ('other', 0, 0, %s, 'x', 'x')",
            [GENESIS_HASH],
        )
        assert "two audit checkpoints" in audit_chain_verify().reason

    def test_an_empty_log_is_intact(self, db):
        assert audit_chain_verify() == audit_chain_verify().__class__(0)


class TestLocalCopy:
    def test_the_local_copy_follows_each_commit(self, entries, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            entry = audit_record(actor="t", action="x.y", obj=entries[0], at=NOW)
        checkpoint = AuditCheckpoint.objects.get()
        local = local_checkpoint(checkpoint.chain)
        assert local is not None
        assert (local.entries, local.last_id, local.last_hash, local.seal) == (
            len(entries) + 1,
            entry.pk,
            entry.hash,
            checkpoint.seal,
        )
        assert stat.S_IMODE(local_checkpoint_path().stat().st_mode) == 0o600

    def test_one_write_a_transaction_and_never_a_rolled_back_entry(
        self, entries, django_capture_on_commit_callbacks
    ):
        def rolled_back() -> None:
            with contextlib.suppress(RuntimeError), transaction.atomic():
                audit_record(actor="t", action="x.undone", obj=entries[0], at=NOW)
                raise RuntimeError

        with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
            rolled_back()
            audit_record(actor="t", action="x.kept", obj=entries[0], at=NOW)
            kept = audit_record(actor="t", action="x.kept", obj=entries[0], at=NOW)
            rolled_back()
        assert len(callbacks) == 1
        local = local_checkpoint(AuditCheckpoint.objects.get().chain)
        assert local is not None and local.entries == len(entries) + 2 and local.last_id == kept.pk
        assert audit_chain_verify().ok

    def test_newest_entry_removed_and_checkpoint_set_back_is_caught_by_the_local_copy(
        self, entries, django_capture_on_commit_callbacks
    ):
        before = AuditCheckpoint.objects.values("entries", "last_id", "last_hash", "seal").get()
        with django_capture_on_commit_callbacks(execute=True):
            newest = audit_record(actor="t", action="x.y", obj=entries[0], at=NOW)
        # the forger kept the checkpoint as it was before the newest entry and puts it back
        tamper.sql("DELETE FROM {entries} WHERE id = %s", [newest.pk])
        tamper.sql(
            "UPDATE {checkpoint} SET entries = %s, last_id = %s, last_hash = %s, seal = %s",
            [before["entries"], before["last_id"], before["last_hash"], before["seal"]],
        )
        result = audit_chain_verify()
        assert (result.ok, result.broken_id) == (False, newest.pk)
        assert (
            f"but this machine sealed {len(entries) + 1}, the newest being entry {newest.pk}" in result.reason
        )
        assert f"remove {local_checkpoint_path()}" in result.reason

    def test_the_local_copy_only_moves_forward(self, entries, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            audit_record(actor="t", action="x.y", obj=entries[0], at=NOW)
        chain = AuditCheckpoint.objects.get().chain
        from leadpact.audit._local import LocalCheckpoint, local_checkpoint_store

        local_checkpoint_store(LocalCheckpoint(chain=chain, entries=1, last_id=1, last_hash="h", seal="s"))
        assert local_checkpoint(chain).entries == len(entries) + 1  # type: ignore[union-attr]

    def test_a_local_copy_changed_by_hand_is_detected(self, entries, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            audit_record(actor="t", action="x.y", obj=entries[0], at=NOW)
        path = local_checkpoint_path()
        record = json.loads(path.read_text().splitlines()[-1])
        record["entries"] += 5
        path.write_text(json.dumps(record) + "\n")
        assert "not sealed with the key" in audit_chain_verify().reason


class TestKey:
    def test_the_key_file_is_made_0600_once_and_kept(self, settings, tmp_path):
        settings.DATA_DIR = tmp_path / "data"
        first = audit_key()
        path = tmp_path / "data" / KEY_FILE
        assert first.source == str(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
        assert len(path.read_text().strip()) == 64
        assert audit_key() == first

    def test_a_key_from_the_environment_wins(self, monkeypatch):
        monkeypatch.setenv(KEY_ENV, OTHER_KEY)
        key = audit_key()
        assert (key.secret, key.source) == (OTHER_KEY.encode(), KEY_ENV)
        monkeypatch.setenv(KEY_ENV, "short")
        with pytest.raises(ApplicationError, match="at least 32 characters"):
            audit_key()

    def test_verify_with_another_key_names_both_keys(self, entries, monkeypatch):
        sealed_with = audit_key().key_id
        monkeypatch.setenv(KEY_ENV, OTHER_KEY)
        message = verify_fails()
        assert f"sealed with audit key {sealed_with}, but this machine's key ({KEY_ENV})" in message
        assert "use the key that was backed up with this database and run" in message
        assert "restore the log" not in message

    def test_verify_never_invents_a_missing_key(self, entries, settings, tmp_path):
        settings.DATA_DIR = tmp_path
        assert "no audit key" in verify_fails()
        assert not (tmp_path / KEY_FILE).exists()
        with pytest.raises(CommandError, match="no audit key"):
            call_command("audit", "key", stdout=io.StringIO())

    def test_a_log_sealed_with_another_key_takes_no_new_entry(self, entries, monkeypatch):
        sealed_with = audit_key().key_id
        monkeypatch.setenv(KEY_ENV, OTHER_KEY)
        with pytest.raises(
            ApplicationError, match=f"sealed with key {sealed_with}, but this machine"
        ) as caught:
            audit_record(actor="t", action="x.y", obj=entries[0], at=NOW)
        assert caught.value.code == "audit.key"
        assert AuditEntry.objects.count() == len(entries)

    def test_a_log_whose_key_is_missing_takes_no_new_entry_and_no_new_key(self, entries, settings, tmp_path):
        settings.DATA_DIR = tmp_path
        with pytest.raises(ApplicationError, match="no audit key"):
            audit_record(actor="t", action="x.y", obj=entries[0], at=NOW)
        assert not (tmp_path / KEY_FILE).exists()

    def test_a_deleted_checkpoint_begun_again_by_the_next_entry_is_still_detected(self, entries):
        tamper.sql("DELETE FROM {checkpoint}")
        audit_record(actor="t", action="x.y", obj=entries[0], at=NOW)
        result = audit_chain_verify()
        assert (result.broken_id, result.fault) == (entries[0].pk, "entry")
        assert "checkpoint deleted and begun again" in result.reason

    def test_the_key_command_says_where_the_key_is(self, entries):
        out = io.StringIO()
        call_command("audit", "key", stdout=out)
        key = audit_key()
        assert out.getvalue().startswith(
            f"audit key {key.key_id} from {key.source}; keep a copy with every backup"
        )


@pytest.mark.django_db(transaction=True)
class TestBackupAndRestore:
    """An operator's backup (dumpdata), an emptied database (flush, which the triggers let through) and
    the restore (loaddata): the log verifies with the key that travelled with it, and only with that."""

    def _dump_flush_load(self, tmp_path) -> None:
        dump = tmp_path / "backup.json"
        call_command("dumpdata", exclude=["contenttypes", "auth.permission"], output=str(dump), verbosity=0)
        call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
        assert not AuditEntry.objects.exists() and not AuditCheckpoint.objects.exists()
        call_command("loaddata", str(dump), verbosity=0)

    def test_a_restored_database_verifies_with_the_key_that_travelled_with_it(self, entries, tmp_path):
        self._dump_flush_load(tmp_path)
        result = audit_chain_verify()
        assert (result.ok, result.checked) == (True, len(entries))

    def test_a_restored_database_with_a_new_key_says_so(self, entries, tmp_path, monkeypatch):
        self._dump_flush_load(tmp_path)
        monkeypatch.setenv(KEY_ENV, OTHER_KEY)
        assert "use the key that was backed up with this database" in audit_chain_verify().reason


class TestRekey:
    """The key is lost for good: an operator seals the log with a new key from now on, audited."""

    @pytest.fixture
    def operator(self, db, django_user_model):
        return django_user_model.objects.create_user(username="ops", password=None, is_staff=True)

    @pytest.fixture
    def key_lost(self, entries, settings, tmp_path):
        settings.DATA_DIR = tmp_path  # this machine has no key: re-keying makes a new one

    def test_a_rekeyed_log_verifies_and_the_entry_names_both_keys(self, entries, key_lost, operator):
        old = AuditCheckpoint.objects.get().key_id
        out = io.StringIO()
        call_command("audit", "rekey", "--operator", "ops", stdout=out)
        new = audit_key()
        entry = AuditEntry.objects.order_by("id").last()
        assert (entry.action, entry.actor, entry.after) == (
            "audit.rekey",
            operator,
            {
                "old_key_id": old,
                "new_key_id": new.key_id,
                "entries": len(entries),
                "last_hash": entries[-1].hash,
            },
        )
        assert out.getvalue() == (
            f"audit log re-keyed by ops: its 5 entries were sealed with key {old}; "
            f"entry {entry.pk} and later are sealed with {new.key_id}\n"
        )
        result = audit_chain_verify()
        assert (result.ok, result.checked, result.key_id) == (True, len(entries) + 1, new.key_id), (
            result.reason
        )
        audit_record(actor="t", action="x.y", obj=entries[0], at=NOW)  # writes go on under the new key
        assert audit_chain_verify().ok

    def test_entries_forged_after_a_rekey_are_still_named(self, entries, key_lost, operator):
        audit_key_replace(operator=operator)
        later = audit_record(actor="t", action="x.y", obj=entries[0], at=NOW)
        tamper.sql("UPDATE {entries} SET seal = %s WHERE id = %s", ["0" * 64, later.pk])
        assert audit_chain_verify().broken_id == later.pk

    def test_a_broken_log_is_not_rekeyed(self, entries, key_lost, operator):
        tamper.sql("UPDATE {entries} SET actor_label = 'x' WHERE id = %s", [entries[1].pk])
        with pytest.raises(ApplicationError, match="not re-keyed: audit entry") as caught:
            audit_key_replace(operator=operator)
        assert caught.value.code == "audit.rekey_broken"

    def test_only_a_staff_user_rekeys_and_only_a_lost_key(self, entries, operator, django_user_model):
        django_user_model.objects.create_user(username="member", password=None)
        with pytest.raises(CommandError, match="not an active staff user"):
            call_command("audit", "rekey", "--operator", "member", stdout=io.StringIO())
        with pytest.raises(CommandError, match="already sealed with this machine's key"):
            call_command("audit", "rekey", "--operator", "ops", stdout=io.StringIO())
        assert AuditEntry.objects.count() == len(entries)
