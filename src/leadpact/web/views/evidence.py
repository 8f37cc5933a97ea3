"""The leads behind one figure: every lead with the facts that decided it, filtered, sorted, paginated,
and downloadable as CSV or XLSX."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadpact.leads.models import Lead
from leadpact.leads.selectors import among
from leadpact.measurement.clocks.facts import ClockFacts, lead_clock_facts
from leadpact.measurement.disputes.models import Dispute
from leadpact.measurement.scorecard.results import NOT_CHECKED_BUCKET, MeasureResult
from leadpact.measurement.scorecard.selectors import measure_evidence
from leadpact.organization.models import Person
from leadpact.web.access import AppRequest, page
from leadpact.web.describe import figure_sentence
from leadpact.web.exports import ExportFormat, export_response
from leadpact.web.views._period import shown_version_period

__all__ = ["BUCKET_LABELS", "bucket_label", "measure_evidence_page"]

PAGE_SIZE = 50
_CHUNK = 5000
#: Kinds of commitment measured by a clock: their counted leads are the ones within the window.
_CLOCKED = frozenset({"decision", "first_attempt", "attempts", "feedback"})

BUCKET_LABELS: dict[str, Any] = {
    "counted": gettext_lazy("Counted"),
    "recycled": gettext_lazy("Recycled (counted apart)"),
    "excluded_definition": gettext_lazy("Left out: did not meet the definition at handoff"),
    "excluded_disputed": gettext_lazy("Left out: dispute upheld"),
    "excluded_duplicate": gettext_lazy("Left out: duplicate"),
    "rejected": gettext_lazy("Rejected"),
    "undecided": gettext_lazy("Not decided yet"),
    "breached": gettext_lazy("Too late"),
    "breached_open": gettext_lazy("Too late, still open"),
    "pending": gettext_lazy("Clock still running"),
    "not_started": gettext_lazy("Clock not started"),
    "not_worked": gettext_lazy("Not worked"),
    "missing_reason": gettext_lazy("No valid reason code"),
    "late_reason": gettext_lazy("Reason code given too late"),
    "not_converted": gettext_lazy("Not converted"),
    NOT_CHECKED_BUCKET: gettext_lazy("Not checked against the definition at handoff (measured all the same)"),
}
_COUNTED_BY_KIND: dict[str, Any] = {
    "decision": gettext_lazy("Decided in time"),
    "first_attempt": gettext_lazy("First attempt in time"),
    "attempts": gettext_lazy("Enough attempts in time"),
    "feedback": gettext_lazy("Feedback in time"),
    "handoff": gettext_lazy("Complete at handoff"),
    "acceptance": gettext_lazy("Accepted"),
    "conversion": gettext_lazy("Converted"),
    "pipeline": gettext_lazy("With an opportunity amount"),
    "revenue": gettext_lazy("Won, with an amount"),
}


def bucket_label(name: str, kind: str = "") -> str:
    """A bucket in words, for the commitment's kind: "counted" is "first attempt in time" on a speed
    commitment; ``missing_field:campaign`` is "Missing at handoff: campaign"."""
    if name == "counted" and kind in _COUNTED_BY_KIND:
        return str(_COUNTED_BY_KIND[kind])
    if name.startswith("missing_field:"):
        return _("Missing at handoff: %(field)s") % {"field": name.partition(":")[2]}
    return str(BUCKET_LABELS.get(name, name.replace("_", " ")))


@dataclass(frozen=True, slots=True)
class Row:
    lead: Lead
    bucket: str
    bucket_label: str
    owner: Person | None
    clock: ClockFacts | None
    dispute: Dispute | None


_SORTS = {
    "newest": ("-id",),
    "oldest": ("id",),
    "name": ("name", "id"),
    "company": ("company", "id"),
    "handoff": ("state__handed_over_at", "id"),
    "-handoff": ("-state__handed_over_at", "-id"),
}


def _primary_buckets(result: MeasureResult) -> dict[int, str]:
    """Each lead's bucket: the first it is in (the overlapping ``not_checked`` only if it is in no other)."""
    out: dict[int, str] = {}
    names = [n for n in result.evidence if n != NOT_CHECKED_BUCKET] + [NOT_CHECKED_BUCKET]
    for name in names:
        if name not in result.evidence:
            continue
        for lead_id in result.evidence[name]:
            out.setdefault(int(lead_id), name)
    return out


