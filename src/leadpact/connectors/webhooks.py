"""Webhooks: verify a request on its raw bytes, then parse the payload into lead records and events.

Verification never raises: it returns :class:`Verification` (``ok`` or a lowercase reason). Every
comparison of a secret-derived value is constant-time (``hmac.compare_digest``). ``now`` is passed in.

Parsers raise :class:`WebhookPayloadError` for a body that is not the system's shape at all, and
report single unusable items as :class:`PayloadProblem` while keeping the rest.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, Literal, cast

from leadpact.connectors._values import parse_count, to_country
from leadpact.connectors.bounds import event_problems, lead_problems
from leadpact.connectors.records import (
    EVENT_KINDS,
    LEAD_FIELDS,
    EventKind,
    EventRecord,
    LeadFields,
    LeadRecord,
    is_kind_name,
)

__all__ = [
    "HUBSPOT_STAGES",
    "HUBSPOT_STATUSES",
    "MAUTIC_STAGES",
    "MAX_AGE",
    "ParsedPayload",
    "PayloadProblem",
    "Verification",
    "WebhookPayloadError",
    "hubspot_v3_uri",
    "parse_generic",
    "parse_hubspot",
    "parse_mautic",
    "parse_pipedrive",
    "sign_generic",
    "verify_generic",
    "verify_hubspot",
    "verify_mautic",
    "verify_pipedrive",
]

#: How old (or how far ahead) a signed timestamp may be.
MAX_AGE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of checking a webhook request: truthy when ok, else ``reason`` says why not."""

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


_OK = Verification(True)


def _fail(reason: str) -> Verification:
    return Verification(False, reason)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup (HTTP header names are case-insensitive)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value.strip()
    return None


