"""Salesforce in real time: Outbound Messages (SOAP) and Change Data Capture events (JSON).

**Outbound Messages** (a workflow or flow action "Outbound Message" on Lead): Salesforce POSTs a SOAP
``notifications`` envelope (namespace ``http://soap.sforce.com/2005/09/outbound``) with its
``OrganizationId``, an ``ActionId`` and one to 100 ``Notification`` elements, each with an ``Id`` and an
``sObject`` carrying the fields the action selected. It retries for 24 hours until the endpoint answers
``<Ack>true</Ack>`` (:data:`ACK`). The messages carry no signature: the receiver checks the organisation id
against the one the integration was created for, and the URL's slug is random.

**Change Data Capture** (``/data/LeadChangeEvent``): events as the streaming API (CometD) delivers them —
``{"schema": …, "payload": {"ChangeEventHeader": {"entityName", "recordIds", "changeType",
"changedFields", "commitTimestamp", …}, <fields>}, "event": {"replayId": N}}`` — relayed to leadpact as a
JSON object or array and signed like the generic webhook. The highest ``replayId`` processed is kept on
the integration, so a relay resumes from it (``leadpact webhooks`` shows it).

Lead fields → lead: FirstName/LastName (or CDC's compound ``Name``), Email, Phone, Company, Country,
LeadSource → source, Title → job_title, Industry, NumberOfEmployees → company_size, HasOptedOutOfEmail
→ consent (inverted), OwnerId → sales owner (matched by the person's Salesforce user id). Events:
CreatedDate → created; an MQL date field → handed_over; IsConverted with ConvertedDate → qualified (a
date: day precision); Status "Working - Contacted" → accepted, "Closed - Not Converted" / "Unqualified"
→ rejected; CDC's OwnerId change → assigned; any other changed field → field_changed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # DOCTYPE and entity declarations are refused before parsing (_xml)
from datetime import UTC, datetime
from functools import partial
from typing import Any

from leadpact.connectors._values import parse_count, to_country
from leadpact.connectors.records import EventKind, EventRecord, LeadFields, LeadRecord
from leadpact.connectors.webhooks import (
    ParsedPayload,
    WebhookPayloadError,
    _Collect,
    _load,
    _take,
)

__all__ = [
    "ACK",
    "OUTBOUND_NS",
    "OutboundMessage",
    "fault",
    "parse_cdc",
    "parse_outbound_message",
    "same_organization",
]

OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
_SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
_XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

#: The acknowledgement Salesforce waits for; without it the message is sent again for 24 hours.
ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<soapenv:Envelope xmlns:soapenv="{_SOAP_NS}"><soapenv:Body>'
    f'<notificationsResponse xmlns="{OUTBOUND_NS}"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body></soapenv:Envelope>"
)

_FIELDS = {
    "FirstName": "first_name",
    "LastName": "last_name",
    "Email": "email",
    "Phone": "phone",
    "MobilePhone": "phone",
    "Company": "company",
    "Country": "country",
    "LeadSource": "source",
    "Title": "job_title",
    "Industry": "industry",
    "NumberOfEmployees": "company_size",
}
_MQL = ("MQL_Date__c", "MQL_Date_Time__c", "Marketing_Qualified_Date__c")
_ACCEPTED = frozenset({"working - contacted", "working"})
_REJECTED = frozenset({"closed - not converted", "unqualified"})
_LEAD_KEYS = frozenset(_FIELDS) | {"OwnerId", "HasOptedOutOfEmail", "Status", "Id", "Name"}


def fault(reason: str) -> str:
    """A SOAP fault naming why a message was not taken (Salesforce shows it in its delivery queue)."""
    text = reason.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{_SOAP_NS}"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>soapenv:Client</faultcode><faultstring>{text}</faultstring>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )


def _xml(body: bytes) -> ET.Element:
    """Parse a SOAP body; a DOCTYPE or entity declaration (entity expansion, external entities) is refused."""
    head = body[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in body.upper():
        raise WebhookPayloadError("the message declares a DOCTYPE or entities, which Salesforce never sends")
    try:
        return ET.fromstring(body)  # noqa: S314 - declarations refused above
    except ET.ParseError as exc:
        raise WebhookPayloadError(f"the body is not xml ({exc})") from None


class OutboundMessage:
    """What an Outbound Message says: the organisation, the action and the records (parsed lazily)."""

    def __init__(self, body: bytes) -> None:
        root = _xml(body)
        found = root.find(f".//{{{OUTBOUND_NS}}}notifications")
        if found is None:
            raise WebhookPayloadError("not a salesforce outbound message (no notifications element)")
        self.notifications = found
        self.organization_id = (found.findtext(f"{{{OUTBOUND_NS}}}OrganizationId") or "").strip()
        self.action_id = (found.findtext(f"{{{OUTBOUND_NS}}}ActionId") or "").strip()


def same_organization(given: str, expected: str) -> bool:
    """Salesforce ids compare by their 15-character form (the 18-character one adds a checksum)."""
    return bool(given) and bool(expected) and given.strip()[:15] == expected.strip()[:15]


def parse_outbound_message(body: bytes | str) -> ParsedPayload:
    """An Outbound Message's notifications → leads and events (see the module)."""
    message = OutboundMessage(body.encode() if isinstance(body, str) else body)
    out = _Collect()
    for index, note in enumerate(message.notifications.findall(f"{{{OUTBOUND_NS}}}Notification")):
        _take(out, index, "", partial(_notification, note))
    return out.done()


