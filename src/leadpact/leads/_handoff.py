"""Check a handed-over lead against the agreement version in force at the handoff.

Every definition a commitment of that version covers (its CEL rule, by exact definition version; the
volume commitment's one also in the row's ``met``) and the handoff data contract (the ``fields`` of the
agreement's handoff commitments). No agreement in force: nothing is stored, and the lead's handoff shows
as "not checked". One row per handoff and version, whatever the number of definitions: an import writes
a million of them. A batch's leads are checked against a version's rules at once (the CEL subset over
columns, :func:`leadpact.core.rules.rules_failed_batch`), and handoffs that failed alike share their JSON.

The same pass marks duplicates: a handed-over lead whose e-mail address (trimmed, ASCII letters in any
case) an earlier handed-over lead of the organisation has becomes a duplicate of the first of them —
one query per batch, never one per lead; a mark already set (by hand) is never changed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Case, F, IntegerField, Min, Q, QuerySet, Value, When
from django.db.models.functions import Lower

from leadpact.agreements.models import Agreement, AgreementVersion, Commitment, DefinitionVersion
from leadpact.agreements.selectors import agreement_version_at, version_effective_until
from leadpact.core.agreement import FieldCheck
from leadpact.core.rules import Rule, RuleError, rules_failed_batch
from leadpact.leads._sql import adapt_json, allocate_ids, datetime_adapter, in_values, insert_rows
from leadpact.leads.models import HandoffCheck, Lead, LeadEvent
from leadpact.organization.models import Organization

__all__ = ["Handoff", "HandoffChecker", "email_key", "lead_rule_fields"]

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


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def email_key(email: str | None) -> str:
    """The e-mail address as duplicates are matched: trimmed, ASCII letters lower-cased ("" for none).

    Only ASCII letters fold, as SQLite's ``lower()`` does (PostgreSQL's folds more, and is filtered
    to the same rule here), so both databases find the same duplicates.

    >>> email_key("  Anna.de.Vries@Example.COM ")
    'anna.de.vries@example.com'
    """
    return (email or "").strip().translate(_ASCII_LOWER)


@dataclass(frozen=True, slots=True)
class _Covered:
    """A definition some commitment covers, with its parsed rule (``None``: no rule, always met)."""

    key: str
    version: DefinitionVersion
    rule: Rule | None


@dataclass(frozen=True, slots=True)
class _Terms:
    definition: DefinitionVersion | None
    rule: Rule | None
    fields: tuple[FieldCheck, ...]
    covered: tuple[_Covered, ...] = ()
    rules: tuple[Rule, ...] = ()  # the covered definitions' rules (those that have one), in that order


@functools.lru_cache(maxsize=256)
def _compiled(text: str) -> Rule:
    """A rule's text compiled, once a process: compiling the demo's four rules was ~15% of a webhook
    delivery's CPU (a checker a delivery). Only ever handed out as :func:`_parsed`'s copies."""
    return Rule.parse(text)


def _parsed(definition: DefinitionVersion) -> Rule | None:
    """The definition's rule: a copy of the compiled one with memos of its own (a rule and its clauses
    remember outcomes by the values they read, so a copy lives as long as its checker, not for ever)."""
    if not definition.rule.strip():
        return None
    try:
        rule = _compiled(definition.rule)
    except RuleError:  # stored rules were checked on import; stay safe anyway
        return None
    clauses = tuple(dataclasses.replace(clause, words={}) for clause in rule._clauses)
    return dataclasses.replace(rule, _clauses=clauses, _seen={})


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
        self._passed: dict[FieldCheck, dict[tuple[type, Any], bool]] = {}  # see _missing

    @property
    def active(self) -> bool:
        """Whether any agreement of the organisation has ever been in force (else nothing to check)."""
        return bool(self.agreements)

    def version_at(self, agreement: Agreement, instant: dt.datetime) -> AgreementVersion | None:
        """:func:`agreement_version_at`, remembered by the span the found version is in force for."""
        for start, end, known in self._spans.get(agreement.id, []):
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
        """The volume commitment's definition (the first by key), every covered one, the data contract."""
        if version.pk not in self._terms:
            commitments = list(
                Commitment.objects.filter(version=version).select_related("covers").order_by("key")
            )
            definition = next(
                (c.covers for c in commitments if c.kind == Commitment.Kind.VOLUME and c.covers is not None),
                None,
            )
            covered: dict[str, _Covered] = {}
            for c in commitments:
                if c.covers is not None and c.covers.key not in covered:
                    covered[c.covers.key] = _Covered(c.covers.key, c.covers, _parsed(c.covers))
            rule = covered[definition.key].rule if definition is not None else None
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
            ordered = tuple(covered[k] for k in sorted(covered))
            rules = tuple(c.rule for c in ordered if c.rule is not None)
            self._terms[version.pk] = _Terms(definition, rule, tuple(checks), ordered, rules)
        return self._terms[version.pk]

    def check(self, events: Sequence[LeadEvent | Handoff], *, now: dt.datetime) -> int:
        """Store a check per handoff event and agreement version in force at its ``occurred_at``, and mark
        the batch's duplicates; returns the number of checks made (one already stored for the event and
        version is kept)."""
        if not self.agreements or not events:
            return 0
        leads = _rule_leads(sorted({e.lead_id for e in events}))
        self.mark_duplicates({pk: values["email"] for pk, values in leads.items()})
        adapt_datetime = datetime_adapter()
        checked_at = adapt_datetime(now)
        checks: list[tuple[LeadEvent | Handoff, int]] = []  # (event, version id): a row each
        per_version: dict[int, dict[int, None]] = {}  # version id → the leads to check against it, in order
        termed: set[int] = set()
        for event in events:
            for agreement in self.agreements:
                version = self.version_at(agreement, event.occurred_at)
                if version is not None:
                    version_pk = version.id
                    if version_pk not in termed:
                        self.terms(version)  # read once a version, then remembered
                        termed.add(version_pk)
                    checks.append((event, version_pk))
                    per_version.setdefault(version_pk, {})[event.lead_id] = None
        # every rule of a version over the batch's leads at once (core.rules: the CEL subset as columns)
        failed_by: dict[tuple[int, int], list[tuple[str, ...]]] = {}
        missing_by: dict[tuple[int, int], tuple[str, ...]] = {}
        for version_pk, lead_ids in per_version.items():
            terms = self._terms[version_pk]
            batch = [leads[pk] for pk in lead_ids]
            outcomes = rules_failed_batch(terms.rules, batch)
            for lead_id, failed, missing in zip(lead_ids, outcomes, self._missing(terms, batch), strict=True):
                failed_by[version_pk, lead_id] = failed
                missing_by[version_pk, lead_id] = missing
        # leads that failed alike (most of an import) share their JSON: made once a batch
        made: dict[tuple[object, ...], tuple[int | None, bool, str, str]] = {}
        missing_json: dict[tuple[str, ...], str] = {}
        rows: list[tuple[Any, ...]] = []
        for event, version_pk in checks:
            terms = self._terms[version_pk]
            failed = failed_by[version_pk, event.lead_id]
            key = (version_pk, *failed)
            judged = made.get(key)
            if judged is None:
                judged = made[key] = self._judged(terms, failed)
            missing = missing_by[version_pk, event.lead_id]
            missing_text = missing_json.get(missing)
            if missing_text is None:
                missing_text = missing_json[missing] = adapt_json(list(missing))
            definition_pk, met, failed_text, definitions_text = judged
            rows.append(
                (
                    event.lead_id,
                    event.pk,
                    version_pk,
                    definition_pk,
                    met,
                    failed_text,
                    missing_text,
                    definitions_text,
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

    def _missing(self, terms: _Terms, leads: list[dict[str, Any]]) -> list[tuple[str, ...]]:
        """The contract's fields each lead fails (``FieldCheck.passes``), a check over the batch's column
        at a time, its outcome remembered by the value it read: a check is a function of that value
        alone, and an import's leads share most of their countries, scores, companies … (measured: ~9
        checks a lead, a fifth of an import's CPU). The value's type is part of the key (True == 1)."""
        columns: list[list[bool]] = []
        for check in terms.fields:
            field = check.field
            if "." in field:  # a nested value (extra.x): checked as it is
                columns.append([check.passes(lead) for lead in leads])
                continue
            memo = self._passed.setdefault(check, {})
            passes = check.passes
            column: list[bool] = []
            for lead in leads:
                value = lead.get(field)
                try:
                    known = memo.get((value.__class__, value))
                except TypeError:  # an unhashable value
                    column.append(passes(lead))
                    continue
                if known is None:
                    known = passes(lead)
                    if len(memo) < 4096:  # a few kilobytes a check: memory stays flat
                        memo[value.__class__, value] = known
                column.append(known)
            columns.append(column)
        names = [check.field for check in terms.fields]
        return (
            [
                tuple(name for name, ok in zip(names, row, strict=True) if not ok)
                for row in zip(*columns, strict=True)
            ]
            if columns
            else [() for _ in leads]
        )

    @staticmethod
    def _judged(terms: _Terms, failed: Sequence[tuple[str, ...]]) -> tuple[int | None, bool, str, str]:
        """The definition version, ``met`` and the ``failed`` and ``definitions`` JSON of a check whose
        rules failed ``failed`` (the covered definitions' rules, in order; an empty tuple: met)."""
        checked = iter(failed)
        results: dict[str, dict[str, Any]] = {}
        for covered in terms.covered:
            texts = next(checked) if covered.rule is not None else ()
            results[covered.key] = {"version": covered.version.pk, "met": not texts, "failed": list(texts)}
        main = results.get(terms.definition.key) if terms.definition is not None else None
        met, main_failed = (main["met"], main["failed"]) if main is not None else (True, [])
        definition_pk = terms.definition.pk if terms.definition is not None else None
        return definition_pk, met, adapt_json(main_failed), adapt_json(results)

    def _with_address(self, keys: Sequence[str]) -> QuerySet[Any]:  # annotated (``email_lower``)
        """The organisation's leads whose ``lower(email)`` is one of ``keys``, through the e-mail index."""
        return (
            Lead.objects.filter(organization=self.organization)
            .exclude(email="")  # the partial index's condition, so both databases use it
            .annotate(email_lower=Lower("email"))
            .filter(email_lower__in=keys)
        )

    def _shared(self, keys: list[str]) -> list[str]:
        """Those of ``keys`` (lower-cased addresses) that more than one of the organisation's leads has.

        Only they can make a duplicate, and in a batch of new leads they are few: asking for them first
        (the e-mail index alone, no join) spares reading every lead's first handoff. Leads sharing an
        :func:`email_key` share their ``lower(email)``, so nothing that could be a duplicate is left out.
        """
        shared: list[str] = []
        table = connection.ops.quote_name(Lead._meta.db_table)
        with connection.cursor() as cursor:  # raw SQL: building the ORM's query was most of its cost
            for start in range(0, len(keys), 400):
                chunk = keys[start : start + 400]
                within, params = in_values(chunk)
                # the expression and condition of the lead_org_email index, as _with_address has them
                cursor.execute(
                    f"SELECT LOWER(email) FROM {table} WHERE organization_id = %s AND NOT (email = '') "  # noqa: S608
                    f"AND LOWER(email) {within} GROUP BY LOWER(email) HAVING COUNT(*) > 1",
                    [self.organization.pk, *params],
                )
                shared.extend(row[0] for row in cursor.fetchall())
        return sorted(set(shared))

    def mark_duplicates(self, emails: dict[int, str | None]) -> int:
        """Mark duplicates among the leads of these e-mail addresses (lead id → e-mail); returns how many.

        Of the organisation's handed-over leads sharing an address (:func:`email_key`), the one handed
        over first (then created first, then lowest id) is the original; every other one without a
        mark becomes its duplicate. Late arrivals work both ways: a lead imported after its later
        twin makes the twin its duplicate. Per batch (in chunks of 400): one read of the addresses more
        than one lead has, one read of those leads' first handoffs, one write.
        """
        wanted = {email_key(e) for e in emails.values()} - {""}
        if not wanted:
            return 0
        # PostgreSQL's lower() folds beyond ASCII: ask for that form too, then match as email_key does
        keys = self._shared(sorted(wanted | {k.lower() for k in wanted}))
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), 400):
            found.extend(
                dict(row)
                for row in self._with_address(keys[start : start + 400])
                .annotate(first=Min("events__occurred_at", filter=Q(events__kind="handed_over")))
                .filter(first__isnull=False)
                .values("id", "email", "first", "created_at", "duplicate_of_id")
            )
        groups: dict[str, list[dict[str, Any]]] = {}
        for row in found:
            key = email_key(row["email"])
            if key in wanted:
                groups.setdefault(key, []).append(row)
        marks: dict[int, int] = {}
        for rows in groups.values():
            rows.sort(key=lambda r: (r["first"], r["created_at"], r["id"]))
            original = rows[0]["id"]
            for row in rows[1:]:
                if row["duplicate_of_id"] is None:
                    marks[row["id"]] = original
        pending = sorted(marks)
        for start in range(0, len(pending), 400):
            chunk = pending[start : start + 400]
            Lead.objects.filter(pk__in=chunk, duplicate_of__isnull=True).update(
                duplicate_of_id=Case(
                    *(When(pk=pk, then=Value(marks[pk])) for pk in chunk),
                    default=F("duplicate_of_id"),
                    output_field=IntegerField(),
                )
            )
        return len(marks)


