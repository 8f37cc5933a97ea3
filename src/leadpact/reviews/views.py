"""The review pages: the series of the organisation, one series (calendar, feed, support commitments),
one review (its pack as the agenda, and what the meeting records), the downloads and the feed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from leadpact.audit.services import actor_from_request
from leadpact.errors import ApplicationError
from leadpact.leads.models import Lead
from leadpact.organization.models import Person
from leadpact.reviews import services
from leadpact.reviews.forms import (
    ActionItemForm,
    AgendaNoteForm,
    AnswerForm,
    DecisionForm,
    NoteForm,
    SeriesForm,
    SupportCheckForm,
    SupportCommitmentForm,
    commitment_choice,
    person_choice,
)
from leadpact.reviews.ics import series_ics
from leadpact.reviews.models import ActionItem, ExchangeNote, Review, ReviewSeries, SupportCommitment
from leadpact.reviews.render import pack_context, pack_html, pack_markdown, pack_pdf
from leadpact.reviews.schedule import series_occurrences, series_version, series_zone
from leadpact.reviews.selectors import review_on, review_pack, series_get, series_list
from leadpact.web.access import AppRequest, page, require

__all__ = [
    "action_done",
    "review_answer",
    "review_download",
    "review_feed",
    "review_meeting",
    "review_note",
    "review_page",
    "series_calendar",
    "series_index",
    "series_page",
    "series_rotate",
]


def _series(request: AppRequest, pk: int) -> ReviewSeries:
    found = series_get(request.access.organization, pk)
    if found is None:
        raise Http404
    return found


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise Http404 from error


def _review(request: AppRequest, pk: int, day: str, *, store: bool = True) -> Review:
    """The review on ``day``: stored (a write is coming) or, to read, possibly not yet stored."""
    series = _series(request, pk)
    if not store:
        found = review_on(series, _day(day))
        if found is None:
            raise Http404
        return found
    try:
        return services.review_for_day(series=series, day=_day(day))
    except ApplicationError as error:
        raise Http404 from error


def _person(request: AppRequest) -> Person:
    person = request.access.person
    if person is None:
        raise ApplicationError(
            "review.person",
            _("Your login is not a person in a team of this organisation; ask an admin to link it."),
        )
    return person


def _people(series: ReviewSeries) -> list[Person]:
    version = series_version(series)
    if version is None:
        return []
    return list(
        Person.objects.filter(team__in=version.parties.all())
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=timezone.localdate()))
        .select_related("team")
        .order_by("team__key", "name")
    )


def _commitments(series: ReviewSeries) -> list[SupportCommitment]:
    return list(
        SupportCommitment.objects.filter(agreement=series.agreement, active=True)
        .filter(Q(series__isnull=True) | Q(series=series))
        .select_related("side")
    )


def _field_error(form: forms.Form, error: ApplicationError) -> None:
    field = error.extra.get("field")
    form.add_error(field if field in form.fields else None, error.message)


@page()
def series_index(request: AppRequest) -> HttpResponse:
    """Every review series of the organisation, with its next review; a new one for who runs reviews."""
    can_run = request.access.allows("review.run")
    form = SeriesForm(request.POST or None)
    status = 200
    if request.method == "POST":
        require(request, "review.run")
        agreement = _agreement(request)
        if agreement is None:
            form.add_error(None, _("There is no agreement to review yet."))
        elif form.is_valid():
            data = form.cleaned_data
            try:
                created = services.series_create(
                    agreement=agreement,
                    key=data["key"],
                    name=data["name"],
                    rrule=data["rrule"],
                    starts_on=data["starts_on"],
                    time=data["time"],
                    duration_minutes=data["duration_minutes"],
                    period_kind=data["period_kind"],
                    actor=actor_from_request(request),
                    now=timezone.now(),
                )
            except ApplicationError as error:
                _field_error(form, error)
            else:
                return redirect("review_series", pk=created.pk)
        status = 400
    today = timezone.localdate()
    rows = []
    for series in series_list(request.access.organization):
        coming = next(iter(series_occurrences(series, after=today)), None)
        rows.append({"series": series, "next": coming})
    return render(
        request,
        "reviews/series_list.html",
        {"rows": rows, "form": form if can_run else None},
        status=status,
    )


def _agreement(request: AppRequest) -> Any:
    from leadpact.agreements.models import Agreement

    return Agreement.objects.filter(organization=request.access.organization).order_by("key").first()


@page()
def series_page(request: AppRequest, pk: int) -> HttpResponse:
    """One series: its coming and past reviews (moved ones say why), the calendar and feed, the support
    commitments, and a note for the next review."""
    series = _series(request, pk)
    now = timezone.now()
    zone = series_zone(series)
    today = now.astimezone(zone).date()
    coming = []
    for occurrence in series_occurrences(series, after=today):
        coming.append(occurrence)
        if len(coming) == 6:
            break
    past = series.reviews.filter(day__lt=today).order_by("-day")[:12]
    version = series_version(series)
    teams = list(version.parties.all()) if version is not None else []
    support_form = SupportCommitmentForm(request.POST or None, teams=teams)
    status = 200
    if request.method == "POST":
        require(request, "review.run")
        if support_form.is_valid():
            team = next((t for t in teams if str(t.pk) == support_form.cleaned_data["side"]), None)
            try:
                services.support_commitment_add(
                    agreement=series.agreement,
                    side=team,  # type: ignore[arg-type]
                    text=support_form.cleaned_data["text"],
                    cadence=support_form.cleaned_data["cadence"],
                    actor=actor_from_request(request),
                    now=now,
                )
            except ApplicationError as error:
                _field_error(support_form, error)
            else:
                messages.success(request, _("Support commitment added."))
                return redirect("review_series", pk=series.pk)
        status = 400
    feed = request.build_absolute_uri(reverse("review_feed", args=[series.feed_token]))
    return render(
        request,
        "reviews/series.html",
        {
            "series": series,
            "coming": coming,
            "past": past,
            "commitments": _commitments(series),
            "attendees": series.attendees.exclude(end_date__lte=today).order_by("team__key", "name"),
            "support_form": support_form,
            "can_run": request.access.allows("review.run"),
            "feed": feed,
            "webcal": "webcal://" + feed.split("://", 1)[1],
        },
        status=status,
    )


@page("review.run")
@require_POST
def series_rotate(request: AppRequest, pk: int) -> HttpResponse:
    """A new secret feed address; the old one stops working."""
    series = _series(request, pk)
    services.series_feed_rotate(series=series, actor=actor_from_request(request), now=timezone.now())
    messages.success(request, _("The feed has a new address: the old one no longer works."))
    return redirect("review_series", pk=series.pk)


def _ics_response(series: ReviewSeries) -> HttpResponse:
    response = HttpResponse(
        series_ics(series, now=timezone.now()), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{series.key}.ics"'
    return response


@page()
@require_GET
def series_calendar(request: AppRequest, pk: int) -> HttpResponse:
    return _ics_response(_series(request, pk))


@require_GET
def review_feed(request: Any, token: str) -> HttpResponse:
    """The subscribable feed: no login, the secret token in the address is the key."""
    series = ReviewSeries.objects.filter(feed_token=token).select_related("agreement__organization").first()
    if series is None or len(token) < 16:
        raise Http404
    return _ics_response(series)


def _review_context(request: AppRequest, review: Review, **forms_: Any) -> dict[str, Any]:
    series = review.series
    now = timezone.now()
    pack = review_pack(review=review, now=now)
    lang = translation.get_language() or "en"
    lang = "nl" if lang.startswith("nl") else "en"
    context = pack_context(pack, lang)
    people = _people(series)
    commitments = _commitments(series)
    can_run = request.access.allows("review.run") and not review.is_closed
    can_note = request.access.allows("note.post") and not review.is_closed
    saved = review.pk is not None
    attendance = {a.person_id: a.present for a in review.attendance.all()} if saved else {}
    context.update(
        series=series,
        review=review,
        links=True,
        pack_closed=review.is_closed,
        can_run=can_run,
        can_note=can_note,
        answer_form=can_note,
        support_form=can_run,
        action_form=request.access.allows("review.run") or request.access.person is not None,
        me=request.access.person,
        people=[(p, attendance.get(p.pk, False)) for p in people],
        note_form=forms_.get("note_form") or NoteForm(),
        agenda_form=forms_.get("agenda_form") or AgendaNoteForm(),
        decision_form=forms_.get("decision_form") or DecisionForm(),
        action_item_form=forms_.get("action_item_form")
        or ActionItemForm(people=people, commitments=commitments),
        error=forms_.get("error"),
        raised=list(review.action_items.select_related("owner").order_by("due", "id")) if saved else [],
        decisions=list(review.decisions.select_related("created_by")) if saved else [],
        item_notes=list(review.item_notes.select_related("author")) if saved else [],
        previous=Review.objects.filter(series=series, day__lt=review.day).order_by("-day").first(),
        following=next(
            (o for o in series_occurrences(series, after=review.day + dt.timedelta(days=1))), None
        ),
    )
    return context


@page()
def review_page(request: AppRequest, pk: int, day: str) -> HttpResponse:
    """One review: the pack as the agenda, and what the meeting records (reading it writes nothing)."""
    review = _review(request, pk, day, store=False)
    if review.day.isoformat() != day:
        return redirect("review", pk=pk, day=review.day.isoformat())
    return render(request, "reviews/review.html", _review_context(request, review))


def _back(review: Review, anchor: str = "") -> HttpResponse:
    url = reverse("review", args=[review.series_id, review.day.isoformat()])
    return redirect(url + (f"#{anchor}" if anchor else ""))


def _fail(request: AppRequest, review: Review, **forms_: Any) -> HttpResponse:
    return render(request, "reviews/review.html", _review_context(request, review, **forms_), status=400)


@page("note.post")
@require_POST
def review_note(request: AppRequest, pk: int, day: str) -> HttpResponse:
    """A note for this review (anyone who may post notes)."""
    review = _review(request, pk, day)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _fail(request, review, note_form=form)
    data = form.cleaned_data
    lead = None
    if data.get("lead"):
        lead = Lead.objects.filter(organization=request.access.organization, pk=data["lead"]).first()
        if lead is None:
            form.add_error("lead", _("Lead %(id)s is not found.") % {"id": data["lead"]})
            return _fail(request, review, note_form=form)
    try:
        note = services.review_note_post(
            review=review,
            author=_person(request),
            direction=data["direction"],
            category=data["category"],
            text=data["text"],
            question=data["question"],
            lead=lead,
            campaign=data.get("campaign") or "",
            commitment_key=data.get("commitment_key") or "",
            now=timezone.now(),
        )
    except ApplicationError as error:
        _field_error(form, error)
        return _fail(request, review, note_form=form)
    messages.success(request, _("Note posted."))
    return _back(review, f"note-{note.pk}")


@page("note.post")
@require_POST
def review_answer(request: AppRequest, pk: int, day: str, note: int) -> HttpResponse:
    """An answer to the question a note asks."""
    review = _review(request, pk, day)
    found = ExchangeNote.objects.filter(pk=note, review=review).first()
    if found is None:
        raise Http404
    form = AnswerForm(request.POST)
    try:
        if not form.is_valid():
            raise ApplicationError("answer.answer", _("The answer is empty."))
        services.review_note_answer(
            note=found, person=_person(request), answer=form.cleaned_data["answer"], now=timezone.now()
        )
    except ApplicationError as error:
        return _fail(request, review, error=error.message)
    return _back(review, f"note-{found.pk}")


@page("review.run")
@require_POST
def review_meeting(request: AppRequest, pk: int, day: str) -> HttpResponse:
    """What the meeting records: attendance, a note on an agenda item, a decision, an action item, a
    support commitment checked off, and closing the review."""
    review = _review(request, pk, day)
    series = review.series
    what = request.POST.get("what", "")
    now = timezone.now()
    try:
        person = _person(request)
        if what == "attendance":
            invited = {str(p.pk): p for p in _people(series)}
            present = [invited[v] for v in request.POST.getlist("present") if v in invited]
            services.attendance_set(review=review, present=present, person=person, now=now)
            return _back(review, "meeting")
        if what == "agenda_note":
            agenda_form = AgendaNoteForm(request.POST)
            if not agenda_form.is_valid():
                return _fail(request, review, agenda_form=agenda_form)
            services.agenda_note_add(review=review, author=person, now=now, **agenda_form.cleaned_data)
            return _back(review, "meeting")
        if what == "decision":
            decision_form = DecisionForm(request.POST)
            if not decision_form.is_valid():
                return _fail(request, review, decision_form=decision_form)
            services.decision_add(
                review=review, text=decision_form.cleaned_data["text"], author=person, now=now
            )
            return _back(review, "meeting")
        if what == "action":
            people, commitments = _people(series), _commitments(series)
            form = ActionItemForm(request.POST, people=people, commitments=commitments)
            if not form.is_valid():
                return _fail(request, review, action_item_form=form)
            data = form.cleaned_data
            lead = None
            if data.get("lead"):
                lead = Lead.objects.filter(organization=request.access.organization, pk=data["lead"]).first()
                if lead is None:
                    form.add_error("lead", _("Lead %(id)s is not found.") % {"id": data["lead"]})
                    return _fail(request, review, action_item_form=form)
            note = None
            if data.get("note"):
                note = ExchangeNote.objects.filter(review__series=series, pk=data["note"]).first()
                if note is None:
                    form.add_error("note", _("Note %(id)s is not found.") % {"id": data["note"]})
                    return _fail(request, review, action_item_form=form)
            owner = person_choice(form, "owner", people)
            assert owner is not None  # the form's choices are exactly these people
            services.action_item_add(
                review=review,
                owner=owner,
                text=data["text"],
                due=data["due"],
                commitment=commitment_choice(form, commitments),
                lead=lead,
                note=note,
                author=person,
                now=now,
            )
            return _back(review, "meeting")
        if what == "support":
            check = SupportCheckForm(request.POST)
            if not check.is_valid():
                raise ApplicationError("support_check.form", _("Choose kept or not kept."))
            commitment = next(
                (c for c in _commitments(series) if c.pk == check.cleaned_data["commitment"]), None
            )
            if commitment is None:
                raise Http404
            services.support_check(
                review=review,
                commitment=commitment,
                kept=check.cleaned_data["kept"],
                note=check.cleaned_data["note"],
                person=person,
                now=now,
            )
            return _back(review, "item-support")
        if what == "close":
            services.review_close(review=review, person=person, now=now)
            messages.success(request, _("The review is closed; its pack is kept as it was shown."))
            return _back(review)
    except ApplicationError as error:
        return _fail(request, review, error=error.message)
    return _fail(request, review, error=_("Unknown request."))


@page()
@require_POST
def action_done(request: AppRequest, pk: int) -> HttpResponse:
    """An action item is done: its owner says so, or whoever runs the review."""
    item = (
        ActionItem.objects.filter(pk=pk, review__series__agreement__organization=request.access.organization)
        .select_related("review__series")
        .first()
    )
    if item is None:
        raise Http404
    person = request.access.person
    if not (request.access.allows("review.run") or (person is not None and person.pk == item.owner_id)):
        require(request, "review.run")
    try:
        services.action_item_done(item=item, person=_person(request), now=timezone.now())
    except ApplicationError as error:
        messages.error(request, error.message)
    back = request.POST.get("next", "")
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect("review_series", pk=item.review.series_id)


@page()
@require_GET
def review_download(request: AppRequest, pk: int, day: str, fmt: str) -> HttpResponse:
    """The pack as PDF, Markdown or a standalone HTML file, in the page's language (or ``?lang=``)."""
    review = _review(request, pk, day, store=False)
    lang = request.GET.get("lang") or translation.get_language() or "en"
    lang = "nl" if lang.startswith("nl") else "en"
    pack = review_pack(review=review, now=timezone.now())
    name = f"{review.series.key}-{review.day.isoformat()}-{lang}"
    if fmt == "pdf":
        response = HttpResponse(pack_pdf(pack, lang), content_type="application/pdf")
    elif fmt == "md":
        response = HttpResponse(pack_markdown(pack, lang), content_type="text/markdown; charset=utf-8")
    elif fmt == "html":
        response = HttpResponse(pack_html(pack, lang), content_type="text/html; charset=utf-8")
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
