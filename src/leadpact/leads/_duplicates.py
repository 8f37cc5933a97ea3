"""Mark leads as duplicates of an earlier lead by hand (API, admin), or clear the mark.

The handoff check marks duplicates by e-mail address on its own (:meth:`HandoffChecker.mark_duplicates`);
this is the explicit way, for what an address does not show (a colleague's address, a typo). A
duplicate leaves every count (its evidence bucket is ``excluded_duplicate``).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from leadpact.errors import ApplicationError
from leadpact.leads.models import Lead
from leadpact.organization.models import Organization

__all__ = ["duplicate_problem", "leads_mark_duplicate"]

_CHAIN_LIMIT = 1000


def leads_mark_duplicate(
    *, organization: Organization, lead_ids: Sequence[int], original_id: int | None
) -> int:
    """Mark the leads as duplicates of lead ``original_id`` (``None``: clear their mark); returns how
    many changed.

    Refused (``ApplicationError`` ``lead.duplicate_of``): an original that is not a lead of the
    organisation, one of the leads itself, or one that is (through its own marks) a duplicate of them.
    """
    ids = sorted({int(i) for i in lead_ids})
    if not ids:
        return 0
    with transaction.atomic():
        if original_id is not None:
            _check_original(organization, ids, int(original_id))
        return Lead.objects.filter(organization=organization, pk__in=ids).update(duplicate_of_id=original_id)


def duplicate_problem(*, organization: Organization, lead_ids: Sequence[int], original_id: int) -> str | None:
    """Why the leads cannot be marked as duplicates of ``original_id`` (``None``: they can)."""
    try:
        _check_original(organization, sorted({int(i) for i in lead_ids}), int(original_id))
    except ApplicationError as error:
        return error.message
    return None


def _check_original(organization: Organization, ids: list[int], original_id: int) -> None:
    if original_id in ids:
        raise ApplicationError(
            "lead.duplicate_of", f"duplicate_of: lead {original_id} cannot be a duplicate of itself"
        )
    seen = set(ids)
    current: int | None = original_id
    for _ in range(_CHAIN_LIMIT):
        if current is None:
            return
        found = Lead.objects.filter(organization=organization, pk=current).values_list(
            "duplicate_of_id", flat=True
        )
        row = list(found)
        if not row:
            raise ApplicationError(
                "lead.duplicate_of", f"duplicate_of: no lead {current} in this organisation"
            )
        if current in seen:
            raise ApplicationError(
                "lead.duplicate_of",
                f"duplicate_of: lead {original_id} is (through its marks) a duplicate of lead {current}"
                " already; a lead cannot be a duplicate of its own duplicate",
            )
        seen.add(current)
        current = row[0]
