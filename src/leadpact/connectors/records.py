"""Normalised lead records and lead events, the one shape every connector produces.

The Django ``leads`` app stores these; nothing here knows about the database.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from hashlib import sha256
from typing import Any, Literal

from leadpact.core.events import EVENT_KINDS as _EVENT_KINDS
from leadpact.core.events import EventKind

__all__ = [
    "EVENT_KINDS",
    "KIND_MAX_LENGTH",
    "LEAD_FIELDS",
    "PRECISIONS",
    "RESUMED",
    "VOIDED",
    "EventKind",
    "EventRecord",
    "LeadFields",
    "LeadRecord",
    "Precision",
    "RowProblem",
    "event_kind_problem",
    "instant_key_text",
    "is_kind_name",
    "voided_event_id",
]

#: The kinds as a set, for fast membership checks on the import hot path.
EVENT_KINDS: frozenset[str] = frozenset(_EVENT_KINDS)
#: Ends a pause of an SLA clock (a pause kind an agreement declares in ``clock.pause`` starts one).
RESUMED = "resumed"
#: The correction of a stored event: it names the event it voids (``data["event_id"]``), which state,
#: handoff checks, clocks and measurement then leave out. Written only by the leads app's void service.
VOIDED = "voided"
#: The longest event kind that can be stored.
KIND_MAX_LENGTH = 64
# the shape of an agreement key (AGREEMENT-FORMAT.md): the shape a pause kind has
_KIND_NAME = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")


def is_kind_name(kind: object) -> bool:
    """Whether ``kind`` could be an event kind: a fixed kind, ``resumed`` or a pause kind's shape.

    Whether an organisation's agreements declare that pause kind is for the store's edge to check
    (:func:`event_kind_problem`); a record knows no organisation.

    >>> is_kind_name("waiting_on_customer"), is_kind_name("Waiting on customer")
    (True, False)
    """
    return isinstance(kind, str) and (
        kind in EVENT_KINDS
        or kind == RESUMED
        or (len(kind) <= KIND_MAX_LENGTH and _KIND_NAME.fullmatch(kind) is not None)
    )


def event_kind_problem(kind: str, pause_kinds: Collection[str]) -> str | None:
    """Why ``kind`` cannot be stored for an organisation whose agreements declare ``pause_kinds``
    (``None``: it can); the reason lists every allowed kind.

    >>> event_kind_problem("waiting_on_customer", ["waiting_on_customer"]) is None
    True
    >>> event_kind_problem("on_hold", [])[:40]
    "unknown event kind 'on_hold'; allowed: c"
    """
    if kind == VOIDED:
        return f"event kind {VOIDED!r} is written only by voiding an event (leadpact events void)"
    if (kind in EVENT_KINDS or kind == RESUMED or kind in pause_kinds) and len(kind) <= KIND_MAX_LENGTH:
        return None
    allowed = [*_EVENT_KINDS, RESUMED, *sorted(k for k in pause_kinds if len(k) <= KIND_MAX_LENGTH)]
    return f"unknown event kind {kind!r}; allowed: {', '.join(allowed)}"


def voided_event_id(data: object) -> int | None:
    """The id of the event a ``voided`` event's ``data`` names, or ``None`` when it names none.

    >>> voided_event_id({"event_id": 17, "reason": "amount typed wrong"}), voided_event_id({})
    (17, None)
    """
    target = data.get("event_id") if isinstance(data, dict) else None
    return target if isinstance(target, int) and not isinstance(target, bool) else None


#: How precise a source gives an instant, coarsest first; an event's identity across sources compares
#: instants at the coarser of two precisions (``leads/_identity.py``). ``""`` on a record: as given (µs).
Precision = Literal["day", "minute", "second", "millisecond", "microsecond"]
PRECISIONS: tuple[Precision, ...] = ("day", "minute", "second", "millisecond", "microsecond")


#: Lead fields known to rules and contracts (AGREEMENT-FORMAT.md), plus the name parts.
LEAD_FIELDS: tuple[str, ...] = (
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "country",
    "source",
    "campaign",
    "score",
    "job_title",
    "industry",
    "company_size",
    "trigger",
    "consent",
    "recent_touches",
)


# Not frozen: a frozen dataclass sets every field through object.__setattr__, which made building
# records 3-5x slower (measured: 2.75 µs against 0.51 µs for four fields) and a million-row import
# builds five per row. Treat them as immutable values; nothing in leadpact mutates them.


@dataclass(slots=True)
class LeadFields:
    """The typed core fields of a lead; text is stripped, ``""`` means absent.

    ``name`` is the full name (first and last name joined when the source has them apart),
    ``country`` an ISO 3166-1 alpha-2 code where the value could be recognised (else as given),
    ``consent`` ``None`` when the source says nothing recognisable, ``extra`` every other column.
    """

    name: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    company: str = ""
    country: str = ""
    source: str = ""
    campaign: str = ""
    score: int | None = None
    job_title: str = ""
    industry: str = ""
    company_size: str = ""
    trigger: str = ""
    consent: bool | None = None
    recent_touches: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict, the shape CEL rules see as ``lead``."""
        out: dict[str, Any] = {name: getattr(self, name) for name in LEAD_FIELDS}
        out["extra"] = dict(self.extra)
        return out


