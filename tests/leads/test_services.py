"""Storing leads and events: upsert by source id, append-only events, state derived from events in any
order, handoff checks against the agreement version in force."""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadpact.agreements.services import agreement_import
from leadpact.leads._prepare import event_data
from leadpact.leads._state import EventFact, derive_state
from leadpact.leads.models import (
    AppendOnlyError,
    HandoffCheck,
    Lead,
    LeadEvent,
    LeadSource,
    LeadState,
    digest_of_key,
)
from leadpact.leads.selectors import lead_detail, leads_handoff_status
from leadpact.leads.services import leads_refresh_state, leads_store
from leadpact.organization.models import Person, Team
from tests.agreements.helpers import activate
from tests.leads.conftest import T0, event, lead
from tests.organization.factories import NOW, make_organization, make_person

H = dt.timedelta(hours=1)


class TestUpsert:
    def test_same_source_id_is_one_lead_and_values_merge(self, organization):
        leads_store(organization=organization, leads=[lead(name="Anna", email="a@b.nl", extra={"x": "1"})])
        out = leads_store(organization=organization, leads=[lead(score=60, extra={"y": "2"})])
        assert out.leads_created == [False]
        stored = Lead.objects.get()
        assert (stored.name, stored.email, stored.score) == ("Anna", "a@b.nl", 60)
        assert stored.extra == {"x": "1", "y": "2"}

    def test_another_source_is_another_lead(self, organization):
        leads_store(
            organization=organization, leads=[lead("1", source="hubspot"), lead("1", source="salesforce")]
        )
        assert Lead.objects.count() == 2
        assert sorted(LeadSource.objects.values_list("source", flat=True)) == ["hubspot", "salesforce"]

    def test_owners_matched_by_name_or_email_unknown_reported(self, organization, people):
        out = leads_store(
            organization=organization,
            leads=[lead(marketing_owner="mia.marketing@acme.example", sales_owner="Ghost")],
        )
        stored = Lead.objects.get()
        assert stored.marketing_owner == people["mia"] and stored.sales_owner is None
        assert [(p.field, p.reason) for p in out.problems] == [("sales_owner", "unknown owner 'Ghost'")]

    def test_event_for_an_unknown_lead(self, organization):
        out = leads_store(organization=organization, events=[event("won", "X-9")], unknown_leads="refuse")
        assert out.event_ids == [None] and LeadEvent.objects.count() == 0
        leads_store(organization=organization, events=[event("won", "X-9")])  # "create": a stub lead
        assert LeadSource.objects.get().external_id == "X-9"
        assert LeadState.objects.get().stage == "won"


class TestAppendOnly:
    @pytest.fixture
    def stored(self, organization):
        leads_store(organization=organization, leads=[lead()], events=[event("created")])
        return LeadEvent.objects.get()

    def test_save_of_a_stored_event_is_refused(self, stored):
        stored.kind = "won"
        with pytest.raises(AppendOnlyError, match="cannot change"):
            stored.save()

    def test_delete_is_refused(self, stored):
        with pytest.raises(AppendOnlyError, match="cannot be deleted"):
            stored.delete()
        with pytest.raises(AppendOnlyError):
            LeadEvent.objects.all().delete()
        with pytest.raises(AppendOnlyError):
            LeadEvent.objects.filter(pk=stored.pk).update(kind="won")
        assert LeadEvent.objects.get().kind == "created"

    def test_the_same_event_twice_is_one_row(self, organization, stored):
        out = leads_store(organization=organization, events=[event("created"), event("created")])
        assert out.event_ids == [stored.pk, stored.pk] and out.events_created == [False, False]
        assert LeadEvent.objects.count() == 1


LIFE = [
    event("created", at=T0),
    event("handed_over", at=T0 + H),
    event("assigned", at=T0 + H, data={"value": "Sid Sales"}),
    event("contact_attempt", at=T0 + 2 * H, channel="email", human=False),
    event("contact_attempt", at=T0 + 3 * H, channel="phone", human=True),
    event("contact_attempt", at=T0 + 3 * H, channel="phone", human=True, data={"n": "2"}),
    event("accepted", at=T0 + 3 * H),
    event("qualified", at=T0 + 24 * H),
    event("opportunity", at=T0 + 48 * H, amount="12000", currency="EUR"),
    event("lost", at=T0 + 96 * H, amount="12000", currency="EUR", reason="budget"),
    event("recycled", at=T0 + 200 * H),
    event("handed_over", at=T0 + 300 * H),
    event("rejected", at=T0 + 300 * H, reason_code="not_icp"),
]


