"""An :class:`AgreementDocument` as canonical plain data (the shape of the YAML format)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Literal

from leadpact.core._agreement_model import (
    AgreementDocument,
    Calendar,
    Commitment,
    Settings,
    Target,
    canonical_decimal,
)
from leadpact.core._agreement_yaml import Flow

DataStyle = Literal["python", "json"]

#: Keys of a calendar spec written first, in this order; any others follow as given.
CALENDAR_KEY_ORDER = ("timezone", "hours", "holidays")


def to_data(doc: AgreementDocument, style: DataStyle = "python") -> dict[str, object]:
    """Canonical plain data: fixed key order; optional values that are None are left out."""
    data: dict[str, object] = {
        "leadpact": doc.version,
        "agreement": _info(doc),
        "parties": [{"key": p.key, "name": p.name, "calendar": p.calendar} for p in doc.parties],
        "calendars": {cal.key: calendar_data(cal) for cal in doc.calendars},
        "definitions": [
            _drop_none(
                {"key": d.key, "term": d.term, "text": d.text, "rule": d.rule.text if d.rule else None}
            )
            for d in doc.definitions
        ],
        "reason_codes": [
            {
                "code": r.code,
                "label": r.label,
                "group": r.group,
                "owner": r.owner,
                "requires_text": r.requires_text,
            }
            for r in doc.reason_codes
        ],
        "settings": settings_data(doc.settings),
        "commitments": [commitment_data(c) for c in doc.commitments],
    }
    return _json(data) if style == "json" else data  # type: ignore[return-value]


def _info(doc: AgreementDocument) -> dict[str, object]:
    info = doc.info
    review = None
    if info.review is not None:
        review = Flow(cadence=info.review.cadence, duration_minutes=info.review.duration_minutes)
    return _drop_none(
        {
            "key": info.key,
            "title": info.title,
            "language": info.language,
            "effective_from": info.effective_from,
            "effective_until": info.effective_until,
            "review": review,
        }
    )


def calendar_data(calendar: Calendar) -> dict[str, object]:
    """A calendar spec as plain data, known keys first."""
    spec = _thaw(calendar.spec)
    assert isinstance(spec, dict)
    ordered = {key: spec[key] for key in CALENDAR_KEY_ORDER if key in spec}
    ordered.update((key, value) for key, value in spec.items() if key not in ordered)
    return ordered


def settings_data(settings: Settings) -> dict[str, object]:
    """Settings as plain data, every value written."""
    return {
        "basis": settings.basis,
        "normalisation": settings.normalisation,
        "ramp": list(settings.ramp),
        "pacing": Flow(
            ahead=settings.pacing.ahead,
            on_track=settings.pacing.on_track,
            behind=settings.pacing.behind,
        ),
        "escalation": Flow(
            warn=settings.escalation.warn,
            manager=settings.escalation.manager,
            reassign=settings.escalation.reassign,
        ),
        "min_sample": settings.min_sample,
        "currency": settings.currency,
    }


def target_data(target: Target) -> dict[str, object]:
    """A target as plain data."""
    return _drop_none(
        {
            "value": target.value,
            "unit": target.unit,
            "per": target.per,
            "growth": target.growth,
            "currency": target.currency,
        }
    )


def commitment_data(c: Commitment) -> dict[str, object]:
    """A commitment as plain data."""
    clock = None
    if c.clock is not None:
        clock = _drop_none(
            {
                "window": str(c.clock.window),
                "start": c.clock.start,
                "stop": list(c.clock.stop),
                "pause": list(c.clock.pause),
                "thresholds": list(c.clock.thresholds) if c.clock.thresholds is not None else None,
                "attempts": c.clock.attempts,
                "human_only": c.clock.human_only,
            }
        )
    fields = [Flow(field=f.field, check=f.check) for f in c.fields] or None
    return _drop_none(
        {
            "key": c.key,
            "title": c.title,
            "kind": c.kind,
            "owner": c.owner,
            "split": c.split,
            "beneficiary": c.beneficiary,
            "covers": c.covers,
            "outcome": c.outcome,
            "target": target_data(c.target),
            "period": c.period,
            "basis": c.basis,
            "calendar": c.calendar,
            "clock": clock,
            "fields": fields,
        }
    )


def _drop_none(data: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in data.items() if value is not None}


def _thaw(value: object) -> object:
    if isinstance(value, Mapping):
        return {str(k): _thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_thaw(v) for v in value]
    if isinstance(value, Decimal):
        return canonical_decimal(value)
    return value


def _json(value: object) -> object:
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
