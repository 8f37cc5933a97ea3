"""``leadpact events …``: corrections to the event log.

leadpact events void EVENT_ID --reason "amount typed wrong" --by EMAIL [--organization KEY]
leadpact events show EVENT_ID [--organization KEY]

The log is append-only: voiding appends a ``voided`` event that names the bad one; the lead's state, its
handoff checks, the SLA clocks and every measurement leave the voided event out from then on. ``--by``
names the operator (a user's e-mail or user name, or a person of the organisation), recorded in the
audit trail with the reason.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from leadpact.audit.services import Actor
from leadpact.errors import ApplicationError
from leadpact.leads.models import LeadEvent
from leadpact.leads.selectors import organization_for_cli
from leadpact.leads.services import lead_event_void
from leadpact.organization.models import Organization, Person


def _operator(organization: Organization, who: str) -> Actor:
    """The user (by e-mail or user name), else the organisation's person, that ``--by`` names."""
    text = who.strip()
    users = list(User.objects.filter(Q(email__iexact=text) | Q(username__iexact=text))[:2])
    if len(users) == 1:
        return users[0]
    people = list(
        Person.objects.filter(team__organization=organization).filter(
            Q(email__iexact=text) | Q(name__iexact=text)
        )[:2]
    )
    if len(people) == 1:
        return f"cli: {people[0].name} <{people[0].email}>"
    raise CommandError(
        f"--by {who!r}: {'more than one' if users or people else 'no'} user or person has that e-mail or name"
    )


class Command(BaseCommand):
    help = "Void a wrong lead event (an audited correction; the log stays append-only), or show one."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        void = sub.add_parser(
            "void", help="void an event: state, checks, clocks and measurement leave it out"
        )
        void.add_argument("event_id", type=int)
        void.add_argument("--reason", required=True, help="why it is wrong (kept in the audit trail)")
        void.add_argument("--by", required=True, metavar="EMAIL", help="the operator: a user or person")
        void.add_argument("--organization", metavar="KEY")
        show = sub.add_parser("show", help="an event as stored")
        show.add_argument("event_id", type=int)
        show.add_argument("--organization", metavar="KEY")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            organization = organization_for_cli(options["organization"])
            if options["action"] == "show":
                event = LeadEvent.objects.filter(organization=organization, pk=options["event_id"]).first()
                if event is None:
                    raise CommandError(f"{organization.name} has no event {options['event_id']}")
                self.stdout.write(
                    f"event {event.pk}: {event.kind} of lead {event.lead_id} at"
                    f" {event.occurred_at.isoformat()} from {event.source}; data {event.data}"
                )
                return
            void = lead_event_void(
                organization=organization,
                event_id=options["event_id"],
                reason=options["reason"],
                actor=_operator(organization, options["by"]),
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"event {options['event_id']} voided (correction event {void.pk}); lead {void.lead_id}'s state is"
            " rebuilt, and measurement leaves the event out"
        )
