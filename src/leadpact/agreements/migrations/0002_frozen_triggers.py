"""Database triggers that refuse any UPDATE changing a signed (or later) version, its signatures or
commitments, or a definition version's content — also when the ORM's ``save()`` guard is bypassed."""

from django.db import migrations

FROZEN = "('signed', 'active', 'superseded')"
VERSION_CHANGED = (
    "NEW.document {ne} OLD.document OR NEW.content_hash {ne} OLD.content_hash OR NEW.number {ne} OLD.number"
    " OR NEW.agreement_id {ne} OLD.agreement_id OR NEW.effective_from {ne} OLD.effective_from"
    " OR NEW.effective_until {ne} OLD.effective_until OR NEW.status IN ('draft', 'proposed')"
)
DEFINITION_CHANGED = (
    "NEW.key {ne} OLD.key OR NEW.term {ne} OLD.term OR NEW.text {ne} OLD.text OR NEW.rule {ne} OLD.rule"
    " OR NEW.content_hash {ne} OLD.content_hash OR NEW.number {ne} OLD.number"
    " OR NEW.organization_id {ne} OLD.organization_id"
)
COMMITMENT_FROZEN = (
    "EXISTS (SELECT 1 FROM agreements_agreementversion v WHERE v.id = OLD.version_id AND v.status IN {frozen})"
)

SQLITE = [
    f"""CREATE TRIGGER agreement_version_frozen BEFORE UPDATE ON agreements_agreementversion
    FOR EACH ROW WHEN OLD.status IN {FROZEN} AND ({VERSION_CHANGED.format(ne="IS NOT")})
    BEGIN SELECT RAISE(ABORT, 'agreement version is signed and cannot change'); END""",
    f"""CREATE TRIGGER definition_version_frozen BEFORE UPDATE ON agreements_definitionversion
    FOR EACH ROW WHEN {DEFINITION_CHANGED.format(ne="IS NOT")}
    BEGIN SELECT RAISE(ABORT, 'definition version content cannot change'); END""",
    """CREATE TRIGGER signature_frozen BEFORE UPDATE ON agreements_signature
    FOR EACH ROW BEGIN SELECT RAISE(ABORT, 'signature cannot change'); END""",
    f"""CREATE TRIGGER commitment_frozen BEFORE UPDATE ON agreements_commitment
    FOR EACH ROW WHEN {COMMITMENT_FROZEN.format(frozen=FROZEN)}
    BEGIN SELECT RAISE(ABORT, 'commitment of a signed agreement version cannot change'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS agreement_version_frozen",
    "DROP TRIGGER IF EXISTS definition_version_frozen",
    "DROP TRIGGER IF EXISTS signature_frozen",
    "DROP TRIGGER IF EXISTS commitment_frozen",
]


def _pg_function(name, condition, message):
    return f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF {condition} THEN
        RAISE EXCEPTION '{message} (id %)', OLD.id USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END $$"""


POSTGRESQL = [
    _pg_function(
        "agreements_version_frozen",
        f"OLD.status IN {FROZEN} AND ({VERSION_CHANGED.format(ne='IS DISTINCT FROM')})",
        "agreement version is signed and cannot change",
    ),
    """CREATE TRIGGER agreement_version_frozen BEFORE UPDATE ON agreements_agreementversion
    FOR EACH ROW EXECUTE FUNCTION agreements_version_frozen()""",
    _pg_function(
        "agreements_definition_frozen",
        DEFINITION_CHANGED.format(ne="IS DISTINCT FROM"),
        "definition version content cannot change",
    ),
    """CREATE TRIGGER definition_version_frozen BEFORE UPDATE ON agreements_definitionversion
    FOR EACH ROW EXECUTE FUNCTION agreements_definition_frozen()""",
    _pg_function("agreements_signature_frozen", "TRUE", "signature cannot change"),
    """CREATE TRIGGER signature_frozen BEFORE UPDATE ON agreements_signature
    FOR EACH ROW EXECUTE FUNCTION agreements_signature_frozen()""",
    _pg_function(
        "agreements_commitment_frozen",
        COMMITMENT_FROZEN.format(frozen=FROZEN),
        "commitment of a signed agreement version cannot change",
    ),
    """CREATE TRIGGER commitment_frozen BEFORE UPDATE ON agreements_commitment
    FOR EACH ROW EXECUTE FUNCTION agreements_commitment_frozen()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS agreement_version_frozen ON agreements_agreementversion",
    "DROP TRIGGER IF EXISTS definition_version_frozen ON agreements_definitionversion",
    "DROP TRIGGER IF EXISTS signature_frozen ON agreements_signature",
    "DROP TRIGGER IF EXISTS commitment_frozen ON agreements_commitment",
    "DROP FUNCTION IF EXISTS agreements_version_frozen()",
    "DROP FUNCTION IF EXISTS agreements_definition_frozen()",
    "DROP FUNCTION IF EXISTS agreements_signature_frozen()",
    "DROP FUNCTION IF EXISTS agreements_commitment_frozen()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            return  # other databases rely on the model-level guard
        with schema_editor.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("agreements", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}),
        ),
    ]
