"""Agreement services: import, export, the life cycle, immutability, activation, audit."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from leadpact.agreements.models import (
    Agreement,
    AgreementVersion,
    Commitment,
    DefinitionVersion,
    FrozenVersionError,
    Signature,
)
from leadpact.agreements.selectors import (
    agreement_active_version,
    agreement_definitions_at,
    agreement_version_at,
    version_commitments,
    version_parties_pending,
)
from leadpact.agreements.services import (
    agreement_export,
    agreement_import,
    agreement_version_activate,
    agreement_version_delete_draft,
    agreement_version_new_draft,
    agreement_version_propose,
    agreement_version_sign,
    agreement_version_sign_on_behalf,
    agreement_version_update,
    agreement_versions_activate_due,
    agreement_versions_diff,
    definition_version_get_or_create,
)
from leadpact.audit.models import AuditEntry
from leadpact.audit.selectors import audit_chain_verify, audit_trail
from leadpact.core.agreement import (
    agreement_content_hash,
    agreement_dump_yaml,
    agreement_load_yaml,
    agreement_template,
)
from leadpact.errors import ApplicationError
from leadpact.organization.models import Leave, Organization, Person, Team
from tests.agreements.conftest import SMALL
from tests.agreements.helpers import activate, sign_all
from tests.organization.factories import NOW, make_organization, make_person, make_team, make_user

pytestmark = pytest.mark.django_db

AMS = zoneinfo.ZoneInfo("Europe/Amsterdam")
SIGN_DAY = dt.datetime(2025, 12, 15, 14, 0, tzinfo=AMS)
JAN_1 = dt.datetime(2026, 1, 1, tzinfo=AMS)
MODELS = [
    Organization,
    Team,
    Person,
    Leave,
    Agreement,
    AgreementVersion,
    DefinitionVersion,
    Commitment,
    Signature,
    AuditEntry,
]


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def changed(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


class TestImport:
    def test_a_draft_with_parties_definitions_and_commitments_as_rows(self, draft):
        assert (draft.number, draft.status, draft.effective_from) == (1, "draft", dt.date(2026, 1, 1))
        assert draft.content_hash == agreement_content_hash(agreement_load_yaml(SMALL))
        assert sorted(draft.parties.values_list("key", flat=True)) == ["marketing", "sales"]
        assert sorted(draft.definitions.values_list("key", "number")) == [("mql", 1), ("sal", 1)]
        volume = draft.commitments.get(key="mql-volume")
        assert (volume.kind, volume.owner.key, volume.beneficiary.key, volume.covers.key) == (
            "volume",
            "marketing",
            "sales",
            "mql",
        )
        assert volume.spec["target"] == {"value": "200", "unit": "count", "per": "month"}

    def test_parties_without_a_team_become_teams_with_the_documents_calendar(self, draft):
        sales = Team.objects.get(key="sales")
        assert (sales.name, sales.kind) == ("Sales", "sales")
        assert sales.calendar == draft.document["calendars"]["nl-office"]

    def test_an_existing_team_keeps_its_own_calendar(self):
        organization = make_organization()
        sales = make_team(organization, "sales")
        own = {"timezone": "Europe/Amsterdam", "hours": {"mon-thu": ["08:00-16:00"]}}
        sales.calendar = own
        sales.save()
        version = agreement_import(organization=organization, yaml_text=SMALL, actor="test")
        assert version.parties.get(key="sales").calendar == own

    def test_the_import_is_audited_per_agreement(self, draft):
        actions = [entry.action for entry in audit_trail(agreement=draft.agreement)]
        assert actions == ["agreement.create", "agreement.import"]
        assert AuditEntry.objects.filter(action="team.create").count() == 2
        created = AuditEntry.objects.filter(action="definition.create").order_by("id")
        assert [entry.after["key"] for entry in created] == ["mql", "sal"]

    def test_the_same_content_again_creates_nothing(self, draft):
        before = counts()
        again = agreement_import(organization=draft.agreement.organization, yaml_text=SMALL, actor="test")
        assert again == draft
        assert counts() == before

    def test_the_same_content_in_another_layout_is_the_same_content(self, draft):
        relaid = changed(SMALL, 'hours: {mon-fri: ["09:00-17:00"]}', "hours:\n      mon-fri: ['09:00-17:00']")
        assert (
            agreement_import(organization=draft.agreement.organization, yaml_text=relaid, actor="t") == draft
        )

    def test_new_content_is_a_new_draft(self, draft):
        version = agreement_import(
            organization=draft.agreement.organization,
            yaml_text=changed(SMALL, "value: 200", "value: 220"),
            actor="t",
        )
        assert (version.number, version.status) == (2, "draft")
        assert version.content_hash != draft.content_hash

    def test_a_bad_document_reports_every_problem_with_its_path_and_writes_nothing(self, organization):
        bad = changed(SMALL, "kind: volume", "kind: volumes")
        bad = changed(bad, "value: 95", "value: -5")
        bad = changed(bad, "lead.score >= 50", "lead.scor >= 50")
        bad = changed(bad, "owner: sales", "owner: salez")
        before = counts()
        with pytest.raises(ApplicationError) as caught:
            agreement_import(organization=organization, yaml_text=bad, actor="test")
        error = caught.value
        assert error.code == "agreement.invalid"
        paths = {p["path"]: p["message"] for p in error.extra["problems"]}
        assert set(paths) == {
            "definitions[0].rule",
            "commitments[0].kind",
            "commitments[1].owner",
            "commitments[1].target.value",
        }
        assert "line 1, column 1" in paths["definitions[0].rule"]
        assert "4 problems" in error.message
        assert counts() == before

    def test_a_problem_only_the_database_sees_has_a_path_and_writes_nothing(self, organization):
        before = counts()
        too_long = changed(SMALL, "title: Sales accepts or rejects every MQL", "title: " + "x" * 301)
        with pytest.raises(ApplicationError) as caught:
            agreement_import(organization=organization, yaml_text=too_long, actor="test")
        [problem] = caught.value.extra["problems"]
        assert problem["path"] == "commitments[1].title" and "300" in problem["message"]
        assert counts() == before

    def test_broken_yaml_is_one_problem_with_line_and_column(self, organization):
        before = counts()
        with pytest.raises(ApplicationError) as caught:
            agreement_import(
                organization=organization, yaml_text="leadpact: 1\nagreement: [oops\n", actor="t"
            )
        assert caught.value.extra["problems"][0]["path"].startswith("line ")
        assert counts() == before


class TestExport:
    def test_export_is_the_canonical_yaml(self, draft):
        assert agreement_export(version=draft) == agreement_dump_yaml(agreement_load_yaml(SMALL))

    def test_export_import_export_is_byte_identical(self, draft):
        first = agreement_export(version=draft)
        elsewhere = agreement_import(organization=make_organization("elsewhere"), yaml_text=first, actor="t")
        assert agreement_export(version=elsewhere) == first
        assert elsewhere.content_hash == draft.content_hash
        # and into the same organisation it is the same version, nothing new
        assert (
            agreement_import(organization=draft.agreement.organization, yaml_text=first, actor="t") == draft
        )


class TestSigning:
    def test_both_leads_sign_and_the_version_is_signed(self, draft, leads):
        marketing_lead, sales_lead = leads
        version = agreement_version_propose(version=draft, actor="test", now=SIGN_DAY)
        assert version.status == "proposed" and version.proposed_at == SIGN_DAY
        agreement_version_sign(
            version=version,
            signer=marketing_lead,
            actor=marketing_lead.user,
            content_hash=draft.content_hash,
            now=SIGN_DAY,
        )
        version.refresh_from_db()
        assert version.status == "proposed"
        assert [t.key for t in version_parties_pending(version)] == ["sales"]
        later = SIGN_DAY + dt.timedelta(hours=2)
        agreement_version_sign(
            version=version,
            signer=sales_lead,
            actor=sales_lead.user,
            content_hash=draft.content_hash,
            now=later,
        )
        version.refresh_from_db()
        assert (version.status, version.signed_at) == ("signed", later)
        assert set(version.signatures.values_list("party__key", "content_hash")) == {
            ("marketing", draft.content_hash),
            ("sales", draft.content_hash),
        }
        sign_entries = AuditEntry.objects.filter(action="version.sign").order_by("id")
        assert [e.actor_label for e in sign_entries] == [
            marketing_lead.user.username,
            sales_lead.user.username,
        ]
        assert sign_entries.last().after["status"] == "signed"

    def _proposed(self, draft):
        return agreement_version_propose(version=draft, actor="test", now=SIGN_DAY)

    def _refused(self, code, *, person, **kwargs):
        actor = person.user or make_user("someone-else")
        with pytest.raises(ApplicationError) as caught:
            agreement_version_sign(now=SIGN_DAY, signer=person, actor=actor, **kwargs)
        assert caught.value.code == code
        assert not Signature.objects.exists()

    def test_a_member_who_is_not_the_lead_cannot_sign(self, draft, leads):
        member = make_person(Team.objects.get(key="sales"), "Max Member", with_user=True)
        version = self._proposed(draft)
        self._refused("signature.not_lead", version=version, person=member, content_hash=version.content_hash)

    def test_a_lead_without_a_login_cannot_sign(self, draft, leads):
        lead = make_person(Team.objects.get(key="sales"), "Lou Nologin", role=Person.Role.LEAD)
        version = self._proposed(draft)
        self._refused("signature.no_user", version=version, person=lead, content_hash=version.content_hash)

    def test_the_lead_of_another_team_cannot_sign(self, draft, leads):
        partner = make_team(draft.agreement.organization, "partner")
        lead = make_person(partner, "Pia Partner", role=Person.Role.LEAD, with_user=True)
        version = self._proposed(draft)
        self._refused(
            "signature.not_a_party", version=version, person=lead, content_hash=version.content_hash
        )

    def test_signing_a_stale_hash_fails(self, draft, leads):
        version = self._proposed(draft)
        stale = "0" * 64
        self._refused("signature.stale", version=version, person=leads[0], content_hash=stale)

    def test_signing_content_read_before_a_change_fails(self, draft, leads):
        seen = draft.content_hash
        draft = agreement_version_update(
            version=draft, document=changed(SMALL, "value: 200", "value: 210"), actor="t"
        )
        version = self._proposed(draft)
        self._refused("signature.stale", version=version, person=leads[0], content_hash=seen)

    def test_a_draft_cannot_be_signed(self, draft, leads):
        self._refused("version.not_proposed", version=draft, person=leads[0], content_hash=draft.content_hash)

    def test_nobody_signs_for_someone_else(self, draft, leads):
        version = self._proposed(draft)
        with pytest.raises(ApplicationError) as caught:
            agreement_version_sign(
                version=version, signer=leads[0], content_hash=version.content_hash, actor=leads[1].user
            )
        assert caught.value.code == "signature.not_self"

    def test_a_party_signs_once(self, draft, leads):
        version = self._proposed(draft)
        agreement_version_sign(
            version=version,
            signer=leads[0],
            actor=leads[0].user,
            content_hash=version.content_hash,
            now=SIGN_DAY,
        )
        second = make_person(leads[0].team, "Second Lead", role=Person.Role.LEAD, with_user=True)
        with pytest.raises(ApplicationError) as caught:
            agreement_version_sign(
                version=version,
                signer=second,
                actor=second.user,
                content_hash=version.content_hash,
                now=SIGN_DAY,
            )
        assert caught.value.code == "signature.duplicate"


class TestSigningOnBehalf:
    """Issue 11, point 5: the command line records a lead's signature; the operator is the one audited."""

    @pytest.fixture
    def operator(self, db):
        user = make_user("ops")
        user.is_staff = True
        user.save()
        return user

    def _proposed(self, draft):
        return agreement_version_propose(version=draft, actor="test", now=SIGN_DAY)

    def test_the_operator_is_the_actor_and_the_entry_says_on_whose_behalf(self, draft, leads, operator):
        version = self._proposed(draft)
        signature = agreement_version_sign_on_behalf(
            version=version,
            signer=leads[1],
            operator=operator,
            content_hash=version.content_hash,
            now=SIGN_DAY,
        )
        assert (signature.signed_by, signature.party.key, signature.content_hash) == (
            leads[1],
            "sales",
            version.content_hash,
        )
        entry = AuditEntry.objects.get(action="version.sign")
        assert (entry.actor, entry.actor_label) == (operator, "ops")
        assert {
            k: entry.after[k] for k in ("signed", "recorded_by", "on_behalf_of", "signed_by", "signed_hash")
        } == {
            "signed": "recorded by an operator",
            "recorded_by": "ops",
            "on_behalf_of": leads[1].email,
            "signed_by": leads[1].email,
            "signed_hash": version.content_hash,
        }
        assert audit_chain_verify().ok

    def test_signing_in_person_says_so(self, draft, leads):
        version = self._proposed(draft)
        agreement_version_sign(
            version=version,
            signer=leads[0],
            actor=leads[0].user,
            content_hash=version.content_hash,
            now=SIGN_DAY,
        )
        entry = AuditEntry.objects.get(action="version.sign")
        assert (entry.actor, entry.after["signed"]) == (leads[0].user, "in person")
        assert "recorded_by" not in entry.after and "on_behalf_of" not in entry.after

    @pytest.mark.parametrize("change", [{"is_staff": False}, {"is_active": False}])
    def test_only_an_active_staff_user_records_a_signature(self, draft, leads, operator, change):
        for field, value in change.items():
            setattr(operator, field, value)
        operator.save()
        version = self._proposed(draft)
        with pytest.raises(ApplicationError) as caught:
            agreement_version_sign_on_behalf(
                version=version, signer=leads[0], operator=operator, content_hash=version.content_hash
            )
        assert caught.value.code == "signature.not_operator"
        assert (
            not Signature.objects.exists() and not AuditEntry.objects.filter(action="version.sign").exists()
        )

    def test_staff_of_another_organisation_cannot_record_a_signature(self, draft, leads, operator):
        elsewhere = make_team(make_organization("elsewhere"), "ops")
        Person.objects.filter(pk=make_person(elsewhere, "Olga Ops").pk).update(user=operator)
        version = self._proposed(draft)
        with pytest.raises(ApplicationError, match="another organisation than acme") as caught:
            agreement_version_sign_on_behalf(
                version=version, signer=leads[0], operator=operator, content_hash=version.content_hash
            )
        assert caught.value.code == "signature.not_operator"

    def test_the_rules_for_the_signer_still_hold(self, draft, leads, operator):
        member = make_person(Team.objects.get(key="sales"), "Max Member", with_user=True)
        version = self._proposed(draft)
        with pytest.raises(ApplicationError) as caught:
            agreement_version_sign_on_behalf(
                version=version, signer=member, operator=operator, content_hash=version.content_hash
            )
        assert caught.value.code == "signature.not_lead"
        with pytest.raises(ApplicationError) as caught:
            agreement_version_sign_on_behalf(
                version=version, signer=leads[0], operator=operator, content_hash="0" * 64
            )
        assert caught.value.code == "signature.stale"


