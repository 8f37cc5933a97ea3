"""A file that is damaged, changed, too new, or meant for a database that is not empty: refused with a
message that names the line, table, record and field, and nothing written."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from leadpact.audit.selectors import audit_chain_verify
from leadpact.backup.scope import backup_parts
from leadpact.backup.services import backup_restore, backup_write
from leadpact.errors import ApplicationError
from leadpact.leads.models import Lead
from tests.backup.helpers import tables
from tests.measurement.scene import add_lead, local
from tests.organization.factories import make_organization, make_team

Lines = list[Any]


def _small_organization(demo: Any) -> Any:
    organization = demo.agreement.organization
    events = [("handed_over", local(2026, 10, 5, 10), {}), ("accepted", local(2026, 10, 5, 12), {})]
    for i in range(3):
        add_lead(organization, f"bad{i}", events=events)
    return organization


def _read(path: Path) -> tuple[dict[str, Any], Lines]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        header = json.loads(handle.readline())
        return header, [json.loads(line) for line in handle]


def _write(path: Path, header: dict[str, Any], lines: Lines, *, rehash: bool = True) -> None:
    body = "".join(
        json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n" for line in lines
    ).encode()
    if rehash:  # a forger who also fixes the checksum: what is inside must still be caught
        header = header | {"body_sha256": hashlib.sha256(body).hexdigest(), "body_bytes": len(body)}
    path.write_bytes(gzip.compress((json.dumps(header) + "\n").encode()) + gzip.compress(body))


def _row_index(lines: Lines, label: str, n: int = 0) -> tuple[int, list[str]]:
    """The index of the ``n``-th row of table ``label`` in ``lines``, and the table's field names."""
    start = next(i for i, line in enumerate(lines) if isinstance(line, dict) and line["model"] == label)
    return start + 1 + n, lines[start]["fields"]


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])


def _not_gzip(path: Path) -> None:
    path.write_text("id,name\n1,acme\n")


def _content_changed(path: Path) -> None:
    header, lines = _read(path)
    index, fields = _row_index(lines, "leads.lead", 1)
    lines[index][fields.index("name")] = "Someone Else"
    _write(path, header, lines, rehash=False)


def _bad_value(path: Path) -> None:
    header, lines = _read(path)
    index, fields = _row_index(lines, "leads.leadevent", 2)
    lines[index][fields.index("occurred_at")] = "last tuesday"
    _write(path, header, lines)


def _audit_entry_changed(path: Path) -> None:
    header, lines = _read(path)
    index, fields = _row_index(lines, "audit.auditentry", 3)
    lines[index][fields.index("actor_label")] = "nobody"
    _write(path, header, lines)


def _audit_entry_removed(path: Path) -> None:
    header, lines = _read(path)
    index, _ = _row_index(lines, "audit.auditentry", 2)
    del lines[index]
    header["counts"]["audit.auditentry"] -= 1
    _write(path, header, lines)


def _row_removed(path: Path) -> None:
    header, lines = _read(path)
    index, _ = _row_index(lines, "leads.leadstate", 0)
    del lines[index]
    _write(path, header, lines)


def _dangling_key(path: Path) -> None:
    header, lines = _read(path)
    index, fields = _row_index(lines, "leads.leadevent", 1)
    lines[index][fields.index("lead_id")] = 987654
    _write(path, header, lines)


def _newer_format(path: Path) -> None:
    header, lines = _read(path)
    _write(path, header | {"format_version": 99, "leadpact": "9.0"}, lines)


def _unknown_field(path: Path) -> None:
    header, lines = _read(path)
    start = next(
        i for i, line in enumerate(lines) if isinstance(line, dict) and line["model"] == "leads.lead"
    )
    lines[start]["fields"][-1] = "shoe_size"
    _write(path, header, lines)