def _epoch(value: int, *, per_second: int) -> datetime | None:
    """An epoch count as an aware UTC datetime; ``None`` when it is beyond any calendar."""
    try:
        return datetime.fromtimestamp(value / per_second, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _digits(text: str) -> bool:
    """ASCII digits only, and few enough to be a time (``"²".isdigit()`` is true; ``int()`` of 5,000
    digits raises)."""
    return 0 < len(text) <= 40 and text.isascii() and text.isdigit()


def _secret(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def _check_time(stamp: datetime, now: datetime, max_age: timedelta) -> Verification:
    if now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    if now - stamp > max_age:
        return _fail(f"the timestamp is older than {int(max_age.total_seconds() // 60)} minutes")
    if stamp - now > max_age:
        return _fail(f"the timestamp is more than {int(max_age.total_seconds() // 60)} minutes in the future")
    return _OK


# --- HubSpot --------------------------------------------------------------------------------------------

# HubSpot's rule for v3: decode exactly these URL-encoded characters in the request URI, nothing else.
_HUBSPOT_DECODE = {
    "%3a": ":", "%2f": "/", "%3f": "?", "%40": "@", "%21": "!", "%24": "$",
    "%27": "'", "%28": "(", "%29": ")", "%2a": "*", "%2c": ",", "%3b": ";",
}  # fmt: skip
_HUBSPOT_ESCAPE = re.compile("|".join(_HUBSPOT_DECODE), re.IGNORECASE)


def hubspot_v3_uri(uri: str) -> str:
    """The request URI as HubSpot signs it in v3: only ``: / ? @ ! $ ' ( ) * , ;`` are decoded.

    >>> hubspot_v3_uri("https://example.com/hook?next=%2Fleads%3Fx%3D1%20y")
    'https://example.com/hook?next=/leads?x%3D1%20y'
    """
    return _HUBSPOT_ESCAPE.sub(lambda m: _HUBSPOT_DECODE[m.group(0).lower()], uri)


def verify_hubspot(
    *,
    headers: Mapping[str, str],
    method: str,
    uri: str,
    body: bytes,
    client_secret: str | bytes,
    now: datetime,
    max_age: timedelta = MAX_AGE,
    legacy: Literal["accept", "refuse"] = "accept",
) -> Verification:
    """Check a HubSpot request: signature v3 when present, else v2 or v1 as the version header says.

    ``uri`` is the full URL HubSpot called, as HubSpot saw it (behind a proxy: the public URL, e.g.
    ``https://leadpact.example/hooks/hubspot?x=1``), query string in its original order.
    ``legacy="refuse"`` accepts only v3 (v1/v2 cannot stop a replay); a request that carries a v3
    signature is never checked against v1/v2 instead.

    v3: ``X-HubSpot-Signature-v3`` = base64(HMAC-SHA256(secret, method + uri + body + timestamp)) with
    ``X-HubSpot-Request-Timestamp`` in milliseconds, rejected when older than ``max_age``; the URI is the
    full URL HubSpot called (scheme, host, path, query) with only the characters HubSpot lists decoded
    (:func:`hubspot_v3_uri`). v1: sha256 hex of secret + body; v2: sha256 hex of secret + method + uri +
    body, in ``X-HubSpot-Signature`` with ``X-HubSpot-Signature-Version``. v1 and v2 carry no timestamp,
    so they cannot stop a replay; the idempotency keys of the parsed events do.
    """
    secret = _secret(client_secret)
    v3 = _header(headers, "X-HubSpot-Signature-v3")
    if v3 is not None:
        stamp = _header(headers, "X-HubSpot-Request-Timestamp")
        if not stamp:
            return _fail("the X-HubSpot-Request-Timestamp header is missing")
        if not _digits(stamp):
            return _fail("the X-HubSpot-Request-Timestamp header is not a number of milliseconds")
        sent = _epoch(int(stamp), per_second=1000)
        if sent is None:
            return _fail("the X-HubSpot-Request-Timestamp header is not a valid time")
        checked = _check_time(sent, now, max_age)
        if not checked:
            return checked
        message = method.upper().encode() + hubspot_v3_uri(uri).encode() + body + stamp.encode()
        expected = base64.b64encode(hmac.new(secret, message, hashlib.sha256).digest())
        if not hmac.compare_digest(expected, v3.encode()):
            return _fail("the X-HubSpot-Signature-v3 signature does not match")
        return _OK
    signature = _header(headers, "X-HubSpot-Signature")
    if signature is None or legacy == "refuse":
        return _fail("the X-HubSpot-Signature-v3 header is missing")
    version = (_header(headers, "X-HubSpot-Signature-Version") or "v1").lower()
    if version == "v1":
        source = secret + body
    elif version == "v2":
        source = secret + method.upper().encode() + uri.encode() + body
    else:
        return _fail(f"signature version {version!r} is not supported")
    expected_hex = hashlib.sha256(source).hexdigest().encode()
    if not hmac.compare_digest(expected_hex, signature.lower().encode()):
        return _fail(f"the X-HubSpot-Signature ({version}) signature does not match")
    return _OK


# --- Mautic, Pipedrive, generic -------------------------------------------------------------------------


def verify_mautic(*, headers: Mapping[str, str], body: bytes, secret: str | bytes) -> Verification:
    """``Webhook-Signature`` = base64(HMAC-SHA256(secret, raw body)), as Mautic signs its webhooks."""
    signature = _header(headers, "Webhook-Signature")
    if not signature:
        return _fail("the Webhook-Signature header is missing")
    expected = base64.b64encode(hmac.new(_secret(secret), body, hashlib.sha256).digest())
    if not hmac.compare_digest(expected, signature.encode()):
        return _fail("the Webhook-Signature signature does not match")
    return _OK


def verify_pipedrive(*, headers: Mapping[str, str], username: str, password_sha256: str) -> Verification:
    """HTTP Basic credentials set on the Pipedrive webhook, against the user and the SHA-256 (hex) of the
    password (what is stored: the password itself is not); user and password compared together.
    Empty credentials never match."""
    auth = _header(headers, "Authorization")
    if not auth:
        return _fail("the Authorization header is missing")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "basic" or not token:
        return _fail("the Authorization header is not basic authentication")
    try:
        given = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return _fail("the basic credentials are not valid base64")
    user, sep, password = given.partition(b":")
    expected = hashlib.sha256(username.encode()).hexdigest() + ":" + password_sha256.lower()
    presented = hashlib.sha256(user).hexdigest() + ":" + hashlib.sha256(password).hexdigest()
    matches = hmac.compare_digest(expected.encode(), presented.encode())
    if not (sep and username and password and password_sha256) or not matches:
        return _fail("the basic credentials do not match")
    return _OK


def sign_generic(body: bytes, *, secret: str | bytes, timestamp: int) -> dict[str, str]:
    """The headers a sender puts on a generic webhook (see :func:`verify_generic`).

    >>> sign_generic(b"{}", secret="s", timestamp=1796306700)["X-Leadpact-Timestamp"]
    '1796306700'
    """
    digest = hmac.new(_secret(secret), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Leadpact-Timestamp": str(timestamp), "X-Leadpact-Signature": f"sha256={digest}"}


def verify_generic(
    *,
    headers: Mapping[str, str],
    body: bytes,
    secret: str | bytes,
    now: datetime,
    max_age: timedelta = MAX_AGE,
) -> Verification:
    """``X-Leadpact-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`` with
    ``X-Leadpact-Timestamp`` in Unix seconds, at most ``max_age`` away from ``now``."""
    signature = _header(headers, "X-Leadpact-Signature")
    if not signature:
        return _fail("the X-Leadpact-Signature header is missing")
    stamp = _header(headers, "X-Leadpact-Timestamp")
    if not stamp:
        return _fail("the X-Leadpact-Timestamp header is missing")
    if not _digits(stamp):
        return _fail("the X-Leadpact-Timestamp header is not a number of seconds")
    sent = _epoch(int(stamp), per_second=1)
    if sent is None:
        return _fail("the X-Leadpact-Timestamp header is not a valid time")
    checked = _check_time(sent, now, max_age)
    if not checked:
        return checked
    scheme, _, given = signature.partition("=")
    if scheme != "sha256" or not given:
        return _fail("the X-Leadpact-Signature header is not of the form sha256=<hex>")
    expected = hmac.new(_secret(secret), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.lower().encode()):
        return _fail("the X-Leadpact-Signature signature does not match")
    return _OK


# --- payloads -------------------------------------------------------------------------------------------


class WebhookPayloadError(ValueError):
    """The body is not JSON of the expected shape at all."""


@dataclass(frozen=True, slots=True)
class PayloadProblem:
    """One item of a payload that could not be used: its position (0-based) and why."""

    index: int
    reason: str


@dataclass(frozen=True, slots=True)
class ParsedPayload:
    """What a webhook delivery says: leads (only the fields the payload carries), events, problems.

    A lead from a webhook may carry few fields (HubSpot sends only the object id): merge, don't
    overwrite. ``ignored`` counts items of kinds leadpact does not use (e.g. deletions), and
    ``ignored_items`` names each with its reason, so every item of a delivery is accounted for.
    """

    leads: tuple[LeadRecord, ...] = ()
    events: tuple[EventRecord, ...] = ()
    problems: tuple[PayloadProblem, ...] = ()
    ignored: int = 0
    ignored_items: tuple[PayloadProblem, ...] = ()
    #: where a resumable sender stands after this payload (Salesforce CDC: the highest replay id)
    cursor: str = ""


@dataclass(slots=True)
class _Collect:
    leads: list[LeadRecord] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    problems: list[PayloadProblem] = field(default_factory=list)
    ignored: int = 0
    skipped: list[str] = field(default_factory=list)
    ignored_items: list[PayloadProblem] = field(default_factory=list)

    def skip(self, reason: str) -> None:
        """The item is of a kind leadpact does not use: say why (listed on the delivery)."""
        self.ignored += 1
        self.skipped.append(reason)

    def done(self) -> ParsedPayload:
        return ParsedPayload(
            tuple(self.leads),
            tuple(self.events),
            tuple(self.problems),
            self.ignored,
            tuple(self.ignored_items),
        )


#: What parsing one item of a payload may raise for a value of the wrong shape (the item is refused).
_ITEM_ERRORS = (ValueError, TypeError, ArithmeticError)


def _take(out: _Collect, index: int, what: str, parse: Callable[[_Collect], None]) -> None:
    """Parse one item of a payload into ``out``: whole, or not at all with a problem naming the item.

    Every record of the item passes the bounds (:mod:`leadpact.connectors.bounds`) first: a lead whose
    name is too long does not go in without it, nor do its events without the lead.
    """
    part = _Collect()
    try:
        parse(part)
    except _ITEM_ERRORS as exc:
        out.problems.append(PayloadProblem(index, f"{what}{exc}"))
        return
    refused = [
        f"{what}lead {_short(r.external_id)}: {field}: {why}"
        for r in part.leads
        for field, why in lead_problems(r)
    ]
    refused += [
        f"{what}event {r.kind} of {_short(r.external_id)}: {field}: {why}"
        for r in part.events
        for field, why in event_problems(r)
    ]
    if refused:
        out.problems.append(PayloadProblem(index, "; ".join(refused)))
        return
    out.leads.extend(part.leads)
    out.events.extend(part.events)
    out.ignored += part.ignored
    out.ignored_items.extend(PayloadProblem(index, f"{what}{why}") for why in part.skipped)


def _short(text: str) -> str:
    """An id for a message: as it is, or its start (the bounds name the length)."""
    return repr(text if len(text) <= 60 else f"{text[:40]}…")  # repr: control characters escaped


def _load(body: bytes | str | Any) -> Any:
    if isinstance(body, bytes | str):
        try:
            return json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise WebhookPayloadError(f"the body is not json ({exc})") from None
        except RecursionError:
            raise WebhookPayloadError("the body is nested too deeply") from None
        except ValueError as exc:  # e.g. an integer of more than 4,300 digits
            raise WebhookPayloadError(f"the body cannot be read ({exc})") from None
    return body


def _ms(value: Any, what: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | str) or not _digits(str(value)):
        raise ValueError(f"{what} {value!r} is not a time in milliseconds")
    moment = _epoch(int(value), per_second=1000)
    if moment is None:
        raise ValueError(f"{what} {value!r} is not a time in milliseconds")
    return moment


def _iso(value: Any, what: str) -> datetime:
    """An ISO 8601 instant with an offset (or Z); Pipedrive's ``2026-11-26 14:05:00`` is UTC."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} {value!r} is not a date")
    text = value.strip()
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{what} {value!r} is not an ISO 8601 date") from None
    if dt.tzinfo is None:
        raise ValueError(f"{what} {value!r} has no timezone offset")
    return dt


# HubSpot lifecycle stage (internal value) → event; only forward moves are sent as stage changes.
HUBSPOT_STAGES: dict[str, EventKind] = {
    "marketingqualifiedlead": "handed_over",
    "salesqualifiedlead": "qualified",
    "opportunity": "opportunity",
    "customer": "won",
}
# HubSpot lead status → event (with reason code for rejections)
HUBSPOT_STATUSES: dict[str, tuple[EventKind, str]] = {
    "UNQUALIFIED": ("rejected", "unqualified"),
    "BAD_TIMING": ("rejected", "bad_timing"),
    "IN_PROGRESS": ("accepted", ""),
}


#: HubSpot's object type ids (``objectTypeId`` of ``object.*`` subscriptions).
HUBSPOT_CONTACT_TYPE = "0-1"
HUBSPOT_OBJECT_TYPES = {"0-1": "contacts", "0-2": "companies", "0-3": "deals", "0-5": "tickets",
                        "0-136": "leads"}  # fmt: skip


def parse_hubspot(body: bytes | str | Any) -> ParsedPayload:
    """A HubSpot webhook batch (a JSON array of events) → leads and events.

    ``contact.creation`` → a lead and ``created``; ``contact.propertyChange`` of ``lifecyclestage`` →
    the stage's event (see ``HUBSPOT_STAGES``), of ``hs_lead_status`` → rejected / accepted (see
    ``HUBSPOT_STATUSES``), of ``hubspot_owner_id`` → ``assigned`` (``data["value"]`` = owner id), of any
    other property → ``field_changed`` (``data`` = field, value). The generic ``object.*`` subscriptions
    of contacts (``objectTypeId`` 0-1) are read the same way. Other subscription types and objects are
    ignored, each named with its reason (``ignored_items``).
    HubSpot's ``eventId`` is not unique across subscriptions, so it is kept only as ``source_ref``
    (``portalId:subscriptionId:eventId``); the idempotency key comes from object, kind, ``occurredAt``
    and property/value, which a retry (``attemptNumber`` > 0) repeats exactly.
    """
    items = _load(body)
    if not isinstance(items, list):
        raise WebhookPayloadError("a hubspot webhook body is a json array of events")
    out = _Collect()
    for index, item in enumerate(items):
        _take(out, index, "", partial(_hubspot_item, item))
    return out.done()


def _hubspot_item(item: Any, out: _Collect) -> None:
    if not isinstance(item, dict):
        raise ValueError("the event is not an object")
    kind = item.get("subscriptionType")
    if not isinstance(kind, str):
        raise ValueError("subscriptionType is missing")
    if kind.startswith("object."):
        # the generic webhooks API: contacts are object type 0-1; the rest is not a lead
        type_id = str(item.get("objectTypeId", ""))
        if type_id != HUBSPOT_CONTACT_TYPE:
            named = HUBSPOT_OBJECT_TYPES.get(type_id, "an object")
            out.skip(f"{kind} of objectTypeId {type_id or '(none)'} ({named}): leadpact takes contacts (0-1)")
            return
        kind = "contact." + kind.removeprefix("object.")
    object_id = item.get("objectId")
    if object_id is None or str(object_id) == "":
        raise ValueError("objectId is missing")
    external_id = str(object_id)
    at = _ms(item.get("occurredAt"), "occurredAt")
    ref = f"{item.get('portalId', '')}:{item.get('subscriptionId', '')}:{item.get('eventId', '')}"

    def event(kind: EventKind, **kw: Any) -> None:
        out.events.append(
            EventRecord(
                source="hubspot", external_id=external_id, kind=kind, occurred_at=at, source_ref=ref, **kw
            )
        )

    if kind == "contact.creation":
        out.leads.append(
            LeadRecord(source="hubspot", external_id=external_id, fields=LeadFields(), created_at=at)
        )
        event("created")
    elif kind == "contact.propertyChange":
        name = item.get("propertyName")
        if not isinstance(name, str) or not name:
            raise ValueError("propertyName is missing")
        raw = item.get("propertyValue")
        value = "" if raw is None else str(raw)
        if name == "lifecyclestage" and value in HUBSPOT_STAGES:
            event(HUBSPOT_STAGES[value])
        elif name == "hs_lead_status" and value in HUBSPOT_STATUSES:
            status_kind, code = HUBSPOT_STATUSES[value]
            event(status_kind, reason_code=code)
        elif name == "hubspot_owner_id":
            # the owner id matches a person by their HubSpot user id (Person.crm_ids)
            out.leads.append(
                LeadRecord(
                    source="hubspot", external_id=external_id, fields=LeadFields(), created_at=None,
                    sales_owner=value,
                )
            )  # fmt: skip
            event("assigned", data={"value": value})
        else:
            event("field_changed", data={"field": name, "value": value})
    else:
        out.skip(f"{kind}: not a change leadpact keeps (it takes contact creations and property changes)")


_MAUTIC_FIELDS = {
    "firstname": "first_name",
    "lastname": "last_name",
    "email": "email",
    "phone": "phone",
    "mobile": "phone",
    "company": "company",
    "country": "country",
    "position": "job_title",
}


def _mautic_fields(lead: dict[str, Any]) -> dict[str, str]:
    fields = lead.get("fields")
    flat: dict[str, str] = {}
    if isinstance(fields, dict):
        groups = [fields["all"]] if isinstance(fields.get("all"), dict) else list(fields.values())
        for group in groups:
            if not isinstance(group, dict):
                continue
            for alias, spec in group.items():
                value = spec.get("value") if isinstance(spec, dict) else spec
                if value not in (None, "") and not isinstance(value, dict | list):
                    flat[str(alias)] = str(value)
    return flat


def _mautic_lead(lead: Any, *, points: int | None = None) -> LeadRecord:
    if not isinstance(lead, dict):
        raise ValueError("the contact is missing")
    lead_id = lead.get("id")
    if lead_id in (None, ""):
        raise ValueError("the contact has no id")
    flat = _mautic_fields(lead)
    values: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for alias, value in flat.items():
        target = _MAUTIC_FIELDS.get(alias)
        if target is None:
            extra[alias] = value
        elif target not in values:
            values[target] = to_country(value) if target == "country" else value.strip()
    raw_points = points if points is not None else lead.get("points")
    if raw_points not in (None, ""):
        values["score"] = parse_count(str(raw_points))
    name = " ".join(p for p in (values.get("first_name", ""), values.get("last_name", "")) if p)
    if name:
        values["name"] = name
    owner = lead.get("owner")
    owner_name = ""
    if isinstance(owner, dict):
        owner_name = " ".join(str(owner.get(k) or "") for k in ("firstName", "lastName")).strip()
    dnc = lead.get("doNotContact")
    if isinstance(dnc, list):
        # Mautic's "do not contact" entries (unsubscribed, bounced, manual): any one means no consent
        values["consent"] = not dnc
    added = lead.get("dateAdded")
    return LeadRecord(
        source="mautic",
        external_id=str(lead_id),
        fields=LeadFields(extra=extra, **values),
        created_at=_iso(added, "dateAdded") if added else None,
        marketing_owner=owner_name,
    )


def parse_mautic(body: bytes | str | Any) -> ParsedPayload:
    """A Mautic webhook (``{"mautic.lead_post_save_new": [{"contact"|"lead": {...}, "timestamp": ...}]}``).

    ``lead_post_save_new`` → the lead and ``created`` (at ``dateAdded``); ``lead_post_save_update`` → the
    lead's current fields (no event: Mautic does not say what changed); ``lead_points_change`` → the lead
    with its new score and ``field_changed`` (``field`` = score, ``value`` = new points, ``previous``).
    A contact's stage (``stage.name``) that ``MAUTIC_STAGES`` knows is its event (MQL → handed_over …);
    ``doNotContact`` entries take consent away. Mautic is marketing automation, so the contact's owner is
    the marketing owner.
    """
    payload = _load(body)
    if not isinstance(payload, dict):
        raise WebhookPayloadError("a mautic webhook body is a json object keyed by event type")
    out = _Collect()
    index = -1
    for event_type, items in payload.items():
        if event_type == "timestamp":
            continue
        for item in items if isinstance(items, list) else [items]:
            index += 1
            _take(out, index, f"{event_type}: ", partial(_mautic_item, event_type, item))
    return out.done()


#: Mautic stage names (case and spaces ignored) → the event reaching the stage means; stages are the
#: organisation's own, these are the names Mautic's documentation and most setups use.
MAUTIC_STAGES: dict[str, EventKind] = {
    "mql": "handed_over",
    "marketing qualified lead": "handed_over",
    "sql": "qualified",
    "sales qualified lead": "qualified",
    "opportunity": "opportunity",
    "customer": "won",
    "won": "won",
    "lost": "lost",
}


def _mautic_stage(lead: Any, item: dict[str, Any], out: _Collect) -> None:
    """The event of the contact's stage, when it is one leadpact knows (``data["stage"]`` names it).

    Mautic sends the whole contact on every update, not what changed, so the receiver keys a stage's
    event by contact and stage: the first delivery showing the stage stores it, later ones add nothing.
    """
    stage = lead.get("stage") if isinstance(lead, dict) else None
    name = stage.get("name") if isinstance(stage, dict) else None
    if not isinstance(name, str) or not name.strip():
        return
    kind = MAUTIC_STAGES.get(" ".join(name.split()).casefold())
    if kind is None:
        return
    moment = lead.get("dateModified") or item.get("timestamp")
    out.events.append(
        EventRecord(
            source="mautic",
            external_id=str(lead.get("id")),
            kind=kind,
            occurred_at=_iso(moment, "dateModified"),
            data={"stage": name.strip()},
        )
    )


def _mautic_item(event_type: str, item: Any, out: _Collect) -> None:
    if not isinstance(item, dict):
        raise ValueError("the item is not an object")
    lead = item.get("contact", item.get("lead"))
    known = event_type in (
        "mautic.lead_post_save_new", "mautic.lead_post_save_update", "mautic.lead_points_change"
    )  # fmt: skip
    if known and isinstance(lead, dict) and lead.get("id") not in (None, ""):
        _mautic_stage(lead, item, out)
    if event_type == "mautic.lead_post_save_new":
        record = _mautic_lead(lead)
        out.leads.append(record)
        at = record.created_at or _iso(item.get("timestamp"), "timestamp")
        out.events.append(
            EventRecord(source="mautic", external_id=record.external_id, kind="created", occurred_at=at)
        )
    elif event_type == "mautic.lead_post_save_update":
        out.leads.append(_mautic_lead(lead))
    elif event_type == "mautic.lead_points_change":
        points = item.get("points")
        if not isinstance(points, dict) or "new_points" not in points:
            raise ValueError("points.new_points is missing")
        new = parse_count(str(points["new_points"]))
        record = _mautic_lead(lead, points=new)
        out.leads.append(record)
        out.events.append(
            EventRecord(
                source="mautic",
                external_id=record.external_id,
                kind="field_changed",
                occurred_at=_iso(item.get("timestamp"), "timestamp"),
                data={"field": "score", "value": str(new), "previous": str(points.get("old_points", ""))},
            )
        )
    else:
        out.skip(f"{event_type}: not an event leadpact uses (it takes new contacts, updates, points)")


def _pd_time(value: Any, what: str) -> datetime:
    """Pipedrive times: ISO with Z, ``2026-11-26 14:05:00`` (UTC), or Unix seconds."""
    if (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and _digits(value)
    ):
        moment = _epoch(int(value), per_second=1)
        if moment is None:
            raise ValueError(f"{what} {value!r} is not a date")
        return moment
    if isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{what} {value!r} is not a date") from None
        return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
    raise ValueError(f"{what} {value!r} is not a date")


def _pd_amount(value: Any, what: str) -> Decimal | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{what} {value!r} is not an amount")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{what} {value!r} is not an amount") from None
    if not amount.is_finite():
        raise ValueError(f"{what} {value!r} is not an amount")
    return amount


_PD_ACTIONS = {"create": "create", "added": "create", "change": "change", "updated": "change"}


def parse_pipedrive(body: bytes | str | Any) -> ParsedPayload:
    """A Pipedrive webhook v2 (``meta.action`` create/change/delete, ``meta.entity``, ``data``, ``previous``).

    lead create → the lead and ``created``; deal create → the deal as a lead, ``created`` and
    ``opportunity`` (value, currency); a change of ``owner_id`` → ``assigned``; a deal whose status
    becomes won → ``won`` (at won_time, value), lost → ``lost`` (at lost_time, lost_reason, value);
    other changes → the lead's current fields. Deletions and other entities are ignored. ``meta.id``
    is kept as ``source_ref``. Owners are Pipedrive user ids; persons are ids (names come later).
    """
    payload = _load(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("meta"), dict):
        raise WebhookPayloadError("a pipedrive webhook body is a json object with meta, data and previous")
    out = _Collect()
    _take(out, 0, "", lambda part: _pipedrive_item(payload, part))
    return out.done()


def _pipedrive_item(payload: dict[str, Any], out: _Collect) -> None:
    meta = payload["meta"]
    action = _PD_ACTIONS.get(str(meta.get("action", "")))
    entity = meta.get("entity", meta.get("object"))
    data = payload.get("data") or payload.get("current")
    previous = payload.get("previous") or {}
    if action is None or entity not in ("lead", "deal") or not isinstance(data, dict):
        what = f"{meta.get('action', '')} of {entity or 'an unnamed entity'}"
        if action is None:
            why = "leadpact keeps creations and changes"
        elif entity not in ("lead", "deal"):
            why = "leadpact takes leads and deals"
        else:
            why = "the body carries no data object"
        out.skip(f"{what}: {why}")
        return
    if not isinstance(previous, dict):
        previous = {}
    entity_id = data.get("id", meta.get("entity_id"))
    if entity_id in (None, ""):
        raise ValueError("the entity id is missing")
    external_id = str(entity_id)
    ref = str(meta.get("id", ""))
    stamp = _pd_time(meta.get("timestamp"), "meta.timestamp") if meta.get("timestamp") else None
    values: dict[str, Any] = {}
    extra: dict[str, str] = {}
    if data.get("title"):
        extra["title"] = str(data["title"])
    source_name = data.get("source_name") or data.get("origin")
    if source_name:
        values["source"] = str(source_name)
    for key in ("person_id", "organization_id", "org_id", "stage_id", "pipeline_id", "status"):
        if data.get(key) not in (None, ""):
            extra[key] = str(data[key])
    added = data.get("add_time")
    created_at = _pd_time(added, "add_time") if added else None
    owner = "" if data.get("owner_id") in (None, "") else str(data.get("owner_id"))
    out.leads.append(
        LeadRecord(
            source="pipedrive",
            external_id=external_id,
            fields=LeadFields(extra=extra, **values),
            created_at=created_at,
            sales_owner=owner,
        )
    )
    if entity == "deal":
        amount = _pd_amount(data.get("value"), "value")
        currency = str(data.get("currency") or "")
    else:
        value = data.get("value")
        amount = _pd_amount(value.get("amount"), "value.amount") if isinstance(value, dict) else None
        currency = str(value.get("currency") or "") if isinstance(value, dict) else ""

    def event(kind: EventKind, at: datetime, **kw: Any) -> None:
        out.events.append(
            EventRecord(
                source="pipedrive", external_id=external_id, kind=kind, occurred_at=at, source_ref=ref, **kw
            )
        )

    def when(key: str) -> datetime:
        value = data.get(key)
        if value:
            return _pd_time(value, key)
        if stamp is None:
            raise ValueError(f"{key} and meta.timestamp are missing")
        return stamp

    money = {"amount": amount, "currency": currency if amount is not None else ""}
    if action == "create":
        event("created", when("add_time"))
        if entity == "deal":
            event("opportunity", when("add_time"), **money)
        return
    if "owner_id" in previous and previous.get("owner_id") != data.get("owner_id"):
        event("assigned", when("update_time"), data={"value": owner})
    if entity == "deal" and "status" in previous and previous.get("status") != data.get("status"):
        if data.get("status") == "won":
            event("won", when("won_time"), **money)
        elif data.get("status") == "lost":
            event("lost", when("lost_time"), reason=str(data.get("lost_reason") or ""), **money)


def parse_generic(body: bytes | str | Any) -> ParsedPayload:
    """leadpact's own webhook JSON::

        {"source": "mycrm",
         "leads": [{"external_id": "L-1", "created_at": "2026-11-26T14:05:00+01:00",
                    "marketing_owner": "Anna", "sales_owner": "Bo",
                    "fields": {"name": "…", "email": "…", "score": 60, "extra": {"k": "v"}}}],
         "events": [{"external_id": "L-1", "kind": "rejected", "occurred_at": "2026-11-27T09:00:00Z",
                     "actor": "Bo", "reason_code": "not_icp", "reason": "", "amount": "1200.00",
                     "currency": "EUR", "channel": "phone", "human": true, "data": {}}]}

    Times need an offset (or ``Z``); amounts are strings or numbers; kinds are the event kinds.
    """
    payload = _load(body)
    if not isinstance(payload, dict):
        raise WebhookPayloadError("a generic webhook body is a json object with leads and events")
    source = payload.get("source", "generic")
    if not isinstance(source, str) or not source:
        raise WebhookPayloadError("source must be non-empty text")
    leads = payload.get("leads", [])
    events = payload.get("events", [])
    if not isinstance(leads, list) or not isinstance(events, list):
        raise WebhookPayloadError("leads and events must be arrays")
    ping = "test" in payload  # "send a test" (Data → Integrations): a delivery that stores nothing
    if not leads and not events and not ping:
        raise WebhookPayloadError("the body has no leads and no events: nothing to store")
    out = _Collect()
    for key in sorted(set(payload) - {"source", "leads", "events"}):
        out.ignored += 1
        out.ignored_items.append(
            PayloadProblem(-1, "a test delivery: nothing to store")
            if key == "test"
            else PayloadProblem(-1, f"{key!r}: not a key of leadpact's webhook (source, leads, events)")
        )
    for index, item in enumerate(leads):
        _take(out, index, "lead: ", partial(_generic_lead_into, source, item))
    for index, item in enumerate(events):
        _take(out, len(leads) + index, "event: ", partial(_generic_event_into, source, item))
    return out.done()


def _generic_lead_into(source: str, item: Any, out: _Collect) -> None:
    out.leads.append(_generic_lead(source, item))


def _generic_event_into(source: str, item: Any, out: _Collect) -> None:
    out.events.append(_generic_event(source, item))


def _text_of(item: dict[str, Any], key: str) -> str:
    value = item.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValueError(f"{key} must be text")
    return str(value).strip()


def _generic_lead(source: str, item: Any) -> LeadRecord:
    if not isinstance(item, dict):
        raise ValueError("not an object")
    external_id = _text_of(item, "external_id")
    if not external_id:
        raise ValueError("external_id is missing")
    fields = item.get("fields", {})
    if not isinstance(fields, dict):
        raise ValueError(f"{external_id}: fields must be an object")
    values: dict[str, Any] = {}
    for name in LEAD_FIELDS:
        raw = fields.get(name)
        if raw is None or raw == "":
            continue
        if name in ("score", "recent_touches"):
            try:
                values[name] = parse_count(str(raw))
            except ValueError as exc:
                raise ValueError(f"{external_id}: {name}: {exc}") from None
        elif name == "consent":
            if not isinstance(raw, bool):
                raise ValueError(f"{external_id}: consent must be true or false")
            values[name] = raw
        else:
            values[name] = to_country(str(raw)) if name == "country" else str(raw).strip()
    extra = fields.get("extra", {})
    if not isinstance(extra, dict):
        raise ValueError(f"{external_id}: extra must be an object")
    unknown = sorted(set(fields) - set(LEAD_FIELDS) - {"extra"})
    if unknown:
        raise ValueError(f"{external_id}: unknown field {unknown[0]!r} (put it in extra)")
    if "name" not in values:
        joined = " ".join(p for p in (values.get("first_name", ""), values.get("last_name", "")) if p)
        if joined:
            values["name"] = joined
    created = item.get("created_at")
    return LeadRecord(
        source=source,
        external_id=external_id,
        fields=LeadFields(extra={str(k): str(v) for k, v in extra.items()}, **values),
        created_at=_iso(created, f"{external_id}: created_at") if created else None,
        marketing_owner=_text_of(item, "marketing_owner"),
        sales_owner=_text_of(item, "sales_owner"),
    )


def _generic_event(source: str, item: Any) -> EventRecord:
    if not isinstance(item, dict):
        raise ValueError("not an object")
    external_id = _text_of(item, "external_id")
    if not external_id:
        raise ValueError("external_id is missing")
    kind = item.get("kind")
    if kind not in EVENT_KINDS and not is_kind_name(kind):  # pause kinds: checked when stored
        raise ValueError(f"{external_id}: kind {kind!r} is not an event kind")
    human = item.get("human")
    if human is not None and not isinstance(human, bool):
        raise ValueError(f"{external_id}: human must be true, false or null")
    data = item.get("data", {})
    if not isinstance(data, dict):
        raise ValueError(f"{external_id}: data must be an object")
    amount = _pd_amount(item.get("amount"), f"{external_id}: amount")
    return EventRecord(
        source=source,
        external_id=external_id,
        kind=cast(EventKind, kind),
        occurred_at=_iso(item.get("occurred_at"), f"{external_id}: occurred_at"),
        actor=_text_of(item, "actor"),
        channel=_text_of(item, "channel"),
        human=human,
        reason_code=_text_of(item, "reason_code"),
        reason=_text_of(item, "reason"),
        amount=amount,
        currency=_text_of(item, "currency").upper() if amount is not None else "",
        data={str(k): str(v) for k, v in data.items()},
    )
