"""Columnar inputs of the measurement engine: the event frame, the lead frame and their builders.

Private module; the public names are re-exported by :mod:`leadpact.core.metrics`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

__all__ = [
    "NOT_CHECKED",
    "BusinessCalendarLike",
    "DatetimeArray",
    "EventFrame",
    "EventKind",
    "FrameError",
    "LeadFrame",
    "TimedeltaArray",
    "to_datetime64",
    "to_timedelta64",
]

DatetimeArray = npt.NDArray[np.datetime64]
TimedeltaArray = npt.NDArray[np.timedelta64]
IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]

NAT = np.datetime64("NaT", "us")
#: In :attr:`LeadFrame.definitions`: the lead was not checked against that definition at handoff.
NOT_CHECKED = -1


class FrameError(ValueError):
    """An event or lead frame that cannot be measured (unequal columns, bad index, naive time)."""


class BusinessCalendarLike(Protocol):
    """The part of :class:`leadpact.core.calendar.BusinessCalendar` the engine relies on.

    ``elapsed`` is the business time in ``[start, end)``; ``add`` is the earliest instant at which
    ``duration`` of business time has elapsed since ``start`` (a deadline landing on a close is that
    close). The ``_many`` twins work on ``datetime64[us]`` arrays of UTC instants.
    """

    def elapsed(self, start: datetime, end: datetime) -> timedelta: ...

    def add(self, start: datetime, duration: timedelta) -> datetime: ...

    def elapsed_many(self, starts: DatetimeArray, ends: DatetimeArray) -> TimedeltaArray: ...

    def add_many(self, starts: DatetimeArray, durations: TimedeltaArray) -> DatetimeArray: ...


class EventKind(enum.IntEnum):
    """Codes of the lead event kinds (DESIGN §2) in an :class:`EventFrame`.

    Codes from :attr:`CUSTOM` upwards are free for the pause kinds an agreement declares
    (``waiting_on_customer`` …); the caller maps their names to codes. :attr:`RESUMED` is the
    engine's explicit end of a pause.
    """

    CREATED = 0
    HANDED_OVER = 1
    ASSIGNED = 2
    CONTACT_ATTEMPT = 3
    ACCEPTED = 4
    REJECTED = 5
    QUALIFIED = 6
    OPPORTUNITY = 7
    WON = 8
    LOST = 9
    RECYCLED = 10
    FEEDBACK = 11
    FIELD_CHANGED = 12
    RESUMED = 13
    CUSTOM = 32


def to_datetime64(value: datetime) -> np.datetime64:
    """An aware datetime as a UTC ``datetime64[us]``; naive datetimes are refused.

    >>> to_datetime64(datetime(2026, 1, 2, 9, tzinfo=UTC))
    np.datetime64('2026-01-02T09:00:00.000000')
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise FrameError(f"datetime {value.isoformat()}: naive, an aware datetime is required")
    return np.datetime64(value.astimezone(UTC).replace(tzinfo=None), "us")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


