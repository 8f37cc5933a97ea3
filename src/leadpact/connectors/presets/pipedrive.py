"""Pipedrive leads export and deals export ("Entity - Field" column labels).

Leads: Lead - ID (a UUID) → id; Person - Name → name; Lead - Owner → sales owner;
Lead - Created → created_at; Person - Marketing status → consent (subscribed → true; unsubscribed,
no_consent → false); Lead - Title and other columns → ``extra``.

Deals: Deal - ID → id; Deal - Deal created → created and opportunity (amount Deal - Value in
Deal - Currency); Deal - Won time → won (amount); Deal - Lost time → lost (reason Deal - Lost reason,
amount). Pipedrive writes ``2026-11-26 14:05:33`` in the exporting user's timezone.
"""

from __future__ import annotations

from leadpact.connectors.mapping import EventRule, Mapping

__all__ = ["DEALS_SIGNATURE", "LEADS_SIGNATURE", "PIPEDRIVE_DEALS", "PIPEDRIVE_LEADS"]

_PERSON = (
    ("Person - Name", "name"),
    ("Person - Email", "email"),
    ("Person - Email - Work", "email"),
    ("Person - Phone", "phone"),
    ("Person - Phone - Work", "phone"),
    ("Person - Job title", "job_title"),
    ("Person - Marketing status", "consent"),
    ("Organization - Name", "company"),
    ("Organization - Country", "country"),
    ("Organization - Address - Country", "country"),
    ("Organization - Industry", "industry"),
    ("Organization - Number of employees", "company_size"),
)

PIPEDRIVE_LEADS = Mapping(
    name="pipedrive_leads",
    source="pipedrive",
    columns=(
        ("Lead - ID", "external_id"),
        *_PERSON,
        ("Lead - Source", "source"),
        ("Lead - Source origin", "source"),
        ("Lead - Owner", "sales_owner"),
        ("Lead - Created", "created_at"),
        ("Lead - Lead created", "created_at"),
        ("Lead - Add time", "created_at"),
        ("Lead - Title", "extra.title"),
    ),
)

_VALUE = ("Deal - Value",)
_CURRENCY = ("Deal - Currency", "Deal - Currency of Value")
_CREATED = ("Deal - Deal created", "Deal - Created", "Deal - Add time")

PIPEDRIVE_DEALS = Mapping(
    name="pipedrive_deals",
    source="pipedrive",
    columns=(
        ("Deal - ID", "external_id"),
        *_PERSON,
        ("Deal - Contact person", "name"),
        ("Deal - Organization", "company"),
        ("Deal - Source", "source"),
        ("Deal - Source origin", "source"),
        ("Deal - Owner", "sales_owner"),
        *((c, "created_at") for c in _CREATED),
        ("Deal - Title", "extra.title"),
    ),
    events=(
        EventRule(kind="opportunity", at=_CREATED, amount=_VALUE, currency=_CURRENCY),
        EventRule(kind="won", at=("Deal - Won time",), amount=_VALUE, currency=_CURRENCY),
        EventRule(
            kind="lost",
            at=("Deal - Lost time",),
            amount=_VALUE,
            currency=_CURRENCY,
            reason=("Deal - Lost reason",),
        ),
    ),
)

LEADS_SIGNATURE = frozenset({"lead - id", "lead - title", "lead - owner", "lead - created", "lead - source"})
DEALS_SIGNATURE = frozenset(
    {"deal - id", "deal - title", "deal - owner", "deal - value", "deal - currency", "deal - status",
     "deal - won time", "deal - lost time", "deal - lost reason", "deal - deal created"}
)  # fmt: skip
