"""The admin speaks the reader's language: model names, columns, choices, actions, messages and errors of
the organisation, agreements and audit apps in English and in Dutch."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from leadpact.agreements.services import agreement_import
from leadpact.organization.models import Leave, Organization, Person, Team
from leadpact.organization.services import leave_add
from tests.organization.factories import NOW, make_person

pytestmark = pytest.mark.django_db

SMALL = (Path(__file__).parents[1] / "agreements" / "small.yaml").read_text(encoding="utf-8")

# (admin url name, English name, Dutch name) as the index lists them
MODELS = [
    ("organization_organization", "Organizations", "Organisaties"),
    ("organization_team", "Teams", "Teams"),
    ("organization_person", "People", "Medewerkers"),
    ("organization_leave", "Leave", "Verlof"),
    ("agreements_agreement", "Agreements", "Overeenkomsten"),
    ("agreements_agreementversion", "Agreement versions", "Overeenkomstversies"),
    ("agreements_definitionversion", "Definition versions", "Definitieversies"),
    ("agreements_signature", "Signatures", "Handtekeningen"),
    ("agreements_commitment", "Commitments", "Afspraken"),
    ("audit_auditentry", "Audit entries", "Auditregels"),
]
APPS = {"en": ("Organisation", "Agreements", "Audit"), "nl": ("Organisatie", "Overeenkomsten", "Audit")}


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser(username="root", email="", password=None)
    client.force_login(user)
    return client


@pytest.fixture
def draft():
    organization = Organization.objects.create(key="acme", name="Acme")
    version = agreement_import(organization=organization, yaml_text=SMALL, actor="test", now=NOW)
    sales = Team.objects.get(organization=organization, key="sales")
    lead = make_person(sales, "Sid Sales", role=Person.Role.LEAD)
    leave_add(person=lead, first_day=dt.date(2026, 2, 2), end_day=dt.date(2026, 2, 4), actor="test")
    return version


def _get(client, url, language):
    response = client.get(url, headers={"accept-language": language})
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _link_text(page, url):
    """The text of the first link to ``url`` on the page."""
    match = re.search(rf'<a href="{re.escape(url)}"[^>]*>([^<]*)</a>', page)
    assert match, url
    return match.group(1).strip()


@pytest.mark.parametrize("language", ["en", "nl"])
def test_the_admin_index_names_apps_and_models_in_the_readers_language(admin_client, language):
    page = _get(admin_client, reverse("admin:index"), language)
    names = {url: nl if language == "nl" else en for url, en, nl in MODELS}
    assert {url: _link_text(page, reverse(f"admin:{url}_changelist")) for url in names} == names
    for app in APPS[language]:
        assert f">{app}</a>" in page
    assert ("Overeenkomsten" in page) == (language == "nl")


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("en", ["Select person to change", ">Role<", ">FTE<", ">Start date<", "Team lead"]),
        ("nl", ["Selecteer medewerker om te wijzigen", ">Rol<", ">Fte<", ">Begindatum<", "Teamleider"]),
    ],
)
def test_the_people_list_has_its_columns_and_roles_in_the_readers_language(
    admin_client, draft, language, texts
):
    page = _get(admin_client, reverse("admin:organization_person_changelist"), language)
    assert [text for text in texts if text not in page] == []


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("en", ["Select leave to change", ">First day<", ">End day<"]),
        ("nl", ["Selecteer verlof om te wijzigen", ">Eerste dag<", ">Einddag<"]),
    ],
)
def test_the_leave_list_in_the_readers_language(admin_client, draft, language, texts):
    page = _get(admin_client, reverse("admin:organization_leave_changelist"), language)
    assert [text for text in texts if text not in page] == []


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        (
            "en",
            [
                "Select agreement version to change",
                ">Draft<",
                ">Content hash<",
                "Propose the selected drafts for signature",
                "Activate the selected signed versions",
            ],
        ),
        (
            "nl",
            [
                "Selecteer overeenkomstversie om te wijzigen",
                ">Concept<",
                ">Inhoudshash<",
                "Geselecteerde concepten ter ondertekening voorstellen",
                "Geselecteerde ondertekende versies activeren",
            ],
        ),
    ],
)
def test_the_version_list_has_status_column_and_actions_in_the_readers_language(
    admin_client, draft, language, texts
):
    page = _get(admin_client, reverse("admin:agreements_agreementversion_changelist"), language)
    assert [text for text in texts if text not in page] == []


@pytest.mark.parametrize(("language", "done"), [("en", "proposed"), ("nl", "voorgesteld")])
def test_the_message_after_an_action_is_in_the_readers_language(admin_client, draft, language, done):
    response = admin_client.post(
        reverse("admin:agreements_agreementversion_changelist"),
        {"action": "propose", "_selected_action": [draft.pk]},
        headers={"accept-language": language},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [f"marketing-sales v1 (draft): {done}"]
    draft.refresh_from_db()
    assert draft.status == "proposed"


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", 'own weekly hours in the calendar “hours” syntax, e.g. {"mon-wed": ["09:00-17:00"]}'),
        ("nl", 'eigen werktijden per week in de “hours”-notatie van de werkkalender, bijv. {"mon-wed": ['),
    ],
)
def test_help_texts_are_in_the_readers_language(admin_client, language, text):
    assert text in _get(admin_client, reverse("admin:organization_person_add"), language)


@pytest.mark.parametrize(
    ("language", "zone", "leave"),
    [
        (
            "en",
            "unknown time zone 'Mars/Olympus': use an IANA name such as Europe/Amsterdam",
            "the end day is exclusive and must be after the first day",
        ),
        (
            "nl",
            "onbekende tijdzone 'Mars/Olympus': gebruik een IANA-naam zoals Europe/Amsterdam",
            "de einddag is niet inbegrepen en moet na de eerste dag liggen",
        ),
    ],
)
def test_model_validation_errors_are_in_the_active_language(draft, language, zone, leave):
    person = Person.objects.get(name="Sid Sales")
    with translation.override(language):
        with pytest.raises(ValidationError) as caught:
            Organization(key="mars", name="Mars", timezone="Mars/Olympus").full_clean()
        assert caught.value.message_dict["timezone"] == [zone]
        with pytest.raises(ValidationError) as caught:
            Leave(person=person, first_day=dt.date(2026, 3, 2), end_day=dt.date(2026, 3, 2)).clean()
        assert caught.value.message_dict["end_day"] == [leave]
