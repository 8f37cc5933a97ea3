"""``leadpact agreement …``: agreement as code on the command line.

    leadpact agreement validate FILE
    leadpact agreement import FILE [--organization KEY] [--as USER]
    leadpact agreement export [--agreement KEY] [--version N] [-o FILE]
    leadpact agreement diff --agreement KEY A B        (version numbers)
    leadpact agreement diff FILE_A FILE_B
    leadpact agreement list [--agreement KEY]
    leadpact agreement propose --agreement KEY [--version N] [--as USER]
    leadpact agreement sign --agreement KEY [--version N] --person EMAIL --operator USER --hash CONTENT_HASH
    leadpact agreement activate --agreement KEY [--version N] [--as USER]
    leadpact agreement activate --due

Problems are printed one per line with their path; the command then exits with status 2 and writes nothing.
"""

from __future__ import annotations

import sys
import zoneinfo
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadpact.agreements.models import Agreement, AgreementVersion
from leadpact.agreements.selectors import agreement_active_version, agreement_latest_version
from leadpact.agreements.services import (
    agreement_export,
    agreement_import,
    agreement_version_activate,
    agreement_version_propose,
    agreement_version_sign_on_behalf,
    agreement_versions_activate_due,
    agreement_versions_diff,
)
from leadpact.audit.selectors import audit_operator
from leadpact.audit.services import Actor
from leadpact.core.agreement import (
    AgreementInvalid,
    agreement_content_hash,
    agreement_diff,
    agreement_load_yaml,
)
from leadpact.errors import ApplicationError
from leadpact.organization.models import Organization, Person
from leadpact.organization.services import organization_create


