"""HubSpot, read on a schedule: contacts changed since a cursor, from the CRM v3 objects API.

``POST {base}/crm/v3/objects/contacts/search`` with a private app token (``Authorization: Bearer``), a
filter ``lastmodifieddate GTE <cursor>``, sorted by ``lastmodifieddate`` ascending, 100 a page, paged by
``paging.next.after``. HubSpot answers ``429`` when the app goes past its limits (the search API: a few
requests a second) with ``Retry-After`` (seconds); the reader waits and tries again, up to a limit. The
search API returns at most 10,000 results for one query, so a long backlog is read in several queries,
each starting from the last modification seen.

Pure Python (urllib); the ``leads`` app stores each page and moves the cursor after it, so an interrupted
run resumes where it stopped (contacts at the cursor's instant are read again; their events are the same
and add nothing).
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leadpact.connectors._values import parse_consent, parse_count, to_country
from leadpact.connectors.records import EventKind, EventRecord, LeadFields, LeadRecord

__all__ = ["PROPERTIES", "HubSpotError", "Page", "contact_records", "search_pages"]

#: The contact properties read (internal names), the same as the contacts export preset maps.
PROPERTIES = (
    "firstname", "lastname", "email", "phone", "company", "country", "hs_analytics_source", "jobtitle",
    "industry", "numemployees", "hubspotscore", "hubspot_owner_id", "hubspot_owner_assigneddate",
    "createdate", "lastmodifieddate", "hs_lead_status", "hs_legal_basis", "hs_email_optout",
    "hs_lifecyclestage_marketingqualifiedlead_date", "hs_lifecyclestage_salesqualifiedlead_date",
    "hs_lifecyclestage_opportunity_date", "hs_lifecyclestage_customer_date", "notes_last_contacted",
    "recent_conversion_event_name",
)  # fmt: skip
_STAGES: tuple[tuple[str, EventKind], ...] = (
    ("hs_lifecyclestage_marketingqualifiedlead_date", "handed_over"),
    ("hs_lifecyclestage_salesqualifiedlead_date", "qualified"),
    ("hs_lifecyclestage_opportunity_date", "opportunity"),
    ("hs_lifecyclestage_customer_date", "won"),
)
_REJECTED = {"UNQUALIFIED": "unqualified", "BAD_TIMING": "bad_timing"}
_TEXT = (
    ("firstname", "first_name"), ("lastname", "last_name"), ("email", "email"), ("phone", "phone"),
    ("company", "company"), ("hs_analytics_source", "source"), ("jobtitle", "job_title"),
    ("industry", "industry"), ("numemployees", "company_size"), ("recent_conversion_event_name", "trigger"),
)  # fmt: skip
_PAGE = 100
_QUERY_LIMIT = 10_000


class HubSpotError(RuntimeError):
    """HubSpot refused the read (a bad token, a scope missing, limits hit too often): the reason, in words."""


@dataclass(slots=True)
class Page:
    """One page of contacts: their records and the last modification among them (the next cursor)."""

    leads: list[LeadRecord] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    cursor: str = ""
    contacts: int = 0


Opener = Callable[[urllib.request.Request, float], Any]


def _open(request: urllib.request.Request, timeout: float) -> Any:
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - https, or a local test server


def _post(
    url: str, token: str, body: dict[str, Any], *, opener: Opener, sleep: Callable[[float], None], tries: int
) -> dict[str, Any]:
    data = json.dumps(body).encode()
    for attempt in range(tries):
        request = urllib.request.Request(  # noqa: S310 - the connector's configured address
            url,
            data=data,
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with opener(request, 30.0) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as error:
            if error.code == 429 and attempt + 1 < tries:
                wait = error.headers.get("Retry-After", "") if error.headers else ""
                sleep(float(wait) if wait.replace(".", "", 1).isdigit() else 2.0**attempt)
                continue
            detail = error.read()[:300].decode("utf-8", "replace")
            raise HubSpotError(f"hubspot answered {error.code}: {detail}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            if attempt + 1 < tries:
                sleep(2.0**attempt)
                continue
            raise HubSpotError(f"hubspot cannot be reached: {error}") from None
    raise HubSpotError("hubspot kept answering 429 (rate limited): try again later")


def search_pages(
    *,
    base_url: str,
    token: str,
    since: str,
    opener: Opener = _open,
    sleep: Callable[[float], None] = time.sleep,
    tries: int = 5,
    max_pages: int | None = None,
) -> Iterator[Page]:
    """The contacts modified at or after ``since`` (ISO 8601; empty: all), a page at a time, oldest first."""
    url = base_url.rstrip("/") + "/crm/v3/objects/contacts/search"
    start = since
    pages = 0
    while True:
        after: str | None = None
        read = 0
        while True:
            body: dict[str, Any] = {
                "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
                "properties": list(PROPERTIES),
                "limit": _PAGE,
            }
            if start:
                millis = int(datetime.fromisoformat(start).timestamp() * 1000)
                body["filterGroups"] = [
                    {
                        "filters": [
                            {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(millis)}
                        ]
                    }
                ]
            if after:
                body["after"] = after
            answer = _post(url, token, body, opener=opener, sleep=sleep, tries=tries)
            results = answer.get("results") or []
            page = contact_records(results)
            page.cursor = page.cursor or start
            read += len(results)
            pages += 1
            yield page
            nxt = (answer.get("paging") or {}).get("next") or {}
            after = nxt.get("after") if isinstance(nxt, dict) else None
            if not after or (max_pages is not None and pages >= max_pages):
                break
            if read + _PAGE > _QUERY_LIMIT:  # the search API stops at 10,000: a new query from here
                break
        if not after or (max_pages is not None and pages >= max_pages) or page.cursor == start:
            return
        start = page.cursor


def _when(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def contact_records(results: list[Any]) -> Page:
    """HubSpot contact objects (``id``, ``properties``) → lead records and their events (see PROPERTIES)."""
    page = Page()
    for item in results:
        if not isinstance(item, dict) or not item.get("id"):
            continue
        props = item.get("properties") or {}
        if not isinstance(props, dict):
            continue
        page.contacts += 1
        rid = str(item["id"])

        def text(name: str, props: dict[str, Any] = props) -> str:
            value = props.get(name)
            return "" if value is None else str(value).strip()

        values: dict[str, Any] = {}
        for name, target in _TEXT:
            if text(name):
                values[target] = text(name)
        if text("country"):
            values["country"] = to_country(text("country"))
        if text("hubspotscore"):
            with contextlib.suppress(ValueError):
                values["score"] = parse_count(text("hubspotscore").split(".")[0])
        if values.get("first_name") or values.get("last_name"):
            values["name"] = " ".join(
                p for p in (values.get("first_name", ""), values.get("last_name", "")) if p
            )
        consent = parse_consent(text("hs_legal_basis")) if text("hs_legal_basis") else None
        if text("hs_email_optout").casefold() == "true":
            consent = False
        if consent is not None:
            values["consent"] = consent
        created = _when(props.get("createdate"))
        modified = _when(props.get("lastmodifieddate"))
        page.leads.append(
            LeadRecord(
                source="hubspot",
                external_id=rid,
                fields=LeadFields(**values),
                created_at=created,
                sales_owner=text("hubspot_owner_id"),
            )
        )

        def event(kind: EventKind, at: datetime | None, rid: str = rid, **kw: Any) -> None:
            if at is not None:
                page.events.append(EventRecord(source="hubspot", external_id=rid, kind=kind, occurred_at=at,
                                               precision="millisecond", **kw))  # fmt: skip

        event("created", created)
        if text("hubspot_owner_id"):
            event(
                "assigned",
                _when(props.get("hubspot_owner_assigneddate")),
                data={"value": text("hubspot_owner_id")},
            )
        for name, kind in _STAGES:
            event(kind, _when(props.get(name)))
        event("contact_attempt", _when(props.get("notes_last_contacted")), human=True,
              data={"note": "last logged call, e-mail or meeting"})  # fmt: skip
        status = text("hs_lead_status").upper()
        if status in _REJECTED:
            event("rejected", modified, reason_code=_REJECTED[status], data={"status": status})
        if modified is not None:
            page.cursor = max(page.cursor, modified.astimezone(UTC).isoformat()) if page.cursor else (
                modified.astimezone(UTC).isoformat()
            )  # fmt: skip
    return page