def _sort_key(row: tuple[Any, ...], *, index: int) -> tuple[bool, Any]:
    value = row[index]
    return (value is None, value if value is not None else 0)  # empty values last


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def _filtered_ids(
    ids: list[int], *, owner: str, source: str, campaign: str, query: str, sort: str
) -> tuple[list[int], dict[str, list[str]]]:
    """The ids that pass the filters, in the chosen order, and the filter choices (sources, campaigns)."""
    condition = Q()
    if owner.isdigit():
        condition &= Q(marketing_owner_id=int(owner)) | Q(sales_owner_id=int(owner))
    elif owner == "none":
        condition &= Q(marketing_owner__isnull=True, sales_owner__isnull=True)
    if source:
        condition &= Q(source=source)
    if campaign:
        condition &= Q(campaign=campaign)
    if query:
        condition &= Q(name__icontains=query) | Q(email__icontains=query) | Q(company__icontains=query)
    order = _SORTS.get(sort, _SORTS["newest"])
    fields = ("id", "source", "campaign", *(o.lstrip("-") for o in order))
    within = Q(pk__in=among(ids))  # one query each, whatever the number of leads behind the figure
    sources: set[str] = set()
    campaigns: set[str] = set()
    pairs = Lead.objects.filter(within).order_by().values_list("source", "campaign").distinct()
    for source_name, campaign_name in pairs:
        sources.add(source_name)
        campaigns.add(campaign_name)
    kept = list(Lead.objects.filter(within & condition).values_list(*fields))
    for position in reversed(range(len(order))):
        desc = order[position].startswith("-")
        index = 3 + position
        kept.sort(key=functools.partial(_sort_key, index=index), reverse=desc)
    choices = {"sources": sorted(s for s in sources if s), "campaigns": sorted(c for c in campaigns if c)}
    return [r[0] for r in kept], choices


