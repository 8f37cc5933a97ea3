"""Webhook secrets sealed and passwords hashed at rest; delivery body digests (replays), attempts;
rejections counted past a cap; import jobs' heartbeat."""

from django.db import migrations, models


def seal_existing(apps, schema_editor):
    """Seal every stored signing secret and hash every stored password (they were kept in clear)."""
    from leadpact.leads._secrets import password_hash, seal

    Integration = apps.get_model("leads", "WebhookIntegration")
    for row in Integration.objects.all():
        changed = []
        if row.secret_sealed and not row.secret_sealed.startswith("v1:"):
            row.secret_sealed = seal(row.secret_sealed)
            changed.append("secret_sealed")
        if row.password_hash and not row.password_hash.startswith("sha256:"):
            row.password_hash = password_hash(row.password_hash)
            changed.append("password_hash")
        if changed:
            row.save(update_fields=changed)


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0006_bulk_load_indexes"),
    ]

    operations = [
        migrations.RenameField("webhookintegration", "secret", "secret_sealed"),
        migrations.RenameField("webhookintegration", "password", "password_hash"),
        migrations.AlterField(
            model_name="webhookintegration",
            name="secret_sealed",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="HubSpot client secret, Mautic or generic signing secret, encrypted with SECRET_KEY",
                max_length=500,
            ),
        ),
        migrations.AlterField(
            model_name="webhookintegration",
            name="password_hash",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="SHA-256 of the Pipedrive basic auth password",
                max_length=200,
            ),
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop),
        migrations.AddField(
            model_name="webhookdelivery",
            name="body_digest",
            field=models.BinaryField(blank=True, editable=False, max_length=32, null=True),
        ),
        migrations.AddField(
            model_name="webhookdelivery",
            name="attempts",
            field=models.PositiveIntegerField(
                default=0, help_text="times processing failed unexpectedly; failed for good after 5"
            ),
        ),
        migrations.AddConstraint(
            model_name="webhookdelivery",
            constraint=models.UniqueConstraint(
                condition=models.Q(("body_digest__isnull", False)),
                fields=("integration", "body_digest"),
                name="webhook_delivery_body_once",
            ),
        ),
        migrations.AddField(
            model_name="webhookrejection",
            name="count",
            field=models.PositiveIntegerField(
                default=1, help_text="refusals this row stands for (past the cap, later ones are counted here)"
            ),
        ),
        migrations.AlterField(
            model_name="webhookrejection",
            name="received_at",
            field=models.DateTimeField(help_text="the last refusal this row counts"),
        ),
        migrations.AddIndex(
            model_name="webhookrejection",
            index=models.Index(fields=["received_at"], name="webhook_rejection_received"),
        ),
        migrations.AddField(
            model_name="importjob",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, help_text="last sign of life of a running import", null=True),
        ),
        migrations.AddField(
            model_name="importjob",
            name="host",
            field=models.CharField(blank=True, help_text="the machine the import runs on", max_length=255),
        ),
        migrations.AddField(
            model_name="importjob",
            name="pid",
            field=models.PositiveIntegerField(blank=True, help_text="the importing process", null=True),
        ),
    ]
