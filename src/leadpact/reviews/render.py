"""A pack (the data :func:`~leadpact.reviews.selectors.review_pack` builds or a closed review froze) as
people read it: the context of the HTML page, a standalone HTML document, Markdown and PDF (WeasyPrint),
in English or Dutch."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from leadpact.core.periods import Period
from leadpact.measurement.scorecard.results import STATUS_LABELS, result_from_data
from leadpact.reviews.models import AGENDA_ITEMS, ExchangeNote
from leadpact.web import charts
from leadpact.web.describe import figure_sentence, meter
from leadpact.web.formats import fmt_duration, fmt_number, fmt_value

__all__ = ["FORMATS", "pack_context", "pack_html", "pack_markdown", "pack_pdf"]

FORMATS = ("html", "pdf", "md")


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _day(text: str | None) -> str:
    return "" if not text else date_format(dt.date.fromisoformat(text[:10]), "j F Y")


def _instant(text: str | None, zone: str = "UTC") -> str:
    """An instant of the pack in the organisation's time zone."""
    if not text:
        return ""
    return date_format(dt.datetime.fromisoformat(text).astimezone(ZoneInfo(zone)), "j F Y, H:i")


def _status(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def _result(row: dict[str, Any]) -> Any:
    return result_from_data({**row, "evidence": {}})


def _value(row: dict[str, Any], value: Any) -> str:
    return fmt_value(_dec(value), row["unit"], row.get("currency") or "EUR")


def _label(row: dict[str, Any]) -> Any:
    def label(v: float) -> str:
        return fmt_value(Decimal(str(v)), row["unit"], row.get("currency") or "EUR")

    return label


def _short(period: str) -> str:
    p = Period.parse(period)
    if p.kind == "month":
        return date_format(p.start, "M ’y")
    return period


def _tile(
    row: dict[str, Any], previous: dict[str, Any] | None, lang: str, period_name: str
) -> dict[str, Any]:
    result = _result(row)
    before = (previous or {}).get("rows", {}).get(f"{row['commitment']}|{row['subject']}")
    names = {
        "actual_name": _("Actual"),
        "target_name": _("Target") if row["unit"] in ("percent", "duration") else _("Target line"),
    }
    trend_svg = None
    trend = row.get("trend") or []
    if trend:
        trend_svg = charts.trend_chart(
            labels=[_short(p["period"]) for p in trend],
            actual=[_dec(p["actual"]) for p in trend],
            target=[_dec(p["target"]) for p in trend],
            statuses=[p["status"] or "not_in_force" for p in trend],
            value_label=_label(row),
            title=_("%(title)s over the last %(n)s periods") % {"title": row["title"], "n": len(trend)},
            desc=", ".join(f"{_short(p['period'])}: {_value(row, p['actual'])}" for p in trend),
            current=len(trend) - 1,
            **names,
        )
    pacing_svg = None
    pacing = row.get("pacing") or []
    if pacing and any(p[2] is not None for p in pacing):
        known = [i for i, p in enumerate(pacing) if p[1] is not None]
        today = known[-1] if known else None
        pacing_svg = charts.pacing_chart(
            labels=[str(int(p[0][8:10])) for p in pacing],
            actual=[_dec(p[1]) for p in pacing],
            target=[_dec(p[2]) or 0 for p in pacing],
            today=today if today is not None and today < len(pacing) - 1 else None,
            value_label=_label(row),
            title=_("Pacing of %(title)s in %(period)s") % {"title": row["title"], "period": period_name},
            desc=figure_sentence(result),
            today_name=_("review"),
            **names,
        )
    change = ""
    if before is not None and before.get("actual") is not None:
        change = _("At the previous review: %(value)s · %(status)s") % {
            "value": _value(row, before["actual"]),
            "status": _status(before["status"]),
        }
    return {
        "row": row,
        "title": row["title"],
        "status": row["status"],
        "status_label": _status(row["status"]),
        "actual": _value(row, row["actual"]),
        "target": _value(row, row["target"]),
        "sentence": figure_sentence(result),
        "meter": meter(result),
        "previous": change,
        "trend_svg": trend_svg,
        "pacing_svg": pacing_svg,
    }


def _causes(row: dict[str, Any]) -> list[str]:
    from leadpact.web.views.evidence import bucket_label

    out = []
    figures = row.get("figures") or {}
    routing, rep = figures.get("routing_median_seconds"), figures.get("rep_median_seconds")
    if routing is not None or rep is not None:
        out.append(
            _(
                "Median system delay (handoff → assigned) %(routing)s; "
                "human delay (assigned → first attempt) %(rep)s."
            )
            % {"routing": fmt_duration(_dec(routing)), "rep": fmt_duration(_dec(rep))}
        )
    for name, count in sorted((row.get("buckets") or {}).items(), key=lambda kv: -kv[1]):
        if name == "counted":
            continue
        out.append(f"{bucket_label(name, row.get('kind', ''))}: {fmt_number(count)}")
    return out


def _note(note: dict[str, Any]) -> dict[str, Any]:
    try:
        category = ExchangeNote.Category(note["category"]).label
    except ValueError:
        category = note["category"]
    return {**note, "category_label": str(category)}


def pack_context(pack: dict[str, Any], lang: str) -> dict[str, Any]:
    """What the templates show of a pack, in ``lang`` (call inside ``translation.override(lang)``)."""
    period_name = (pack.get("period_names") or {}).get(lang) or pack.get("period", "")
    previous = pack.get("previous")
    sides = [
        {"team": side["team"], "tiles": [_tile(r, previous, lang, period_name) for r in side["rows"]]}
        for side in pack.get("scorecard", [])
    ]
    breaches = [
        {
            "title": r["title"],
            "subject": r["subject_name"] if r.get("subject_kind") != "outside" else _("Unassigned or left"),
            "status_label": _status(r["status"]),
            "status": r["status"],
            "sentence": figure_sentence(_result(r)),
            "causes": _causes(r),
        }
        for r in pack.get("breaches", [])
    ]
    exceptions = pack.get("exceptions") or {}
    quality = pack.get("quality") or {}
    actions = [
        {**a, "due_label": _day(a["due"]), "raised_label": _day(a["raised"])} for a in pack.get("actions", [])
    ]
    minutes = pack.get("minutes") or {}
    items = dict(AGENDA_ITEMS)
    return {
        "pack": pack,
        "lang": lang,
        "period_name": period_name,
        "day_label": _day(pack["day"]),
        "starts_label": _instant(pack["starts_at"], pack.get("timezone", "UTC")),
        "as_of_label": _instant(pack["as_of"], pack.get("timezone", "UTC")),
        "moved_label": _day(pack.get("moved_from")),
        "moved_reason": pack.get("moved_reason")
        if pack.get("moved_reason") != "closed"
        else _("a closed day"),
        "previous_label": _day((previous or {}).get("day")),
        "sides": sides,
        "breaches": breaches,
        "holidays": [(_day(d), name) for d, name in exceptions.get("holidays", [])],
        "leave": [
            {**item, "first_label": _day(item["first_day"]), "end_label": _day(item["end_day"])}
            for item in exceptions.get("leave", [])
        ],
        "started": [{**p, "day_label": _day(p["day"])} for p in exceptions.get("started", [])],
        "left": [{**p, "day_label": _day(p["day"])} for p in exceptions.get("left", [])],
        "unassigned": [
            {"title": r["title"], "count": r["sample_size"]} for r in exceptions.get("unassigned", [])
        ],
        "quality": quality,
        "rejected_share": (
            fmt_value(Decimal(quality["rejected"]) * 100 / quality["decided"], "percent")
            if quality.get("decided")
            else "—"
        ),
        "cohorts": [
            {
                **c,
                "label": _short(c["cohort"]),
                "accepted_share": fmt_value(Decimal(c["accepted"]) * 100 / c["handed_over"], "percent")
                if c["handed_over"]
                else "—",
                "won_share": fmt_value(Decimal(c["won"]) * 100 / c["handed_over"], "percent")
                if c["handed_over"]
                else "—",
            }
            for c in quality.get("cohorts", [])
        ],
        "notes_ms": [_note(n) for n in (pack.get("notes") or {}).get("marketing_to_sales", [])],
        "notes_sm": [_note(n) for n in (pack.get("notes") or {}).get("sales_to_marketing", [])],
        "support": pack.get("support", []),
        "actions": actions,
        "disputes": (pack.get("disputes") or {}).get("disputes", []),
        "restatements": (pack.get("disputes") or {}).get("restatements", []),
        "changes": [
            {"version": c["version"], "status": c["status"], "lines": [line[lang] for line in c["changes"]]}
            for c in pack.get("changes", [])
        ],
        "targets": [
            {
                "title": t["title"],
                "team": t["team"],
                "value": t.get(f"value_{lang}", t["value"]),
                "words": t[lang],
            }
            for t in pack.get("targets", [])
        ],
        "minutes": {
            "attendance": minutes.get("attendance", []),
            "agenda_notes": [
                {**n, "item_label": str(items.get(n["item"], n["item"]))}
                for n in minutes.get("agenda_notes", [])
            ],
            "decisions": minutes.get("decisions", []),
            "actions": [{**a, "due_label": _day(a["due"])} for a in minutes.get("actions", [])],
        },
        "agenda": [(key, str(label)) for key, label in AGENDA_ITEMS],
    }


#: The charts' styles inside each SVG: WeasyPrint styles an inline SVG only from its own ``<style>``.
_SVG_STYLE = (
    "<style>"
    ".grid{stroke:#d8dde3;stroke-width:1}.tick,.legend{fill:#5b6470;font-size:11px}"
    ".actual{fill:none;stroke:#2f5bd3;stroke-width:2.5}.actual-dot{fill:#2f5bd3}"
    ".target{fill:none;stroke:#1b1f24;stroke-width:1.5;stroke-dasharray:5 4}"
    ".today{stroke:#a05a00;stroke-width:1;stroke-dasharray:2 3}.today-label{fill:#a05a00;font-size:11px}"
    ".bar,.bar-key{fill:#a9bdf0;stroke:#a9bdf0;stroke-width:6}.bar{stroke:none}.bar.current{fill:#2f5bd3}"
    ".status{font-size:13px;fill:#5b6470}.status-met,.status-on_track{fill:#1d7a46}"
    ".status-breached,.status-cannot_be_met{fill:#b3261e}.status-behind,.status-at_risk{fill:#a05a00}"
    "</style>"
)
_SVG_OPEN = re.compile(r'(<svg class="chart"[^>]*>)')


def pack_html(pack: dict[str, Any], lang: str, *, for_print: bool = False) -> str:
    """The pack as one standalone HTML document (its own styles, no external files)."""
    with translation.override(lang):
        context = pack_context(pack, lang)
        context["for_print"] = for_print
        html = render_to_string("reviews/pack_document.html", context)
    return _SVG_OPEN.sub(lambda m: m.group(1) + _SVG_STYLE, html)


def pack_markdown(pack: dict[str, Any], lang: str) -> str:
    """The pack as Markdown (for an e-mail or a wiki)."""
    with translation.override(lang):
        text = render_to_string("reviews/pack_markdown.txt", pack_context(pack, lang))
    lines = [line.rstrip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:  # no runs of blank lines from the template's tags
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip() + "\n"


def pack_pdf(pack: dict[str, Any], lang: str) -> bytes:
    """The pack as PDF (A4), through WeasyPrint; fonts from the system (DejaVu)."""
    from weasyprint import HTML

    return bytes(HTML(string=pack_html(pack, lang, for_print=True)).write_pdf())
