"""A measured figure as a value (:class:`MeasureResult`) and as JSON-able data (stored for closed periods).

Shared by the fresh computation (:mod:`.compute`), closed periods (:mod:`leadpact.measurement.closing`)
and the scorecard's reads (:mod:`.selectors`); it imports none of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

import numpy as np

__all__ = ["NOT_CHECKED_BUCKET", "MeasureResult", "SubjectKind", "result_data", "result_from_data"]

SubjectKind = Literal["team", "person"]
_ZERO_IDS = np.zeros(0, dtype=np.int64)
#: The evidence bucket of leads not checked against the commitment's definition at handoff.
NOT_CHECKED_BUCKET = "not_checked"


@dataclass(frozen=True, slots=True)
class MeasureResult:
    """One figure: commitment × period × subject, with target, pace, status and evidence.

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

    @property
    def subject(self) -> str:
        """``team:<id>`` or ``person:<id>``."""
        return f"{self.subject_kind}:{self.subject_id}"

    def evidence_ids(self) -> dict[str, list[int]]:
        """Bucket → lead ids as plain lists."""
        return {k: [int(i) for i in v] for k, v in self.evidence.items()}


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
        sample_size=int(data["sample_size"]),
        evidence={k: np.asarray(v, dtype=np.int64) if v else _ZERO_IDS for k, v in data["evidence"].items()},
        figures=dict(data["figures"]),
        agreement_version=int(data["agreement_version"]),
        definition_versions=dict(data["definition_versions"]),
    )
    return replace(r, **changes) if changes else r
