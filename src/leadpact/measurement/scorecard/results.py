"""A measured figure as a value (:class:`MeasureResult`) and as JSON-able data (stored for closed periods).

Shared by the fresh computation (:mod:`.compute`), closed periods (:mod:`leadpact.measurement.closing`)
and the scorecard's reads (:mod:`.selectors`); it imports none of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

import numpy as np
from django.utils.translation import gettext_lazy

from leadpact.core.metrics import STATUSES as CORE_STATUSES

__all__ = [
    "NOT_CHECKED_BUCKET",
    "STATUSES",
    "STATUS_LABELS",
    "MeasureResult",
    "PacingDay",
    "PacingSeries",
    "SubjectKind",
    "TrendPoint",
    "result_data",
    "result_from_data",
    "unusable_warnings",
]

SubjectKind = Literal["team", "person", "outside"]
_ZERO_IDS = np.zeros(0, dtype=np.int64)
#: The evidence bucket of leads not checked against the commitment's definition at handoff.
NOT_CHECKED_BUCKET = "not_checked"
#: Every status a figure can have, from "nothing to say" to "decided and missed": the engine's
#: (:data:`leadpact.core.metrics.STATUSES`) and ``no_target`` (the row of unassigned leads and of people
#: outside their working dates, which has no target of its own).
STATUSES: tuple[str, ...] = (*CORE_STATUSES, "no_target")
#: Each status in words, translated (English, Dutch), for pages and exports.
STATUS_LABELS: Mapping[str, Any] = {
    "not_in_force": gettext_lazy("not in force"),
    "not_enough_data": gettext_lazy("not enough data"),
    "met": gettext_lazy("met"),
    "on_track": gettext_lazy("on track"),
    "behind": gettext_lazy("behind"),
    "at_risk": gettext_lazy("at risk"),
    "cannot_be_met": gettext_lazy("cannot be met any more"),
    "breached": gettext_lazy("breached"),
    "no_target": gettext_lazy("no target"),
}


@dataclass(frozen=True, slots=True)
class MeasureResult:
    """One figure: commitment × period × subject, with target, pace, status and evidence.

    Numbers are ``Decimal`` in ``unit`` — ``count`` (leads), ``percent`` (0–100), ``amount`` (in
    ``currency``, e.g. ``EUR``), ``duration`` (business seconds) — for pages to format per locale.

    - ``actual`` against ``target``: ``attainment`` (1 = on target; inverted when lower is better);
    - against what is expected by now: ``expected_to_date`` (counts and amounts: the target line of the
      period — agreement start, growth, seasonality, a person's capacity — up to now) and ``pace``
      (``actual ÷ expected_to_date``; for a percentage or duration, whose target holds at every moment,
      the same as attainment); ``elapsed`` is the share of the period's target line behind us (0–1),
      ``projected`` the end value at this pace and ``remaining`` what is still needed (counts, amounts);
    - ``status`` one of :data:`STATUSES`: ``not_in_force`` (the agreement is not in force in the period,
      or not yet), ``not_enough_data``, ``met``, ``on_track``, ``behind``, ``at_risk``, ``cannot_be_met``
      (decided before the end: no later lead can bring it back), ``breached``, and ``no_target``.

    ``subject_kind`` is ``team``, ``person`` or ``outside``: the leads of the team that nobody in post
    answers for — unassigned, or arriving for a person outside their working dates (before their start,
    from their end date on) — counted in the team's row, shown in their own.

    ``evidence`` maps a bucket (``counted``, ``excluded_definition``, ``excluded_disputed``,
    ``breached`` …) to lead ids; ``counted`` are exactly the leads behind ``actual``.
    """

    commitment_key: str
    title: str
    kind: str
    metric: str
    unit: str
    period: str
    subject_kind: SubjectKind
    subject_id: int
    subject_name: str
    actual: Decimal | None
    target: Decimal
    expected_to_date: Decimal | None
    attainment: Decimal | None
    status: str
    sample_size: int
    evidence: Mapping[str, Any] = field(repr=False, compare=False)
    figures: Mapping[str, Any] = field(default_factory=dict)
    agreement_version: int = 0
    definition_versions: Mapping[str, int] = field(default_factory=dict)
    closed: bool = False
    restatement_id: int | None = None
    # stored values the figures could not use (an amount no number, an instant out of range): the same for
    # every result of one call; not part of the figures (nor of a closed period's stored data)
    warnings: tuple[str, ...] = field(default=(), compare=False)
    pace: Decimal | None = None
    elapsed: Decimal | None = None
    projected: Decimal | None = None
    remaining: Decimal | None = None
    currency: str = ""

    @property
    def status_label(self) -> str:
        """The status in words, in the active language."""
        return str(STATUS_LABELS.get(self.status, self.status))

    @property
    def subject(self) -> str:
        """``team:<id>``, ``person:<id>`` or ``outside:<team id>``."""
        return f"{self.subject_kind}:{self.subject_id}"

    def evidence_ids(self) -> dict[str, list[int]]:
        """Bucket → lead ids as plain lists."""
        return {k: [int(i) for i in v] for k, v in self.evidence.items()}


@dataclass(frozen=True, slots=True)
class PacingDay:
    """One day of a period on the pacing chart: the figure at the day's end and the target line.

    ``actual`` is the figure over ``[start of the period, end of the day)`` as known now (``None``: a
    day still to come); ``expected`` the target line up to the day's end — for counts and amounts the
    period's target spread over its basis days as the target's rate shapes it (ending at the target),
    for percentages and durations the target itself; ``None`` for the row without a target.
    ``basis`` says whether the day carries target (a business day, a day the person works).
    """

    day: dt.date
    actual: Decimal | None
    expected: Decimal | None
    basis: bool


@dataclass(frozen=True, slots=True)
class PacingSeries:
    """A pacing chart: the figure as the scorecard shows it, and its days."""

    result: MeasureResult
    days: tuple[PacingDay, ...]


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One period of a trend chart: the figure of one commitment and subject (``None``: the commitment
    or the subject had no figure in that period, e.g. not yet in the agreement, a person not in post)."""

    period: str
    result: MeasureResult | None

    @property
    def actual(self) -> Decimal | None:
        return None if self.result is None else self.result.actual

    @property
    def target(self) -> Decimal | None:
        return None if self.result is None else self.result.target

    @property
    def status(self) -> str | None:
        return None if self.result is None else self.result.status


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def result_data(r: MeasureResult) -> dict[str, Any]:
    """A result as JSON-able data (decimals as text, evidence as lists of lead ids)."""
    return {
        "commitment": r.commitment_key,
        "title": r.title,
        "kind": r.kind,
        "metric": r.metric,
        "unit": r.unit,
        "period": r.period,
        "subject": r.subject,
        "subject_name": r.subject_name,
        "actual": _text(r.actual),
        "target": str(r.target),
        "expected_to_date": _text(r.expected_to_date),
        "attainment": _text(r.attainment),
        "status": r.status,
        "pace": _text(r.pace),
        "elapsed": _text(r.elapsed),
        "projected": _text(r.projected),
        "remaining": _text(r.remaining),
        "currency": r.currency,
        "sample_size": r.sample_size,
        "figures": {k: (str(v) if isinstance(v, Decimal) else v) for k, v in r.figures.items()},
        "agreement_version": r.agreement_version,
        "definition_versions": dict(r.definition_versions),
        "evidence": r.evidence_ids(),
    }


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def result_from_data(data: Mapping[str, Any], **changes: Any) -> MeasureResult:
    """The result :func:`result_data` wrote."""
    kind, _, pk = str(data["subject"]).partition(":")
    r = MeasureResult(
        commitment_key=data["commitment"],
        title=data["title"],
        kind=data["kind"],
        metric=data["metric"],
        unit=data["unit"],
        period=data["period"],
        subject_kind=kind,  # type: ignore[arg-type]
        subject_id=int(pk),
        subject_name=data["subject_name"],
        actual=_dec(data["actual"]),
        target=Decimal(data["target"]),
        expected_to_date=_dec(data["expected_to_date"]),
        attainment=_dec(data["attainment"]),
        status=data["status"],
        pace=_dec(data.get("pace")),
        elapsed=_dec(data.get("elapsed")),
        projected=_dec(data.get("projected")),
        remaining=_dec(data.get("remaining")),
        currency=str(data.get("currency") or ""),
        sample_size=int(data["sample_size"]),
        evidence={k: np.asarray(v, dtype=np.int64) if v else _ZERO_IDS for k, v in data["evidence"].items()},
        figures=dict(data["figures"]),
        agreement_version=int(data["agreement_version"]),
        definition_versions=dict(data["definition_versions"]),
    )
    return replace(r, **changes) if changes else r


def unusable_warnings(total: int, examples: Sequence[tuple[int, str]]) -> tuple[str, ...]:
    """The warning for stored events measurement could not fully use (``Snapshot.unusable``), or none.

    >>> unusable_warnings(2, [(17, "amount is not a number"), (18, "occurred_at is out of range")])[0][:60]
    '2 stored events carry values that cannot be measured (event 1'
    """
    if not total:
        return ()
    listed = "; ".join(f"event {pk}: {why}" for pk, why in examples)
    more = f"; and {total - len(examples)} more" if total > len(examples) else ""
    return (
        f"{total} stored events carry values that cannot be measured ({listed}{more}): an amount counts as "
        "none, an event out of range is left out. Void such an event with "
        "`leadpact events void ID --reason … --by …` and record it again.",
    )