class TestSignedIsImmutable:
    @pytest.fixture
    def signed(self, draft, leads):
        return sign_all(draft, leads, SIGN_DAY)

    def test_orm_save_of_changed_content_is_refused(self, signed):
        signed.document = {**signed.document, "settings": {}}
        with pytest.raises(FrozenVersionError):
            signed.save()
        signed.refresh_from_db()
        signed.effective_from = dt.date(2027, 1, 1)
        with pytest.raises(FrozenVersionError):
            signed.save()

    def test_orm_update_bypassing_save_is_refused_by_the_database(self, signed):
        for change in (
            {"content_hash": "f" * 64},
            {"effective_from": dt.date(2027, 1, 1)},
            {"status": "draft"},
            {"document": {**signed.document, "settings": {}}},
            {"number": 7},
        ):
            with pytest.raises(IntegrityError), transaction.atomic():
                AgreementVersion.objects.filter(pk=signed.pk).update(**change)
        signed.refresh_from_db()
        assert signed.status == "signed"

    def test_going_back_to_draft_is_refused(self, signed):
        signed.status = "draft"
        with pytest.raises(FrozenVersionError):
            signed.save()

    def test_the_service_refuses_to_update_it(self, signed):
        with pytest.raises(ApplicationError) as caught:
            agreement_version_update(
                version=signed, document=changed(SMALL, "value: 200", "value: 1"), actor="t"
            )
        assert caught.value.code == "version.not_draft"
        signed.refresh_from_db()
        assert agreement_export(version=signed) == agreement_dump_yaml(agreement_load_yaml(SMALL))

    def test_signatures_and_commitments_are_frozen_too(self, signed):
        signature = signed.signatures.first()
        with pytest.raises(FrozenVersionError):
            signature.save()
        with pytest.raises(FrozenVersionError):
            signature.delete()
        with pytest.raises(IntegrityError), transaction.atomic():
            Signature.objects.filter(pk=signature.pk).update(content_hash="0" * 64)
        commitment = signed.commitments.first()
        commitment.title = "something else"
        with pytest.raises(FrozenVersionError):
            commitment.save()
        with pytest.raises(IntegrityError), transaction.atomic():
            Commitment.objects.filter(pk=commitment.pk).update(title="x")

    def test_a_definition_version_never_changes(self, signed):
        definition = signed.definitions.get(key="mql")
        definition.rule = "lead.score >= 10"
        with pytest.raises(FrozenVersionError):
            definition.save()
        with pytest.raises(IntegrityError), transaction.atomic():
            DefinitionVersion.objects.filter(pk=definition.pk).update(text="changed")

    def test_a_draft_still_changes_freely(self, draft):
        AgreementVersion.objects.filter(pk=draft.pk).update(effective_from=dt.date(2026, 2, 1))
        draft.refresh_from_db()
        assert draft.effective_from == dt.date(2026, 2, 1)