class TestState:
    def test_state_after_a_life(self, organization, people):
        leads_store(organization=organization, leads=[lead()], events=LIFE[:10])
        state = LeadState.objects.get()
        assert (state.stage, state.decision, state.outcome, state.amount) == (
            "lost",
            "accepted",
            "lost",
            "12000",
        )
        assert (state.attempts, state.human_attempts) == (3, 2)
        assert state.first_attempt_at == T0 + 2 * H and state.first_human_attempt_at == T0 + 3 * H
        assert state.owner == people["sid"] and state.handed_over_at == T0 + H
        leads_store(organization=organization, events=LIFE[10:])
        state.refresh_from_db()
        assert (state.stage, state.decision, state.reason_code, state.recycled) == (
            "rejected",
            "rejected",
            "not_icp",
            1,
        )
        assert state.handed_over_at == T0 + 300 * H and state.attempts == 0 and state.handoffs == 2

    @settings(max_examples=200, deadline=None)
    @given(st.permutations(LIFE))
    def test_derivation_does_not_depend_on_order(self, events):
        facts = [EventFact(e.kind, e.occurred_at, e.idempotency_key, None, event_data(e)) for e in events]
        reference = [EventFact(e.kind, e.occurred_at, e.idempotency_key, None, event_data(e)) for e in LIFE]
        assert derive_state(facts) == derive_state(reference)

    # each example runs in a savepoint that is rolled back, so the function-scoped db fixture is safe
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.permutations(LIFE), st.integers(min_value=1, max_value=len(LIFE) - 1))
    def test_arrival_in_any_order_and_batches_gives_the_same_stored_state(self, db, events, cut):
        with transaction.atomic():
            organization = make_organization("perm")
            leads_store(organization=organization, leads=[lead()], events=LIFE)
            in_order = LeadState.objects.values().get()
            del in_order["lead_id"]  # PostgreSQL does not roll back sequences
            transaction.set_rollback(True)
        with transaction.atomic():
            organization = make_organization("perm")
            leads_store(organization=organization, leads=[lead()], events=events[:cut])
            leads_store(organization=organization, events=events[cut:])
            got = LeadState.objects.values().get()
            leads_refresh_state(Lead.objects.values_list("pk", flat=True))
            rebuilt = LeadState.objects.values().get()
            del got["lead_id"], rebuilt["lead_id"]
            transaction.set_rollback(True)
        assert got == rebuilt == in_order

    # the stored state is carried forward when a batch's events all come after it, else folded again
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        st.lists(st.integers(min_value=1, max_value=len(LIFE) - 1), min_size=1, max_size=4, unique=True),
        st.integers(min_value=0, max_value=len(LIFE) - 1),
    )
    def test_batches_in_time_order_or_with_a_late_event_give_the_folded_state(self, db, cuts, late):
        ordered = sorted(LIFE, key=lambda e: e.occurred_at)
        straggler = ordered.pop(late)  # arrives last: usually earlier than what is stored by then
        bounds = [0, *sorted(cuts), len(ordered)]
        with transaction.atomic():
            organization = make_organization("incr")
            leads_store(organization=organization, leads=[lead()], events=LIFE)
            in_order = LeadState.objects.values().get()
            transaction.set_rollback(True)
        with transaction.atomic():
            organization = make_organization("incr")
            leads_store(organization=organization, leads=[lead()])
            for start, end in itertools.pairwise(bounds):
                leads_store(organization=organization, events=ordered[start:end])
            leads_store(organization=organization, events=[straggler])
            leads_store(organization=organization, events=[straggler])  # a replay changes nothing
            got = LeadState.objects.values().get()
            transaction.set_rollback(True)
        del got["lead_id"], in_order["lead_id"]
        assert got == in_order


SMALL = (Path(__file__).parents[1] / "agreements" / "small.yaml").read_text(encoding="utf-8")
HANDOFF = """  - key: handoff
    title: Marketing hands over complete leads
    kind: handoff
    owner: marketing
    beneficiary: sales
    target: {value: 100, unit: percent}
    period: month
    fields:
      - {field: email, check: email}
      - {field: company, check: present}
"""