def micros(value: datetime) -> int:
    """An aware datetime as integer microseconds since the epoch (UTC); naive datetimes are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise FrameError(f"datetime {value.isoformat()}: naive, an aware datetime is required")
    return (value - _EPOCH) // _ONE_US


def to_timedelta64(value: timedelta) -> np.timedelta64:
    """A timedelta as ``timedelta64[us]``."""
    return np.timedelta64(value, "us")


def from_datetime64(value: np.datetime64) -> datetime | None:
    """A UTC ``datetime64`` as an aware datetime (``None`` for NaT)."""
    if np.isnat(value):
        return None
    micros = int(value.astype("datetime64[us]").astype(np.int64))
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


def _column(name: str, values: Any, dtype: Any, n: int | None) -> Any:
    array = np.ascontiguousarray(values, dtype=dtype)
    if array.ndim != 1:
        raise FrameError(f"column {name}: must be one-dimensional, got shape {array.shape}")
    if n is not None and array.shape[0] != n:
        raise FrameError(f"column {name}: length {array.shape[0]}, expected {n}")
    array.setflags(write=False)
    return array


@dataclass(frozen=True, slots=True)
class EventFrame:
    """Lead events as equal-length columns (any order); money in integer cents.

    ``lead`` indexes rows of the :class:`LeadFrame`; ``reason`` and ``actor`` are -1 when absent;
    ``human`` matters for contact attempts only.
    """

    lead: IntArray
    kind: npt.NDArray[np.int16]
    occurred_at: DatetimeArray
    human: BoolArray
    amount_cents: IntArray
    reason: Int32Array
    actor: Int32Array

    def __post_init__(self) -> None:
        n = np.asarray(self.lead).shape[0] if np.ndim(self.lead) == 1 else None
        object.__setattr__(self, "lead", _column("lead", self.lead, np.int64, n))
        object.__setattr__(self, "kind", _column("kind", self.kind, np.int16, n))
        occurred = np.asarray(self.occurred_at)
        if occurred.dtype.kind != "M":
            raise FrameError(f"column occurred_at: dtype {occurred.dtype}, expected datetime64")
        occurred = _column("occurred_at", occurred.astype("datetime64[us]"), "datetime64[us]", n)
        if np.isnat(occurred).any():
            raise FrameError(f"column occurred_at: row {int(np.flatnonzero(np.isnat(occurred))[0])} is NaT")
        object.__setattr__(self, "occurred_at", occurred)
        object.__setattr__(self, "human", _column("human", self.human, np.bool_, n))
        object.__setattr__(self, "amount_cents", _column("amount_cents", self.amount_cents, np.int64, n))
        object.__setattr__(self, "reason", _column("reason", self.reason, np.int32, n))
        object.__setattr__(self, "actor", _column("actor", self.actor, np.int32, n))

    def __len__(self) -> int:
        return int(self.lead.shape[0])

    @classmethod
    def from_rows(
        cls,
        rows: Sequence[tuple[int, EventKind | int, datetime] | tuple[Any, ...]],
    ) -> EventFrame:
        """Build from ``(lead, kind, occurred_at[, human, amount_cents, reason, actor])`` tuples.

        >>> EventFrame.from_rows([(0, EventKind.HANDED_OVER, datetime(2026, 1, 5, 9, tzinfo=UTC))]).kind
        array([1], dtype=int16)
        """
        defaults = (False, 0, -1, -1)
        full = [tuple(row) + defaults[len(row) - 3 :] for row in rows]
        for number, row in enumerate(full):
            if len(row) != 7:
                raise FrameError(f"event row {number}: {len(row)} values, expected 3 to 7")
        return cls(
            lead=np.array([r[0] for r in full], dtype=np.int64),
            kind=np.array([int(r[1]) for r in full], dtype=np.int16),
            occurred_at=np.array([to_datetime64(r[2]) for r in full], dtype="datetime64[us]"),
            human=np.array([bool(r[3]) for r in full], dtype=np.bool_),
            amount_cents=np.array([int(r[4]) for r in full], dtype=np.int64),
            reason=np.array([int(r[5]) for r in full], dtype=np.int32),
            actor=np.array([int(r[6]) for r in full], dtype=np.int32),
        )


@dataclass(frozen=True, slots=True)
class LeadFrame:
    """Leads as equal-length columns; row ``i`` is the lead that events call lead index ``i``.

    ``fields_present`` is a ``(leads, len(field_names))`` bool matrix: the handoff data contract's
    fields that passed their check at handoff. ``definitions`` maps a definition key to an ``int8``
    column: 1 met at handoff, 0 missed, :data:`NOT_CHECKED` (-1) not checked against it (a key
    absent means no lead was); a :class:`Subject` with ``covers`` keeps the leads that did not miss it.
    ``met_definition`` is the volume commitment's definition.
    """

    lead_id: IntArray
    marketing_owner: Int32Array
    sales_owner: Int32Array
    met_definition: BoolArray
    disputed_upheld: BoolArray
    duplicate_of: IntArray
    field_names: tuple[str, ...]
    fields_present: BoolArray
    definitions: Mapping[str, npt.NDArray[np.int8]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = np.asarray(self.lead_id).shape[0] if np.ndim(self.lead_id) == 1 else None
        object.__setattr__(self, "lead_id", _column("lead_id", self.lead_id, np.int64, n))
        for name in ("marketing_owner", "sales_owner"):
            object.__setattr__(self, name, _column(name, getattr(self, name), np.int32, n))
        for name in ("met_definition", "disputed_upheld"):
            object.__setattr__(self, name, _column(name, getattr(self, name), np.bool_, n))
        object.__setattr__(self, "duplicate_of", _column("duplicate_of", self.duplicate_of, np.int64, n))
        object.__setattr__(self, "field_names", tuple(self.field_names))
        present = np.ascontiguousarray(self.fields_present, dtype=np.bool_)
        if present.ndim == 1 and present.shape[0] == 0:
            present = present.reshape(0, len(self.field_names))
        if present.shape != (len(self), len(self.field_names)):
            raise FrameError(
                f"column fields_present: shape {present.shape}, expected {(len(self), len(self.field_names))}"
            )
        present.setflags(write=False)
        object.__setattr__(self, "fields_present", present)
        columns: dict[str, npt.NDArray[np.int8]] = {}
        for key, values in self.definitions.items():
            column = _column(f"definitions[{key}]", values, np.int8, len(self))
            if column.shape[0] and (column.min() < NOT_CHECKED or column.max() > 1):
                raise FrameError(f"column definitions[{key}]: values must be 1, 0 or {NOT_CHECKED}")
            columns[str(key)] = column
        object.__setattr__(self, "definitions", columns)

    def __len__(self) -> int:
        return int(self.lead_id.shape[0])

    @classmethod
    def from_rows(
        cls,
        rows: Sequence[dict[str, Any]],
        *,
        field_names: Sequence[str] = (),
    ) -> LeadFrame:
        """Build from dicts with keys ``lead_id`` and optionally the other columns.

        ``missing`` (a collection of field names) marks contract fields absent at handoff;
        ``definitions`` (key → met) the definitions the lead was checked against (others: not checked).

        >>> LeadFrame.from_rows([{"lead_id": 7, "missing": {"email"}}], field_names=["email"]).fields_present
        array([[False]])
        """
        names = tuple(field_names)
        keys = sorted({str(k) for r in rows for k in r.get("definitions", {})})
        definitions = {
            key: np.array(
                [
                    int(bool(r["definitions"][key])) if key in r.get("definitions", {}) else NOT_CHECKED
                    for r in rows
                ],
                dtype=np.int8,
            )
            for key in keys
        }
        for number, row in enumerate(rows):
            unknown = set(row.get("missing", ())) - set(names)
            if unknown:
                raise FrameError(f"lead row {number}: field missing: unknown fields {sorted(unknown)}")
        return cls(
            lead_id=np.array([int(r["lead_id"]) for r in rows], dtype=np.int64),
            marketing_owner=np.array([int(r.get("marketing_owner", -1)) for r in rows], dtype=np.int32),
            sales_owner=np.array([int(r.get("sales_owner", -1)) for r in rows], dtype=np.int32),
            met_definition=np.array([bool(r.get("met_definition", True)) for r in rows], dtype=np.bool_),
            disputed_upheld=np.array([bool(r.get("disputed_upheld", False)) for r in rows], dtype=np.bool_),
            duplicate_of=np.array([int(r.get("duplicate_of", -1)) for r in rows], dtype=np.int64),
            field_names=names,
            fields_present=np.array(
                [[name not in set(r.get("missing", ())) for name in names] for r in rows], dtype=np.bool_
            ).reshape(len(rows), len(names)),
            definitions=definitions,
        )
