"""LeadEvent.key_digest: 16 bytes of the idempotency key's sha256, for a compact unique index."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0001_initial"),
        ("organization", "0002_verbose_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="leadevent",
            name="key_digest",
            field=models.BinaryField(blank=True, max_length=16, null=True),
        ),
    ]
