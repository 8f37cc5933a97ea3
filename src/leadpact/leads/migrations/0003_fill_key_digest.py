"""Fill LeadEvent.key_digest for the events stored before it existed (raw SQL: events refuse updates)."""

from hashlib import sha256
from typing import Any

from django.db import migrations


def fill(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    table = connection.ops.quote_name("leads_leadevent")
    last = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                f"SELECT id, idempotency_key FROM {table} WHERE id > %s AND key_digest IS NULL "  # noqa: S608
                "ORDER BY id LIMIT 5000",
                [last],
            )
            rows = cursor.fetchall()
            if not rows:
                return
            cursor.executemany(
                f"UPDATE {table} SET key_digest = %s WHERE id = %s",  # noqa: S608
                [(sha256(key.encode()).digest()[:16], pk) for pk, key in rows],
            )
            last = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [("leads", "0002_leadevent_key_digest")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
