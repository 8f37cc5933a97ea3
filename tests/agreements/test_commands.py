"""``leadpact agreement …`` and its errors: one line that says what to do, exit status 2, nothing written."""

from __future__ import annotations

import io
import zoneinfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from leadpact.agreements.models import Agreement, AgreementVersion
from leadpact.audit.models import AuditEntry
from leadpact.core.agreement import agreement_dump_yaml, agreement_load_yaml
from leadpact.organization.models import Organization
from tests.agreements.conftest import SMALL

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("agreement", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fails(*args: str) -> tuple[str, str]:
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("agreement", *args, stdout=io.StringIO(), stderr=err)
    assert caught.value.returncode == 2
    assert "\n" not in str(caught.value)
    return str(caught.value), err.getvalue()


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "agreement.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


@pytest.fixture
def bad(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(SMALL.replace("value: 95", "value: -5").replace("kind: volume", "kind: volumes"))
    return path


def test_validate_writes_nothing(small):
    out, _ = run("validate", str(small))
    assert out.startswith(f"valid: {small}")
    assert not Organization.objects.exists() and not AuditEntry.objects.exists()


def test_validate_prints_every_problem_with_its_path(bad):
    message, err = fails("validate", str(bad))
    assert "commitments[0].kind: must be one of" in err
    assert "commitments[1].target.value: must be > 0" in err
    assert "2 problems found" in message


def test_import_of_a_bad_file_writes_nothing_not_even_the_organisation(bad):
    message, err = fails("import", str(bad), "--organization", "acme")
    assert "commitments[1].target.value" in err and "nothing was written" in message
    assert not Organization.objects.exists() and not AuditEntry.objects.exists()


def test_import_export_round_trip_and_list(small, tmp_path):
    out, _ = run("import", str(small), "--organization", "acme")
    assert out.startswith("marketing-sales version 1 (draft)")
    version = AgreementVersion.objects.get()
    assert AuditEntry.objects.filter(action="agreement.import").get().actor_label == "cli"
    target = tmp_path / "out.yaml"
    run("export", "--agreement", "marketing-sales", "-o", str(target))
    assert target.read_text(encoding="utf-8") == agreement_dump_yaml(agreement_load_yaml(SMALL))
    out, _ = run("import", str(target))  # the only organisation; same content: nothing new
    assert out.startswith("marketing-sales version 1")
    assert AgreementVersion.objects.count() == 1
    out, _ = run("export")
    assert out == target.read_text(encoding="utf-8")
    out, _ = run("list")
    assert out.split("\t")[:2] == ["marketing-sales v1", "draft"] and version.content_hash in out


def test_import_as_a_user(small, django_user_model):
    django_user_model.objects.create_user(username="ria", password=None)
    run("import", str(small), "--organization", "acme", "--as", "ria")
    assert AuditEntry.objects.get(action="agreement.import").actor_label == "ria"
    message, _ = fails("import", str(small), "--as", "nobody")
    assert "--as" in message


def test_diff_of_versions_and_of_files(small, tmp_path):
    run("import", str(small), "--organization", "acme")
    changed = tmp_path / "changed.yaml"
    changed.write_text(SMALL.replace("value: 200", "value: 220"), encoding="utf-8")
    run("import", str(changed))
    out, _ = run("diff", "--agreement", "marketing-sales", "1", "2")
    assert "220" in out
    assert run("diff", str(small), str(changed))[0] == out
    assert run("diff", str(small), str(small))[0] == "no changes\n"


def test_propose_sign_activate(small, leads_for_cli):
    version = AgreementVersion.objects.get()
    run("propose", "--agreement", "marketing-sales")
    message, _ = fails(
        "sign", "--person", "mia.marketing@acme.example", "--operator", "ops", "--hash", "0" * 64
    )
    assert "read the current version and sign again" in message
    for email in ("mia.marketing@acme.example", "sid.sales@acme.example"):
        out, _ = run("sign", "--person", email, "--operator", "ops", "--hash", version.content_hash)
    assert out == (
        "sales signed marketing-sales version 1 (now signed): Sid Sales's signature, recorded by ops\n"
    )
    out, _ = run("activate", "--due")
    version.refresh_from_db()
    assert version.status == "active" and out == "marketing-sales version 1 active\n"
    assert run("activate", "--due")[0] == "no signed version is due\n"


@pytest.fixture
def leads_for_cli(small, db):
    from leadpact.organization.models import Person, Team
    from tests.organization.factories import make_person

    run("import", str(small), "--organization", "acme")
    for key, name in (("marketing", "Mia Marketing"), ("sales", "Sid Sales")):
        make_person(Team.objects.get(key=key), name, role=Person.Role.LEAD, with_user=True)
    get_user_model().objects.create_user(
        username="ops", email="Ops@acme.example", password=None, is_staff=True
    )


def test_activate_one_version(small, leads_for_cli):
    version = AgreementVersion.objects.get()
    run("propose")
    for email in ("mia.marketing@acme.example", "sid.sales@acme.example"):
        run("sign", "--person", email, "--operator", "ops", "--hash", version.content_hash)
    out, _ = run("activate", "--agreement", "marketing-sales", "--version", "1")
    version.refresh_from_db()
    assert version.activated_at == version.signed_at  # signed after the effective date: in force from then
    local = version.activated_at.astimezone(zoneinfo.ZoneInfo("Europe/Amsterdam")).isoformat(
        timespec="seconds"
    )
    assert out == f"marketing-sales version 1 active from {local}\n"


def test_errors_say_what_to_do(tmp_path, small):
    assert "give the path" in fails("validate", str(tmp_path / "missing.yaml"))[0]
    assert "--organization" in fails("import", str(small))[0]  # no organisation yet
    run("import", str(small), "--organization", "acme")
    Organization.objects.create(key="second", name="Second")
    assert "--organization" in fails("export")[0]
    assert "no agreement 'nope'" in fails("export", "--organization", "acme", "--agreement", "nope")[0]
    assert "has no version 9" in fails("export", "--organization", "acme", "--version", "9")[0]
    no_person = fails(
        "sign", "--organization", "acme", "--person", "x@y.z", "--operator", "ops", "--hash", "0"
    )
    assert "no person x@y.z" in no_person[0]
    assert Agreement.objects.count() == 1


def test_signing_from_the_command_line_names_the_operator_who_records_it(small, leads_for_cli):
    """Issue 11, point 5: the CLI signed as anyone; now an operator records it and is audited for it."""
    version = AgreementVersion.objects.get()
    run("propose")
    with pytest.raises(CommandError, match="--operator"):
        call_command(
            "agreement", "sign", "--person", "sid.sales@acme.example", "--hash", version.content_hash
        )
    assert not AuditEntry.objects.filter(action="version.sign").exists()

    run(
        "sign",
        "--person",
        "sid.sales@acme.example",
        "--operator",
        "ops@ACME.example",
        "--hash",
        version.content_hash,
    )
    entry = AuditEntry.objects.get(action="version.sign")
    assert entry.actor_label == "ops" and entry.actor.username == "ops"
    assert (entry.after["recorded_by"], entry.after["on_behalf_of"], entry.after["signed_hash"]) == (
        "ops",
        "sid.sales@acme.example",
        version.content_hash,
    )
    log = io.StringIO()
    call_command("audit", "log", stdout=log)
    assert "on_behalf_of: None -> 'sid.sales@acme.example'" in log.getvalue().splitlines()[-1]


@pytest.mark.parametrize(
    ("operator", "says"),
    [
        ("nobody", "no user has the name or e-mail 'nobody'"),
        ("mia.marketing@acme.example", "is not an active staff user"),  # a lead, not an operator
    ],
)
def test_an_operator_who_is_not_one_is_refused(small, leads_for_cli, operator, says):
    version = AgreementVersion.objects.get()
    run("propose")
    message, _ = fails(
        "sign", "--person", "sid.sales@acme.example", "--operator", operator, "--hash", version.content_hash
    )
    assert says in message
    assert not AuditEntry.objects.filter(action="version.sign").exists()
