"""``leadpact crm_ids …``: each person's user id in each CRM, so owners in imports and webhooks match.

leadpact crm_ids set PERSON --crm hubspot --id 7301 --by EMAIL [--organization KEY]
leadpact crm_ids unset PERSON --crm hubspot --by EMAIL [--organization KEY]
leadpact crm_ids list [--organization KEY]

PERSON is a person's e-mail or name. Salesforce ids match in their 15- and 18-character forms. An owner
that matches no id is tried as a name or e-mail; one that matches nobody is listed once per import with
the number of rows that named it. The change is audited (``person.update``).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from leadpact.errors import ApplicationError
from leadpact.leads.management.commands.events import _operator
from leadpact.leads.selectors import organization_for_cli
from leadpact.organization.models import Person
from leadpact.organization.services import person_update

CRMS = ("hubspot", "salesforce", "pipedrive", "mautic")


class Command(BaseCommand):
    help = "Set, remove or list people's user ids per CRM (owners in imports and webhooks match by them)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        put = sub.add_parser("set", help="give a person their user id in a CRM")
        put.add_argument("person", metavar="PERSON", help="e-mail or name")
        put.add_argument("--crm", required=True, choices=CRMS)
        put.add_argument("--id", required=True, dest="user_id", metavar="ID")
        put.add_argument("--by", required=True, metavar="EMAIL", help="the operator: a user or person")
        put.add_argument("--organization", metavar="KEY")
        drop = sub.add_parser("unset", help="remove a person's user id in a CRM")
        drop.add_argument("person", metavar="PERSON")
        drop.add_argument("--crm", required=True, choices=CRMS)
        drop.add_argument("--by", required=True, metavar="EMAIL")
        drop.add_argument("--organization", metavar="KEY")
        show = sub.add_parser("list", help="every person with their CRM user ids")
        show.add_argument("--organization", metavar="KEY")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            organization = organization_for_cli(options["organization"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        people = Person.objects.filter(team__organization=organization).select_related("team")
        if options["action"] == "list":
            for person in people.order_by("name"):
                listed = ", ".join(f"{crm} {value}" for crm, value in sorted((person.crm_ids or {}).items()))
                self.stdout.write(f"{person.name} <{person.email}>: {listed or '-'}")
            return
        text = options["person"].strip()
        found = list(people.filter(Q(email__iexact=text) | Q(name__iexact=text))[:2])
        if len(found) != 1:
            raise CommandError(
                f"{text!r}: {'more than one' if found else 'no'} person has that e-mail or name"
            )
        person = found[0]
        ids: dict[str, str] = dict(person.crm_ids or {})
        if options["action"] == "set":
            ids[options["crm"]] = options["user_id"].strip()
        else:
            ids.pop(options["crm"], None)
        try:
            person_update(person=person, crm_ids=ids, actor=_operator(organization, options["by"]))
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        except Exception as exc:  # a ValidationError from full_clean: one line, no trace
            messages = getattr(exc, "messages", None)
            if messages is None:
                raise
            raise CommandError(f"{person.name}: {'; '.join(messages)}") from None
        shown = ", ".join(f"{crm} {value}" for crm, value in sorted(ids.items())) or "none"
        self.stdout.write(f"{person.name}: CRM user ids {shown}")
