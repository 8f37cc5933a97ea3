"""Reads: the target of every commitment of a version, for a period, per team and per person.

The arithmetic is :mod:`leadpact.core.targets` and :mod:`leadpact.core.allocation`; this module only
gathers what it needs from the database (the version's document, the owner team's calendar and people
with their leave, overrides) and hands back plain values with their explanation.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from leadpact.agreements.models import Agreement, AgreementVersion
from leadpact.agreements.services import agreement_version_document
from leadpact.core.agreement import AgreementDocument, Commitment
from leadpact.core.allocation import Member, TeamSplit, split_target
from leadpact.core.calendar import BusinessCalendar
from leadpact.core.explain import Explanation, Step
from leadpact.core.periods import DateRange, Period
from leadpact.core.targets import TargetRule
from leadpact.measurement.subjects import people_in
from leadpact.measurement.targets.models import TargetOverride
from leadpact.organization.models import Person, Team

__all__ = [
    "CommitmentTarget",
    "PersonTarget",
    "commitment_targets",
    "version_period_targets",
]

SPLIT_UNITS = ("count", "amount")


@dataclass(frozen=True, slots=True)
class PersonTarget:
    """One person's target for one commitment and period."""

    person: Person
    value: int | Decimal
    exact: Fraction
    overridden: bool
    explanation: Explanation


@dataclass(frozen=True, slots=True)
class CommitmentTarget:
    """A commitment's target for one period: the owner team's, and each person's where it splits."""

    commitment: Commitment
    team: Team
    period: Period
    unit: str
    value: int | Decimal
    exact: Fraction
    basis_days: int | None
    explanation: Explanation
    people: tuple[PersonTarget, ...]
    rule: TargetRule | None = None  # the rate behind a count or amount target: its line shapes pacing
    split: TeamSplit | None = None  # the split over people by capacity, when the target splits
    currency: str = ""  # an amount's currency (ISO 4217, e.g. EUR); "" for other units

    @property
    def splits(self) -> bool:
        return bool(self.people) and self.unit in SPLIT_UNITS


def _member(person: Person) -> Member:
    return Member(
        key=str(person.pk),
        name=person.name,
        fte=Fraction(person.fte),
        start=person.start_date,
        end=person.end_date,
        hours=person.hours,
        leave=tuple(DateRange(item.first_day, item.end_day) for item in person.leave.all()),
    )


def _uniform(
    commitment: Commitment, team: Team, period: Period, people: Sequence[Person], currency: str
) -> CommitmentTarget:
    target = commitment.target
    shown = f"{target.value}%" if target.unit == "percent" else str(target.value)
    step = Step("uniform", {"unit": target.unit, "value": shown, "period": period.kind})
    explanation = Explanation(f"{commitment.key} {period}", (step,))
    return CommitmentTarget(
        commitment=commitment,
        team=team,
        period=period,
        unit=target.unit,
        value=target.value,
        exact=Fraction(target.value),
        basis_days=None,
        explanation=explanation,
        people=tuple(
            PersonTarget(
                person=p,
                value=target.value,
                exact=Fraction(target.value),
                overridden=False,
                explanation=Explanation(f"{p.name}: {commitment.key} {period}", (step,)),
            )
            for p in people
        ),
        currency=currency,
    )


