"""Lead records and events: validation and idempotency keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadpact.connectors.records import EventRecord, LeadFields, LeadRecord, RowProblem

AT = datetime(2026, 11, 26, 13, 5, tzinfo=UTC)


def event(**kw):
    base = {"source": "hubspot", "external_id": "51", "kind": "won", "occurred_at": AT}
    base.update(kw)
    return EventRecord(**base)


class TestIdempotencyKey:
    def test_equal_for_the_same_fact_delivered_twice(self):
        first = event(amount=Decimal("1200"), source_ref="33:25:1")
        replay = event(amount=Decimal("1200.00"), source_ref="33:25:1:retry", actor="someone else")
        assert first.idempotency_key == replay.idempotency_key

    def test_equal_for_the_same_instant_in_another_offset(self):
        amsterdam = AT.astimezone(timezone(timedelta(hours=1)))
        assert event().idempotency_key == event(occurred_at=amsterdam).idempotency_key

    @pytest.mark.parametrize(
        "change",
        [
            {"source": "salesforce"},
            {"external_id": "52"},
            {"kind": "lost"},
            {"occurred_at": AT + timedelta(microseconds=1)},
            {"amount": Decimal("1201")},
            {"currency": "USD"},
            {"reason_code": "not_icp"},
            {"reason": "went elsewhere"},
            {"channel": "phone"},
            {"human": True},
            {"data": {"field": "score", "value": "3"}},
        ],
    )
    def test_different_for_a_different_fact(self, change):
        assert event().idempotency_key != event(**change).idempotency_key

    @settings(max_examples=300)
    @given(a=st.text(alphabet="ab:1=\x1f", max_size=6), b=st.text(alphabet="ab:1=\x1f", max_size=6))
    def test_field_boundaries_cannot_be_shifted(self, a, b):
        one = event(reason_code=a, reason=b)
        two = event(reason_code=a + b, reason="")
        assert (one.idempotency_key == two.idempotency_key) == (b == "")

    @settings(max_examples=300)
    @given(
        k1=st.text(alphabet="ab:1=\x1f", max_size=4),
        v1=st.text(alphabet="ab:1=\x1f", max_size=4),
        k2=st.text(alphabet="ab:1=\x1f", max_size=4),
        v2=st.text(alphabet="ab:1=\x1f", max_size=4),
    )
    def test_data_keys_and_values_cannot_be_confused(self, k1, v1, k2, v2):
        same = {k1: v1} == {k2: v2}
        assert (event(data={k1: v1}).idempotency_key == event(data={k2: v2}).idempotency_key) == same

    def test_is_a_sha256_hex(self):
        key = event().idempotency_key
        assert len(key) == 64 and int(key, 16) >= 0


class TestValidation:
    def test_naive_event_time_is_refused(self):
        with pytest.raises(ValueError, match="occurred_at must be aware"):
            event(occurred_at=datetime(2026, 11, 26, 14, 5))

    def test_a_kind_that_cannot_be_one_is_refused(self):
        with pytest.raises(ValueError, match="unknown kind 'Tele ported'"):
            event(kind="Tele ported")
        with pytest.raises(ValueError, match="unknown kind"):
            event(kind="x" * 65)

    def test_a_pause_kind_and_resumed_are_taken_the_store_checks_the_agreement(self):
        # whether an agreement declares the pause kind is the store's edge to check (leads._kinds)
        assert event(kind="waiting_on_customer").kind == "waiting_on_customer"
        assert event(kind="resumed").kind == "resumed"

    def test_lead_needs_an_id_and_an_aware_creation(self):
        with pytest.raises(ValueError, match="external_id is empty"):
            LeadRecord(source="hubspot", external_id="", fields=LeadFields(), created_at=None)
        with pytest.raises(ValueError, match="created_at must be aware"):
            LeadRecord(
                source="hubspot", external_id="1", fields=LeadFields(), created_at=datetime(2026, 1, 1)
            )

    def test_fields_as_dict_is_what_rules_see(self):
        fields = LeadFields(name="Anna", score=60, extra={"utm": "cpc"})
        seen = fields.as_dict()
        assert seen["name"] == "Anna" and seen["score"] == 60 and seen["extra"] == {"utm": "cpc"}
        assert seen["consent"] is None and seen["email"] == ""

    def test_row_problem_reads_as_a_sentence(self):
        assert (
            str(RowProblem(4, "Create Date", "'x' is not a date"))
            == "row 4, column 'Create Date': 'x' is not a date"
        )
        assert str(RowProblem(4, None, "too many values")) == "row 4: too many values"
