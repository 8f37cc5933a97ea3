"""The demo's year of agreement history, written through the services a person's actions use.

- **versions**: version 1 (marketing and sales, from 1 January 2026) is superseded by version 2, which
  took in the sales-development team (a party with its own commitments) from the first of the month
  three months back; version 3 (higher targets from next month) is proposed and signed by marketing
  only, so it waits for the other leads' signatures;
- **disputes**: sales disputed the students of the giveaway campaign (upheld by marketing's lead: they
  leave marketing's count) and some other rejected leads (rejected: they met the definition at
  handoff); one dispute is still open;
- **closed months**: the months before last are closed by the sales lead; a dispute decided after the
  last of them was closed moved its figures, so one restatement waits for a party lead.

Everything is idempotent: a part already there is left as it is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from django.db.models import Exists, OuterRef

from leadpact.agreements.models import AgreementVersion, Status
from leadpact.agreements.services import (
    agreement_export,
    agreement_import,
    agreement_version_activate,
    agreement_version_propose,
    agreement_version_sign,
)
from leadpact.core.periods import Period
from leadpact.demo._leads import AMS, STUDENT_CAMPAIGN, demo_first_day, demo_sdr_from
from leadpact.leads.models import HandoffCheck, Lead, LeadEvent
from leadpact.measurement.closing.models import ClosedPeriod, Restatement
from leadpact.measurement.closing.services import period_close, restatement_record
from leadpact.measurement.disputes.models import Dispute
from leadpact.measurement.disputes.services import dispute_decide, dispute_open
from leadpact.organization.models import Organization, Person

__all__ = ["demo_history_load", "demo_versions_load"]

ACTOR = "demo"
#: the commitments version 2 gives the sales-development team: the standard MQLs they work
SDR_COMMITMENTS = {
    "mql-decision": "Sales development accepts or rejects every MQL it works within 1 business day, with a "
    "reason code on every rejection",
    "first-attempt-standard": "Sales development makes the first human contact attempt on a standard MQL "
    "within 24 business hours",
    "contact-attempts": "Sales development makes at least 6 human contact attempts within 10 business days "
    "of acceptance",
    "feedback": "Sales development gives a disposition and reason code on every worked lead within 15 "
    "business days of acceptance",
    "pipeline": "Sales development sources €100,000 of pipeline a month from marketing's leads",
}
#: with a third of the standard MQLs going to sales development, sales' money targets shrink to match
SALES_MONEY = {
    "pipeline": (270_000, "Sales opens €270,000 of pipeline a month from marketing's leads"),
    "won-revenue": (90_000, "Sales wins €90,000 a month from marketing's leads"),
}


class _Plain(yaml.SafeDumper):
    """YAML without anchors (agreements refuse them): a copied commitment shares its nested values."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Plain, sort_keys=False, allow_unicode=True)


def _local(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=AMS)


def _lead_of(org: Organization, key: str) -> Person:
    person = Person.objects.filter(team__organization=org, team__key=key, role=Person.Role.LEAD).first()
    if person is None or person.user is None:
        raise RuntimeError(f"demo: party {key} has no lead with a login")
    return person


def _document(version: AgreementVersion) -> dict[str, Any]:
    data = yaml.safe_load(agreement_export(version=version))
    assert isinstance(data, dict)
    return data


def _sign(version: AgreementVersion, keys: list[str], at: dt.datetime) -> AgreementVersion:
    for key in keys:
        lead = _lead_of(version.agreement.organization, key)
        assert lead.user is not None
        agreement_version_sign(
            version=version, signer=lead, actor=lead.user, content_hash=version.content_hash, now=at
        )
    version.refresh_from_db()
    return version


def demo_versions_load(org: Organization, first: AgreementVersion, *, now: dt.datetime) -> None:
    """Version 2 in force (the SDR team a party) and version 3 proposed, when the traffic is long enough."""
    sdr_from = demo_sdr_from(now)
    if sdr_from is None or first.agreement.versions.count() > 1:
        return
    data = _document(first)
    data["agreement"]["effective_from"] = sdr_from
    data["parties"].append({"key": "sdr", "name": "Sales development", "calendar": "nl-office"})
    for commitment in list(data["commitments"]):
        key = commitment["key"]
        if key in SDR_COMMITMENTS:
            sdr = {**commitment, "key": f"sdr-{key}", "owner": "sdr", "title": SDR_COMMITMENTS[key]}
            if key == "pipeline":
                sdr["target"] = {**commitment["target"], "value": 100_000}
            data["commitments"].append(sdr)
        if key in SALES_MONEY:
            commitment["target"] = {**commitment["target"], "value": SALES_MONEY[key][0]}
            commitment["title"] = SALES_MONEY[key][1]
    text = _dump(data)
    drafted = _local(sdr_from - dt.timedelta(days=24))
    second = agreement_import(organization=org, yaml_text=text, actor=ACTOR, now=drafted)
    second = agreement_version_propose(version=second, actor=ACTOR, now=drafted + dt.timedelta(days=3))
    second = _sign(second, ["marketing", "sales", "sdr"], drafted + dt.timedelta(days=6))
    agreement_version_activate(version=second, now=_local(sdr_from, 0), actor=ACTOR)

    # version 3: more MQLs and faster calls on demo requests, from next month; marketing has signed
    data = _document(second)
    today = now.astimezone(AMS).date()
    data["agreement"]["effective_from"] = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    for commitment in data["commitments"]:
        if commitment["key"] == "mql-volume":
            commitment["target"]["value"] = 1100
            commitment["title"] = "Marketing hands over 1,100 MQLs a month, each marketer a share by capacity"
        if commitment["key"] == "first-attempt-high-intent":
            commitment["target"]["value"] = 95
    text = _dump(data)
    third = agreement_import(organization=org, yaml_text=text, actor=ACTOR, now=now - dt.timedelta(days=3))
    third = agreement_version_propose(version=third, actor=ACTOR, now=now - dt.timedelta(days=2))
    _sign(third, ["marketing"], now - dt.timedelta(days=1))


