"""``leadpact token …``: API tokens per integration.

leadpact token create NAME --scope read|write [--organization KEY]   (prints the token once)
leadpact token list [--organization KEY]
leadpact token revoke PREFIX
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadpact.errors import ApplicationError
from leadpact.leads.models import ApiToken
from leadpact.leads.selectors import organization_for_cli
from leadpact.leads.services import api_token_create, api_token_revoke


class Command(BaseCommand):
    help = "Create, list and revoke API tokens (one per integration)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = sub.add_parser("create", help="make a token; it is printed once and never again")
        create.add_argument("name")
        create.add_argument("--scope", choices=["read", "write"], required=True)
        create.add_argument("--organization", metavar="KEY")
        listing = sub.add_parser("list", help="the tokens, live and revoked")
        listing.add_argument("--organization", metavar="KEY")
        revoke = sub.add_parser("revoke", help="stop a token from working")
        revoke.add_argument("prefix", help="the part after lp_ and before the next _")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "create":
                organization = organization_for_cli(options["organization"])
                row, token = api_token_create(
                    organization=organization, name=options["name"], scope=options["scope"], actor="cli"
                )
                self.stdout.write(f"token {row.name!r} ({row.scope}) for {organization.name}:")
                self.stdout.write(token)
                self.stdout.write("keep it now: leadpact stores only its hash and cannot show it again")
            elif options["action"] == "list":
                organization = organization_for_cli(options["organization"])
                for row in ApiToken.objects.filter(organization=organization).order_by("name"):
                    state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "live"
                    used = (
                        f"last used {row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never used"
                    )
                    self.stdout.write(f"lp_{row.prefix}_…  {row.name}  {row.scope}  {state}  {used}")
            else:
                prefix = options["prefix"].removeprefix("lp_").split("_")[0]
                found = ApiToken.objects.filter(prefix=prefix).first()
                if found is None:
                    raise CommandError(f"no token with prefix {prefix!r}")
                api_token_revoke(token=found, actor="cli")
                self.stdout.write(f"token {found.name!r} (lp_{prefix}_…) revoked")
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