BAD: dict[str, tuple[Callable[[Path], None], str, list[str]]] = {
    "truncated": (_truncated, "backup.file_damaged", ["truncated"]),
    "not gzip": (_not_gzip, "backup.file_damaged", ["not a gzip file"]),
    "content changed": (_content_changed, "backup.checksum", ["does not match the header's checksum"]),
    "bad value": (_bad_value, "backup.value", ["line ", "leads.leadevent ", "field 'occurred_at'", "format"]),
    "audit entry changed": (
        _audit_entry_changed,
        "backup.audit_entry",
        ["audit entry ", "hash does not match"],
    ),
    "audit entry removed": (
        _audit_entry_removed,
        "backup.audit_entry",
        ["does not link to the entry before"],
    ),
    "row removed": (_row_removed, "backup.counts", ["leads.leadstate has 2 rows, the header says 3"]),
    "dangling key": (_dangling_key, "backup.integrity", ["leads_leadevent", "lead_id", "987654"]),
    "newer format": (_newer_format, "backup.too_new", ["format 99", "upgrade leadpact"]),
    "unknown field": (_unknown_field, "backup.field", ["leads.lead has no field 'shoe_size'"]),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_file_is_refused_and_nothing_is_written(demo, tmp_path, case):
    spoil, code, words = BAD[case]
    organization = _small_organization(demo)
    path = tmp_path / "org.jsonl.gz"
    backup_write(organization, path, actor="test")
    call_command("flush", interactive=False, verbosity=0)
    spoil(path)

    with pytest.raises(ApplicationError) as caught:
        backup_restore(path, actor="test")

    assert caught.value.code == code, caught.value.message
    for word in words:
        assert word in caught.value.message
    assert "nothing was restored" in caught.value.message
    assert not [part.label for part in backup_parts() if part.model._default_manager.exists()]


@pytest.mark.django_db(transaction=True)
def test_a_database_that_is_not_empty_is_refused(demo, tmp_path):
    organization = _small_organization(demo)
    path = tmp_path / "org.jsonl.gz"
    backup_write(organization, path, actor="test")
    held = tables()

    with pytest.raises(ApplicationError) as caught:
        backup_restore(path, actor="test")
    assert caught.value.code == "backup.target_holds"
    assert f"already holds organisation {organization.key!r}" in caught.value.message
    assert tables() == held

    call_command("flush", interactive=False, verbosity=0)
    User.objects.create(username="someone")
    with pytest.raises(ApplicationError) as caught:
        backup_restore(path, actor="test")
    assert caught.value.code == "backup.target_not_empty"
    assert "the database is not empty (it has rows in auth.user)" in caught.value.message
    assert not Lead.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_another_audit_key_is_refused_unless_the_chain_is_sealed_anew(demo, tmp_path, monkeypatch):
    organization = _small_organization(demo)
    path = tmp_path / "org.jsonl.gz"
    rows = tables()
    backup_write(organization, path, actor="test")
    call_command("flush", interactive=False, verbosity=0)
    monkeypatch.setenv("LEADPACT_AUDIT_KEY", "another-machine-another-key-0123456789")

    with pytest.raises(ApplicationError) as caught:
        backup_restore(path, actor="test")
    assert caught.value.code == "backup.audit_key"
    assert "--rechain-audit" in caught.value.message
    assert not Lead.objects.exists()

    summary = backup_restore(path, actor="test", audit="rechain")
    assert summary.audit == "rechain"
    assert "their original seals could not be checked" in summary.notes[0]
    restored = tables()
    assert {k: v for k, v in restored.items() if k != "audit.auditentry"} == {
        k: v for k, v in rows.items() if k != "audit.auditentry"
    }
    assert [r[:-3] for r in restored["audit.auditentry"][:-1]] == [r[:-3] for r in rows["audit.auditentry"]]
    assert audit_chain_verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_chain_shared_with_another_organisation_is_restored_sealed_anew(demo, tmp_path):
    organization = _small_organization(demo)
    make_team(make_organization("other"), "sales")  # its entries interleave in the database's one chain
    path = tmp_path / "org.jsonl.gz"
    summary = backup_write(organization, path, actor="test")
    assert summary.audit == "excerpt"
    call_command("flush", interactive=False, verbosity=0)

    with pytest.raises(ApplicationError) as caught:
        backup_restore(path, actor="test")
    assert caught.value.code == "backup.audit_excerpt"
    assert not Lead.objects.exists()

    restored = backup_restore(path, actor="test", audit="rechain")
    assert restored.counts["leads.lead"] == 3
    assert "could not be checked" not in restored.notes[0]
    verified = audit_chain_verify()
    assert verified.ok, verified.reason
