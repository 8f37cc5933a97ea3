"""Check a handed-over lead against the agreement version in force at the handoff.

The definition the volume commitment covers (its CEL rule, by exact definition version) and the handoff
data contract (the ``fields`` of the agreement's handoff commitments). No agreement in force: nothing is
stored, and the lead's handoff shows as "not checked".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from leadpact.agreements.models import Agreement, AgreementVersion, Commitment, DefinitionVersion
from leadpact.agreements.selectors import agreement_version_at, version_effective_until
from leadpact.core.agreement import FieldCheck
from leadpact.core.rules import Rule, RuleError
from leadpact.leads._sql import adapt_json, allocate_ids, datetime_adapter, insert_rows
from leadpact.leads.models import HandoffCheck, Lead, LeadEvent
from leadpact.organization.models import Organization

__all__ = ["Handoff", "HandoffChecker", "lead_rule_fields"]

_TEXT = ("name", "email", "phone", "company", "country", "source", "campaign", "job_title", "industry",
         "company_size", "trigger")  # fmt: skip


def lead_rule_fields(lead: Lead) -> dict[str, Any]:
    """The lead as rules and contracts see it (``lead.<field>``); empty text counts as missing."""
    out: dict[str, Any] = {name: (getattr(lead, name) or None) for name in _TEXT}
    out["score"] = lead.score
    out["consent"] = lead.consent
    out["recent_touches"] = lead.recent_touches
    out["extra"] = dict(lead.extra or {})
    return out


@dataclass(frozen=True, slots=True)
class Handoff:
    """A stored ``handed_over`` event, as much of it as a check needs."""

    pk: int
    lead_id: int
    occurred_at: dt.datetime


@dataclass(frozen=True, slots=True)
class _Terms:
    definition: DefinitionVersion | None
    rule: Rule | None
    fields: tuple[FieldCheck, ...]


class HandoffChecker:
    """Checks handoffs of one organisation; caches the versions in force and their parsed terms."""

    def __init__(self, organization: Organization) -> None:
        self.organization = organization
        self.agreements = list(
            Agreement.objects.filter(
                organization=organization,
                versions__status__in=[AgreementVersion.Status.ACTIVE, AgreementVersion.Status.SUPERSEDED],
            ).distinct()
        )
        self._spans: dict[int, list[tuple[dt.datetime, dt.datetime | None, AgreementVersion]]] = {}
        self._terms: dict[int, _Terms] = {}

    @property
    def active(self) -> bool:
        """Whether any agreement of the organisation has ever been in force (else nothing to check)."""
        return bool(self.agreements)

    def version_at(self, agreement: Agreement, instant: dt.datetime) -> AgreementVersion | None:
        """:func:`agreement_version_at`, remembered by the span the found version is in force for."""
        for start, end, known in self._spans.get(agreement.pk, []):
            if start <= instant and (end is None or instant < end):
                return known
        version = agreement_version_at(agreement=agreement, instant=instant)
        if version is not None and version.activated_at is not None:
            ends = [version.superseded_at] if version.superseded_at else []
            if version.effective_until is not None:
                until = version_effective_until(version)
                if until is not None:
                    ends.append(until)
            self._spans.setdefault(agreement.pk, []).append(
                (version.activated_at, min(ends) if ends else None, version)
            )
        return version

    def terms(self, version: AgreementVersion) -> _Terms:
        """The covered definition (of the first volume commitment by key) and the data contract."""
        if version.pk not in self._terms:
            commitments = list(
                Commitment.objects.filter(version=version).select_related("covers").order_by("key")
            )
            definition = next(
                (c.covers for c in commitments if c.kind == Commitment.Kind.VOLUME and c.covers is not None),
                None,
            )
            rule: Rule | None = None
            if definition is not None and definition.rule.strip():
                try:
                    rule = Rule.parse(definition.rule)
                except RuleError:  # stored rules were checked on import; stay safe anyway
                    rule = None
            checks: list[FieldCheck] = []
            seen: set[str] = set()
            for c in commitments:
                if c.kind != Commitment.Kind.HANDOFF:
                    continue
                for item in c.spec.get("fields", []) or []:
                    name, check = str(item.get("field", "")), str(item.get("check", ""))
                    if name and name not in seen:
                        seen.add(name)
                        checks.append(FieldCheck(name, check))
            self._terms[version.pk] = _Terms(definition, rule, tuple(checks))
        return self._terms[version.pk]

    def check(self, events: Sequence[LeadEvent | Handoff], *, now: dt.datetime) -> int:
        """Store a check per handoff event and agreement version in force at its ``occurred_at``; returns
        the number of checks made (one already stored for the event and version is kept)."""
        if not self.agreements or not events:
            return 0
        ids = sorted({e.lead_id for e in events})
        leads: dict[int, dict[str, Any]] = {}
        for start in range(0, len(ids), 900):  # plain values, not model instances: a million handoffs
            for row in Lead.objects.filter(pk__in=ids[start : start + 900]).values("id", *_RULE_COLUMNS):
                leads[row["id"]] = _rule_values(row)
        adapt_datetime = datetime_adapter()
        checked_at = adapt_datetime(now)
        rows: list[tuple[Any, ...]] = []
        for event in events:
            values = leads[event.lead_id]
            for agreement in self.agreements:
                version = self.version_at(agreement, event.occurred_at)
                if version is None:
                    continue
                terms = self.terms(version)
                if terms.rule is not None:
                    result = terms.rule.check(values)  # one evaluation when met; clauses only if not
                    met, failed = result.met, list(result.failed)
                else:
                    met, failed = True, []
                missing = [c.field for c in terms.fields if not c.passes(values)]
                rows.append(
                    (
                        event.lead_id,
                        event.pk,
                        version.pk,
                        terms.definition.pk if terms.definition is not None else None,
                        met,
                        adapt_json(failed),
                        adapt_json(missing),
                        checked_at,
                    )
                )
        if rows:
            pks = allocate_ids(HandoffCheck, len(rows))
            insert_rows(
                HandoffCheck,
                _CHECK_COLUMNS,
                [(pk, *row) for pk, row in zip(pks, rows, strict=True)],
                conflict="ON CONFLICT DO NOTHING",
            )
        return len(rows)


_RULE_COLUMNS = (*_TEXT, "score", "consent", "recent_touches", "extra")
_CHECK_COLUMNS = (
    "id", "lead_id", "event_id", "agreement_version_id", "definition_version_id", "met", "failed",
    "missing_fields", "checked_at",
)  # fmt: skip


def _rule_values(row: dict[str, Any]) -> dict[str, Any]:
    """:func:`lead_rule_fields` of a lead's ``values()`` row."""
    out: dict[str, Any] = {name: (row[name] or None) for name in _TEXT}
    out["score"] = row["score"]
    out["consent"] = row["consent"]
    out["recent_touches"] = row["recent_touches"]
    out["extra"] = dict(row["extra"] or {})
    return out
