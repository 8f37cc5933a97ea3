"""Seal the entries written before entries were sealed, and write the checkpoint that counts them.

Needs the audit key: ``LEADPACT_AUDIT_KEY``, or the data folder's ``audit.key`` (created here if this
database already has entries and no key exists yet).  A chain that was already broken stays broken:
only the seals are added, no hash or link changes.
"""

import secrets

from django.db import migrations


def seal_existing(apps, schema_editor):
    from leadpact.audit.seal import audit_checkpoint_seal, audit_entry_seal, audit_key

    entry_model = apps.get_model("audit", "AuditEntry")
    checkpoint_model = apps.get_model("audit", "AuditCheckpoint")
    entries = entry_model.objects.using(schema_editor.connection.alias).order_by("id")
    if not entries.exists() or checkpoint_model.objects.using(schema_editor.connection.alias).exists():
        return
    key = audit_key()
    count = 0
    last = None
    for entry in entries.iterator(chunk_size=2000):
        entries.filter(pk=entry.pk).update(seal=audit_entry_seal(key, entry.hash))
        count += 1
        last = entry
    chain = secrets.token_hex(16)
    checkpoint_model.objects.using(schema_editor.connection.alias).create(
        chain=chain,
        entries=count,
        last_id=last.pk,
        last_hash=last.hash,
        key_id=key.key_id,
        seal=audit_checkpoint_seal(key, chain=chain, entries=count, last_hash=last.hash),
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_sealed_entries_and_checkpoint")]

    operations = [migrations.RunPython(seal_existing, migrations.RunPython.noop)]
