"""The shipped template agreement, fitted to an organisation: its teams as the parties, with their calendars.

A read: it writes nothing; importing the text (``agreement_import``) makes it a draft.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any, Literal

from django.utils import timezone

from leadpact.core.agreement import agreement_dump_yaml, agreement_parse, agreement_template
from leadpact.core.agreement import agreement_load_yaml as _load
from leadpact.core.agreement import agreement_to_data as _data
from leadpact.organization.models import Organization, Team

__all__ = ["agreement_template_for"]

_SIDES = ("marketing", "sales")


def _pick(teams: list[Team], side: str, taken: set[int]) -> Team | None:
    for test in (lambda t: t.kind == side, lambda t: t.key == side, lambda t: True):
        for team in teams:
            if team.pk not in taken and test(team):
                return team
    return None


def agreement_template_for(
    *, organization: Organization, lang: Literal["en", "nl"], today: dt.date | None = None
) -> str:
    """The template's YAML with the organisation's teams as parties (marketing's and sales' clauses on the
    teams of those kinds, any further team a party too) and each team's calendar; in force from today.

    With fewer than two teams the template's own parties stay (importing creates them).
    """
    data: dict[str, Any] = _data(_load(agreement_template(lang)), style="json")
    if today is None:
        today = timezone.localdate(timezone.now(), timezone=zoneinfo.ZoneInfo(organization.timezone))
    data["agreement"]["effective_from"] = today.isoformat()
    teams = list(organization.teams.order_by("key"))
    if len(teams) >= 2:
        taken: set[int] = set()
        rename: dict[str, Team] = {}
        for side in _SIDES:
            team = _pick(teams, side, taken)
            assert team is not None
            taken.add(team.pk)
            rename[side] = team
        ordered = list(rename.values()) + [t for t in teams if t.pk not in taken]
        data["parties"] = [{"key": t.key, "name": t.name, "calendar": t.key} for t in ordered]
        data["calendars"] = {t.key: t.calendar for t in ordered}
        keys = {side: team.key for side, team in rename.items()}
        for item in data["reason_codes"]:
            item["owner"] = keys.get(item["owner"], item["owner"])
        for item in data["commitments"]:
            for role in ("owner", "beneficiary"):
                item[role] = keys.get(item[role], item[role])
    return agreement_dump_yaml(agreement_parse(data))
