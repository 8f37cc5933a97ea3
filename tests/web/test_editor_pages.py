"""The agreement editor: drafts from the version in force or the template, section forms with errors on the
field, the live check of a rule against the organisation's leads, the diff in words, propose, sign (a
party's own lead only), activate — and who may do what."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from leadpact.agreements.models import AgreementVersion
from leadpact.agreements.services import agreement_export, agreement_version_new_draft
from leadpact.core.agreement import agreement_load_yaml
from leadpact.core.rules import Rule, rules_check_batch
from leadpact.leads._handoff import lead_rule_fields
from leadpact.leads.models import Lead
from leadpact.organization.models import Membership, Organization, Person, Team
from tests.conftest import member_client

pytestmark = pytest.mark.django_db

Status = AgreementVersion.Status


def _person(name: str) -> Person:
    return Person.objects.get(name=name)


@pytest.fixture
def org(demo):
    return demo.agreement.organization


@pytest.fixture
def admin(org):
    return member_client(org, role=Membership.Role.ADMIN, username="boss")


@pytest.fixture
def draft(demo):
    return agreement_version_new_draft(from_version=demo, actor="test")


class _FormFields(HTMLParser):
    """What a browser sends for the page's editor form: every input, checked box, textarea and the selected
    (or first) option of every select."""

    def __init__(self):
        super().__init__()
        self.data, self._select, self._first, self._area = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.data[name] = a.get("value", "on")
            else:
                self.data[name] = a.get("value", "")
        elif tag == "select":
            self._select, self._first = name, None
        elif tag == "option" and self._select:
            if self._first is None:
                self._first = a.get("value", "")
                self.data.setdefault(self._select, self._first)
            if "selected" in a:
                self.data[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._area = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._area = None

    def handle_data(self, data):
        if self._area:
            self.data[self._area] += data.removeprefix("\n") if not self.data[self._area] else data


def _formset_post(client, version, section):
    """The section's form as a browser sends it back unchanged."""
    response = client.get(reverse("editor_section", args=[version.pk, section]))
    assert response.status_code == 200
    parser = _FormFields()
    html = response.content.decode()
    parser.feed(html[html.index('class="editor"') :])
    data = parser.data
    data.pop("csrfmiddlewaretoken", None)
    data.pop("language", None)  # the header's language switch
    data.pop("next", None)
    return data


def test_start_a_draft_from_the_version_in_force_and_from_the_dutch_template(admin, demo):
    page = admin.get(reverse("editor_start"))
    assert page.status_code == 200 and "the version in force of" in page.content.decode()
    response = admin.post(reverse("editor_start"), {"source": f"active:{demo.agreement.pk}"})
    draft = AgreementVersion.objects.get(status=Status.DRAFT)
    assert response["Location"] == reverse("editor_version", args=[draft.pk])
    assert draft.content_hash == demo.content_hash
    # a second start from the version in force carries on with the same draft
    admin.post(reverse("editor_start"), {"source": f"active:{demo.agreement.pk}"})
    assert AgreementVersion.objects.filter(status=Status.DRAFT).count() == 1
    admin.post(reverse("editor_delete", args=[draft.pk]))
    admin.post(reverse("editor_start"), {"source": "template:nl"})
    dutch = AgreementVersion.objects.get(status=Status.DRAFT)
    assert dutch.document["agreement"]["language"] == "nl"
    assert [p["key"] for p in dutch.document["parties"]][:2] == ["marketing", "sales"]


def test_the_overview_says_what_changes_in_words(admin, draft, demo):
    data = _formset_post(admin, draft, "commitments")
    index = next(i for i, c in enumerate(draft.document["commitments"]) if c["key"] == "mql-volume")
    data[f"commitments-{index}-target_value"] = "1100"
    response = admin.post(reverse("editor_section", args=[draft.pk, "commitments"]), data)
    assert response.status_code == 302, (
        response.context["left"],
        [e for e in response.context["form"].errors if e],
        response.context["form"].non_form_errors(),
    )
    html = admin.get(reverse("editor_version", args=[draft.pk])).content.decode()
    assert "commitment mql-volume: target changed from 1000 a month to 1100 a month" in html
    draft.refresh_from_db()
    # the editor wrote the same document the YAML import would: it round-trips through the export
    text = agreement_export(version=draft)
    assert agreement_load_yaml(text).commitment("mql-volume").target.value == 1100
    # what the form does not show was kept: the handoff contract's fields, the clocks' pauses
    fields = next(c for c in draft.document["commitments"] if c["key"] == "handoff-data")["fields"]
    assert fields == next(c for c in demo.document["commitments"] if c["key"] == "handoff-data")["fields"]