def commitment_targets(
    *,
    version: AgreementVersion,
    period: Period,
    document: AgreementDocument | None = None,
    teams: dict[str, Team] | None = None,
    commitments: Collection[str] | None = None,
    rules: dict[str, TargetRule] | None = None,
) -> list[CommitmentTarget]:
    """Every commitment of ``version`` with its target for ``period``, per owner team and person.

    Count and amount targets are rates over basis days (normalised as the agreement's settings say)
    and split over the owner team's people by capacity when the commitment says ``split: capacity``;
    percentage and duration targets hold for the team and every person alike.

    ``commitments`` (keys) narrows to those; ``rules`` is a cache of the commitments' target rules for
    a caller that asks for several periods (a rule's calendar memoises its business days).
    """
    doc = document or agreement_version_document(version)
    if teams is None:
        keys = [p.key for p in doc.parties]
        teams = {
            t.key: t for t in Team.objects.filter(organization=version.agreement.organization, key__in=keys)
        }
    calendars = {c.key: c.spec for c in doc.calendars}
    overrides = _overrides(version.agreement, period)
    settings = doc.settings
    out: list[CommitmentTarget] = []
    people_cache: dict[int, list[Person]] = {}
    for commitment in doc.commitments:
        if commitments is not None and commitment.key not in commitments:
            continue
        team = teams[commitment.owner]
        if team.pk not in people_cache:
            people_cache[team.pk] = people_in(team, period)
        people = people_cache[team.pk] if commitment.split == "capacity" else []
        currency = doc.currency_of(commitment) if commitment.target.unit == "amount" else ""
        if commitment.target.unit not in SPLIT_UNITS or commitment.target.per is None:
            out.append(_uniform(commitment, team, period, people, currency))
            continue
        rule = None if rules is None else rules.get(commitment.key)
        if rule is None:
            spec = calendars[commitment.calendar] if commitment.calendar else team.calendar
            calendar = BusinessCalendar.from_spec(spec)
            rule = TargetRule.from_spec(
                {
                    "value": commitment.target.value,
                    "unit": commitment.target.unit,
                    "per": commitment.target.per,
                    "growth": commitment.target.growth,
                },
                calendar=calendar,
                basis=commitment.basis or settings.basis,
                normalisation=settings.normalisation,
                start=doc.info.effective_from,
                until=doc.info.effective_until,
                subject=commitment.key,
            )
            if rules is not None:
                rules[commitment.key] = rule
        if not people:
            team_target = rule.target(period)
            out.append(
                CommitmentTarget(
                    commitment=commitment,
                    team=team,
                    period=period,
                    unit=commitment.target.unit,
                    value=team_target.value,
                    exact=team_target.exact,
                    basis_days=team_target.basis_days,
                    explanation=team_target.explanation,
                    people=(),
                    rule=rule,
                    currency=currency,
                )
            )
            continue
        by_key = {str(p.pk): p for p in people}
        fixed = {
            str(o.person_id): o.value for o in overrides.get(commitment.key, ()) if str(o.person_id) in by_key
        }
        split = split_target(
            rule,
            period,
            [_member(p) for p in people],
            ramp=settings.ramp,
            overrides=fixed or None,
        )
        out.append(
            CommitmentTarget(
                commitment=commitment,
                team=team,
                period=period,
                unit=commitment.target.unit,
                value=split.team.value,
                exact=split.team.exact,
                basis_days=split.team.basis_days,
                explanation=split.team.explanation,
                people=tuple(
                    PersonTarget(
                        person=by_key[share.key],
                        value=share.value,
                        exact=share.exact,
                        overridden=share.overridden,
                        explanation=split.explain(share.key),
                    )
                    for share in split.allocation.shares
                ),
                rule=rule,
                split=split,
                currency=currency,
            )
        )
    return out


def _overrides(agreement: Agreement, period: Period) -> dict[str, list[TargetOverride]]:
    found: dict[str, list[TargetOverride]] = {}
    for item in TargetOverride.objects.filter(agreement=agreement, period=str(period)):
        found.setdefault(item.commitment_key, []).append(item)
    return found


def version_period_targets(
    *, version: AgreementVersion, first: Period, last: Period
) -> dict[str, list[CommitmentTarget]]:
    """Targets for every period from ``first`` to ``last`` (inclusive, same kind), keyed by period."""
    if first.kind != last.kind:
        raise ValueError(f"periods {first} and {last} are of different kinds")
    doc = agreement_version_document(version)
    result: dict[str, list[CommitmentTarget]] = {}
    period = first
    while period.start <= last.start:
        result[str(period)] = commitment_targets(version=version, period=period, document=doc)
        period = period.next()
    return result