class TestHandoffCheck:
    @pytest.fixture
    def version(self, organization):
        draft = agreement_import(organization=organization, yaml_text=SMALL + HANDOFF, actor="test", now=NOW)
        marketing = Team.objects.get(organization=organization, key="marketing")
        sales = Team.objects.get(organization=organization, key="sales")
        leads = (
            make_person(marketing, "Mia Marketing", role=Person.Role.LEAD, with_user=True),
            make_person(sales, "Sid Sales", role=Person.Role.LEAD, with_user=True),
        )
        return activate(draft, leads, NOW)

    def test_no_agreement_in_force_stores_nothing(self, organization):
        leads_store(organization=organization, leads=[lead()], events=[event("handed_over")])
        assert HandoffCheck.objects.count() == 0
        assert (
            lead_detail(organization=organization, lead_id=Lead.objects.get().pk).handoff_status
            == "not checked"
        )

    def test_handoff_checked_with_the_definition_version(self, organization, version):
        good = lead("G", email="g@x.nl", company="G BV", score=70, country="NL")
        bad = lead("B", email="not-mail", score=20, country="DE")
        leads_store(
            organization=organization,
            leads=[good, bad],
            events=[event("handed_over", "G", at=NOW + H), event("handed_over", "B", at=NOW + H)],
        )
        checks = {c.lead.sources.get().external_id: c for c in HandoffCheck.objects.select_related("lead")}
        assert checks["G"].met and checks["G"].missing_fields == [] and checks["G"].failed == []
        assert checks["G"].agreement_version == version
        assert checks["G"].definition_version.key == "mql"
        assert checks["G"].definition_version.rule.startswith("lead.score >= 50")
        assert not checks["B"].met
        assert checks["B"].failed == [
            "lead.score >= 50 (lead.score is 20)",
            'lead.country in ["NL", "BE"] (lead.country is "DE")',
        ]
        assert checks["B"].missing_fields == ["email", "company"]
        detail = lead_detail(organization=organization, lead_id=checks["B"].lead_id)
        assert detail.handoff_status == "not met"
        leads_store(organization=organization, leads=[lead("N")])
        never = LeadSource.objects.get(external_id="N").lead_id
        ids = [checks["G"].lead_id, checks["B"].lead_id, never]
        assert leads_handoff_status(ids) == dict(zip(ids, ["met", "not met", "not handed over"], strict=True))

    def test_a_handoff_before_the_agreement_is_not_checked(self, organization, version):
        leads_store(organization=organization, leads=[lead()], events=[event("handed_over", at=NOW - 24 * H)])
        assert HandoffCheck.objects.count() == 0

    def test_a_replayed_handoff_is_checked_once(self, organization, version):
        for _ in range(2):
            leads_store(organization=organization, leads=[lead()], events=[event("handed_over", at=NOW + H)])
        assert HandoffCheck.objects.count() == 1


class TestKeyDigest:
    def test_stored_events_carry_the_digest_of_their_key_and_the_migration_fills_it(self, organization):
        leads_store(organization=organization, leads=[lead()], events=LIFE[:4])
        stored = list(LeadEvent.objects.values_list("idempotency_key", "key_digest"))
        assert len(stored) == 4
        assert all(bytes(d) == digest_of_key(k) and len(bytes(d)) == 16 for k, d in stored)
        table = connection.ops.quote_name(LeadEvent._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET key_digest = NULL")
        fill = importlib.import_module("leadpact.leads.migrations.0003_fill_key_digest").fill
        fill(None, SimpleNamespace(connection=connection))
        assert sorted(LeadEvent.objects.values_list("idempotency_key", "key_digest")) == sorted(stored)

    def test_an_event_saved_one_by_one_gets_its_digest_and_dedupes_with_the_store(self, organization):
        leads_store(organization=organization, leads=[lead()])
        one = event("accepted")
        saved = LeadEvent(
            organization=organization,
            lead=Lead.objects.get(),
            kind="accepted",
            occurred_at=one.occurred_at,
            recorded_at=T0,
            source="api",
            idempotency_key=one.idempotency_key,
        )
        saved.save()
        assert bytes(saved.key_digest) == digest_of_key(one.idempotency_key)
        outcome = leads_store(organization=organization, events=[one])
        assert outcome.events_created == [False] and outcome.event_ids == [saved.pk]
