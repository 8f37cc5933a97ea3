"""A mapping from a file's columns onto lead fields and lead events, saved and reused as JSON."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadpact.connectors.records import EVENT_KINDS, LEAD_FIELDS, EventKind

__all__ = ["TARGETS", "EventRule", "Mapping", "MappingError", "normalise_header"]

#: Where a column can go besides ``extra.<key>``.
TARGETS: frozenset[str] = frozenset(
    {"external_id", "created_at", "marketing_owner", "sales_owner", "ignore", "consent_opt_out", *LEAD_FIELDS}
)


_COLUMN_KEYS = ("when_column", "amount", "currency", "reason", "actor", "value", "code")
_TEXT_KEYS = ("reason_code", "channel", "note")


class MappingError(ValueError):
    """A mapping that cannot be used, with the part that is wrong named."""


def normalise_header(text: str) -> str:
    """How headers are compared: case-insensitive, surrounding and repeated whitespace ignored.

    >>> normalise_header("  Create  Date ")
    'create date'
    """
    return " ".join(text.replace("\ufeff", "").split()).casefold()


@dataclass(frozen=True, slots=True)
class EventRule:
    """One lead event a row produces: ``kind`` at the first non-empty date among the ``at`` columns.

    Column references are tuples of alternative headers; the first one present in the file is used
    (for ``at``: the first one with a value in the row). With ``when_column``, the event is produced
    only when that column's value is one of ``when_values`` (case, spaces and ``_`` ignored).
    ``amount``, ``currency``, ``reason``, ``actor`` and ``value`` (stored as ``data["value"]``, e.g. the
    new owner of an assignment) and ``code`` (a reason code, else the fixed ``reason_code``) name
    columns; ``reason_code``, ``channel`` and ``human`` are fixed values; ``note`` is stored as
    ``data["note"]`` (e.g. where an approximate time came from).
    """

    kind: EventKind
    at: tuple[str, ...]
    when_column: tuple[str, ...] = ()
    when_values: tuple[str, ...] = ()
    amount: tuple[str, ...] = ()
    currency: tuple[str, ...] = ()
    reason: tuple[str, ...] = ()
    actor: tuple[str, ...] = ()
    value: tuple[str, ...] = ()
    code: tuple[str, ...] = ()
    reason_code: str = ""
    channel: str = ""
    human: bool | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict without the defaults."""
        out: dict[str, Any] = {"kind": self.kind, "at": list(self.at)}
        for name in _COLUMN_KEYS:
            if getattr(self, name):
                out[name] = list(getattr(self, name))
        for name in _TEXT_KEYS:
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.when_values:
            out["when_values"] = list(self.when_values)
        if self.human is not None:
            out["human"] = self.human
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "event") -> EventRule:
        """Inverse of :meth:`to_dict`; raises MappingError naming the rule and the key."""
        if not isinstance(data, dict):
            raise MappingError(f"{where}: must be an object")
        known = {"kind", "at", "when_values", "human", *_COLUMN_KEYS, *_TEXT_KEYS}
        unknown = sorted(set(data) - known)
        if unknown:
            raise MappingError(f"{where}: unknown key {unknown[0]!r}")
        kind = data.get("kind")
        if kind not in EVENT_KINDS:
            raise MappingError(f"{where}: kind {kind!r} is not an event kind")
        columns: dict[str, tuple[str, ...]] = {}
        for name in ("at", *_COLUMN_KEYS):
            value = data.get(name, [])
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(c, str) and c for c in value):
                raise MappingError(f"{where}: {name!r} must name one or more columns")
            columns[name] = tuple(value)
        if not columns["at"]:
            raise MappingError(f"{where}: 'at' must name one or more date columns")
        texts: dict[str, str] = {}
        for name in _TEXT_KEYS:
            value = data.get(name, "")
            if not isinstance(value, str):
                raise MappingError(f"{where}: {name!r} must be text")
            texts[name] = value
        when_values = data.get("when_values", [])
        if not isinstance(when_values, list) or not all(isinstance(v, str) for v in when_values):
            raise MappingError(f"{where}: 'when_values' must be a list of text")
        if when_values and not columns["when_column"]:
            raise MappingError(f"{where}: 'when_values' needs 'when_column'")
        human = data.get("human")
        if human is not None and not isinstance(human, bool):
            raise MappingError(f"{where}: 'human' must be true, false or null")
        settings: dict[str, Any] = {**columns, **texts}
        return cls(kind=cast(EventKind, kind), when_values=tuple(when_values), human=human, **settings)


