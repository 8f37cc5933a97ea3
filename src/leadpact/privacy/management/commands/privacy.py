"""``leadpact privacy erase|export|retention``: a person's rights on the command line, each audited.

leadpact privacy erase --lead 123 [--reason "request of 2026-12-03"]
leadpact privacy export --lead 123 > lead-123.json
leadpact privacy export --person jan.de.vries@example.com > person.json
leadpact privacy retention [--months 24]
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from leadpact.leads.models import Lead
from leadpact.organization.models import Person
from leadpact.privacy.services import lead_erase, lead_export_record, person_export_record, retention_apply

ACTOR = "cli"


class Command(BaseCommand):
    help = "Erase a lead's personal data, export what is held about a lead or person, apply retention."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        erase = sub.add_parser("erase", help="erase a lead's personal data; its anonymous events stay")
        erase.add_argument("--lead", type=int, required=True, help="the lead's id")
        erase.add_argument("--reason", default="request", help="why (kept in the audit trail)")
        export = sub.add_parser("export", help="everything held about a lead or a person, as JSON")
        who = export.add_mutually_exclusive_group(required=True)
        who.add_argument("--lead", type=int, help="the lead's id")
        who.add_argument("--person", help="the employee's e-mail address or id")
        retention = sub.add_parser("retention", help="anonymise leads older than the retention period")
        retention.add_argument("--months", type=int, help="default: LEADPACT_RETENTION_MONTHS")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        action = options["action"]
        if action == "retention":
            report = retention_apply(now=now, months=options["months"], actor=ACTOR)
            if report.cutoff is None:
                raise CommandError("no retention period: pass --months or set LEADPACT_RETENTION_MONTHS")
            self.stdout.write(
                f"leads created before {report.cutoff:%Y-%m-%d} anonymised: {report.anonymised}"
            )
            return
        if options.get("lead") is not None:
            lead = Lead.objects.filter(pk=options["lead"]).first()
            if lead is None:
                raise CommandError(f"lead {options['lead']}: no such lead")
            if action == "erase":
                lead_erase(lead=lead, actor=ACTOR, now=now, reason=options["reason"])
                self.stdout.write(f"lead {lead.pk}: personal data erased; its events stay, anonymous")
                return
            data = lead_export_record(lead=lead, actor=ACTOR, now=now)
        else:
            key = options["person"]
            people = (
                Person.objects.filter(pk=int(key))
                if key.isdigit()
                else Person.objects.filter(email__iexact=key)
            )
            if people.count() != 1:
                raise CommandError(
                    f"person {key!r}: {'no such person' if not people else 'more than one; give the id'}"
                )
            data = person_export_record(person=people.get(), actor=ACTOR, now=now)
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))