def _fail(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class Command(BaseCommand):
    help = "Agreement as code: validate, import, export, diff, propose, sign and activate agreement versions."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        def common(p: CommandParser, *, version: bool = True) -> None:
            p.add_argument("--organization", help="organisation key (default: the only one)")
            p.add_argument("--agreement", help="agreement key (default: the only one)")
            if version:
                p.add_argument("--version", type=int, help="version number (default: latest; export: active)")

        p = sub.add_parser("validate", help="check a file; writes nothing")
        p.add_argument("file", help="YAML file, or - for standard input")

        p = sub.add_parser("import", help="import a file as a new draft version")
        p.add_argument("file", help="YAML file, or - for standard input")
        p.add_argument("--organization", help="organisation key; created if it does not exist yet")
        p.add_argument("--as", dest="as_user", help="user name to record as the actor")

        p = sub.add_parser("export", help="write a version as YAML")
        common(p)
        p.add_argument("-o", "--output", help="file to write (default: standard output)")

        p = sub.add_parser("diff", help="what changed between two versions or two files")
        common(p, version=False)
        p.add_argument("a", help="old version number or file")
        p.add_argument("b", help="new version number or file")
        p.add_argument("--lang", choices=["en", "nl"], default="en")

        p = sub.add_parser("list", help="versions with status and content hash")
        common(p, version=False)

        for name, what in (
            ("propose", "put a draft forward for signature"),
            ("activate", "bring into force"),
        ):
            p = sub.add_parser(name, help=what)
            common(p)
            p.add_argument("--as", dest="as_user", help="user name to record as the actor")
        p.add_argument(
            "--due", action="store_true", help="activate every signed version whose effective date has come"
        )

        p = sub.add_parser(
            "sign", help="record the signature a party's lead gave (on paper, by e-mail) on their behalf"
        )
        common(p)
        p.add_argument("--person", required=True, help="the signing lead's e-mail address")
        p.add_argument(
            "--operator",
            required=True,
            help="you: the staff user (user name or e-mail) who records the signature and is audited for it",
        )
        p.add_argument(
            "--hash", dest="content_hash", required=True, help="content hash the lead signed (see list)"
        )

    # --- helpers -------------------------------------------------------------------------------

    def _read(self, name: str) -> str:
        if name == "-":
            return sys.stdin.read()
        path = Path(name)
        if not path.is_file():
            raise _fail(f"file {name} not found; give the path of an agreement YAML file")
        return path.read_text(encoding="utf-8")

    def _problems(self, problems: list[tuple[str, str]]) -> CommandError:
        for path, message in problems:
            self.stderr.write(f"{path}: {message}")
        count = len(problems)
        found = f"{count} problem{'s' if count != 1 else ''} found"
        return _fail(f"{found}; nothing was written; fix the file and try again")

    def _actor(self, username: str | None) -> Actor:
        if not username:
            return "cli"
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise _fail(f"no user {username!r}; give an existing user name with --as")
        return user

    def _organization(self, key: str | None, *, create: bool = False, actor: Actor = "cli") -> Organization:
        if key:
            organization = Organization.objects.filter(key=key).first()
            if organization is None:
                if not create:
                    raise _fail(f"no organisation {key!r}; check the key with the admin or import first")
                organization = organization_create(key=key, name=key, actor=actor)
            return organization
        organizations = list(Organization.objects.all()[:2])
        if len(organizations) != 1:
            raise _fail(
                "say which organisation with --organization KEY"
                + (" (it is created if new)" if create else "")
            )
        return organizations[0]

    def _agreement(self, options: dict[str, Any]) -> Agreement:
        organization = self._organization(options.get("organization"))
        key = options.get("agreement")
        agreements = Agreement.objects.filter(organization=organization)
        if key:
            agreement = agreements.filter(key=key).first()
            if agreement is None:
                raise _fail(f"no agreement {key!r} in {organization.key}; see the keys in the admin")
            return agreement
        found = list(agreements[:2])
        if len(found) != 1:
            raise _fail("say which agreement with --agreement KEY")
        return found[0]

    def _version(
        self, options: dict[str, Any], number: int | None = None, *, default: str = "latest"
    ) -> AgreementVersion:
        agreement = self._agreement(options)
        number = options.get("version") if number is None else number
        if number is not None:
            version = agreement.versions.filter(number=number).first()
            if version is None:
                raise _fail(
                    f"agreement {agreement.key} has no version {number}; see 'leadpact agreement list'"
                )
            return version
        active = agreement_active_version(agreement) if default == "active" else None
        version = active or agreement_latest_version(agreement)
        if version is None:
            raise _fail(f"agreement {agreement.key} has no versions; import one first")
        return version

    # --- actions -------------------------------------------------------------------------------

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            getattr(self, f"_do_{action}")(options)
        except ApplicationError as error:
            if error.code == "agreement.invalid":
                raise self._problems([(p["path"], p["message"]) for p in error.extra["problems"]]) from error
            raise _fail(error.message) from error

    def _do_validate(self, options: dict[str, Any]) -> None:
        try:
            doc = agreement_load_yaml(self._read(options["file"]))
        except AgreementInvalid as error:
            raise self._problems([(str(p.path), str(p.message)) for p in error.problems]) from error
        self.stdout.write(f"valid: {options['file']} (content hash {agreement_content_hash(doc)})")

    def _do_import(self, options: dict[str, Any]) -> None:
        text = self._read(options["file"])
        actor = self._actor(options.get("as_user"))
        try:
            agreement_load_yaml(text)  # report problems before creating an organisation
        except AgreementInvalid as error:
            raise self._problems([(str(p.path), str(p.message)) for p in error.problems]) from error
        organization = self._organization(options.get("organization"), create=True, actor=actor)
        version = agreement_import(organization=organization, yaml_text=text, actor=actor)
        self.stdout.write(
            f"{version.agreement.key} version {version.number} ({version.status}), "
            f"content hash {version.content_hash}"
        )

    def _do_export(self, options: dict[str, Any]) -> None:
        text = agreement_export(version=self._version(options, default="active"))
        if options.get("output"):
            Path(options["output"]).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")

    def _do_diff(self, options: dict[str, Any]) -> None:
        a, b = options["a"], options["b"]
        if a.isdigit() and b.isdigit():
            changes = agreement_versions_diff(
                old=self._version(options, int(a)), new=self._version(options, int(b))
            )
        else:
            try:
                changes = agreement_diff(
                    agreement_load_yaml(self._read(a)), agreement_load_yaml(self._read(b))
                )
            except AgreementInvalid as error:
                raise self._problems([(str(p.path), str(p.message)) for p in error.problems]) from error
        if not changes:
            self.stdout.write("no changes")
        for change in changes:
            self.stdout.write(change.describe(options["lang"]))

    def _do_list(self, options: dict[str, Any]) -> None:
        agreement = self._agreement(options)
        for version in agreement.versions.order_by("number"):
            self.stdout.write(
                f"{agreement.key} v{version.number}\t{version.status}\t{version.effective_from}\t"
                f"{version.content_hash}"
            )

    def _do_propose(self, options: dict[str, Any]) -> None:
        version = agreement_version_propose(
            version=self._version(options), actor=self._actor(options.get("as_user"))
        )
        self.stdout.write(
            f"{version.agreement.key} version {version.number} proposed ({version.content_hash})"
        )

    def _do_sign(self, options: dict[str, Any]) -> None:
        version = self._version(options)
        people = Person.objects.filter(email__iexact=options["person"], team__in=version.parties.all())
        person = people.first()
        if person is None:
            raise _fail(
                f"no person {options['person']} in a party of {version.agreement.key}; check the e-mail"
            )
        operator = audit_operator(options["operator"])
        agreement_version_sign_on_behalf(
            version=version, signer=person, operator=operator, content_hash=options["content_hash"]
        )
        version.refresh_from_db()
        where = f"{version.agreement.key} version {version.number}"
        self.stdout.write(
            f"{person.team.key} signed {where} (now {version.status}): {person.name}'s signature, "
            f"recorded by {operator.get_username()}"
        )

    def _do_activate(self, options: dict[str, Any]) -> None:
        if options.get("due"):
            activated = agreement_versions_activate_due(actor=self._actor(options.get("as_user")))
            for version in activated:
                self.stdout.write(f"{version.agreement.key} version {version.number} active")
            if not activated:
                self.stdout.write("no signed version is due")
            return
        version = agreement_version_activate(
            version=self._version(options), actor=self._actor(options.get("as_user"))
        )
        assert version.activated_at is not None
        start = version.activated_at.astimezone(zoneinfo.ZoneInfo(version.agreement.organization.timezone))
        when = start.isoformat(timespec="seconds")
        self.stdout.write(f"{version.agreement.key} version {version.number} active from {when}")