@dataclass(slots=True)
class LeadRecord:
    """One lead as a source system knows it: ``(source, external_id)`` identifies it."""

    source: str
    external_id: str
    fields: LeadFields
    created_at: datetime | None
    marketing_owner: str = ""
    sales_owner: str = ""

    def __post_init__(self) -> None:
        if not self.external_id:
            raise ValueError(f"lead from {self.source}: external_id is empty")
        if self.created_at is not None and self.created_at.tzinfo is None:
            raise ValueError(f"lead {self.source}:{self.external_id}: created_at must be aware")


def instant_key_text(at: datetime) -> str:
    """An instant (in UTC) as an event's key spells it: ``2026-11-26T13:05:00.000000Z``.

    >>> instant_key_text(datetime(2026, 11, 26, 13, 5, tzinfo=UTC))
    '2026-11-26T13:05:00.000000Z'
    """
    if at.year >= 1000:  # isoformat is ~3x faster than strftime and the same from year 1000 on
        return at.isoformat(timespec="microseconds")[:-6] + "Z"
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(slots=True)
class EventRecord:
    """One lead event from a source; ``idempotency_key`` makes a replay a no-op.

    ``kind`` is one of :data:`EVENT_KINDS`, ``resumed``, or a pause kind an agreement declares (any
    name of that shape is taken here; the store's edge checks it against the organisation's agreements).
    Kind-specific values: ``channel``/``human`` for contact_attempt, ``reason_code`` for rejected,
    ``amount``/``currency`` for opportunity, won and lost, ``reason`` for lost and rejected.
    ``data`` holds further salient facts (for field_changed: ``field``, ``value``);
    ``source_ref`` names the delivery (e.g. a webhook event id) and is left out of the key.
    ``precision`` says how precise the source gives the instant (a file's ``10:00`` is a minute, a
    Salesforce report's date a day; ``""``: as given); it is left out of the key and decides the
    event's identity across sources (``leads/_identity.py``).

    >>> from datetime import datetime, UTC
    >>> e = EventRecord(source="hubspot", external_id="51", kind="won",
    ...                 occurred_at=datetime(2026, 11, 26, 13, 5, tzinfo=UTC), amount=Decimal("1200"))
    >>> len(e.idempotency_key)
    64
    """

    source: str
    external_id: str
    kind: EventKind | str  # a pause kind or ``resumed`` beside the fixed kinds
    occurred_at: datetime
    actor: str = ""
    channel: str = ""
    human: bool | None = None
    reason_code: str = ""
    reason: str = ""
    amount: Decimal | None = None
    currency: str = ""
    data: dict[str, str] = field(default_factory=dict)
    source_ref: str = ""
    precision: Precision | str = ""

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS and not is_kind_name(self.kind):
            raise ValueError(f"event for {self.source}:{self.external_id}: unknown kind {self.kind!r}")
        if self.occurred_at.tzinfo is None:
            raise ValueError(
                f"event {self.kind} for {self.source}:{self.external_id}: occurred_at must be aware"
            )

    @property
    def idempotency_key(self) -> str:
        """sha256 hex over source, lead id, kind, the instant (UTC, µs) and the salient values.

        The actor and ``source_ref`` are left out, so the same fact delivered twice (a webhook retry,
        the same file imported again) gets the same key.
        """
        return self.key_at(instant_key_text(self.occurred_at.astimezone(UTC)))

    def key_at(self, instant: str) -> str:
        """:attr:`idempotency_key` with the instant's text given (:func:`instant_key_text`, UTC)."""
        source, external_id, kind = self.source, self.external_id, self.kind
        channel, reason_code, reason, currency = self.channel, self.reason_code, self.reason, self.currency
        human = "" if self.human is None else str(self.human)
        amount = "" if self.amount is None else format(self.amount.normalize(), "f")
        # each part length-prefixed, so no choice of values can shift a boundary between fields
        text = (
            f"{len(source)}:{source}{len(external_id)}:{external_id}{len(kind)}:{kind}{len(instant)}:{instant}"
            f"{len(channel)}:{channel}{len(human)}:{human}{len(reason_code)}:{reason_code}"
            f"{len(reason)}:{reason}{len(amount)}:{amount}{len(currency)}:{currency}"
        )
        if self.data:
            data = self.data
            text += "".join(f"{len(k)}:{k}{len(data[k])}:{data[k]}" for k in sorted(data))
        return sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why one row of a file was not taken: ``row`` as a spreadsheet shows it (header = row 1)."""

    row: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column!r}" if self.column else "")
        return f"{where}: {self.reason}"