def test_an_invalid_rule_is_an_error_on_that_definitions_rule_field(admin, draft):
    data = _formset_post(admin, draft, "definitions")
    data["definitions-1-rule"] = "lead.score >= && lead.email"
    before = draft.content_hash
    response = admin.post(reverse("editor_section", args=[draft.pk, "definitions"]), data)
    assert response.status_code == 400
    errors = response.context["form"].forms[1].errors
    assert "rule" in errors and "column" in errors["rule"][0]
    draft.refresh_from_db()
    assert draft.content_hash == before


def test_a_bad_calendar_and_a_bad_target_are_errors_on_their_fields(admin, draft):
    data = _formset_post(admin, draft, "calendars")
    data["calendars-0-hours"] = "mon-fri: 9-17"
    response = admin.post(reverse("editor_section", args=[draft.pk, "calendars"]), data)
    assert response.status_code == 400
    assert "hours" in response.context["form"].forms[0].errors
    data = _formset_post(admin, draft, "commitments")
    data["commitments-0-target_value"] = "-5"
    response = admin.post(reverse("editor_section", args=[draft.pk, "commitments"]), data)
    assert response.status_code == 400
    assert "target_value" in response.context["form"].forms[0].errors


def test_reason_codes_and_pause_kinds_are_edited(admin, draft):
    data = _formset_post(admin, draft, "reasons")
    total = int(data["reasons-TOTAL_FORMS"])
    new = total - 1  # the empty extra row
    data.update(
        {
            f"reasons-{new}-code": "spam",
            f"reasons-{new}-label": "Spam or a bot",
            f"reasons-{new}-group": "definition_miss",
            f"reasons-{new}-owner": "marketing",
        }
    )
    data["reasons-0-DELETE"] = "on"
    assert admin.post(reverse("editor_section", args=[draft.pk, "reasons"]), data).status_code == 302
    draft.refresh_from_db()
    codes = [r["code"] for r in draft.document["reason_codes"]]
    assert codes[-1] == "spam" and "not_icp" not in codes
    data = _formset_post(admin, draft, "pauses")
    data["pauses-mql-decision"] = "waiting_on_customer, on_holiday"
    assert admin.post(reverse("editor_section", args=[draft.pk, "pauses"]), data).status_code == 302
    draft.refresh_from_db()
    clock = next(c for c in draft.document["commitments"] if c["key"] == "mql-decision")["clock"]
    assert clock["pause"] == ["waiting_on_customer", "on_holiday"]


def _leads(org, rows):
    at = dt.datetime(2026, 10, 1, 9, tzinfo=dt.UTC)
    for i, fields in enumerate(rows):
        Lead.objects.create(organization=org, name=f"Lead {i}", created_at=at, updated_at=at, **fields)


def test_the_live_check_counts_as_the_rules_engine_does(admin, draft, org):
    rows = [
        {"email": "a@x.nl", "country": "NL", "score": 80, "consent": True},
        {"email": "b@x.nl", "country": "DE", "score": 80, "consent": True},
        {"email": "", "country": "DE", "score": 10, "consent": True},
        {"email": "d@x.nl", "country": "BE", "score": 40, "consent": False},
        {"email": "e@x.nl", "country": "FR", "score": 60, "consent": None},
    ]
    _leads(org, rows)
    rule = 'lead.email != "" && lead.country in ["NL", "BE"] && lead.score >= 50'
    response = admin.get(reverse("editor_rule_check", args=[draft.pk]), {"rule": rule})
    body = response.json()
    parsed = Rule.parse(rule)
    leads = [lead_rule_fields(lead) for lead in Lead.objects.filter(organization=org)]
    results = [row[0] for row in rules_check_batch([parsed], leads)]
    assert body["ok"] and body["sample"] == len(rows)
    assert body["passed"] == sum(r.met for r in results) == 1
    counts = {c: sum(any(f.clause == c for f in r.failures) for r in results) for c in parsed.clauses}
    assert {c["clause"]: c["failed"] for c in body["clauses"]} == counts
    assert body["worst"] == {"clause": 'lead.country in ["NL", "BE"]', "failed": 3}
    assert "1 of the latest 5 leads" in body["summary"]
    assert body["clauses"][0]["words"] == "3 leads fail"
    assert [c["failed"] for c in body["clauses"]] == sorted(counts.values(), reverse=True)
    bad = admin.get(reverse("editor_rule_check", args=[draft.pk]), {"rule": "lead.score >="}).json()
    assert not bad["ok"] and "column" in bad["error"]


