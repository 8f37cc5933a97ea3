"""Organisations are sealed off: every page of the app and every admin URL, opened by a user of another
organisation (a member, and a staff organisation admin with every model permission), answers 403 or 404
or shows only the user's own organisation — and nothing of the first organisation is written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from leadpact.agreements.models import Agreement, AgreementVersion
from leadpact.agreements.services import agreement_import
from leadpact.core.agreement import agreement_template
from leadpact.demo.services import demo_load
from leadpact.leads.models import (
    ApiToken,
    ImportJob,
    Lead,
    SavedMapping,
    WebhookDelivery,
    WebhookIntegration,
    WebhookRejection,
)
from leadpact.leads.services import api_token_create, webhook_integration_create
from leadpact.measurement.closing.services import period_close
from leadpact.measurement.disputes.models import Dispute
from leadpact.measurement.disputes.services import dispute_open
from leadpact.measurement.models import Alert, AlertWebhook, LeadClock, Restatement
from leadpact.measurement.targets.services import target_override_set
from leadpact.organization.models import Membership, Organization, Person, Team
from leadpact.outbox.models import OutboxAttachment, OutboxMessage
from leadpact.reviews.models import ActionItem, ExchangeNote, ReviewSeries
from leadpact.reviews.services import (
    action_item_add,
    review_for_day,
    review_note_post,
    series_create,
    support_commitment_add,
)
from leadpact.web.admin_site import organization_path
from leadpact.web.views.data import stage_upload
from tests.conftest import member_client
from tests.measurement.scene import NINE_TO_FIVE, add_lead, local, person

pytestmark = pytest.mark.django_db

SECRET = "org-one-webhook-secret-value"
# text that belongs to the first organisation only: none of it may reach the other organisation's users
MARKERS = ("Noordkaap", "Anna Alpha", "anna.alpha@b.nl", "Sanne de Vries", "Julia Bos", SECRET)


@pytest.fixture
def first():
    """The demo organisation with a record of every kind the admin shows."""
    demo_load(with_leads=False)
    version = AgreementVersion.objects.get(status="active")
    org = version.agreement.organization
    now = local(2026, 10, 20, 12)
    lead = add_lead(
        org,
        "anna",
        name="Anna Alpha",
        email="anna.alpha@b.nl",
        events=[("handed_over", local(2026, 9, 7, 10), {}), ("assigned", local(2026, 9, 7, 10, 5), {})],
    )
    api_token_create(organization=org, name="Zapier", scope="write", actor="test")
    SavedMapping.objects.create(organization=org, name="ours", mapping={}, created_at=now)
    integration, _credentials = webhook_integration_create(
        organization=org, kind="generic", name="Generic", secret=SECRET, actor="test"
    )
    WebhookDelivery.objects.create(integration=integration, received_at=now, headers={}, body=b"{}")
    WebhookRejection.objects.create(integration=integration, path="/hooks/x/", received_at=now, reason="bad")
    ImportJob.objects.create(
        organization=org, file_name="a.csv", fingerprint="f" * 64, mapping={}, started_at=now
    )
    rep = person("julia")
    target_override_set(
        agreement=version.agreement,
        commitment_key="mql-volume",
        period="2026-10",
        person=person("daan"),
        value=Decimal(100),
        reason="a campaign",
        actor="test",
    )
    dispute_open(lead=lead, commitment_key="mql-volume", opened_by=rep, reason="a student", now=now)
    LeadClock.objects.create(
        lead=lead,
        commitment_key="first-touch",
        agreement_version=version,
        owner=rep,
        started_at=now,
        due_at=now + dt.timedelta(hours=1),
        elapsed_us=0,
        window_us=3_600_000_000,
        state="running",
        updated_at=now,
    )
    Alert.objects.create(
        lead=lead,
        commitment_key="first-touch",
        threshold="0.8",
        recipient=rep,
        role="owner",
        channel="email",
        address="julia.bos@example.com",
        subject="Anna Alpha is due",
        body="due",
        created_at=now,
        deliver_at=now,
    )
    sales = Team.objects.get(organization=org, key="sales")
    AlertWebhook.objects.create(organization=org, team=sales, url="https://hooks.example.com/x")
    closed = period_close(version=version, period="2026-09", actor=person("sanne"), now=now)
    Restatement.objects.create(
        closed_period=closed, created_at=now, measured_at=now, differences=[], figures={}, fingerprint="x"
    )
    series = series_create(
        agreement=version.agreement,
        key="weekly",
        name="Weekly review",
        rrule="FREQ=WEEKLY;BYDAY=MO",
        starts_on=dt.date(2026, 9, 7),
        time=dt.time(10),
        actor="test",
        now=now,
    )
    review = review_for_day(series=series, day=dt.date(2026, 10, 19))
    sanne = person("sanne")
    review_note_post(
        review=review,
        author=sanne,
        direction="marketing_to_sales",
        category="campaign",
        text="webinar",
        question=True,
        now=now,
    )
    commitment = support_commitment_add(
        agreement=version.agreement, side=sales, text="monthly lost reasons", actor="test", now=now
    )
    action_item_add(
        review=review,
        owner=sanne,
        text="brief sales",
        due=dt.date(2026, 10, 26),
        author=sanne,
        commitment=commitment,
        now=now,
    )
    message = OutboxMessage.objects.create(
        organization=org,
        sent_at=now,
        from_email="leadpact@localhost",
        to=["julia.bos@example.com"],
        subject="Anna Alpha is due",
        body="Anna Alpha (anna.alpha@b.nl) is due",
        html="<p>Anna Alpha is due</p>",
    )
    OutboxAttachment.objects.create(
        message=message, name="anna.pdf", content_type="application/pdf", size=12, content=b"Anna Alpha"
    )
    member_client(org, username="insider")
    return org


@pytest.fixture
def second(first):
    org = Organization.objects.create(key="other", name="Other B.V.")
    for key, kind in (("marketing", "marketing"), ("sales", "sales")):
        team = Team.objects.create(
            organization=org, key=key, name=key.title(), kind=kind, calendar=NINE_TO_FIVE
        )
        Person.objects.create(
            team=team,
            name=f"Olga {key}",
            email=f"olga.{key}@other.example",
            role="lead",
            start_date=dt.date(2026, 1, 1),
        )
    agreement_import(organization=org, yaml_text=agreement_template("en"), actor="test")  # a draft of its own
    return org


@pytest.fixture
def member(second):
    return member_client(second, username="outsider")


@pytest.fixture
def staff(second):
    user = get_user_model().objects.create_user(
        "intruder", password="x-long-enough-passphrase", is_staff=True
    )
    user.user_permissions.set(Permission.objects.all())
    Membership.objects.create(user=user, organization=second, role=Membership.Role.ADMIN)
    client = Client()
    client.force_login(user)
    return client


def _state():
    """Every row of every model, to prove that nothing was written."""
    return {
        model._meta.label: sorted(
            (str(row.pk), repr(sorted(model_to_dict(row).items(), key=lambda kv: kv[0])))
            for row in model.objects.all()
        )
        for model in apps.get_models()
        if model._meta.label not in {"sessions.Session", "axes.AccessLog", "axes.AccessAttempt"}
    }


def _app_routes(patterns=None, prefix=""):
    for item in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(item.pattern)
        if route.startswith(("admin/", "api/", "hooks/", "i18n/", "accounts/")):
            continue
        if isinstance(item, URLResolver):
            yield from _app_routes(item.url_patterns, route)
        elif isinstance(item, URLPattern):
            yield item.name


_LEAD_ACTIONS = ("attempt", "accept", "reject", "feedback", "dispute", "duplicate")


def _app_urls(first):
    agreement = Agreement.objects.get(organization=first)
    lead = Lead.objects.get(organization=first, name="Anna Alpha")
    marketing = Team.objects.get(organization=first, key="marketing")
    sanne = person("sanne")
    dispute = Dispute.objects.get(lead=lead)
    restatement = Restatement.objects.get(closed_period__agreement_version__agreement=agreement)
    q = f"period=2026-10&agreement={agreement.key}&organization={first.key}"
    job = ImportJob.objects.get(organization=first)
    token = ApiToken.objects.get(organization=first)
    hook = WebhookIntegration.objects.get(organization=first)
    alert_hook = AlertWebhook.objects.get(organization=first)
    staged = stage_upload(first, "anna.csv", [b"external_id,name\nA-1,Anna Alpha\n"])
    message = OutboxMessage.objects.get(organization=first)
    attachment = message.attachments.get()
    return {
        "data": ["/data/"],
        "data_map": [f"/data/upload/{staged}/", f"/data/upload/{staged}/?base=none"],
        "data_import": [f"/data/imports/{job.pk}/"],
        "data_import_progress": [f"/data/imports/{job.pk}/progress/"],
        "data_import_problems": [f"/data/imports/{job.pk}/problems.csv"],
        "data_integrations": ["/data/integrations/"],
        "data_token_revoke": [f"/data/integrations/tokens/{token.pk}/revoke/"],
        "data_webhook": [f"/data/integrations/webhooks/{hook.pk}/"],
        "data_webhook_test": [f"/data/integrations/webhooks/{hook.pk}/test/"],
        "data_alerts": ["/data/alerts/"],
        "data_alert_webhook_delete": [f"/data/alerts/webhooks/{alert_hook.pk}/delete/"],
        "data_alerts_test": ["/data/alerts/test/"],
        "data_outbox": ["/data/outbox/", "/data/outbox/?page=2"],
        "data_outbox_message": [f"/data/outbox/{message.pk}/"],
        "data_outbox_html": [f"/data/outbox/{message.pk}/html/"],
        "data_outbox_attachment": [f"/data/outbox/{message.pk}/attachments/{attachment.pk}/"],
        "home": ["/", f"/?organization={first.key}"],
        "organizations": ["/organizations/"],
        "agreement": [f"/agreements/{agreement.pk}/", f"/agreements/{agreement.pk}/?version=1"],
        "targets": [f"/targets/?{q}"],
        "measure": [f"/measure/?{q}", f"/measure/?period=2026-09&organization={first.key}"],
        "measure_evidence": [
            f"/measure/evidence/?{q}&commitment=mql-volume&subject=team:{marketing.pk}",
            f"/measure/evidence/?{q}&commitment=mql-volume&subject=person:{sanne.pk}",
            f"/measure/evidence/?{q}&commitment=mql-volume&subject=lead:{lead.pk}",
            f"/measure/evidence/?{q}&commitment=mql-volume&subject=team:{marketing.pk}&format=csv",
            f"/measure/evidence/?{q}&commitment=mql-volume&subject=team:{marketing.pk}&format=xlsx",
        ],
        "measure_commitment": [
            f"/measure/mql-volume/?{q}",
            f"/measure/mql-volume/?{q}&subject=person:{sanne.pk}",
            f"/measure/mql-volume/?{q}&subject=team:{marketing.pk}",
        ],
        "lead": [f"/leads/{lead.pk}/"],
        "agreements": ["/agreements/"],
        "lead_act": [f"/leads/{lead.pk}/act/{action}/" for action in _LEAD_ACTIONS],
        "disputes": ["/disputes/"],
        "dispute_decide": [f"/disputes/{dispute.pk}/decide/"],
        "restatements": ["/restatements/"],
        "restatement_decide": [f"/restatements/{restatement.pk}/decide/"],
        "period_close": [f"/close/?{q}", f"/close/?period=2026-09&agreement={agreement.key}"],
        "team": ["/team/"],
        "team_invite": ["/team/invite/"],
        "accountability": [f"/accountability/?{q}"],
        "accountability_person": [f"/accountability/{sanne.pk}/?{q}"],
        **_editor_urls(first, agreement),
        **_review_urls(first),
    }


def _editor_urls(first, agreement):
    """The agreement editor's and onboarding's pages, on the first organisation's version in force."""
    version = agreement.versions.get(status="active")
    v = version.pk
    return {
        "editor_start": ["/editor/", f"/editor/?source=active:{agreement.pk}"],
        "editor_version": [f"/editor/{v}/"],
        "editor_section": [
            f"/editor/{v}/{section}/" for section in ("general", "definitions", "commitments")
        ],
        "editor_rule_check": [f"/editor/{v}/check/?rule=lead.score%3E1"],
        "editor_yaml": [f"/editor/{v}/yaml/", f"/editor/{v}/yaml/?download"],
        "editor_propose": [f"/editor/{v}/propose/"],
        "editor_sign": [f"/editor/{v}/sign/?content_hash={version.content_hash}"],
        "editor_activate": [f"/editor/{v}/activate/"],
        "editor_delete": [f"/editor/{v}/delete/"],
        "onboarding_start": ["/onboarding/"],
        "onboarding_setup": ["/onboarding/setup/"],
        "onboarding_teams": ["/onboarding/teams/"],
        "onboarding_people": ["/onboarding/people/"],
        "onboarding_agreement": ["/onboarding/agreement/"],
    }