_RULE_COLUMNS = (*_TEXT, "score", "consent", "recent_touches", "extra")
_CHECK_COLUMNS = (
    "id", "lead_id", "event_id", "agreement_version_id", "definition_version_id", "met", "failed",
    "missing_fields", "definitions", "checked_at",
)  # fmt: skip


def _rule_leads(ids: list[int]) -> dict[int, dict[str, Any]]:
    """:func:`_rule_values` of these leads, by id: plain values read by raw SQL (a million handoffs; the
    ORM's query building and converters were a tenth of an import's CPU)."""
    out: dict[int, dict[str, Any]] = {}
    table = connection.ops.quote_name(Lead._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in ("id", *_RULE_COLUMNS))
    sqlite = connection.vendor == "sqlite"
    empty = "{}"
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            within, params = in_values(chunk)
            cursor.execute(f"SELECT {names} FROM {table} WHERE id {within}", params)  # noqa: S608
            for pk, *values in cursor.fetchall():
                row = dict(zip(_RULE_COLUMNS, values, strict=True))
                extra = row["extra"]
                if isinstance(extra, str):  # JSON text (both drivers, as Django configures them)
                    row["extra"] = {} if extra == empty else json.loads(extra)
                if sqlite and row["consent"] is not None:  # SQLite keeps a boolean as 0/1
                    row["consent"] = bool(row["consent"])
                out[pk] = _rule_values(row)
    return out


def _rule_values(row: dict[str, Any]) -> dict[str, Any]:
    """:func:`lead_rule_fields` of a lead's ``values()`` row."""
    out: dict[str, Any] = {name: (row[name] or None) for name in _TEXT}
    out["score"] = row["score"]
    out["consent"] = row["consent"]
    out["recent_touches"] = row["recent_touches"]
    out["extra"] = dict(row["extra"] or {})
    return out
