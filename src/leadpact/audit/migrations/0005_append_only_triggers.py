"""Database triggers that keep the audit log append-only, also when the ORM's guards are bypassed.

Entries: every UPDATE is refused; DELETE (and TRUNCATE on PostgreSQL) only while leadpact erases the
whole database (``flush``, see ``leadpact.audit._guard``).  The checkpoint: an UPDATE must move it
forward on the same chain; DELETE and TRUNCATE as for entries.
"""

from django.db import migrations

SQLITE_ERASABLE = "leadpact_audit_erasable()"
SQLITE = [
    """CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_auditentry
    FOR EACH ROW BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: UPDATE refused'); END""",
    f"""CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_auditentry
    FOR EACH ROW WHEN NOT {SQLITE_ERASABLE}
    BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: DELETE refused'); END""",
    """CREATE TRIGGER audit_checkpoint_forward_only BEFORE UPDATE ON audit_auditcheckpoint
    FOR EACH ROW WHEN NEW.entries <= OLD.entries OR NEW.chain IS NOT OLD.chain
    BEGIN SELECT RAISE(ABORT, 'the audit checkpoint only moves forward'); END""",
    f"""CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_auditcheckpoint
    FOR EACH ROW WHEN NOT {SQLITE_ERASABLE}
    BEGIN SELECT RAISE(ABORT, 'the audit checkpoint cannot be deleted'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_entry_no_update",
    "DROP TRIGGER IF EXISTS audit_entry_no_delete",
    "DROP TRIGGER IF EXISTS audit_checkpoint_forward_only",
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_delete",
]

PG_ERASABLE = "current_setting('leadpact.audit_erasable', true) IS NOT DISTINCT FROM 'on'"
POSTGRESQL = [
    f"""CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'UPDATE' OR NOT ({PG_ERASABLE}) THEN
        RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP USING ERRCODE = 'check_violation';
      END IF;
      IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
      RETURN NULL;
    END $$""",
    """CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()""",
    """CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()""",
    f"""CREATE OR REPLACE FUNCTION audit_checkpoint_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        IF NEW.entries <= OLD.entries OR NEW.chain IS DISTINCT FROM OLD.chain THEN
          RAISE EXCEPTION 'the audit checkpoint only moves forward' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END IF;
      IF NOT ({PG_ERASABLE}) THEN
        RAISE EXCEPTION 'the audit checkpoint cannot be deleted (%)', TG_OP USING ERRCODE = 'check_violation';
      END IF;
      IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
      RETURN NULL;
    END $$""",
    """CREATE TRIGGER audit_checkpoint_forward_only BEFORE UPDATE OR DELETE ON audit_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_forward_only()""",
    """CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_auditcheckpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoint_forward_only()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_auditentry",
    "DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_auditentry",
    "DROP TRIGGER IF EXISTS audit_checkpoint_forward_only ON audit_auditcheckpoint",
    "DROP TRIGGER IF EXISTS audit_checkpoint_no_truncate ON audit_auditcheckpoint",
    "DROP FUNCTION IF EXISTS audit_entry_append_only()",
    "DROP FUNCTION IF EXISTS audit_checkpoint_forward_only()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            return  # other databases rely on the model-level guard and the seals
        with schema_editor.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_seal_existing_entries")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}),
        ),
    ]