def _review_urls(first):
    series = ReviewSeries.objects.get(agreement__organization=first)
    note = ExchangeNote.objects.get(review__series=series)
    item = ActionItem.objects.get(review__series=series)
    at = f"/reviews/{series.pk}/2026-10-19/"
    return {
        "reviews": ["/reviews/"],
        "review_series": [f"/reviews/{series.pk}/"],
        "review_series_calendar": [f"/reviews/{series.pk}/calendar.ics"],
        "review_series_rotate": [f"/reviews/{series.pk}/feed/rotate/"],
        # the feed opens with its secret only: a guessed or other token finds nothing
        "review_feed": ["/reviews/feed/not-the-token-of-this-series.ics", f"/reviews/feed/{series.pk}.ics"],
        "review_action_done": [f"/reviews/actions/{item.pk}/done/"],
        "review": [at, f"/reviews/{series.pk}/2026-10-20/"],
        "review_note": [f"{at}note/"],
        "review_answer": [f"{at}answer/{note.pk}/"],
        "review_meeting": [f"{at}meeting/"],
        "review_download": [f"{at}pack.md", f"{at}pack.html"],
    }


def _sealed(response):
    body = response.content.decode(errors="replace")
    leaked = [m for m in MARKERS if m in body]
    assert response.status_code in (200, 302, 400, 403, 404, 405), (response.request, response.status_code)
    assert not leaked, (response.request["PATH_INFO"], response.request.get("QUERY_STRING"), leaked)