@page()
def measure_evidence_page(request: AppRequest) -> HttpResponse:
    """The leads behind one number, each with owner, handoff, due, first attempt, time taken, lateness,
    decision and reason, dispute and amount."""
    context: dict[str, Any] = {}
    shown = shown_version_period(request, context)
    if isinstance(shown, int):
        return render(request, "leadpact/evidence.html", context, status=shown)
    version, period = shown.version, shown.period
    commitment = (request.GET.get("commitment") or "").strip()
    subject = (request.GET.get("subject") or "").strip()
    now = timezone.now()
    found = measure_evidence(
        version=version, period=period, commitment_key=commitment, subject=subject, now=now, limit=0
    )
    if found is None:
        context["error"] = _("No figure for commitment %(commitment)s and %(subject)s in %(period)s.") % {
            "commitment": commitment or "—",
            "subject": subject or "—",
            "period": period,
        }
        return render(request, "leadpact/evidence.html", context, status=404)
    result, _buckets = found
    primary = _primary_buckets(result)
    counts = {name: len(ids) for name, ids in result.evidence.items()}
    wanted_bucket = request.GET.get("bucket") or ""
    if wanted_bucket and wanted_bucket in result.evidence:
        ids = [int(i) for i in result.evidence[wanted_bucket]]
    else:
        wanted_bucket = ""
        ids = list(primary)
    filters = {
        "owner": (request.GET.get("owner") or "").strip(),
        "source": (request.GET.get("source") or "").strip(),
        "campaign": (request.GET.get("campaign") or "").strip(),
        "query": (request.GET.get("q") or "").strip()[:200],
        "sort": (request.GET.get("sort") or "newest").strip(),
    }
    ordered, choices = _filtered_ids(ids, **filters)
    zone = ZoneInfo(version.agreement.organization.timezone)
    kind = result.kind
    fmt = request.GET.get("format")
    if fmt == "csv" or fmt == "xlsx":
        rows = _rows(version, ordered, primary, wanted_bucket, kind, result, now)
        header, cells = _export(rows, result, zone)
        name = f"leadpact-{result.commitment_key}-{period}-{subject.replace(':', '-')}"
        chosen: ExportFormat = "xlsx" if fmt == "xlsx" else "csv"
        return export_response(fmt=chosen, filename=name, header=header, rows=cells, zone=zone)
    paginator = Paginator(ordered, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    rows = _rows(version, list(page_obj.object_list), primary, wanted_bucket, kind, result, now)
    people = Person.objects.filter(team__organization=request.access.organization).order_by("name")
    query = request.GET.copy()
    for name in ("page", "format"):
        query.pop(name, None)
    base = query.copy()
    base.pop("bucket", None)
    context.update(
        result=result,
        sentence=figure_sentence(result),
        buckets=[
            {"name": n, "label": bucket_label(n, kind), "count": c, "chosen": n == wanted_bucket}
            for n, c in counts.items()
        ],
        total=len(primary),
        rows=rows,
        page_obj=page_obj,
        filters=filters,
        people=people,
        choices=choices,
        query=query.urlencode(),
        base_query=base.urlencode(),
        bucket=wanted_bucket,
        clocked=kind in _CLOCKED,
        zone=zone,
    )
    return render(request, "leadpact/evidence.html", context)


def _rows(
    version: Any,
    ids: list[int],
    primary: dict[int, str],
    wanted_bucket: str,
    kind: str,
    result: MeasureResult,
    now: dt.datetime,
) -> list[Row]:
    out: list[Row] = []
    for chunk in _chunks(ids):
        found = (
            Lead.objects.filter(pk__in=chunk)
            .select_related("state", "marketing_owner", "sales_owner")
            .in_bulk(chunk)
        )
        clocks = (
            lead_clock_facts(
                version=version, leads=list(found.values()), now=now, commitment_keys=[result.commitment_key]
            )
            if kind in _CLOCKED
            else {}
        )
        disputes: dict[int, Dispute] = {}
        for d in Dispute.objects.filter(lead_id__in=chunk, commitment_key=result.commitment_key).order_by(
            "id"
        ):
            disputes[d.lead_id] = d
        for lead_id in chunk:
            lead = found.get(lead_id)
            if lead is None:
                continue
            bucket = wanted_bucket or primary.get(lead_id, "")
            facts = clocks.get(lead_id) or []
            clock = facts[0] if facts else None
            owner = (
                clock.owner
                if clock is not None and clock.owner is not None
                else (lead.sales_owner or lead.marketing_owner)
            )
            out.append(Row(lead, bucket, bucket_label(bucket, kind), owner, clock, disputes.get(lead_id)))
    return out


def _export(rows: list[Row], result: MeasureResult, zone: Any) -> tuple[list[str], list[list[Any]]]:
    header = [
        _("Lead"),
        _("Name"),
        _("Company"),
        _("E-mail"),
        _("Source"),
        _("Campaign"),
        _("Owner"),
        _("Why"),
        _("Handed over (%(zone)s)") % {"zone": zone.key},
        _("Due (%(zone)s)") % {"zone": zone.key},
        _("First human attempt (%(zone)s)") % {"zone": zone.key},
        _("Business time taken (s)"),
        _("Late by (s)"),
        _("Decision"),
        _("Reason code"),
        _("Dispute"),
        _("Amount"),
    ]
    cells: list[list[Any]] = []
    for row in rows:
        lead, clock = row.lead, row.clock
        state = getattr(lead, "state", None)
        cells.append(
            [
                lead.pk,
                lead.name,
                lead.company,
                lead.email,
                lead.source,
                lead.campaign,
                row.owner.name if row.owner else "",
                row.bucket_label,
                state.handed_over_at if state else None,
                clock.due_at if clock else None,
                state.first_human_attempt_at if state else None,
                clock.elapsed if clock else None,
                clock.lateness if clock else None,
                state.decision if state else "",
                state.reason_code if state else "",
                row.dispute.get_status_display() if row.dispute else "",
                state.amount if state else "",
            ]
        )
    return header, cells
