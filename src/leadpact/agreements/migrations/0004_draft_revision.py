"""A revision counter on agreement versions: optimistic locking of drafts (no lost update).

On SQLite, Django adds a NOT NULL column by rebuilding the table, which its triggers (0002) do not
survive; SQLite's own ``ALTER TABLE … ADD COLUMN … DEFAULT 1`` adds it in place instead.
"""

from django.db import migrations, models

FIELD = models.PositiveIntegerField(
    default=1,
    help_text="counts the saves of a draft; a save based on an older revision is refused (no lost update)",
    verbose_name="revision",
)


def _add(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            'ALTER TABLE "agreements_agreementversion" ADD COLUMN "revision" integer unsigned NOT NULL'
            ' DEFAULT 1 CHECK ("revision" >= 0)'
        )
    else:
        model = apps.get_model("agreements", "AgreementVersion")
        schema_editor.add_field(model, model._meta.get_field("revision"))


def _remove(apps, schema_editor):
    model = apps.get_model("agreements", "AgreementVersion")
    schema_editor.remove_field(model, model._meta.get_field("revision"))


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0003_verbose_names"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddField("agreementversion", "revision", FIELD)],
            database_operations=[],
        ),
        migrations.RunPython(_add, _remove),
    ]
