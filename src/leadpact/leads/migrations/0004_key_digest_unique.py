"""Idempotency is unique by (organization, key_digest) instead of the 64-character key."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("leads", "0003_fill_key_digest")]

    operations = [
        migrations.RemoveConstraint(
            model_name="leadevent",
            name="lead_event_idempotency_key_unique",
        ),
        migrations.AddConstraint(
            model_name="leadevent",
            constraint=models.UniqueConstraint(
                fields=("organization", "key_digest"), name="lead_event_key_digest_unique"
            ),
        ),
    ]