class TestActivation:
    def test_activation_brings_the_version_into_force_from_its_effective_date(self, draft, leads):
        version = activate(draft, leads, SIGN_DAY + dt.timedelta(days=20), sign_at=SIGN_DAY)
        assert version.status == "active"
        assert version.activated_at == JAN_1  # effective date (midnight, Amsterdam) is after the signing
        assert agreement_active_version(draft.agreement) == version

    def test_not_before_the_effective_date(self, draft, leads):
        signed = sign_all(draft, leads, SIGN_DAY)
        with pytest.raises(ApplicationError) as caught:
            agreement_version_activate(version=signed, now=SIGN_DAY, actor="t")
        assert caught.value.code == "version.not_yet_effective"
        assert agreement_versions_activate_due(now=JAN_1 - dt.timedelta(seconds=1)) == []
        assert agreement_versions_activate_due(now=JAN_1) == [signed]
        signed.refresh_from_db()
        assert (signed.status, signed.activated_at) == ("active", JAN_1)

    def test_only_signed_versions_activate(self, draft):
        with pytest.raises(ApplicationError) as caught:
            agreement_version_activate(version=draft, now=JAN_1, actor="t")
        assert caught.value.code == "version.not_signed"

    def test_the_next_activation_supersedes_and_version_at_follows(self, draft, leads):
        v1 = activate(draft, leads, JAN_1)
        v2 = agreement_version_new_draft(from_version=v1, actor="test")
        assert (v2.number, v2.status, v2.content_hash) == (2, "draft", v1.content_hash)
        v2 = agreement_version_update(
            version=v2,
            document=changed(changed(SMALL, "value: 200", "value: 220"), "2026-01-01", "2026-03-01"),
            actor="test",
        )
        signed_at = dt.datetime(2026, 2, 20, 11, 0, tzinfo=AMS)
        march = dt.datetime(2026, 3, 1, tzinfo=AMS)
        v2 = activate(v2, leads, march + dt.timedelta(hours=8), sign_at=signed_at)
        v1.refresh_from_db()
        assert (v1.status, v1.superseded_at) == ("superseded", march)
        assert (v2.status, v2.activated_at) == ("active", march)
        assert AgreementVersion.objects.filter(agreement=draft.agreement, status="active").count() == 1
        agreement = draft.agreement
        assert agreement_version_at(agreement=agreement, instant=JAN_1 - dt.timedelta(microseconds=1)) is None
        assert agreement_version_at(agreement=agreement, instant=JAN_1) == v1
        assert agreement_version_at(agreement=agreement, instant=signed_at) == v1
        assert agreement_version_at(agreement=agreement, instant=march - dt.timedelta(microseconds=1)) == v1
        assert agreement_version_at(agreement=agreement, instant=march) == v2
        assert [e.action for e in audit_trail(agreement=agreement)][-2:] == [
            "version.supersede",
            "version.activate",
        ]
        assert agreement_definitions_at(agreement=agreement, instant=signed_at) == {
            d.key: d for d in v1.definitions.all()
        }
        assert agreement_definitions_at(agreement=agreement, instant=JAN_1 - dt.timedelta(days=1)) == {}
        assert [c.key for c in version_commitments(v2)] == ["decision", "mql-volume"]

    def test_signed_after_the_effective_date_is_in_force_from_the_last_signature(self, draft, leads):
        late = dt.datetime(2026, 1, 20, 15, 30, tzinfo=AMS)
        version = activate(draft, leads, late)
        assert version.activated_at == late

    def test_the_database_allows_one_active_version_per_agreement(self, draft, leads):
        v1 = activate(draft, leads, JAN_1)
        v2 = agreement_version_new_draft(from_version=v1, actor="test")
        with pytest.raises(IntegrityError), transaction.atomic():
            AgreementVersion.objects.filter(pk=v2.pk).update(status="active")

    def test_an_older_version_cannot_replace_a_newer_active_one(self, draft, leads):
        v1 = sign_all(draft, leads, SIGN_DAY)
        v2 = agreement_version_new_draft(from_version=v1, actor="test")
        v2 = activate(v2, leads, JAN_1)
        with pytest.raises(ApplicationError) as caught:
            agreement_version_activate(version=v1, now=JAN_1, actor="t")
        assert caught.value.code == "version.older_than_active"

    def test_effective_until_ends_the_version_in_force(self, organization, leads):
        text = changed(
            SMALL, "effective_from: 2026-01-01", "effective_from: 2026-01-01\n  effective_until: 2026-07-01"
        )
        version = agreement_import(organization=organization, yaml_text=text, actor="t")
        version = activate(version, leads, JAN_1)
        july = dt.datetime(2026, 7, 1, tzinfo=AMS)
        assert (
            agreement_version_at(agreement=version.agreement, instant=july - dt.timedelta(seconds=1))
            == version
        )
        assert agreement_version_at(agreement=version.agreement, instant=july) is None


