"""Page views: thin — they read through selectors and render."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from leadpact.agreements.models import Agreement, AgreementVersion
from leadpact.agreements.selectors import agreement_active_version, agreement_versions
from leadpact.agreements.services import agreement_version_document, agreement_versions_diff
from leadpact.audit.selectors import audit_trail
from leadpact.core.explain import Lang
from leadpact.measurement.targets.selectors import commitment_targets
from leadpact.web.access import AppRequest, page
from leadpact.web.describe import target_summary
from leadpact.web.views._period import shown_version_period
from leadpact.web.views.scorecard import period_label


@page()
def home(request: AppRequest) -> HttpResponse:
    agreements = (
        Agreement.objects.filter(organization=request.access.organization)
        .select_related("organization")
        .prefetch_related("versions__signatures__signed_by", "versions__parties")
        .order_by("organization__name", "key")
    )
    can_edit = request.access.allows("agreement.edit")
    return render(request, "leadpact/home.html", {"agreements": agreements, "can_edit": can_edit})


def _lang() -> Lang:
    return "nl" if (get_language() or "en").startswith("nl") else "en"


@page()
def agreement_detail(request: AppRequest, pk: int) -> HttpResponse:
    """One agreement: its versions with what changed in each, the glossary and clauses of the shown
    version, and the audit trail."""
    agreement = get_object_or_404(
        Agreement.objects.select_related("organization"),
        pk=pk,
        organization=request.access.organization,
    )
    lang = _lang()
    versions = sorted(
        agreement_versions(agreement).prefetch_related("signatures__signed_by", "signatures__party"),
        key=lambda v: v.number,
    )
    wanted = request.GET.get("version")
    shown: AgreementVersion | None
    if wanted:
        shown = next((v for v in versions if str(v.number) == wanted), None)
        if shown is None:
            raise Http404(_("This agreement has no version %(number)s.") % {"number": wanted})
    else:
        shown = agreement_active_version(agreement) or (versions[-1] if versions else None)
    history = []
    previous: AgreementVersion | None = None
    for version in versions:
        changes = (
            [c.describe(lang) for c in agreement_versions_diff(old=previous, new=version)] if previous else []
        )
        history.append({"version": version, "changes": changes, "first": previous is None})
        previous = version
    document = agreement_version_document(shown) if shown else None
    trail = list(audit_trail(agreement=agreement).reverse()[:200])
    return render(
        request,
        "leadpact/agreement.html",
        {
            "agreement": agreement,
            "history": list(reversed(history)),
            "shown": shown,
            "document": document,
            "windows": {
                c.key: c.clock.window.describe(lang)
                for c in (document.commitments if document else ())
                if c.clock
            },
            "trail": trail,
        },
    )


@page()
def targets(request: AppRequest) -> HttpResponse:
    lang = _lang()
    context: dict[str, object] = {}
    shown = shown_version_period(request, context)
    if isinstance(shown, int):
        return render(request, "leadpact/targets.html", context, status=shown)
    version, period = shown.version, shown.period
    rows = commitment_targets(version=version, period=period)
    name = period_label(period)
    mine = request.access.person.pk if request.access.person is not None else None
    context.update(
        period_name=name,
        rows=[
            {
                "target": row,
                "summary": target_summary(row, name),
                "explanation": row.explanation.render(lang),
                "people": [
                    {
                        "row": p,
                        "summary": target_summary(row, name, p),
                        "explanation": p.explanation.render(lang),
                        "mine": p.person.pk == mine,
                    }
                    for p in row.people
                ],
            }
            for row in rows
        ],
    )

    return render(request, "leadpact/targets.html", context)
