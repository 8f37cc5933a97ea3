"""Writes of reviews: a series and its feed token, the notes both sides post, support commitments and
their check-off, what the meeting records, and closing a review (which freezes its pack).

Every write is atomic and audited (:func:`leadpact.audit.services.audit_record`); times come in as
``now``. A closed review takes no new notes, attendance, decisions or action items; an action item can be
done at any time (it carries to every next review until it is).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import IntegrityError, transaction

from leadpact.agreements.models import Agreement
from leadpact.audit.services import Actor, audit_record, text_digest
from leadpact.errors import ApplicationError
from leadpact.leads.models import Lead
from leadpact.organization.models import Person, Team
from leadpact.reviews.models import (
    AGENDA_ITEMS,
    DIRECTION_CATEGORIES,
    ActionItem,
    AgendaItemNote,
    Attendance,
    Decision,
    ExchangeNote,
    Review,
    ReviewSeries,
    SupportCheck,
    SupportCommitment,
)
from leadpact.reviews.schedule import rrule_check, series_occurrences, series_version, series_zone

__all__ = [
    "action_item_add",
    "action_item_done",
    "agenda_note_add",
    "attendance_set",
    "decision_add",
    "review_close",
    "review_for_day",
    "review_next",
    "review_note_answer",
    "review_note_post",
    "series_create",
    "series_feed_rotate",
    "support_check",
    "support_commitment_add",
]


def _person_actor(person: Person) -> Actor:
    return person.user or f"person:{person.pk}"


def _audit(actor: Actor, action: str, obj: Any, *, agreement: Agreement, at: dt.datetime, **kw: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        at=at,
        organization=agreement.organization,
        agreement=agreement,
        **kw,
    )


def _token() -> str:
    return secrets.token_urlsafe(24)


def _party_people(agreement: Agreement, on: dt.date) -> list[Person]:
    from django.db.models import Q

    version = series_version(ReviewSeries(agreement=agreement))
    if version is None:
        return []
    return list(
        Person.objects.filter(team__in=version.parties.all(), start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=on))
        .order_by("team__key", "name")
    )


def _in_agreement(person: Person, agreement: Agreement, what: str) -> None:
    if person.team.organization_id != agreement.organization_id:
        raise ApplicationError(f"{what}.person", f"{what}: {person.name} is not in {agreement.organization}")


@transaction.atomic
def series_create(
    *,
    agreement: Agreement,
    key: str,
    name: str,
    rrule: str,
    starts_on: dt.date,
    time: dt.time,
    duration_minutes: int = 45,
    attendees: Iterable[Person] | None = None,
    period_kind: str = "month",
    send_before_hours: int = 24,
    language: str = "en",
    actor: Actor,
    now: dt.datetime,
) -> ReviewSeries:
    """A new review series of ``agreement``; attendees default to the people of every party."""
    rule = rrule_check(rrule)
    if ReviewSeries.objects.filter(agreement=agreement, key=key).exists():
        raise ApplicationError(
            "review_series.key",
            f"agreement {agreement.key} has a review series {key!r} already",
            extra={"field": "key"},
        )
    if not 5 <= duration_minutes <= 8 * 60:
        raise ApplicationError(
            "review_series.duration",
            f"review series {key}: a duration of {duration_minutes} minutes; give 5 to 480",
            extra={"field": "duration_minutes"},
        )
    series = ReviewSeries(
        agreement=agreement,
        key=key,
        name=name.strip(),
        rrule=rule,
        starts_on=starts_on,
        time=time,
        duration_minutes=duration_minutes,
        period_kind=period_kind,
        send_before_hours=send_before_hours,
        language=language,
        feed_token=_token(),
        created_at=now,
    )
    series.full_clean(exclude=["attendees"])
    series.save()
    people = list(attendees) if attendees is not None else _party_people(agreement, starts_on)
    for person in people:
        _in_agreement(person, agreement, "review series")
    series.attendees.set(people)
    _audit(
        actor,
        "review_series.create",
        series,
        agreement=agreement,
        at=now,
        after={
            "key": key,
            "name": series.name,
            "rrule": rule,
            "starts_on": starts_on.isoformat(),
            "time": time.isoformat(),
            "duration_minutes": duration_minutes,
            "attendees": sorted(p.email for p in people),
        },
    )
    return series


@transaction.atomic
def series_feed_rotate(*, series: ReviewSeries, actor: Actor, now: dt.datetime) -> ReviewSeries:
    """A new secret for the subscribable feed: the old address stops working at once."""
    series.feed_token = _token()
    series.save(update_fields=["feed_token"])
    _audit(
        actor,
        "review_series.feed_rotate",
        series,
        agreement=series.agreement,
        at=now,
        after={"rotated": True},
    )
    return series


def review_for_day(*, series: ReviewSeries, day: dt.date) -> Review:
    """The review of ``series`` on ``day`` (the day it takes place, or the day the rule planned before it
    moved), stored on first use; an ApplicationError when the series does not meet then."""
    from leadpact.reviews.selectors import review_on

    found = review_on(series, day)
    if found is None:
        raise ApplicationError(
            "review.day",
            f"review series {series.key} does not meet on {day.isoformat()}",
            extra={"field": "date"},
        )
    if found.pk is not None:
        return found
    try:
        with transaction.atomic():
            review, _created = Review.objects.get_or_create(
                series=series,
                day=found.day,
                defaults={
                    "starts_at": found.starts_at,
                    "moved_from": found.moved_from,
                    "moved_reason": found.moved_reason,
                },
            )
    except IntegrityError:
        review = Review.objects.get(series=series, day=found.day)
    return review


def _review_make(series: ReviewSeries, occurrence: Any) -> Review:
    try:
        with transaction.atomic():
            review, _created = Review.objects.get_or_create(
                series=series,
                day=occurrence.day,
                defaults={
                    "starts_at": occurrence.starts_at,
                    "moved_from": occurrence.planned if occurrence.moved else None,
                    "moved_reason": occurrence.reason[:200],
                },
            )
    except IntegrityError:
        review = Review.objects.get(series=series, day=occurrence.day)
    return review


def review_next(*, series: ReviewSeries, now: dt.datetime) -> Review:
    """The first review of ``series`` that has not ended by ``now`` (made on first use)."""
    today = now.astimezone(series_zone(series)).date()
    for occurrence in series_occurrences(series, after=today):
        if occurrence.ends_at > now:
            review = _review_make(series, occurrence)
            if not review.is_closed:
                return review
    raise ApplicationError("review.none", f"review series {series.key} has no review to come")


def _open(review: Review, what: str) -> None:
    if review.is_closed:
        raise ApplicationError(
            f"{what}.closed",
            f"{what}: the review of {review.day.isoformat()} is closed; add it to the next one",
        )


def _text(value: str, what: str, field: str = "text", limit: int = 5000) -> str:
    text = (value or "").strip()
    if not text:
        raise ApplicationError(f"{what}.{field}", f"{what}: the {field} is empty", extra={"field": field})
    if len(text) > limit:
        raise ApplicationError(
            f"{what}.{field}",
            f"{what}: the {field} has {len(text)} characters; at most {limit}",
            extra={"field": field},
        )
    return text


@transaction.atomic
def review_note_post(
    *,
    author: Person,
    direction: str,
    category: str,
    text: str,
    now: dt.datetime,
    series: ReviewSeries | None = None,
    review: Review | None = None,
    question: bool = False,
    lead: Lead | None = None,
    commitment_key: str = "",
    campaign: str = "",
) -> ExchangeNote:
    """A note for a review (``review``, or the next review of ``series``), tagged with its direction."""
    if review is None:
        if series is None:
            raise ApplicationError("note.review", "a note needs a review or a series")
        review = review_next(series=series, now=now)
    _open(review, "note")
    agreement = review.series.agreement
    _in_agreement(author, agreement, "note")
    if direction not in DIRECTION_CATEGORIES:
        raise ApplicationError(
            "note.direction", f"note: unknown direction {direction!r}", extra={"field": "direction"}
        )
    allowed = DIRECTION_CATEGORIES[ExchangeNote.Direction(direction)]
    if category not in allowed:
        raise ApplicationError(
            "note.category",
            f"note: category {category!r} does not belong to {direction}; choose one of {', '.join(allowed)}",
            extra={"field": "category"},
        )
    if lead is not None and lead.organization_id != agreement.organization_id:
        raise ApplicationError("note.lead", f"note: lead {lead.pk} is not found", extra={"field": "lead"})
    note = ExchangeNote(
        review=review,
        direction=direction,
        category=category,
        text=_text(text, "note"),
        author=author,
        created_at=now,
        question=question,
        lead=lead,
        commitment_key=commitment_key.strip(),
        campaign=campaign.strip()[:200],
    )
    note.full_clean()
    note.save()
    _audit(
        _person_actor(author),
        "review_note.post",
        note,
        agreement=agreement,
        at=now,
        after={
            "review": str(review.day),
            "direction": direction,
            "category": category,
            "text": text_digest(note.text),
            "question": question,
            "lead": lead.pk if lead else None,
        },
    )
    return note


@transaction.atomic
def review_note_answer(*, note: ExchangeNote, person: Person, answer: str, now: dt.datetime) -> ExchangeNote:
    """Answer the question a note asks (before or in the meeting)."""
    note = (
        ExchangeNote.objects.select_for_update().select_related("review__series__agreement").get(pk=note.pk)
    )
    _open(note.review, "answer")
    agreement = note.review.series.agreement
    _in_agreement(person, agreement, "answer")
    if not note.question:
        raise ApplicationError("answer.not_question", f"note {note.pk} asks no question")
    before = note.answer
    note.answer = _text(answer, "answer", "answer")
    note.answered_by = person
    note.answered_at = now
    note.save(update_fields=["answer", "answered_by", "answered_at"])
    _audit(
        _person_actor(person),
        "review_note.answer",
        note,
        agreement=agreement,
        at=now,
        before={"answer": text_digest(before)},
        after={"answer": text_digest(note.answer)},
    )
    return note


@transaction.atomic
def support_commitment_add(
    *,
    agreement: Agreement,
    side: Team,
    text: str,
    cadence: str = "",
    series: ReviewSeries | None = None,
    actor: Actor,
    now: dt.datetime,
) -> SupportCommitment:
    """What ``side`` does for the other side; checked off at each review."""
    if side.organization_id != agreement.organization_id:
        raise ApplicationError(
            "support.side", f"support commitment: team {side.key} is not a party", extra={"field": "side"}
        )
    item = SupportCommitment.objects.create(
        agreement=agreement,
        series=series,
        side=side,
        text=_text(text, "support commitment", limit=500),
        cadence=cadence.strip()[:100],
        created_at=now,
    )
    _audit(
        actor,
        "support_commitment.add",
        item,
        agreement=agreement,
        at=now,
        after={"side": side.key, "text": item.text, "cadence": item.cadence},
    )
    return item


@transaction.atomic
def support_check(
    *,
    review: Review,
    commitment: SupportCommitment,
    kept: bool,
    person: Person,
    now: dt.datetime,
    note: str = "",
) -> SupportCheck:
    """The review checks a support commitment off: kept or not (a second check replaces the first)."""
    _open(review, "support check")
    agreement = review.series.agreement
    if commitment.agreement_id != agreement.pk:
        raise ApplicationError("support_check.commitment", f"support commitment {commitment.pk} is not found")
    check, _created = SupportCheck.objects.update_or_create(
        review=review,
        commitment=commitment,
        defaults={"kept": kept, "note": note.strip()[:500], "checked_by": person, "checked_at": now},
    )
    _audit(
        _person_actor(person),
        "support_commitment.check",
        check,
        agreement=agreement,
        at=now,
        after={"review": str(review.day), "commitment": commitment.pk, "kept": kept},
    )
    return check


@transaction.atomic
def attendance_set(*, review: Review, present: Sequence[Person], person: Person, now: dt.datetime) -> None:
    """Who was there: the attendees (and anyone else named) present, the other attendees absent."""
    _open(review, "attendance")
    agreement = review.series.agreement
    invited = list(review.series.attendees.all())
    for p in present:
        _in_agreement(p, agreement, "attendance")
    here = {p.pk for p in present}
    everyone = {p.pk: p for p in [*invited, *present]}
    for pk, who in everyone.items():
        Attendance.objects.update_or_create(review=review, person=who, defaults={"present": pk in here})
    _audit(
        _person_actor(person),
        "review.attendance",
        review,
        agreement=agreement,
        at=now,
        after={"present": sorted(everyone[pk].email for pk in here)},
    )


@transaction.atomic
def agenda_note_add(
    *, review: Review, item: str, text: str, author: Person, now: dt.datetime
) -> AgendaItemNote:
    """What was said on one agenda item."""
    _open(review, "agenda note")
    if item not in dict(AGENDA_ITEMS):
        raise ApplicationError(
            "agenda_note.item", f"agenda note: unknown agenda item {item!r}", extra={"field": "item"}
        )
    agreement = review.series.agreement
    _in_agreement(author, agreement, "agenda note")
    row = AgendaItemNote.objects.create(
        review=review, item=item, text=_text(text, "agenda note"), author=author, created_at=now
    )
    _audit(
        _person_actor(author),
        "review.agenda_note",
        row,
        agreement=agreement,
        at=now,
        after={"item": item, "text": text_digest(row.text)},
    )
    return row


@transaction.atomic
def decision_add(*, review: Review, text: str, author: Person, now: dt.datetime) -> Decision:
    """A decision the review took."""
    _open(review, "decision")
    agreement = review.series.agreement
    _in_agreement(author, agreement, "decision")
    row = Decision.objects.create(
        review=review, text=_text(text, "decision"), created_by=author, created_at=now
    )
    _audit(
        _person_actor(author),
        "review.decision",
        row,
        agreement=agreement,
        at=now,
        after={"text": text_digest(row.text)},
    )
    return row


@transaction.atomic
def action_item_add(
    *,
    review: Review,
    owner: Person,
    text: str,
    due: dt.date,
    author: Person,
    now: dt.datetime,
    commitment: SupportCommitment | None = None,
    commitment_key: str = "",
    lead: Lead | None = None,
    note: ExchangeNote | None = None,
) -> ActionItem:
    """Someone does something by a day; until done it carries to every next review of the series."""
    _open(review, "action item")
    agreement = review.series.agreement
    _in_agreement(owner, agreement, "action item")
    _in_agreement(author, agreement, "action item")
    if commitment is not None and commitment.agreement_id != agreement.pk:
        raise ApplicationError(
            "action_item.commitment",
            "action item: that support commitment is not found",
            extra={"field": "commitment"},
        )
    if lead is not None and lead.organization_id != agreement.organization_id:
        raise ApplicationError(
            "action_item.lead", "action item: that lead is not found", extra={"field": "lead"}
        )
    if note is not None and note.review.series.agreement_id != agreement.pk:
        raise ApplicationError(
            "action_item.note", "action item: that note is not found", extra={"field": "note"}
        )
    row = ActionItem.objects.create(
        review=review,
        owner=owner,
        text=_text(text, "action item", limit=500),
        due=due,
        commitment=commitment,
        commitment_key=commitment_key.strip(),
        lead=lead,
        note=note,
        created_by=author,
        created_at=now,
    )
    _audit(
        _person_actor(author),
        "action_item.add",
        row,
        agreement=agreement,
        at=now,
        after={"text": text_digest(row.text), "owner": owner.email, "due": due.isoformat()},
    )
    return row


@transaction.atomic
def action_item_done(*, item: ActionItem, person: Person, now: dt.datetime) -> ActionItem:
    """Mark an action item done (its owner, or whoever runs the review)."""
    item = ActionItem.objects.select_for_update().select_related("review__series__agreement").get(pk=item.pk)
    if item.status == ActionItem.Status.DONE:
        raise ApplicationError("action_item.done", f"action item {item.pk} is done already")
    item.status = ActionItem.Status.DONE
    item.done_by = person
    item.done_at = now
    item.save(update_fields=["status", "done_by", "done_at"])
    _audit(
        _person_actor(person),
        "action_item.done",
        item,
        agreement=item.review.series.agreement,
        at=now,
        before={"status": "open"},
        after={"status": "done"},
    )
    return item


@transaction.atomic
def review_close(*, review: Review, person: Person, now: dt.datetime) -> Review:
    """Close a review: its pack is frozen as it stands (later data never changes it) and who closed it is
    recorded."""
    from leadpact.reviews.selectors import review_pack

    review = (
        Review.objects.select_for_update().select_related("series__agreement__organization").get(pk=review.pk)
    )
    _open(review, "close")
    _in_agreement(person, review.series.agreement, "close")
    review.pack = review_pack(review=review, now=now)
    review.status = Review.Status.CLOSED
    review.closed_by = person
    review.closed_at = now
    review.save(update_fields=["pack", "status", "closed_by", "closed_at"])
    _audit(
        _person_actor(person),
        "review.close",
        review,
        agreement=review.series.agreement,
        at=now,
        before={"status": "open"},
        after={"status": "closed", "day": review.day.isoformat()},
    )
    return review


def reviews_send_due(*, now: dt.datetime) -> int:
    """E-mail the pack (Markdown in the body, the HTML pack beside it, the PDF attached) to each series'
    attendees once, when a review is less than the series' ``send_before_hours`` away; returns how many
    packs were sent. The message is dated ``now`` and sent for the series' organisation (the outbox's).

    A review is claimed (``emailed_at`` set) and committed before it is sent, so two workers never send the
    same pack; a send that fails (the server refused) releases the claim for the next pass.
    """
    from email.utils import formatdate

    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives
    from django.utils.translation import gettext as _
    from django.utils.translation import override

    from leadpact.outbox.context import mail_for
    from leadpact.reviews.render import pack_html, pack_markdown, pack_pdf
    from leadpact.reviews.selectors import review_pack

    sent = 0
    for series in ReviewSeries.objects.filter(send_before_hours__gt=0).select_related(
        "agreement__organization"
    ):
        ahead = dt.timedelta(hours=series.send_before_hours)
        today = now.astimezone(series_zone(series)).date()
        last = (now + ahead).astimezone(series_zone(series)).date() + dt.timedelta(days=1)
        for occurrence in series_occurrences(series, after=today, before=last):
            if not occurrence.starts_at - ahead <= now < occurrence.starts_at:
                continue
            review = _review_make(series, occurrence)
            with transaction.atomic():
                claimed = Review.objects.filter(pk=review.pk, emailed_at__isnull=True).update(emailed_at=now)
            if not claimed:
                continue
            recipients = [
                p.email
                for p in series.attendees.order_by("email")
                if p.email and (p.end_date is None or p.end_date > review.day)
            ]
            try:
                pack = review_pack(review=review, now=now)
                lang = series.language
                with override(lang):
                    subject = _("Review pack: %(series)s on %(day)s") % {
                        "series": series.name,
                        "day": review.day.isoformat(),
                    }
                message = EmailMultiAlternatives(
                    subject=subject,
                    body=pack_markdown(pack, lang),
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    to=recipients,
                    headers={"Date": formatdate(now.timestamp())},
                )
                message.attach_alternative(pack_html(pack, lang), "text/html")
                message.attach(
                    f"{series.key}-{review.day.isoformat()}.pdf", pack_pdf(pack, lang), "application/pdf"
                )
                with mail_for(series.agreement.organization_id):
                    message.send(fail_silently=False)
            except (OSError, ValueError):
                Review.objects.filter(pk=review.pk).update(emailed_at=None)
                continue
            sent += 1
    return sent