def _version_for(org: Organization, period: Period) -> AgreementVersion:
    """The version in force over ``period`` (the later one when it changed inside it)."""
    versions = AgreementVersion.objects.filter(
        agreement__organization=org, status__in=(Status.ACTIVE, Status.SUPERSEDED)
    ).order_by("-number")
    start = _local(period.start, 0)
    for version in versions:
        if version.activated_at is not None and version.activated_at <= start:
            return version
    return versions.last()  # type: ignore[return-value]


def _checked(org: Organization, **filters: Any) -> Any:
    """Rejected leads of ``org`` whose handoff met the definition (what sales can dispute), oldest first."""
    met = HandoffCheck.objects.filter(lead=OuterRef("pk"), met=True)
    rejected = LeadEvent.objects.filter(lead=OuterRef("pk"), kind="rejected", **filters)
    return (
        Lead.objects.filter(organization=org, sales_owner__isnull=False)
        .filter(Exists(met), Exists(rejected))
        .select_related("sales_owner__team")
        .order_by("created_at", "pk")
    )


def _dispute(
    lead: Lead,
    reason: str,
    *,
    decide: str | None,
    by: Person,
    note: str = "",
    now: dt.datetime,
    at: dt.datetime | None = None,
) -> Dispute | None:
    rejected = LeadEvent.objects.filter(lead=lead, kind="rejected").order_by("occurred_at").first()
    assert rejected is not None and lead.sales_owner is not None
    opened = at or rejected.occurred_at + dt.timedelta(hours=2)
    if opened >= now:
        return None
    dispute = dispute_open(
        lead=lead, commitment_key="mql-volume", opened_by=lead.sales_owner, reason=reason, now=opened
    )
    if decide is not None:
        decided = min(now, opened + dt.timedelta(days=2))
        dispute = dispute_decide(dispute=dispute, decided_by=by, status=decide, note=note, now=decided)  # type: ignore[arg-type]
    return dispute


def _months_to_close(now: dt.datetime) -> list[Period]:
    """The four whole months before last (last month is still being closed)."""
    today = now.astimezone(AMS).date()
    first = demo_first_day(now)
    months = []
    index = today.year * 12 + today.month - 1 - 2  # the month before last
    for back in range(4):
        i = index - back
        month = Period.parse(f"{i // 12:04d}-{i % 12 + 1:02d}")
        if month.start >= first.replace(day=1):
            months.append(month)
    return sorted(months, key=lambda p: p.start)


def demo_history_load(org: Organization, *, now: dt.datetime) -> None:
    """Disputes, closed months and one pending restatement, unless the demo has them already."""
    if Dispute.objects.filter(lead__organization=org).exists():
        return
    marketing, sales = _lead_of(org, "marketing"), _lead_of(org, "sales")
    students = _checked(org, data__reason_code="not_a_buyer").filter(campaign=STUDENT_CAMPAIGN)
    for lead in students[:6]:
        _dispute(
            lead,
            "A student from the social giveaway: asked for a demo to win a prize, not a buyer.",
            decide="upheld",
            by=marketing,
            note="Agreed: the giveaway brought students. We stopped the campaign; these leave our count.",
            now=now,
        )
    for lead in _checked(org, data__reason_code="not_icp").exclude(campaign=STUDENT_CAMPAIGN)[:4]:
        _dispute(
            lead,
            "Too small for us: twelve employees.",
            decide="rejected",
            by=marketing,
            note="It met the MQL definition at handoff (country and score). Company size is not in the "
            "definition yet: propose it for the next version.",
            now=now,
        )

    closed: list[tuple[AgreementVersion, Period]] = []
    for month in _months_to_close(now):
        version = _version_for(org, month)
        if not ClosedPeriod.objects.filter(agreement_version=version, period=str(month)).exists():
            period_close(version=version, period=month, actor=sales, now=now)
        closed.append((version, month))

    if closed:
        # a dispute decided after the last month was closed: its figures moved, a restatement waits
        version, month = closed[-1]
        start, end = _local(month.start, 0), _local(month.end, 0)
        late = _checked(org, data__reason_code="wrong_role").filter(created_at__gte=start, created_at__lt=end)
        for lead in late[:5]:
            if Dispute.objects.filter(lead=lead).exists():
                continue
            _dispute(
                lead,
                "A working student in the marketing team, no say in buying.",
                decide="upheld",
                by=marketing,
                note="Upheld after the month was closed: the closed figures need a restatement.",
                now=now,
                at=now - dt.timedelta(hours=3),
            )
            if restatement_record(version=version, period=month, now=now) is not None:
                break
        assert Restatement.objects.filter(status=Restatement.Status.PENDING).count() <= 1

    # and one dispute nobody has decided yet, on a lead of the last weeks
    recent = _checked(org, data__reason_code__in=("wrong_role", "not_icp", "insufficient_data")).filter(
        created_at__gte=now - dt.timedelta(days=45)
    )
    for lead in recent.exclude(pk__in=Dispute.objects.values("lead_id")).reverse()[:20]:
        reason = "The contact is an intern; the buyer is their manager, whom marketing did not hand over."
        if _dispute(lead, reason, decide=None, by=sales, now=now) is not None:
            break