@dataclass(frozen=True, slots=True)
class Mapping:
    """Columns → targets, plus the events a row produces and how to read its dates.

    ``columns`` pairs a header with a target (see ``TARGETS``; ``extra.<key>`` stores the value under
    that key). Several headers may point at one target: the first one present in the file is used,
    which is how presets cover both the label and the internal-name export. Columns the mapping does
    not name go to ``extra`` under their header (``keep_unmapped="drop"`` drops them).
    ``date_formats`` gives a ``strptime`` format per column where detection should not be used.
    ``dayfirst`` answers the day/month question for columns whose values never tell.
    ``footer`` holds regular expressions for trailing report lines to ignore (Salesforce reports).

    >>> m = Mapping(source="crm", columns=(("ID", "external_id"), ("Mail", "email")))
    >>> Mapping.from_json(m.to_json()) == m
    True
    """

    source: str
    columns: tuple[tuple[str, str], ...]
    events: tuple[EventRule, ...] = ()
    date_formats: tuple[tuple[str, str], ...] = ()
    dayfirst: bool | None = None
    timezone: str = "Europe/Amsterdam"
    footer: tuple[str, ...] = ()
    currency: str = ""
    keep_unmapped: Literal["keep", "drop"] = "keep"
    name: str = "custom"
    created_event: bool = field(default=True)

    def __post_init__(self) -> None:
        where = f"mapping {self.name!r}"
        if not self.source:
            raise MappingError(f"{where}: source is empty")
        targets = [t for _, t in self.columns]
        for header, target in self.columns:
            if not header.strip():
                raise MappingError(f"{where}: a column header is empty")
            if target not in TARGETS and not (target.startswith("extra.") and len(target) > 6):
                raise MappingError(f"{where}: column {header!r} maps to unknown target {target!r}")
        if "external_id" not in targets:
            raise MappingError(f"{where}: no column maps to external_id")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise MappingError(f"{where}: unknown timezone {self.timezone!r}") from None
        for pattern in self.footer:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise MappingError(f"{where}: footer pattern {pattern!r}: {exc}") from None
        if self.keep_unmapped not in ("keep", "drop"):
            raise MappingError(f"{where}: keep_unmapped must be 'keep' or 'drop'")

    def replace(self, **changes: Any) -> Mapping:
        """A copy with some attributes changed (``dayfirst``, ``timezone`` ...)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data.update(changes)
        return Mapping(**data)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ``columns`` as a list of ``[header, target]`` pairs (order matters)."""
        return {
            "name": self.name,
            "source": self.source,
            "columns": [[h, t] for h, t in self.columns],
            "events": [e.to_dict() for e in self.events],
            "date_formats": dict(self.date_formats),
            "dayfirst": self.dayfirst,
            "timezone": self.timezone,
            "footer": list(self.footer),
            "currency": self.currency,
            "keep_unmapped": self.keep_unmapped,
            "created_event": self.created_event,
        }

    def to_json(self) -> str:
        """The mapping as JSON text, to save and reuse."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_dict(cls, data: Any) -> Mapping:
        """Inverse of :meth:`to_dict`; ``columns`` may also be an object ``{header: target}``."""
        if not isinstance(data, dict):
            raise MappingError("mapping: must be an object")
        name = data.get("name", "custom")
        where = f"mapping {name!r}"
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise MappingError(f"{where}: unknown key {unknown[0]!r}")
        raw_columns = data.get("columns")
        if isinstance(raw_columns, dict):
            raw_columns = list(raw_columns.items())
        if not isinstance(raw_columns, list):
            raise MappingError(f"{where}: 'columns' must be a list of [header, target] pairs")
        columns: list[tuple[str, str]] = []
        for pair in raw_columns:
            if not (
                isinstance(pair, list | tuple) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
            ):
                raise MappingError(f"{where}: column entry {pair!r} is not a [header, target] pair")
            columns.append((pair[0], pair[1]))
        raw_events = data.get("events", [])
        if not isinstance(raw_events, list):
            raise MappingError(f"{where}: 'events' must be a list")
        events = tuple(
            EventRule.from_dict(e, where=f"{where}, event {i + 1}") for i, e in enumerate(raw_events)
        )
        formats = data.get("date_formats", {})
        if not isinstance(formats, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in formats.items()
        ):
            raise MappingError(f"{where}: 'date_formats' must map column to format text")
        dayfirst = data.get("dayfirst")
        if dayfirst is not None and not isinstance(dayfirst, bool):
            raise MappingError(f"{where}: 'dayfirst' must be true, false or null")
        footer = data.get("footer", [])
        if not isinstance(footer, list) or not all(isinstance(p, str) for p in footer):
            raise MappingError(f"{where}: 'footer' must be a list of patterns")
        texts: dict[str, Any] = {}
        for key, default in (("source", ""), ("timezone", "Europe/Amsterdam"), ("currency", ""),
                             ("keep_unmapped", "keep"), ("name", "custom")):  # fmt: skip
            value = data.get(key, default)
            if not isinstance(value, str):
                raise MappingError(f"{where}: {key!r} must be text")
            texts[key] = value
        created_event = data.get("created_event", True)
        if not isinstance(created_event, bool):
            raise MappingError(f"{where}: 'created_event' must be true or false")
        return cls(
            columns=tuple(columns),
            events=events,
            date_formats=tuple(formats.items()),
            dayfirst=dayfirst,
            footer=tuple(footer),
            created_event=created_event,
            **texts,
        )

    @classmethod
    def from_json(cls, text: str) -> Mapping:
        """Parse a mapping saved with :meth:`to_json`."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MappingError(f"mapping: not valid json ({exc.msg} at line {exc.lineno})") from None
        return cls.from_dict(data)
