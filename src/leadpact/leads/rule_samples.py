"""Reads for the agreement editor's live check: a rule tried on a sample of the organisation's leads.

The sample is the organisation's most recent leads (by creation); each is checked as the handoff check sees
it (:func:`~leadpact.leads._handoff.lead_rule_fields`), by the same rules engine
(:func:`leadpact.core.rules.rules_check_batch`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from leadpact.core.rules import Lang, Rule, RuleError, rules_check_batch
from leadpact.leads._handoff import lead_rule_fields
from leadpact.leads.models import Lead
from leadpact.organization.models import Organization

__all__ = ["SAMPLE_SIZE", "RuleSample", "rule_sample_check"]

SAMPLE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class RuleSample:
    """How a rule fares on a sample of leads: how many met it, and each clause with how many failed it."""

    sample: int
    passed: int
    clauses: list[tuple[str, int]] = field(default_factory=list)  # most failed first
    error: str = ""

    @property
    def failed(self) -> int:
        return self.sample - self.passed

    @property
    def worst(self) -> tuple[str, int] | None:
        """The clause that fails most (None when none failed)."""
        return self.clauses[0] if self.clauses and self.clauses[0][1] else None


def rule_sample_check(
    *, organization: Organization, rule: str, limit: int = SAMPLE_SIZE, lang: Lang = "en"
) -> RuleSample:
    """Check ``rule`` against the organisation's ``limit`` most recent leads.

    A rule that does not parse gives ``error`` (with its position) and no counts.
    """
    try:
        parsed = Rule.parse(rule)
    except RuleError as error:
        return RuleSample(0, 0, error=str(error))
    leads = [
        lead_rule_fields(lead)
        for lead in Lead.objects.filter(organization=organization).order_by("-created_at", "-id")[:limit]
    ]
    results = [row[0] for row in rules_check_batch([parsed], leads, lang=lang)]
    failing: Counter[str] = Counter()
    for result in results:
        for clause in dict.fromkeys(failure.clause for failure in result.failures):
            failing[clause] += 1
    order = {clause: index for index, clause in enumerate(parsed.clauses)}
    clauses = sorted(
        ((clause, failing.get(clause, 0)) for clause in parsed.clauses),
        key=lambda item: (-item[1], order[item[0]]),
    )
    extra = [(clause, n) for clause, n in failing.items() if clause not in order]
    return RuleSample(
        sample=len(leads),
        passed=sum(result.met for result in results),
        clauses=sorted(clauses + extra, key=lambda item: (-item[1], order.get(item[0], len(order)))),
    )
