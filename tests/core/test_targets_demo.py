"""Golden snapshot: a year of monthly team and person targets for the demo organisation.

Any change to a rule (normalisation, growth, capacity, ramp, rounding, the demo data, the calendar)
shows up as a diff of ``snapshots/targets_demo_2026.json``. To accept a change on purpose, run with
``LEADPACT_UPDATE_SNAPSHOTS=1`` and review the diff.
"""

from __future__ import annotations

import json
import os
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

from leadpact.core.allocation import Member, split_target
from leadpact.core.calendar import BusinessCalendar
from leadpact.core.periods import Period
from leadpact.core.targets import TargetRule
from leadpact.demo import demo_organisation

SNAPSHOT = Path(__file__).parent / "snapshots" / "targets_demo_2026.json"
YEAR = 2026
COMMITMENTS: dict[str, dict[str, Any]] = {
    "mql-volume": {"value": 200, "unit": "count", "per": "month"},
    "mql-volume-growth": {"value": 200, "unit": "count", "per": "month", "growth": 0.05},
}


def decimal_text(value: Fraction, places: int = 4) -> str:
    scaled = round(value * 10**places)
    sign = "-" if scaled < 0 else ""
    whole, frac = divmod(abs(scaled), 10**places)
    return f"{sign}{whole}.{frac:0{places}d}"


def build() -> dict[str, Any]:
    org = demo_organisation()
    out: dict[str, Any] = {
        "organisation": org["organisation"]["slug"],
        "year": YEAR,
        "settings": {"basis": "business_days", "normalisation": "average_period", "ramp": "0,1/4,1/2,3/4,1"},
        "commitments": COMMITMENTS,
        "targets": {},
    }
    for key, target in COMMITMENTS.items():
        per_team: dict[str, Any] = {}
        for team in org["teams"]:
            calendar = BusinessCalendar.from_spec(team["calendar"])
            rule = TargetRule.from_spec(
                target, calendar=calendar, start=date(YEAR, 1, 1), subject=team["key"]
            )
            members = [Member.from_spec(person) for person in team["people"]]
            months: dict[str, Any] = {}
            for m in range(1, 13):
                period = Period.parse(f"{YEAR}-{m:02d}")
                split = split_target(rule, period, members)
                people = {
                    cap.member.key: {
                        "capacity": decimal_text(cap.value, 2),
                        "exact": decimal_text(split.allocation[cap.member.key].exact),
                        "target": split.allocation[cap.member.key].value,
                    }
                    for cap in split.capacities
                }
                months[str(period)] = {
                    "basis_days": split.team.basis_days,
                    "exact": decimal_text(split.team.exact),
                    "target": split.team.value,
                    "unallocated": split.allocation.unallocated,
                    "people": people,
                }
            per_team[team["key"]] = months
        out["targets"][key] = per_team
    return out


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def test_demo_targets_match_the_snapshot():
    text = render(build())
    if os.environ.get("LEADPACT_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert SNAPSHOT.exists(), f"{SNAPSHOT} is missing; run with LEADPACT_UPDATE_SNAPSHOTS=1 to write it"
    assert text == SNAPSHOT.read_text(encoding="utf-8")


def test_snapshot_adds_up():
    data = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    for per_team in data["targets"].values():
        for months in per_team.values():
            assert len(months) == 12
            for month in months.values():
                assert (
                    sum(p["target"] for p in month["people"].values()) + month["unallocated"]
                    == month["target"]
                )
    flat = data["targets"]["mql-volume"]
    for months in flat.values():
        total = sum(Fraction(m["exact"]) for m in months.values())
        assert abs(total - 2400) <= Fraction(12, 20000)  # average_period: 12 × 200 (4-decimal text)
