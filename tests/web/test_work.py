"""The work pages: a lead worked from its page (each action an event through the API's path, audited),
disputes decided, a period closed after its confirmation, a restatement accepted or declined, My page,
and inviting a person from the team page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone

from leadpact.audit.models import AuditEntry
from leadpact.leads.models import Lead, LeadEvent, LeadState
from leadpact.measurement.closing.models import ClosedPeriod, Restatement
from leadpact.measurement.closing.services import period_close, restatement_decline
from leadpact.measurement.disputes.models import Dispute
from leadpact.organization.models import Membership, Person
from leadpact.reviews.services import action_item_add, review_for_day, series_create
from tests.conftest import PASSWORD, member_client
from tests.measurement.scene import add_lead, person

pytestmark = pytest.mark.django_db


def _lead(demo, ext="w1", **fields):
    now = timezone.now()
    org = demo.agreement.organization
    return add_lead(
        org,
        ext,
        name=f"Lead {ext}",
        events=[
            ("handed_over", now - timezone.timedelta(hours=3), {}),
            ("assigned", now - timezone.timedelta(hours=3), {}),
        ],
        **fields,
    )


def _client(demo, who, role=Membership.Role.MEMBER):
    return member_client(demo.agreement.organization, role=role, username=who, person=person(who))


def test_a_rep_logs_an_attempt_and_rejects_with_a_reason_code_from_the_agreement(demo):
    lead = _lead(demo)
    julia = _client(demo, "julia")
    page = julia.get(f"/leads/{lead.pk}/").content.decode()
    assert "Log a contact attempt" in page and "not_icp" in page
    response = julia.post(
        f"/leads/{lead.pk}/act/attempt/", {"attempt-channel": "phone", "attempt-note": "voicemail"}
    )
    assert response.status_code == 302
    attempt = LeadEvent.objects.get(lead=lead, kind="contact_attempt")
    assert attempt.data["channel"] == "phone" and attempt.data["human"] is True
    assert attempt.actor_label == "Julia Bos"
    assert AuditEntry.objects.filter(action="lead.contact_attempt").count() == 1
    # no reason code: refused on the field, nothing stored
    refused = julia.post(f"/leads/{lead.pk}/act/reject/", {"reject-reason_code": ""})
    assert refused.status_code == 400
    assert "This field is required" in refused.content.decode()
    unknown = julia.post(f"/leads/{lead.pk}/act/reject/", {"reject-reason_code": "made_up"})
    assert unknown.status_code == 400
    assert not LeadEvent.objects.filter(lead=lead, kind="rejected").exists()
    assert julia.post(f"/leads/{lead.pk}/act/reject/", {"reject-reason_code": "not_icp"}).status_code == 302
    state = LeadState.objects.get(lead=lead)
    assert (state.decision, state.reason_code, state.human_attempts) == ("rejected", "not_icp", 1)
    assert julia.post(f"/leads/{lead.pk}/act/feedback/", {"feedback-text": "a student"}).status_code == 302
    assert LeadEvent.objects.filter(lead=lead, kind="feedback", data__reason="a student").exists()


def test_accept_and_duplicate_marks_are_audited_and_a_mark_can_be_cleared(demo):
    lead, other = _lead(demo, "a"), _lead(demo, "b")
    julia = _client(demo, "julia")
    assert julia.post(f"/leads/{lead.pk}/act/accept/").status_code == 302
    assert LeadState.objects.get(lead=lead).decision == "accepted"
    assert julia.post(f"/leads/{lead.pk}/act/duplicate/", {"duplicate-original": other.pk}).status_code == 302
    assert Lead.objects.get(pk=lead.pk).duplicate_of_id == other.pk
    itself = julia.post(f"/leads/{lead.pk}/act/duplicate/", {"duplicate-original": lead.pk})
    assert itself.status_code == 400 and "cannot be a duplicate of itself" in itself.content.decode()
    assert julia.post(f"/leads/{lead.pk}/act/duplicate/", {"duplicate-original": ""}).status_code == 302
    assert Lead.objects.get(pk=lead.pk).duplicate_of_id is None
    assert AuditEntry.objects.filter(action="lead.duplicate").count() == 2


def test_someone_elses_lead_is_refused_to_a_member_and_open_to_the_owners_team_lead(demo):
    lead = _lead(demo)
    lotte = _client(demo, "lotte")  # SDR member, not the owner
    assert lotte.post(f"/leads/{lead.pk}/act/accept/").status_code == 403
    assert "Log a contact attempt" not in lotte.get(f"/leads/{lead.pk}/").content.decode()
    bram = _client(demo, "bram")  # lead of Sales, Julia's team
    assert bram.post(f"/leads/{lead.pk}/act/accept/").status_code == 302
    viewer = member_client(demo.agreement.organization, role=Membership.Role.VIEWER, username="v")
    assert viewer.post(f"/leads/{lead.pk}/act/attempt/", {"attempt-channel": "phone"}).status_code == 403
    assert not LeadEvent.objects.filter(lead=lead, kind="contact_attempt").exists()


def test_a_dispute_opened_on_the_lead_is_decided_in_the_queue_and_shows_on_the_lead(demo):
    lead = _lead(demo)
    julia = _client(demo, "julia")
    assert (
        julia.post(
            f"/leads/{lead.pk}/act/dispute/", {"dispute-commitment": "mql-volume", "dispute-reason": ""}
        ).status_code
        == 400
    )
    assert (
        julia.post(
            f"/leads/{lead.pk}/act/dispute/",
            {"dispute-commitment": "mql-volume", "dispute-reason": "a student"},
        ).status_code
        == 302
    )
    dispute = Dispute.objects.get(lead=lead)
    # a rep may not decide; a party lead may
    assert julia.post(f"/disputes/{dispute.pk}/decide/", {"decide-decision": "upheld"}).status_code == 403
    bram = _client(demo, "bram")
    queue = bram.get("/disputes/").content.decode()
    assert "a student" in queue and "Lead w1" in queue
    back = bram.post(
        f"/disputes/{dispute.pk}/decide/",
        {"decide-decision": "upheld", "decide-note": "agreed", "next": f"/leads/{lead.pk}/"},
    )
    assert back.status_code == 302 and back["Location"] == f"/leads/{lead.pk}/"
    dispute.refresh_from_db()
    assert (dispute.status, dispute.note, dispute.decided_by.name) == ("upheld", "agreed", "Bram de Groot")
    assert "decided by Bram de Groot" in bram.get(f"/leads/{lead.pk}/").content.decode()
    # an outside "next" is not followed
    again = bram.post(
        f"/disputes/{dispute.pk}/decide/", {"decide-decision": "rejected", "next": "//evil.example/"}
    )
    assert again["Location"] == "/disputes/"


def test_closing_a_period_shows_what_is_frozen_first_and_needs_the_box_ticked(demo):
    sanne = _client(demo, "sanne")
    url = "/close/?period=2026-09"
    page = sanne.get(url)
    assert page.status_code == 200 and "What will be frozen" in page.content.decode()
    assert sanne.post(url, {}).status_code == 400
    assert not ClosedPeriod.objects.exists()
    assert sanne.post(url, {"confirm": "on"}).status_code == 302
    assert ClosedPeriod.objects.get(period="2026-09").closed_by.name == "Sanne de Vries"
    assert "was closed on" in sanne.get(url).content.decode()
    assert _client(demo, "julia").get(url).status_code == 403


def _restatement(demo):
    closed = period_close(version=demo, period="2026-09", actor=person("sanne"), now=timezone.now())
    return Restatement.objects.create(
        closed_period=closed,
        created_at=timezone.now(),
        measured_at=timezone.now(),
        differences=[
            {
                "commitment": "mql-volume",
                "subject": f"team:{person('sanne').team_id}",
                "field": "actual",
                "stored": "3",
                "recomputed": "4",
            }
        ],
        figures={},
        fingerprint="f1",
    )


def test_a_party_lead_accepts_or_declines_a_restatement_with_its_differences_shown(demo):
    restatement = _restatement(demo)
    julia = _client(demo, "julia")
    assert (
        julia.post(f"/restatements/{restatement.pk}/decide/", {"restatement-decision": "accept"}).status_code
        == 403
    )
    bram = _client(demo, "bram")
    page = bram.get("/restatements/").content.decode()
    assert "Marketing" in page and ">3<" in page and ">4<" in page
    assert (
        bram.post(
            f"/restatements/{restatement.pk}/decide/",
            {"restatement-decision": "decline", "restatement-note": "late import"},
        ).status_code
        == 302
    )
    restatement.refresh_from_db()
    assert (restatement.status, restatement.note) == ("declined", "late import")
    assert AuditEntry.objects.filter(action="restatement.decline").count() == 1
    with pytest.raises(Exception, match="not pending"):
        restatement_decline(restatement=restatement, person=person("bram"), now=timezone.now())


def test_my_page_lists_my_open_leads_with_their_clocks_and_what_waits_for_me(demo):
    lead = _lead(demo)
    julia = _client(demo, "julia")
    html = julia.get("/").content.decode()
    assert "My page" in html and "Lead w1" in html and "a decision" in html
    assert "an action item" not in html
    review = review_for_day(
        series=series_create(
            agreement=demo.agreement,
            key="monthly",
            name="Monthly review",
            rrule="FREQ=MONTHLY;BYDAY=1MO",
            starts_on=dt.date(2026, 1, 5),
            time=dt.time(10),
            actor="test",
            now=timezone.now(),
        ),
        day=dt.date(2026, 3, 2),
    )
    action_item_add(
        review=review,
        owner=person("julia"),
        text="Send marketing the lost reasons",
        due=dt.date(2026, 3, 9),
        author=person("bram"),
        now=timezone.now(),
    )
    html = julia.get("/").content.decode()
    assert "an action item" in html and "Send marketing the lost reasons" in html  # overdue: due in March
    julia.post(f"/leads/{lead.pk}/act/reject/", {"reject-reason_code": "not_icp"})
    html = julia.get("/").content.decode()
    assert "feedback" in html
    bram = _client(demo, "bram")
    assert "Lead w1" in bram.get("/").content.decode()  # the team's leads for the team lead
    assert "Lead w1" not in _client(demo, "lotte").get("/").content.decode()
    # an admin in no team sees the organisation as a whole: every team's figures and the open leads
    admin = member_client(demo.agreement.organization, role=Membership.Role.ADMIN, username="ops")
    html = admin.get("/").content.decode()
    assert "the organisation as a whole" in html and "Every team" in html
    assert "Marketing" in html and "Sales" in html


def test_the_agreement_list_moved_to_agreements(demo):
    client = _client(demo, "julia")
    assert demo.agreement.title in client.get("/agreements/").content.decode()


def test_a_team_lead_invites_a_person_who_sets_a_password_with_the_link(demo):
    bram = _client(demo, "bram")
    sales = person("bram").team
    response = bram.post(
        "/team/invite/",
        {
            "team": sales.pk,
            "name": "Nina Nieuw",
            "email": "nina@example.com",
            "role": "member",
            "access": "member",
            "fte": "0.8",
            "start_date": "2026-12-01",
            "language": "nl",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    nina = Person.objects.get(email="nina@example.com")
    assert nina.team == sales and nina.user.username == "nina@example.com"
    assert Membership.objects.get(user=nina.user).role == "member"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "uitgenodigd" in message.subject
    link = re.search(r"https?://\S+/accounts/reset/\S+/", message.body).group(0)
    path = link.split("testserver", 1)[1]
    client = Client()
    form = client.get(path, follow=True)
    assert form.status_code == 200
    done = client.post(form.redirect_chain[-1][0], {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert done.status_code == 302
    signed_in = Client().post("/accounts/login/", {"username": "nina@example.com", "password": PASSWORD})
    assert signed_in.status_code == 302
    # a member may not invite; a lead may not make an admin
    assert _client(demo, "julia").post("/team/invite/", {}).status_code == 403
    admin = bram.post(
        "/team/invite/",
        {"team": sales.pk, "name": "X", "email": "x@example.com", "role": "member", "access": "admin",
         "fte": "1", "start_date": "2026-12-01", "language": "en"},
    )  # fmt: skip
    assert admin.status_code == 400 and not get_user_model().objects.filter(username="x@example.com").exists()
    assert "Nina Nieuw" in bram.get("/team/").content.decode()