def test_every_app_page_is_covered_by_this_test(first):
    assert set(_app_routes()) == set(_app_urls(first))


@pytest.mark.parametrize("who", ["member", "staff"])
def test_no_app_page_shows_or_changes_another_organisations_data(first, second, who, request):
    client = request.getfixturevalue(who)
    before = _state()
    for urls in _app_urls(first).values():
        for url in urls:
            _sealed(client.get(url))
            _sealed(client.post(url, {"organization": first.pk}))
    assert _state() == before


def test_choosing_another_organisation_in_the_picker_is_refused(first, member):
    response = member.post("/organizations/", {"organization": first.pk})
    assert response.status_code == 400
    assert "Other B.V." in member.get("/").content.decode()


def _admin_urls(model, pk):
    info = (model._meta.app_label, model._meta.model_name)
    return [
        reverse("admin:{}_{}_change".format(*info), args=[pk]),
        reverse("admin:{}_{}_delete".format(*info), args=[pk]),
        reverse("admin:{}_{}_history".format(*info), args=[pk]),
    ]


def test_a_staff_admin_of_another_organisation_reaches_nothing_of_the_first_in_the_admin(
    first, second, staff
):
    before = _state()
    covered = []
    for model, model_admin in admin.site._registry.items():
        path = organization_path(model)
        info = (model._meta.app_label, model._meta.model_name)
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        if path is None:  # users, groups, sign-in attempts: operators only
            assert staff.get(changelist).status_code == 403, model
            continue
        ours = model.objects.filter(**{path: first.pk}).order_by("pk")
        assert ours.exists(), f"the scene has no {model._meta.label} of the first organisation"
        covered.append(model._meta.label)
        listing = staff.get(changelist)
        assert listing.status_code in (200, 403), model
        for row in ours[:5]:
            change = reverse("admin:{}_{}_change".format(*info), args=[row.pk])
            assert change not in listing.content.decode(), (model, row.pk)
        _sealed(listing)
        pk = ours.first().pk
        for url in _admin_urls(model, pk):
            assert staff.get(url).status_code in (403, 404), url
            assert staff.post(url, {"post": "yes", "name": "taken"}).status_code in (403, 404), url
        # an action on the list with the first organisation's row selected does nothing to it
        for action in list(model_admin.get_actions(staff.get(changelist).wsgi_request) or ()):
            staff.post(changelist, {"action": action, "_selected_action": [pk], "post": "yes", "reason": "x"})
        # adding a row that points at the first organisation is refused on the field
        add = reverse("admin:{}_{}_add".format(*info))
        response = staff.post(
            add,
            {
                "organization": first.pk,
                "team": Team.objects.filter(organization=first)[0].pk,
                "key": "taken",
                "name": "taken",
                "slug": "taken",
                "kind": "generic",
            },
        )
        assert response.status_code in (200, 403), (model, response.status_code)
        _sealed(response)
    assert _state() == before
    assert len(covered) >= 20


def test_related_choices_in_admin_forms_offer_only_the_staff_users_organisations(first, second, staff):
    html = staff.get(reverse("admin:organization_person_add")).content.decode()
    assert "Other B.V." in html or "Marketing" in html
    for team in Team.objects.filter(organization=first):
        assert f'value="{team.pk}"' not in html
    assert staff.get(reverse("admin:organization_organization_add")).status_code == 403


def test_a_staff_user_without_an_admin_membership_sees_no_organisation_data(first, second):
    user = get_user_model().objects.create_user("clerk", password="x-long-enough-passphrase", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    Membership.objects.create(user=user, organization=second, role=Membership.Role.MEMBER)
    client = Client()
    client.force_login(user)
    assert client.get(reverse("admin:leads_lead_changelist")).status_code == 403
    assert "Leads" not in client.get(reverse("admin:index")).content.decode()