class TestDefinitionsAndDiff:
    def test_unchanged_definitions_are_shared_and_changed_ones_numbered(self, draft):
        v2 = agreement_import(
            organization=draft.agreement.organization,
            yaml_text=changed(SMALL, "lead.score >= 50", "lead.score >= 60"),
            actor="t",
        )
        assert v2.definitions.get(key="sal") == draft.definitions.get(key="sal")
        new_mql = v2.definitions.get(key="mql")
        assert new_mql.number == 2 and "60" in new_mql.rule
        assert draft.definitions.get(key="mql").number == 1
        assert v2.commitments.get(key="mql-volume").covers == new_mql

    def test_the_service_refuses_a_rule_naming_an_unknown_field_with_its_position(self, organization):
        with pytest.raises(ValidationError) as caught:
            definition_version_get_or_create(
                organization=organization,
                key="sql",
                term="SQL",
                text="...",
                rule="lead.score > 1 && lead.foo",
                actor="test",
            )
        [message] = caught.value.message_dict["rule"]
        assert "unknown field lead.foo" in message and "line 1, column 19" in message
        assert not DefinitionVersion.objects.exists()

    def test_diff_says_what_changed(self, draft):
        v2 = agreement_import(
            organization=draft.agreement.organization,
            yaml_text=changed(SMALL, "value: 200", "value: 220"),
            actor="t",
        )
        changes = agreement_versions_diff(old=draft, new=v2)
        assert changes and any("220" in change.describe("en") for change in changes)
        assert agreement_versions_diff(old=draft, new=draft) == []


