"""Issue 11, done when: a fuzz of the API, every webhook kind and the CSV importer with extreme numbers,
dates, lengths and code points ends with no server error, no delivery left pending, no import that fails
other than cleanly — and measurement (``measure_periods`` and ``leadpact measure``) still working.

Bounded in time for CI: a fixed number of examples per way in, derandomized (the same cases every run).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import time
from typing import Any

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from leadpact.connectors import AmbiguousDates, UnreadableFile
from leadpact.connectors.webhooks import sign_generic
from leadpact.leads.imports import lead_import
from leadpact.leads.models import ImportJob, LeadEvent, WebhookDelivery
from leadpact.leads.services import api_token_create, webhook_integration_create
from leadpact.measurement.scorecard.selectors import measure_periods

FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)

# --- extreme values -----------------------------------------------------------------------------------

ODD = [
    "\x00",
    "\ud800",
    "\udfff",
    "\x1b",
    "\x7f",
    "\u0085",
    "\u202e",
    "\ufeff",
    "\uffff",
    "🦊",
    "\r\n",
    "'",
    '"',
]
plain = st.text(st.characters(min_codepoint=32, max_codepoint=0x24F), max_size=15)
texts = st.one_of(
    plain,
    plain,
    plain,
    st.text(max_size=20),
    st.builds(lambda a, b: a + b + a, st.text(max_size=5), st.sampled_from(ODD)),
    st.integers(250, 1100).map(lambda n: "x" * n),
    st.sampled_from(["", " ", '=HYPERLINK("x")', "a" * 300, "9" * 256, "é" * 321]),
)
numbers = st.one_of(
    st.integers(0, 100),
    st.decimals(min_value=0, max_value=100_000, places=2).map(str),
    st.integers(-(10**25), 10**25),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["1e999999", "2e14", "-0", "NaN", "Infinity", "1e-999999", "99999999999.999999", "1,5"]),
    st.decimals(allow_nan=False, allow_infinity=False, places=8).map(str),
    st.sampled_from([10**20, 2**63, -(2**31), 1e20, 1e300, True]),
)
in_october = st.datetimes(min_value=dt.datetime(2026, 10, 1), max_value=dt.datetime(2026, 10, 30)).map(
    lambda d: d.isoformat() + "Z"
)
instants = st.one_of(
    in_october,
    in_october,
    st.datetimes(
        min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=st.just(dt.UTC)
    ).map(lambda d: d.isoformat()),
    st.datetimes(min_value=dt.datetime(2026, 9, 1), max_value=dt.datetime(2026, 10, 30)).map(
        lambda d: d.isoformat() + "+02:00"
    ),
    st.sampled_from(
        [
            "9999-12-31T23:59:59Z",
            "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00+14:00",
            "1969-12-31T23:59:59Z",
            "2100-01-01T00:00:00Z",
            "2026-13-45T00:00:00Z",
            "",
            "yesterday",
        ]
    ),
)
kinds = st.sampled_from(
    ["created", "handed_over", "accepted", "rejected", "contact_attempt", "won", "lost", "opportunity",
     "handed_over", "won", "voided", "resumed", "waiting_on_customer", "Bogus Kind", ""]
)  # fmt: skip
ids = st.one_of(st.sampled_from(["F-1", "F-2", "F-3"]), st.sampled_from(["F-1", "F-2", "F-3"]), texts)
values = st.one_of(texts, numbers, st.none(), st.booleans(), st.just({"nested": ["x"]}))


def scrub(value: Any) -> Any:
    """JSON can carry anything but floats that are not numbers; those go as text."""
    if isinstance(value, float) and value != value:  # NaN
        return "NaN"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return str(value)
    return value


fields = st.fixed_dictionaries(
    {},
    optional={
        "name": texts, "email": texts, "company": texts, "country": texts, "score": numbers,
        "recent_touches": numbers, "consent": values, "extra": st.dictionaries(texts, texts, max_size=3),
    },
)  # fmt: skip
leads = st.fixed_dictionaries(
    {"external_id": ids, "created_at": instants}, optional={"fields": fields, "marketing_owner": texts}
)
events = st.fixed_dictionaries(
    {"external_id": ids, "kind": kinds, "occurred_at": instants},
    optional={
        "amount": numbers, "currency": texts, "reason_code": texts, "reason": texts, "channel": texts,
        "human": values, "actor": texts, "data": st.dictionaries(texts, texts, max_size=2),
    },
)  # fmt: skip


def body(payload: Any) -> bytes:
    return json.dumps(payload, default=scrub, allow_nan=False).encode()


def _deep(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep(v) for v in value]
    return scrub(value)


# --- the fuzz ------------------------------------------------------------------------------------------


def test_no_input_on_any_way_in_breaks_intake_or_measurement(client, demo, tmp_path):
    org = demo.agreement.organization
    _, token = api_token_create(organization=org, name="fuzz", scope="write", actor="test")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    _, g = webhook_integration_create(organization=org, kind="generic", name="g", slug="g", actor="t")
    webhook_integration_create(
        organization=org, kind="hubspot", name="h", slug="h", secret="hubspot-secret-0123456789", actor="t"
    )
    _, m = webhook_integration_create(organization=org, kind="mautic", name="m", slug="m", actor="t")
    _, p = webhook_integration_create(organization=org, kind="pipedrive", name="p", slug="p", actor="t")
    statuses: list[int] = []

    def check(response) -> None:
        statuses.append(response.status_code)
        assert response.status_code < 500, response.content[:500]

    good_lead = {"external_id": "F-1", "created_at": "2026-10-01T09:00:00Z", "fields": {"name": "Anna"}}
    good_events = [
        {"external_id": "F-1", "kind": "handed_over", "occurred_at": "2026-10-01T10:00:00Z"},
        {"external_id": "F-1", "kind": "won", "occurred_at": "2026-10-05T10:00:00Z", "amount": "1200.50"},
    ]

    @FUZZ
    @example(items=[good_lead, *good_events])
    @given(items=st.lists(st.one_of(leads, events), min_size=1, max_size=4))
    def api(items):
        for item in items:
            path = "/api/events/batch" if "kind" in item else "/api/leads/batch"
            payload = _deep({**item, "source": "crm"})
            key = "events" if "kind" in item else "leads"
            check(client.post(path, data=body({key: [payload]}), content_type="application/json", **auth))
        check(client.post("/api/events", data=body(_deep(items[0])), content_type="application/json", **auth))

    generic_payload = st.fixed_dictionaries(
        {
            "source": st.one_of(st.just("crm"), texts),
            "leads": st.lists(leads, max_size=3),
            "events": st.lists(events, max_size=3),
        }
    )

    @FUZZ
    @example(payload={"source": "forms", "leads": [good_lead], "events": good_events})
    @given(payload=generic_payload)
    def generic_hook(payload):
        data = body(_deep(payload))
        headers = sign_generic(data, secret=g.secret, timestamp=int(time.time()))
        meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        check(client.post("/hooks/generic/g/", data=data, content_type="application/json", **meta))

    hub_items = st.fixed_dictionaries(
        {
            "subscriptionType": st.sampled_from(
                ["contact.creation", "contact.propertyChange", "deal.creation"]
            ),
            "objectId": st.one_of(ids, numbers),
            "occurredAt": st.one_of(numbers, st.integers(-(10**16), 10**16), instants),
        },
        optional={"propertyName": st.one_of(st.sampled_from(["lifecyclestage", "hs_lead_status"]), texts),
                  "propertyValue": values, "eventId": numbers},
    )  # fmt: skip

    @FUZZ
    @example(items=[{"subscriptionType": "contact.creation", "objectId": 51, "occurredAt": 1790000000000}])
    @given(items=st.lists(hub_items, max_size=4))
    def hubspot_hook(items):
        data = body(_deep(items))
        stamp = str(int(time.time() * 1000))
        message = b"POST" + b"http://testserver/hooks/hubspot/h/" + data + stamp.encode()
        signature = base64.b64encode(hmac.new(b"hubspot-secret-0123456789", message, hashlib.sha256).digest())
        check(
            client.post(
                "/hooks/hubspot/h/",
                data=data,
                content_type="application/json",
                HTTP_X_HUBSPOT_SIGNATURE_V3=signature.decode(),
                HTTP_X_HUBSPOT_REQUEST_TIMESTAMP=stamp,
            )
        )

    aliases = st.sampled_from(["firstname", "email", "company", "country", "position"])
    contact = st.fixed_dictionaries(
        {"id": st.one_of(ids, numbers)},
        optional={
            "points": numbers,
            "dateAdded": instants,
            "fields": st.fixed_dictionaries({"all": st.dictionaries(aliases, values, max_size=4)}),
        },
    )
    mautic_items = st.dictionaries(
        st.sampled_from(
            ["mautic.lead_post_save_new", "mautic.lead_post_save_update", "mautic.lead_points_change"]
        ),
        st.lists(
            st.fixed_dictionaries(
                {"contact": contact, "timestamp": instants},
                optional={"points": st.fixed_dictionaries({"new_points": numbers, "old_points": numbers})},
            ),
            max_size=2,
        ),
        max_size=3,
    )

    @FUZZ
    @example(
        payload={"mautic.lead_post_save_new": [{"contact": {"id": 7}, "timestamp": "2026-10-02T09:00:00Z"}]}
    )
    @given(payload=mautic_items)
    def mautic_hook(payload):
        data = body(_deep(payload))
        sign = base64.b64encode(hmac.new(m.secret.encode(), data, hashlib.sha256).digest()).decode()
        check(
            client.post(
                "/hooks/mautic/m/", data=data, content_type="application/json", HTTP_WEBHOOK_SIGNATURE=sign
            )
        )

    meta = st.fixed_dictionaries(
        {
            "action": st.sampled_from(["create", "change", "delete", "added"]),
            "entity": st.sampled_from(["lead", "deal", "person"]),
        },
        optional={"timestamp": st.one_of(numbers, instants), "id": texts},
    )
    deal = st.fixed_dictionaries(
        {"id": st.one_of(ids, numbers)},
        optional={
            "add_time": st.one_of(instants, numbers),
            "value": numbers,
            "currency": texts,
            "status": st.sampled_from(["won", "lost", "open"]),
            "won_time": instants,
            "owner_id": values,
            "title": texts,
        },
    )
    previous = st.fixed_dictionaries({}, optional={"status": st.just("open"), "owner_id": values})
    pipe_payload = st.fixed_dictionaries({"meta": meta, "data": deal}, optional={"previous": previous})
    basic = "Basic " + base64.b64encode(f"{p.username}:{p.password}".encode()).decode()

    @FUZZ
    @example(payload={"meta": {"action": "create", "entity": "lead", "id": "m1"},
                      "data": {"id": 3, "add_time": "2026-10-03 09:00:00"}})  # fmt: skip
    @given(payload=pipe_payload)
    def pipedrive_hook(payload):
        check(client.post("/hooks/pipedrive/p/", data=body(_deep(payload)), content_type="application/json",
                          HTTP_AUTHORIZATION=basic))  # fmt: skip

    cells = st.one_of(texts, numbers.map(str), instants)
    header = [
        "Record ID", "First Name", "Email", "Company Name", "HubSpot Score", "Create Date",
        "Became a Marketing Qualified Lead Date", "Recent Deal Amount", "Became a Customer Date",
    ]  # fmt: skip
    files = {"n": 0}

    @settings(FUZZ, max_examples=25)
    @example(rows=[["", "Bo", "bo@b.nl", "Bo BV", "40", "2026-10-02 09:00", "2026-10-02 10:00", "", ""]])
    @given(rows=st.lists(st.lists(cells, min_size=len(header), max_size=len(header)), min_size=1, max_size=5))
    def csv_import(rows):
        files["n"] += 1
        path = tmp_path / f"fuzz-{files['n']}.csv"
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows([[f"R{files['n']}-{i}", *row[1:]] for i, row in enumerate(rows)])
        path.write_bytes(out.getvalue().encode("utf-8", "surrogatepass"))
        try:
            outcome = lead_import(organization=org, path=path, reader="thread", dayfirst=True)
        except (UnreadableFile, AmbiguousDates):
            return  # the file as a whole refused, with its reason: a clean answer
        assert outcome.job.status == "completed"

    for run in (api, generic_hook, hubspot_hook, mautic_hook, pipedrive_hook, csv_import):
        run()
    assert statuses and max(statuses) < 500
    assert not WebhookDelivery.objects.filter(status="pending").exists()
    assert WebhookDelivery.objects.filter(status="processed").count() > 10
    assert not ImportJob.objects.exclude(status="completed").exists()
    sources = set(LeadEvent.objects.filter(organization=org).values_list("source", flat=True))
    assert {"crm", "forms", "hubspot", "mautic", "pipedrive"} <= sources  # every way in reached the store
    now = dt.datetime(2026, 10, 31, 12, tzinfo=dt.UTC)
    results = measure_periods(version=demo, periods=["2026-10"], now=now)["2026-10"]
    assert results and all(r.status for r in results)
    out = io.StringIO()
    call_command("measure", "--period", "2026-10", "--now", now.isoformat(), "--format", "json", stdout=out)
    assert json.loads(out.getvalue())["measurements"]
    call_command("worker", "--once", "--now", now.isoformat(), stdout=io.StringIO())


@pytest.mark.parametrize("text", ["\ud800", "a\x00b", "x" * 1000])
def test_the_fuzz_alphabet_reaches_the_bounds(text):
    from leadpact.connectors.bounds import text_problem

    assert text_problem(text, 300) is not None