def test_the_live_check_works_without_javascript(admin, draft, org):
    _leads(org, [{"email": "a@x.nl", "score": 80}, {"email": "", "score": 90}])
    data = _formset_post(admin, draft, "definitions")
    data["definitions-0-rule"] = 'lead.email != ""'
    data["check"] = "0"
    before = draft.content_hash
    response = admin.post(reverse("editor_section", args=[draft.pk, "definitions"]), data)
    assert response.status_code == 200, response.context["form"].errors
    html = response.content.decode()
    assert "1 of the latest 2 leads meet the rule" in html
    data["definitions-0-rule"] = 'lead.email != "" && lead.score >= 85'
    html = admin.post(reverse("editor_section", args=[draft.pk, "definitions"]), data).content.decode()
    assert "0 of the latest 2 leads meet the rule" in html and "1 lead fails" in html
    draft.refresh_from_db()
    assert draft.content_hash == before  # checking saves nothing


def test_the_live_check_tries_only_the_organisations_own_leads(admin, draft, org):
    other = Organization.objects.create(key="other", name="Other")
    _leads(other, [{"email": "x@y.nl"}] * 3)
    body = admin.get(reverse("editor_rule_check", args=[draft.pk]), {"rule": 'lead.email != ""'}).json()
    assert body["sample"] == 0


def _lead_client(name, username):
    person = _person(name)
    return member_client(person.team.organization, username=username, person=person), person


def test_propose_sign_by_each_lead_and_activate(admin, draft, org):
    data = _formset_post(admin, draft, "general")
    data["general-effective_from"] = dt.datetime.now(dt.UTC).date().isoformat()
    assert admin.post(reverse("editor_section", args=[draft.pk, "general"]), data).status_code == 302
    assert admin.post(reverse("editor_propose", args=[draft.pk])).status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.PROPOSED
    marketing, sanne = _lead_client("Sanne de Vries", "sanne")
    sales, sales_lead = _lead_client(
        Person.objects.get(team__key="sales", team__organization=org, role="lead").name, "saleslead"
    )
    html = marketing.get(reverse("editor_version", args=[draft.pk])).content.decode()
    assert draft.content_hash in html and "Sign for my team" in html
    # a stale hash is refused, in words
    marketing.post(reverse("editor_sign", args=[draft.pk]), {"content_hash": "0" * 64})
    assert not draft.signatures.exists()
    marketing.post(reverse("editor_sign", args=[draft.pk]), {"content_hash": draft.content_hash})
    assert [s.party.key for s in draft.signatures.all()] == ["marketing"]
    # signing twice for the same party does nothing more
    marketing.post(reverse("editor_sign", args=[draft.pk]), {"content_hash": draft.content_hash})
    assert draft.signatures.count() == 1
    sales.post(reverse("editor_sign", args=[draft.pk]), {"content_hash": draft.content_hash})
    draft.refresh_from_db()
    assert draft.status == Status.SIGNED
    assert {s.signed_by for s in draft.signatures.all()} == {sanne, sales_lead}
    assert sales.post(reverse("editor_activate", args=[draft.pk])).status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.ACTIVE


def test_a_member_cannot_edit_sign_or_activate_and_a_viewer_only_reads(draft, org):
    member = member_client(org, username="member", person=Person.objects.filter(role="member").first())
    viewer = member_client(org, role=Membership.Role.VIEWER, username="viewer")
    for client in (member, viewer):
        assert client.get(reverse("editor_version", args=[draft.pk])).status_code == 200
        page = client.get(reverse("editor_section", args=[draft.pk, "definitions"]))
        assert page.status_code == 200 and "disabled" in page.content.decode()
        assert client.post(reverse("editor_section", args=[draft.pk, "definitions"]), {}).status_code == 403
        assert client.post(reverse("editor_propose", args=[draft.pk])).status_code == 403
        assert client.post(reverse("editor_start"), {"source": "template:en"}).status_code == 403
        assert client.post(reverse("editor_yaml", args=[draft.pk]), {"text": "x"}).status_code == 403
        assert (
            client.post(
                reverse("editor_sign", args=[draft.pk]), {"content_hash": draft.content_hash}
            ).status_code
            == 403
        )
        assert client.post(reverse("editor_activate", args=[draft.pk])).status_code == 403
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_a_lead_signs_only_for_their_own_party(admin, draft, org):
    admin.post(reverse("editor_propose", args=[draft.pk]))
    client, sanne = _lead_client("Sanne de Vries", "sanne")
    client.post(reverse("editor_sign", args=[draft.pk]), {"content_hash": draft.content_hash})
    # the signature is always Sanne's, for her own team: no field says on whose behalf
    assert [(s.party.key, s.signed_by) for s in draft.signatures.all()] == [("marketing", sanne)]
    # a lead whose team is no party to the version signs nothing
    team = Team.objects.create(
        organization=org, key="partners", name="Partners", calendar=sanne.team.calendar
    )
    outsider = Person.objects.create(
        team=team, name="Pim", email="pim@x.nl", role="lead", start_date=dt.date(2026, 1, 1)
    )
    client2 = member_client(org, username="pim", person=outsider)
    client2.post(reverse("editor_sign", args=[draft.pk]), {"content_hash": draft.content_hash})
    assert draft.signatures.count() == 1


