"""Issue 11 point 2: values stored before the bounds (or by hand) never break measurement — they are
reported, not fatal — and an operator voids a bad event: audited, append-only, left out by state, handoff
checks, clocks and measurement."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from leadpact.audit.models import AuditEntry
from leadpact.errors import ApplicationError
from leadpact.leads.models import Lead, LeadEvent, LeadState
from leadpact.leads.selectors import leads_handoff_status
from leadpact.leads.services import lead_event_void
from leadpact.measurement.clocks.services import clocks_update
from leadpact.measurement.models import LeadClock
from leadpact.measurement.scorecard.selectors import measure_periods
from tests.measurement.scene import add_lead, local

NOW = dt.datetime(2026, 10, 20, 12, tzinfo=dt.UTC)


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def stored(lead: Lead, kind: str, at: dt.datetime, key: str, **data) -> LeadEvent:
    """An event written straight into the table, as older code or a hand could have."""
    event = LeadEvent(
        organization=lead.organization, lead=lead, kind=kind, occurred_at=at, recorded_at=at, source="api",
        idempotency_key=key.ljust(64, "0")[:64], data=data,
    )  # fmt: skip
    event.save()
    return event


def figure(results, key: str):
    return next(r for r in results if r.commitment_key == key and r.subject_kind == "team")


@pytest.fixture
def scene(demo):
    org = demo.agreement.organization
    won = add_lead(
        org,
        "W",
        events=[
            ("created", local(2026, 10, 1, 9), {}),
            ("handed_over", local(2026, 10, 1, 10), {}),
            ("won", local(2026, 10, 5, 10), {"amount": "1200"}),
        ],
    )
    bad = add_lead(
        org, "B", events=[("created", local(2026, 10, 2, 9), {}), ("handed_over", local(2026, 10, 2, 10), {})]
    )
    return demo, won, bad


def test_measurement_survives_any_stored_value_and_reports_it(scene):
    version, _won, bad = scene
    before = measure_periods(version=version, periods=["2026-10"], now=NOW)["2026-10"]
    assert figure(before, "won-revenue").actual == 1200 and not before[0].warnings
    wrong = [
        stored(bad, "won", local(2026, 10, 6, 9), "a", amount="200000000000000"),  # 2e14 as the API took it
        stored(
            bad, "won", local(2026, 10, 6, 9), "b", amount="1" + "0" * 100_000
        ),  # "1e999999" from a webhook
        stored(bad, "opportunity", local(2026, 10, 6, 9), "c", amount="a lot"),
        stored(bad, "lost", local(2026, 10, 6, 9), "d", amount=1e300),
        stored(bad, "contact_attempt", dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC), "e"),
        stored(bad, "contact_attempt", dt.datetime(1, 1, 1, tzinfo=dt.UTC), "f"),
    ]
    results = measure_periods(version=version, periods=["2026-10"], now=NOW)["2026-10"]
    assert figure(results, "won-revenue").actual == 1200  # the unusable amounts count as none
    assert figure(results, "pipeline").actual == figure(before, "pipeline").actual
    warning = results[0].warnings[0]
    assert warning.startswith("6 stored events carry values that cannot be measured")
    for event in wrong:
        assert f"event {event.pk}: " in warning
    out, err = run("measure", "--period", "2026-10", "--now", NOW.isoformat(), "--format", "json")
    assert json.loads(out)["warnings"] == [warning] and "warning: 6 stored events" in err
    out, _ = run("worker", "--once", "--now", NOW.isoformat())
    assert "clocks" in out
    browser = Client()
    browser.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    assert browser.get("/measure/?period=2026-10").status_code == 200
    for event in wrong:
        lead_event_void(organization=bad.organization, event_id=event.pk, reason="stored wrong", actor="test")
    assert not measure_periods(version=version, periods=["2026-10"], now=NOW)["2026-10"][0].warnings


def test_a_voided_handoff_leaves_state_checks_and_measurement(scene):
    version, won, _bad = scene
    org = won.organization
    volume = figure(measure_periods(version=version, periods=["2026-10"], now=NOW)["2026-10"], "mql-volume")
    assert won.pk in volume.evidence_ids()["counted"]
    assert leads_handoff_status([won.pk])[won.pk] == "met"
    handoff = LeadEvent.objects.get(lead=won, kind="handed_over")
    void = lead_event_void(
        organization=org, event_id=handoff.pk, reason="sent twice by the CRM", actor="test"
    )
    assert (void.kind, void.data["event_id"], void.lead_id) == ("voided", handoff.pk, won.pk)
    assert LeadEvent.objects.filter(pk=handoff.pk).exists()  # append-only: nothing deleted
    state = LeadState.objects.get(lead=won)
    assert state.handed_over_at is None and state.handoffs == 0 and state.outcome == "won"
    assert leads_handoff_status([won.pk])[won.pk] == "not handed over"
    results = measure_periods(version=version, periods=["2026-10"], now=NOW)["2026-10"]
    for r in results:
        assert all(won.pk not in ids for ids in r.evidence_ids().values()), r.commitment_key
    reference = measure_periods(version=version, periods=["2026-10"], now=NOW)["2026-10"]
    assert [r.actual for r in reference] == [r.actual for r in results]
    entry = AuditEntry.objects.get(action="lead_event.void")
    assert entry.object_id == str(handoff.pk) and entry.after["reason"] == "sent twice by the CRM"


def test_a_voided_handoff_stops_its_clocks(scene):
    _version, _won, bad = scene
    clocks_update(now=NOW)
    assert LeadClock.objects.filter(lead=bad).count() == 2
    handoff = LeadEvent.objects.get(lead=bad, kind="handed_over")
    lead_event_void(organization=bad.organization, event_id=handoff.pk, reason="not a lead", actor="test")
    clocks_update(now=NOW)
    assert not LeadClock.objects.filter(lead=bad).exists()


def test_the_database_reference_agrees_with_the_snapshot_on_voids_and_bad_values(scene):
    from leadpact.measurement._frames import frames_load

    version, won, bad = scene
    stored(bad, "won", local(2026, 10, 6, 9), "a", amount="200000000000000")
    won_event = LeadEvent.objects.get(lead=won, kind="won")
    lead_event_void(organization=won.organization, event_id=won_event.pk, reason="wrong deal", actor="test")
    args = {
        "organization_id": won.organization_id, "agreement_id": version.agreement_id,
        "version_id": version.pk, "since": local(2026, 10, 1), "until": local(2026, 11, 1), "now": NOW,
        "reason_codes": ["price"], "field_names": ["email"],
    }  # fmt: skip
    snap = frames_load(**args)
    ref = frames_load(**args, events_from="database")
    assert snap.events.lead.tolist() == ref.events.lead.tolist()
    assert snap.events.kind.tolist() == ref.events.kind.tolist()
    assert snap.events.amount_cents.tolist() == ref.events.amount_cents.tolist()
    assert int(snap.events.amount_cents.sum()) == 0


def test_voiding_is_refused_when_it_makes_no_sense(scene):
    _demo, won, _bad = scene
    org = won.organization
    event = LeadEvent.objects.get(lead=won, kind="won")
    with pytest.raises(ApplicationError, match="the reason is empty"):
        lead_event_void(organization=org, event_id=event.pk, reason="  ", actor="test")
    with pytest.raises(ApplicationError, match="has no event 999999"):
        lead_event_void(organization=org, event_id=999_999, reason="x", actor="test")
    void = lead_event_void(organization=org, event_id=event.pk, reason="x", actor="test")
    with pytest.raises(ApplicationError, match="voided before"):
        lead_event_void(organization=org, event_id=event.pk, reason="again", actor="test")
    with pytest.raises(ApplicationError, match="it is itself a void"):
        lead_event_void(organization=org, event_id=void.pk, reason="undo", actor="test")


def test_events_void_on_the_command_line_names_the_operator(scene):
    _demo, won, _bad = scene
    event = LeadEvent.objects.get(lead=won, kind="won")
    with pytest.raises(CommandError, match="no user or person"):
        run("events", "void", str(event.pk), "--reason", "typo", "--by", "nobody@example.com")
    operator = get_user_model().objects.create_user("sanne", "sanne@example.com", "pw")
    out, _ = run(
        "events", "void", str(event.pk), "--reason", "typo in the amount", "--by", "sanne@example.com"
    )
    assert f"event {event.pk} voided" in out
    entry = AuditEntry.objects.get(action="lead_event.void")
    assert entry.actor_id == operator.pk and entry.after["reason"] == "typo in the amount"
    assert LeadState.objects.get(lead=won).outcome == ""


def test_the_admin_voids_with_a_reason_and_shows_any_stored_instant(client, scene):
    _demo, won, bad = scene
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    Lead.objects.filter(pk=bad.pk).update(created_at=dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC))
    stored(bad, "won", dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC), "z")
    assert client.get("/admin/leads/lead/").status_code == 200
    assert client.get("/admin/leads/leadevent/").status_code == 200
    assert client.get(f"/admin/leads/lead/{bad.pk}/change/").status_code == 200
    event = LeadEvent.objects.get(lead=won, kind="won")
    url = "/admin/leads/leadevent/"
    refused = client.post(url, {"action": "void", "_selected_action": [event.pk], "reason": ""}, follow=True)
    assert "say why" in refused.content.decode() and not LeadEvent.objects.filter(kind="voided").exists()
    done = client.post(url, {"action": "void", "_selected_action": [event.pk], "reason": "dup"}, follow=True)
    assert "1 event(s) voided" in done.content.decode()
    entry = AuditEntry.objects.get(action="lead_event.void")
    assert entry.actor_id == user.pk
