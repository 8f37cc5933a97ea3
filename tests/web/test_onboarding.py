"""Onboarding a new organisation: who may, each step's form with errors on the field, the people CSV with
row and column, the template fitted to the teams — ending on an empty scorecard that says what to do."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from leadpact.agreements.models import AgreementVersion
from leadpact.agreements.template import agreement_template_for
from leadpact.core.agreement import agreement_load_yaml
from leadpact.organization.models import Leave, Membership, Organization, Person, Team
from tests.conftest import PASSWORD, member_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(db):
    user = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client = Client()
    client.force_login(user)
    return client


def _teams_post(**overrides):
    data = {
        "teams-TOTAL_FORMS": "3",
        "teams-INITIAL_FORMS": "3",
        "teams-MIN_NUM_FORMS": "0",
        "teams-MAX_NUM_FORMS": "1000",
        "teams-0-name": "Growth",
        "teams-0-key": "growth",
        "teams-0-kind": "marketing",
        "teams-0-hours": "mon-fri: 09:00-17:00",
        "teams-0-country": "BE",
        "teams-1-name": "Closers",
        "teams-1-key": "closers",
        "teams-1-kind": "sales",
        "teams-1-hours": "mon-thu: 08:30-12:00, 12:30-17:00\nfri: 08:30-13:00",
        "teams-1-country": "BE",
        "teams-1-closed": "2026-12-24..2026-12-31",
        "teams-2-name": "",
        "teams-2-kind": "sdr",
        "teams-2-hours": "",
    }
    data.update(overrides)
    return data


def test_a_superuser_sets_up_an_organisation_step_by_step(root):
    response = root.post(
        reverse("onboarding_start"), {"name": "Zuidwind B.V.", "timezone": "Europe/Brussels", "country": "BE"}
    )
    assert response["Location"] == reverse("onboarding_teams")
    org = Organization.objects.get(key="zuidwind-bv")
    assert org.timezone == "Europe/Brussels"
    assert Membership.objects.get(organization=org).role == Membership.Role.ADMIN
    page = root.get(reverse("onboarding_teams")).content.decode()
    assert 'value="BE" selected' in page  # the country chosen first is each team's holidays
    assert root.post(reverse("onboarding_teams"), _teams_post())["Location"] == reverse("onboarding_people")
    closers = Team.objects.get(organization=org, key="closers")
    assert closers.calendar["timezone"] == "Europe/Brussels"
    assert closers.calendar["holidays"] == {"country": "BE"}
    assert closers.calendar["closed"] == ["2026-12-24..2026-12-31"]
    assert set(org.teams.values_list("key", flat=True)) == {"growth", "closers"}  # the empty row is no team

    response = root.post(
        reverse("onboarding_people"),
        {
            "team": Team.objects.get(organization=org, key="growth").pk,
            "name": "Ines Peeters",
            "email": "ines@zuidwind.be",
            "role": "lead",
            "fte": "0.8",
            "start_date": "2026-01-05",
            "leave_from": "2026-07-01",
            "leave_until": "2026-07-15",
            "me": "on",
        },
    )
    assert response.status_code == 302
    ines = Person.objects.get(email="ines@zuidwind.be")
    assert ines.user.username == "root" and str(ines.fte) == "0.80" and ines.is_lead
    assert Leave.objects.get(person=ines).end_day == dt.date(2026, 7, 15)

    csv = (
        "team;name;email;role;fte;start_date;leave_from;leave_until\n"
        "closers;Bram Claes;bram@zuidwind.be;lead;1;2026-01-05;;\n"
        "Closers;Lotte Maes;lotte@zuidwind.be;member;0.5;2026-03-01;2026-08-03;2026-08-17\n"
        "nobody;Ghost;ghost@zuidwind.be;member;1;2026-01-01;;\n"
        "closers;Bad Fte;bad@zuidwind.be;member;1.5;2026-01-01;;\n"
        "closers;No Date;nodate@zuidwind.be;member;1;someday;;\n"
    )
    response = root.post(
        reverse("onboarding_people"),
        {"upload": "1", "file": SimpleUploadedFile("people.csv", csv.encode(), content_type="text/csv")},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "row 4, column team" in html and "row 5, column fte" in html and "row 6, column start_date" in html
    assert set(Person.objects.filter(team__organization=org).values_list("name", flat=True)) == {
        "Ines Peeters",
        "Bram Claes",
        "Lotte Maes",
    }  # the valid rows are kept

    response = root.post(reverse("onboarding_agreement"), {"language": "nl"})
    draft = AgreementVersion.objects.get(agreement__organization=org)
    assert response["Location"] == reverse("editor_version", args=[draft.pk])
    assert draft.status == "draft" and draft.document["agreement"]["language"] == "nl"
    assert [p["key"] for p in draft.document["parties"]] == ["growth", "closers"]
    volume = next(c for c in draft.document["commitments"] if c["key"] == "mql-volume")
    assert (volume["owner"], volume["beneficiary"]) == ("growth", "closers")
    assert draft.document["calendars"]["closers"]["hours"] == closers.calendar["hours"]

    scorecard = root.get(reverse("measure")).content.decode()
    assert "What to do next" in scorecard
    assert reverse("editor_version", args=[draft.pk]) in scorecard  # finish the agreement
    assert "Bring in your leads" in scorecard


def test_errors_are_on_their_fields_and_nothing_is_half_written(root):
    response = root.post(reverse("onboarding_start"), {"name": "", "timezone": "Mars/Base", "country": "XX"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"name", "timezone", "country"} <= set(errors)
    assert not Organization.objects.exists()
    root.post(
        reverse("onboarding_start"), {"name": "Zuidwind", "timezone": "Europe/Brussels", "country": "BE"}
    )
    again = root.post(
        reverse("onboarding_start"), {"name": "Zuidwind", "timezone": "Europe/Brussels", "country": "BE"}
    )
    assert again.status_code == 400 and "name" in again.context["form"].errors
    bad = root.post(reverse("onboarding_teams"), _teams_post(**{"teams-1-hours": "mon-fri: 9-5"}))
    assert bad.status_code == 400
    assert "hours" in bad.context["formset"].forms[1].errors
    assert not Team.objects.exists()  # the first team was not kept without the second
    one = root.post(reverse("onboarding_teams"), _teams_post(**{"teams-1-name": ""}))
    assert one.status_code == 400 and "two teams" in one.content.decode()


def test_who_may_set_up_an_organisation(demo):
    org = demo.agreement.organization
    member = member_client(org, username="member")
    assert member.get(reverse("onboarding_start")).status_code == 403
    assert (
        member.post(
            reverse("onboarding_start"), {"name": "X", "timezone": "UTC", "country": "NL"}
        ).status_code
        == 403
    )
    viewer = member_client(org, role=Membership.Role.VIEWER, username="viewer")
    for name in ("onboarding_teams", "onboarding_people", "onboarding_agreement", "onboarding_setup"):
        assert viewer.get(reverse(name)).status_code == 403
        assert member.post(reverse(name), {}).status_code == 403
    admin = member_client(org, role=Membership.Role.ADMIN, username="admin")
    assert admin.get(reverse("onboarding_start")).status_code == 200
    assert Organization.objects.count() == 1
    anonymous = Client().get(reverse("onboarding_start"))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_the_template_fitted_to_three_teams_is_a_valid_agreement(db):
    org = Organization.objects.create(key="z", name="Z", timezone="Europe/Amsterdam")
    spec = {"timezone": "Europe/Amsterdam", "hours": {"mon-fri": ["09:00-17:00"]}}
    for key, kind in (("acquisition", "marketing"), ("bdr", "sdr"), ("closing", "sales")):
        Team.objects.create(organization=org, key=key, name=key.title(), kind=kind, calendar=spec)
    doc = agreement_load_yaml(agreement_template_for(organization=org, lang="en", today=dt.date(2026, 5, 4)))
    assert [p.key for p in doc.parties] == ["acquisition", "closing", "bdr"]
    assert doc.info.effective_from == dt.date(2026, 5, 4)
    assert {c.owner for c in doc.commitments} == {"acquisition", "closing"}
    assert {r.owner for r in doc.reason_codes} <= {"acquisition", "closing"}


def test_the_onboarding_in_dutch(root):
    root.post("/i18n/setlang/", {"language": "nl", "next": "/"})
    html = root.get(reverse("onboarding_start")).content.decode()
    assert "Een nieuwe organisatie" in html and "Tijdzone" in html