def test_the_whole_story_leaves_a_verifiable_audit_chain(draft, leads):
    activate(draft, leads, JAN_1)
    assert audit_chain_verify().ok
    assert {"agreement.import", "version.propose", "version.sign", "version.activate"} <= set(
        audit_trail(agreement=draft.agreement).values_list("action", flat=True)
    )


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_template_agreement_goes_the_whole_way(organization, lang):
    text = agreement_template(lang)
    version = agreement_import(organization=organization, yaml_text=text, actor="test", now=NOW)
    doc = agreement_load_yaml(text)
    parties = list(version.parties.order_by("key"))
    assert [p.key for p in parties] == sorted(party.key for party in doc.parties)
    leads = tuple(
        make_person(team, f"Lead {team.key}", role=Person.Role.LEAD, with_user=True) for team in parties
    )
    start = dt.datetime.combine(version.effective_from, dt.time(0), tzinfo=AMS)
    version = activate(version, leads, start + dt.timedelta(days=1), sign_at=start - dt.timedelta(days=3))
    assert (version.status, version.activated_at) == ("active", start)
    assert version.commitments.count() == len(doc.commitments)
    assert version.definitions.count() == len(doc.definitions)
    exported = agreement_export(version=version)
    assert exported == agreement_dump_yaml(doc)
    again = agreement_import(organization=make_organization("copy"), yaml_text=exported, actor="t")
    assert agreement_export(version=again) == exported
    assert audit_chain_verify().ok


def test_only_a_draft_can_be_deleted_and_it_is_audited(draft, leads):
    v2 = agreement_version_new_draft(from_version=draft, actor="test")
    agreement_version_delete_draft(version=v2, actor="test")
    assert not AgreementVersion.objects.filter(pk=v2.pk).exists()
    assert AuditEntry.objects.get(action="version.delete").before["number"] == 2
    signed = sign_all(draft, leads, SIGN_DAY)
    with pytest.raises(ApplicationError) as caught:
        agreement_version_delete_draft(version=signed, actor="test")
    assert caught.value.code == "version.not_draft"
    with pytest.raises(FrozenVersionError):
        signed.delete()
