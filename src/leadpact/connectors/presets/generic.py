"""leadpact's own CSV layout: headers are the target names, events as ``<kind>_at`` columns.

Columns: ``external_id`` (required), ``created_at``, ``marketing_owner``, ``sales_owner`` and every lead
field by its name (``name``, ``email``, ``score`` …); ``handed_over_at``, ``assigned_at``, ``accepted_at``,
``rejected_at`` with ``rejected_reason_code`` and ``rejected_reason``, ``qualified_at``,
``opportunity_at`` with
``opportunity_amount``, ``won_at`` with ``won_amount``, ``lost_at`` with ``lost_reason`` and
``lost_amount``, ``recycled_at``; ``currency`` for all amounts. For any other layout, build a
:class:`~leadpact.connectors.mapping.Mapping` of your own.
"""

from __future__ import annotations

from leadpact.connectors.mapping import EventRule, Mapping
from leadpact.connectors.records import LEAD_FIELDS

__all__ = ["GENERIC", "SIGNATURE"]

GENERIC = Mapping(
    name="generic",
    source="generic",
    columns=tuple(
        (name, name) for name in ("external_id", "created_at", "marketing_owner", "sales_owner", *LEAD_FIELDS)
    ),
    events=(
        EventRule(kind="handed_over", at=("handed_over_at",), actor=("marketing_owner",)),
        EventRule(kind="assigned", at=("assigned_at",), value=("sales_owner",)),
        EventRule(kind="accepted", at=("accepted_at",), actor=("sales_owner",)),
        EventRule(
            kind="rejected",
            at=("rejected_at",),
            code=("rejected_reason_code",),
            reason=("rejected_reason",),
            actor=("sales_owner",),
        ),
        EventRule(kind="qualified", at=("qualified_at",)),
        EventRule(
            kind="opportunity", at=("opportunity_at",), amount=("opportunity_amount",), currency=("currency",)
        ),
        EventRule(kind="won", at=("won_at",), amount=("won_amount",), currency=("currency",)),
        EventRule(
            kind="lost",
            at=("lost_at",),
            amount=("lost_amount",),
            currency=("currency",),
            reason=("lost_reason",),
        ),
        EventRule(kind="recycled", at=("recycled_at",)),
    ),
)

SIGNATURE = frozenset({"external_id", "created_at", "email", "name", "handed_over_at", "sales_owner"})