def _notification(note: ET.Element, out: _Collect) -> None:  # partial(_notification, note)(out)
    sobject = note.find(f"{{{OUTBOUND_NS}}}sObject")
    if sobject is None:
        raise ValueError("the notification has no sObject")
    kind = sobject.get(f"{{{_XSI_NS}}}type", "")
    if kind.split(":")[-1] != "Lead":
        out.skip(f"an sObject of type {kind or '(none)'}: leadpact takes Lead records")
        return
    values: dict[str, Any] = {}
    for child in sobject:
        name = child.tag.rsplit("}", 1)[-1]
        if child.get(f"{{{_XSI_NS}}}nil") == "true":
            continue
        values[name] = (child.text or "").strip()
    _lead(values, out, at=None)


def parse_cdc(body: bytes | str | Any) -> ParsedPayload:
    """Change Data Capture events (one object or an array) → leads and events; ``cursor`` is the highest
    ``replayId`` among them (kept to resume)."""
    data = _load(body)
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(i, dict) for i in items):
        raise WebhookPayloadError("a change data capture body is an event object or an array of them")
    out = _Collect()
    replay: int | None = None
    for index, item in enumerate(items):
        event = item.get("event")
        rid = event.get("replayId") if isinstance(event, dict) else None
        if isinstance(rid, int) and not isinstance(rid, bool):
            replay = rid if replay is None else max(replay, rid)
        _take(out, index, "", partial(_change, item))
    parsed = out.done()
    return ParsedPayload(
        parsed.leads, parsed.events, parsed.problems, parsed.ignored, parsed.ignored_items,
        "" if replay is None else str(replay),
    )  # fmt: skip


def _change(item: dict[str, Any], out: _Collect) -> None:
    payload = item.get("payload")
    if not isinstance(payload, dict):
        raise ValueError("payload is missing")
    header = payload.get("ChangeEventHeader")
    if not isinstance(header, dict):
        raise ValueError("payload.ChangeEventHeader is missing")
    entity = header.get("entityName")
    change = str(header.get("changeType", ""))
    if entity != "Lead":
        out.skip(f"a change of {entity or '(no entity)'}: leadpact takes Lead changes")
        return
    if change not in ("CREATE", "UPDATE"):
        why = "a gap: re-import the leads of that time" if change.startswith("GAP_") else "not kept"
        out.skip(f"{change or '(no changeType)'} of Lead: {why}")
        return
    ids = header.get("recordIds")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise ValueError("ChangeEventHeader.recordIds is missing")
    stamp = header.get("commitTimestamp")
    if isinstance(stamp, bool) or not isinstance(stamp, int):
        raise ValueError("ChangeEventHeader.commitTimestamp is missing")
    at = datetime.fromtimestamp(stamp / 1000, tz=UTC)
    values: dict[str, Any] = {}
    for key, value in payload.items():
        if key == "ChangeEventHeader" or value is None:
            continue
        if key == "Name" and isinstance(value, dict):
            values.update({k: str(v) for k, v in value.items() if v is not None and k in _FIELDS})
        elif not isinstance(value, dict | list):
            values[key] = value if isinstance(value, bool) else str(value)
    changed = header.get("changedFields")
    for record_id in ids:
        _lead({**values, "Id": record_id}, out, at=at, created=change == "CREATE",
              changed=changed if isinstance(changed, list) else None)  # fmt: skip