def test_another_organisations_versions_are_not_found(admin, draft):
    other = Organization.objects.create(key="other", name="Other")
    stranger = member_client(other, role=Membership.Role.ADMIN, username="stranger")
    for url in (
        reverse("editor_version", args=[draft.pk]),
        reverse("editor_section", args=[draft.pk, "general"]),
        reverse("editor_rule_check", args=[draft.pk]) + "?rule=lead.score>1",
        reverse("editor_yaml", args=[draft.pk]),
    ):
        assert stranger.get(url).status_code == 404
    assert stranger.post(reverse("editor_propose", args=[draft.pk])).status_code == 404
    assert stranger.post(reverse("editor_delete", args=[draft.pk])).status_code == 404
    assert AgreementVersion.objects.filter(pk=draft.pk, status=Status.DRAFT).exists()


def test_a_signed_version_reads_only_and_unknown_sections_are_not_found(admin, demo):
    page = admin.get(reverse("editor_section", args=[demo.pk, "commitments"]))
    assert page.status_code == 200 and "disabled" in page.content.decode()
    assert admin.post(reverse("editor_section", args=[demo.pk, "commitments"]), {}).status_code == 403
    assert admin.get(reverse("editor_section", args=[demo.pk, "nothing"])).status_code == 404


def test_yaml_export_is_the_cli_export_and_an_upload_replaces_the_draft(admin, draft):
    response = admin.get(reverse("editor_yaml", args=[draft.pk]) + "?download")
    assert response.content.decode() == agreement_export(version=draft)
    changed = response.content.decode().replace("      value: 1000\n", "      value: 900\n", 1)
    assert admin.post(reverse("editor_yaml", args=[draft.pk]), {"text": changed}).status_code == 302
    draft.refresh_from_db()
    assert agreement_export(version=draft) == changed
    broken = admin.post(
        reverse("editor_yaml", args=[draft.pk]), {"text": changed.replace("kind: volume", "kind: vlume")}
    )
    assert broken.status_code == 400 and "commitments[0].kind" in broken.content.decode()


def test_the_editor_in_dutch(admin, draft):
    admin.post("/i18n/setlang/", {"language": "nl", "next": "/"})
    html = admin.get(reverse("editor_version", args=[draft.pk])).content.decode()
    assert "Voorstellen ter ondertekening" in html and "Afspraken" in html
    html = admin.get(reverse("editor_section", args=[draft.pk, "definitions"])).content.decode()
    assert "Controleer op onze leads" in html


def test_two_people_editing_one_draft_lose_no_change(admin, draft, org):
    other = member_client(org, role=Membership.Role.ADMIN, username="second-boss")
    mine = _formset_post(admin, draft, "reasons")
    theirs = _formset_post(other, draft, "reasons")  # both opened the same revision
    assert mine["revision"] == theirs["revision"] == str(draft.revision)
    new = int(mine["reasons-TOTAL_FORMS"]) - 1
    mine.update({f"reasons-{new}-code": "spam", f"reasons-{new}-label": "Spam or a bot"})
    mine.update({f"reasons-{new}-group": "definition_miss", f"reasons-{new}-owner": "marketing"})
    assert admin.post(reverse("editor_section", args=[draft.pk, "reasons"]), mine).status_code == 302
    theirs.update({f"reasons-{new}-code": "bot", f"reasons-{new}-label": "A bot"})
    theirs.update({f"reasons-{new}-group": "definition_miss", f"reasons-{new}-owner": "marketing"})
    response = other.post(reverse("editor_section", args=[draft.pk, "reasons"]), theirs)
    assert response.status_code == 400  # the form again, saying why
    assert "Someone else saved this draft since you opened it" in response.content.decode()
    draft.refresh_from_db()
    codes = [r["code"] for r in draft.document["reason_codes"]]
    assert codes[-1] == "spam" and "bot" not in codes  # the first change kept, the stale one not applied