def _instant(value: Any, what: str) -> tuple[datetime, str]:
    """A Salesforce dateTime (``2026-11-26T14:05:00.000Z``) or date (``2026-11-26``) and its precision."""
    text = str(value).strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a date") from None
    if len(text) == 10:
        return moment.replace(tzinfo=UTC), "day"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment, "millisecond" if "." in text else "second"


def _lead(
    values: dict[str, Any],
    out: _Collect,
    *,
    at: datetime | None,
    created: bool = False,
    changed: list[Any] | None = None,
) -> None:
    """One Lead's values → its record and events; ``at`` is a CDC change's commit time (``None``: an
    Outbound Message, whose events take the record's own dates)."""
    record_id = str(values.get("Id") or "").strip()
    if not record_id:
        raise ValueError("the lead has no Id")
    fields: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for key, target in _FIELDS.items():
        text = str(values.get(key) or "").strip()
        if not text:
            continue
        if target == "country":
            fields[target] = to_country(text)
        elif target == "company_size":
            fields[target] = str(parse_count(text)) if text.isdigit() else text
        else:
            fields.setdefault(target, text)
    if fields.get("first_name") or fields.get("last_name"):
        fields["name"] = " ".join(p for p in (fields.get("first_name", ""), fields.get("last_name", "")) if p)
    opted = values.get("HasOptedOutOfEmail")
    if opted is not None and str(opted).strip():
        fields["consent"] = str(opted).strip().casefold() not in ("true", "1")
    status = str(values.get("Status") or "").strip()
    if status:
        extra["status"] = status
    owner = str(values.get("OwnerId") or "").strip()
    created_at = None
    if values.get("CreatedDate"):
        created_at, _ = _instant(values["CreatedDate"], "CreatedDate")
    out.leads.append(
        LeadRecord(
            source="salesforce",
            external_id=record_id,
            fields=LeadFields(extra=extra, **fields),
            created_at=created_at,
            sales_owner=owner,
        )
    )

    def event(kind: EventKind, when: datetime, precision: str = "", **kw: Any) -> None:
        out.events.append(
            EventRecord(source="salesforce", external_id=record_id, kind=kind, occurred_at=when,
                        precision=precision, **kw)
        )  # fmt: skip

    if at is None or created:
        if values.get("CreatedDate"):
            when, precision = _instant(values["CreatedDate"], "CreatedDate")
            event("created", when, precision)
        elif created and at is not None:
            event("created", at, "millisecond")
    touched = None if changed is None else {str(c) for c in changed}

    def has(name: str) -> bool:
        return name in values and (touched is None or created or name in touched)

    for name in _MQL:
        if has(name) and values.get(name):
            when, precision = _instant(values[name], name)
            event("handed_over", when, precision)
            break
    converted = str(values.get("IsConverted", "")).casefold() in ("true", "1")
    if converted and values.get("ConvertedDate") and (has("ConvertedDate") or has("IsConverted")):
        when, precision = _instant(values["ConvertedDate"], "ConvertedDate")
        event("qualified", when, precision)
    if status and has("Status"):
        word = status.casefold()
        # an Outbound Message has no time of the status change: the record's last modification
        when_text = values.get("LastModifiedDate")
        stamp: tuple[datetime, str] | None = (at, "millisecond") if at is not None else (
            _instant(when_text, "LastModifiedDate") if when_text else None
        )  # fmt: skip
        if stamp is not None and word in _ACCEPTED:
            event("accepted", stamp[0], stamp[1], data={"status": status})
        elif stamp is not None and word in _REJECTED:
            event("rejected", stamp[0], stamp[1], reason_code="unqualified", data={"status": status})
    if at is not None and not created and touched:
        if "OwnerId" in touched and owner:
            event("assigned", at, "millisecond", data={"value": owner})
        skipped = _LEAD_KEYS | set(_MQL) | {"ConvertedDate", "IsConverted", "LastModifiedDate"}
        for name in sorted(touched - skipped):
            value = values.get(name)
            text = "" if value is None else str(value)[:200]
            event("field_changed", at, "millisecond", data={"field": name, "value": text})
