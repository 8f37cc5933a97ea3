"""The leads JSON API: upsert leads, append events (one or a batch of up to 1,000), read leads.

Batches: every item is checked on its own. Valid items are stored together in one transaction; invalid
ones are not stored at all and are named in the answer by index and field. When every item is valid the
answer is 200 with one result per item; otherwise it is a 422 problem details document whose ``errors``
name the refused items and whose ``results`` list the items that were stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import AwareDatetime, BaseModel, StringConstraints, ValidationError, field_validator

from leadpact.connectors.bounds import amount_problem, event_problems, instant_problem, lead_problems
from leadpact.connectors.records import KIND_MAX_LENGTH, EventRecord, LeadFields, LeadRecord
from leadpact.leads._duplicates import duplicate_problem, leads_mark_duplicate
from leadpact.leads._handoff import HandoffChecker
from leadpact.leads._http import ProblemOut, problem_response, pydantic_errors, request_token, require_write
from leadpact.leads._kinds import events_refuse_unknown_kinds
from leadpact.leads._store import BatchOutcome, PeopleIndex, store_batch, store_retrying
from leadpact.leads.models import HandoffCheck, Lead, LeadEvent, LeadState
from leadpact.leads.selectors import lead_by_source, lead_detail, leads_handoff_status, leads_list
from leadpact.organization.models import Organization

__all__ = ["router"]

router = Router(tags=["leads"])

MAX_BATCH = 1000

Kind = Annotated[
    str,
    StringConstraints(min_length=1, max_length=KIND_MAX_LENGTH, pattern=r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"),
]
_KIND_HELP = (
    "created, handed_over, assigned, contact_attempt, accepted, rejected, qualified, opportunity, won,"
    " lost, recycled, feedback, field_changed; or a pause kind an agreement declares in clock.pause"
    " (e.g. waiting_on_customer), and resumed to end a pause"
)
# PostgreSQL cannot store NUL characters in text: refused by the schema, in pydantic's (Rust) validator
_NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, StringConstraints(pattern=_NO_NUL)]
Slug = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=_NO_NUL)]
Pairs = dict[Annotated[str, StringConstraints(max_length=200, pattern=_NO_NUL)], Text]


def _text(limit: int, description: str | None = None) -> Any:
    return Field("", max_length=limit, pattern=_NO_NUL, description=description)


def _in_range(value: dt.datetime | None) -> dt.datetime | None:
    """The instant in UTC, if it is within the bounds every input has (``connectors.bounds``)."""
    if value is None:
        return None
    problem = instant_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value.astimezone(dt.UTC)


def _bounds_errors(problems: list[tuple[str, str]], index: int | None) -> list[dict[str, Any]]:
    """The bounds' problems of an item's record as the API's errors (the lead's channel is lead_source)."""
    return [{"index": index, "field": field, "reason": reason} for field, reason in problems]


# The items that come in are plain pydantic models, not ninja's Schema: Schema wraps every input in a
# getter for ORM objects (a wrap validator), which was a third of a 1,000-event batch's time; JSON
# objects need none of it.


class LeadIn(BaseModel):
    """A lead as a source knows it; fields left out (or empty) keep their stored value."""

    source: Slug = Field(description="the system the id belongs to: hubspot, salesforce, api …")
    external_id: ExternalId
    created_at: AwareDatetime | None = Field(None, description="when the source created the lead")
    marketing_owner: str = _text(200, "a person's name or e-mail")
    sales_owner: str = _text(200, "a person's name or e-mail")
    name: str = _text(300)
    email: str = _text(320)
    phone: str = _text(64)
    company: str = _text(300)
    country: str = _text(64)
    campaign: str = _text(300)
    lead_source: str = _text(200, "the lead's own source field (channel)")
    score: int | None = Field(None, ge=-1_000_000_000, le=1_000_000_000)
    job_title: str = _text(300)
    industry: str = _text(200)
    company_size: str = _text(64)
    trigger: str = _text(300)
    consent: bool | None = None
    recent_touches: int | None = Field(None, ge=0, le=1_000_000_000)
    extra: Pairs = Field(default_factory=dict)
    duplicate_of: int | None = Field(
        None,
        ge=1,
        le=2**62,
        description="the id of the earlier lead this one duplicates (left out: unchanged; null: not a"
        " duplicate); leads are also marked at handoff when an earlier handed-over lead has the same e-mail",
    )

    @field_validator("created_at")
    @classmethod
    def _range(cls, value: dt.datetime | None) -> dt.datetime | None:
        return _in_range(value)

    def record(self) -> LeadRecord:
        fields = LeadFields(
            name=self.name.strip(),
            email=self.email.strip(),
            phone=self.phone.strip(),
            company=self.company.strip(),
            country=self.country.strip(),
            source=self.lead_source.strip(),
            campaign=self.campaign.strip(),
            score=self.score,
            job_title=self.job_title.strip(),
            industry=self.industry.strip(),
            company_size=self.company_size.strip(),
            trigger=self.trigger.strip(),
            consent=self.consent,
            recent_touches=self.recent_touches,
            extra=dict(self.extra),
        )
        return LeadRecord(
            source=self.source,
            external_id=self.external_id,
            fields=fields,
            created_at=self.created_at,
            marketing_owner=self.marketing_owner.strip(),
            sales_owner=self.sales_owner.strip(),
        )


class EventIn(BaseModel):
    """One lead event; ``idempotency_key`` (yours) or else the event's content makes a replay a no-op."""

    source: Slug
    external_id: ExternalId
    kind: Kind = Field(description=_KIND_HELP)
    occurred_at: AwareDatetime = Field(description="when it happened, with an offset")
    idempotency_key: str | None = Field(None, min_length=1, max_length=200, pattern=_NO_NUL)
    actor: str = _text(200, "a person's name or e-mail, or a label")
    channel: str = _text(64)
    human: bool | None = None
    reason_code: str = _text(64)
    reason: str = _text(2000)
    amount: str | None = Field(None, max_length=40, description="a decimal number as text, e.g. 1200.50")
    currency: str = _text(3, "ISO 4217, e.g. EUR")
    data: Pairs = Field(default_factory=dict)

    @field_validator("occurred_at")
    @classmethod
    def _range(cls, value: dt.datetime) -> dt.datetime:
        out = _in_range(value)
        assert out is not None
        return out

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal number") from None
        problem = amount_problem(number)
        if problem is not None:
            raise ValueError(problem)
        return value.strip()

    def record(self) -> EventRecord:
        return EventRecord(
            source=self.source,
            external_id=self.external_id,
            kind=self.kind,
            occurred_at=self.occurred_at,
            actor=self.actor.strip(),
            channel=self.channel.strip(),
            human=self.human,
            reason_code=self.reason_code.strip(),
            reason=self.reason.strip(),
            amount=None if self.amount is None else Decimal(self.amount),
            currency=self.currency.strip().upper(),
            data=dict(self.data),
        )

    def key(self) -> str | None:
        if self.idempotency_key is None:
            return None
        return hashlib.sha256(f"client:{self.source}:{self.idempotency_key}".encode()).hexdigest()


class LeadBatchIn(Schema):
    leads: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        json_schema_extra={"items": LeadIn.model_json_schema()},
    )


class EventBatchIn(Schema):
    events: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        json_schema_extra={"items": EventIn.model_json_schema()},
    )


class SourceOut(Schema):
    source: str
    external_id: str


class StateOut(Schema):
    stage: str
    owner: str | None
    handed_over_at: dt.datetime | None
    handoffs: int
    decision: str
    decided_at: dt.datetime | None
    reason_code: str
    first_attempt_at: dt.datetime | None
    first_human_attempt_at: dt.datetime | None
    attempts: int
    human_attempts: int
    outcome: str
    closed_at: dt.datetime | None
    amount: str
    recycled: int
    events: int
    last_event_at: dt.datetime | None


class LeadOut(Schema):
    id: int
    sources: list[SourceOut]
    name: str
    email: str
    phone: str
    company: str
    country: str
    lead_source: str
    campaign: str
    score: int | None
    job_title: str
    industry: str
    company_size: str
    trigger: str
    consent: bool | None
    recent_touches: int | None
    extra: dict[str, Any]
    marketing_owner: str | None
    sales_owner: str | None
    duplicate_of: int | None = Field(description="the earlier lead this one is a duplicate of")
    created_at: dt.datetime
    updated_at: dt.datetime
    state: StateOut | None
    handoff: str = Field(description="met, not met, not checked (no agreement in force) or not handed over")
    sla: None = Field(None, description="the SLA clocks; null until measurement exists")


class EventOut(Schema):
    id: int
    kind: str
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    source: str
    actor: str
    data: dict[str, Any]
    idempotency_key: str


class HandoffCheckOut(Schema):
    event_id: int
    agreement_version: int
    definition: str | None
    met: bool
    failed: list[str]
    missing_fields: list[str]
    definitions: dict[str, Any] = Field(
        description="every covered definition: key → {version, met, failed} (empty on older checks)"
    )


class LeadDetailOut(LeadOut):
    events: list[EventOut]
    handoff_checks: list[HandoffCheckOut]


class UpsertOut(Schema):
    created: bool
    lead: LeadOut


class ItemResult(Schema):
    index: int
    id: int
    created: bool


class BatchOut(Schema):
    results: list[ItemResult]


# --- helpers ---------------------------------------------------------------------------------------------


def _state_out(state: LeadState | None) -> dict[str, Any] | None:
    if state is None:
        return None
    out = {name: getattr(state, name) for name in StateOut.model_fields if name != "owner"}
    out["owner"] = state.owner_label or None
    return out


_LEAD_OUT_FIELDS = (
    "name", "email", "phone", "company", "country", "campaign", "score", "job_title", "industry",
    "company_size", "trigger", "consent", "recent_touches", "extra", "created_at", "updated_at",
)  # fmt: skip


def _lead_out(lead: Lead, *, handoff: str | None = None) -> dict[str, Any]:
    """A lead as the API shows it; fetch ``state`` and ``sources`` with the lead to save queries."""
    try:
        state: LeadState | None = lead.state
    except LeadState.DoesNotExist:
        state = None
    if handoff is None:
        handoff = leads_handoff_status([lead.pk])[lead.pk]
    return {
        "id": lead.pk,
        "sources": [{"source": s.source, "external_id": s.external_id} for s in lead.sources.all()],
        **{name: getattr(lead, name) for name in _LEAD_OUT_FIELDS},
        "lead_source": lead.source,
        "marketing_owner": lead.marketing_owner.name if lead.marketing_owner else None,
        "sales_owner": lead.sales_owner.name if lead.sales_owner else None,
        "duplicate_of": lead.duplicate_of_id,
        "state": _state_out(state),
        "handoff": handoff,
        "sla": None,
    }


def _event_out(event: LeadEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "kind": event.kind,
        "occurred_at": event.occurred_at,
        "recorded_at": event.recorded_at,
        "source": event.source,
        "actor": event.actor_label,
        "data": event.data,
        "idempotency_key": event.idempotency_key,
    }


def _check_out(check: HandoffCheck) -> dict[str, Any]:
    return {
        "event_id": check.event_id,
        "agreement_version": check.agreement_version.number,
        "definition": str(check.definition_version) if check.definition_version else None,
        "met": check.met,
        "failed": check.failed,
        "missing_fields": check.missing_fields,
        "definitions": check.definitions,
    }


def _owner_errors(item: LeadIn, people: PeopleIndex, index: int | None) -> list[dict[str, Any]]:
    return [
        {
            "index": index,
            "field": role,
            "reason": f"unknown owner {getattr(item, role)!r}: no person has that name",
        }
        for role in ("marketing_owner", "sales_owner")
        if getattr(item, role).strip() and getattr(item, role).strip() not in people
    ]


def _duplicate_errors(organization: Organization, item: LeadIn, index: int | None) -> list[dict[str, Any]]:
    """The item's ``duplicate_of`` refused before anything is stored (an unknown lead, itself, a cycle)."""
    if item.duplicate_of is None:
        return []
    known = lead_by_source(organization=organization, source=item.source, external_id=item.external_id)
    problem = duplicate_problem(
        organization=organization, lead_ids=[known.pk] if known else [], original_id=item.duplicate_of
    )
    return [] if problem is None else [{"index": index, "field": "duplicate_of", "reason": problem}]


def _apply_duplicates(organization: Organization, items: list[LeadIn], lead_ids: list[int]) -> None:
    """Set or clear ``duplicate_of`` where the item gave it (checked before by :func:`_duplicate_errors`)."""
    for item, pk in zip(items, lead_ids, strict=True):
        if "duplicate_of" in item.model_fields_set:
            leads_mark_duplicate(organization=organization, lead_ids=[pk], original_id=item.duplicate_of)


def _store_leads(organization: Organization, items: list[LeadIn], people: PeopleIndex) -> BatchOutcome:
    """Store the leads and their duplicate marks (one savepoint, run again by ``store_retrying`` when a
    concurrent request created the same lead first)."""
    outcome = store_batch(
        organization=organization,
        leads=[item.record() for item in items],
        events=[],
        now=timezone.now(),
        people=people,
        checker=HandoffChecker(organization),
    )
    _apply_duplicates(organization, items, outcome.lead_ids)
    return outcome


def _store_events(
    organization: Organization, items: list[tuple[int, EventIn]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Store the events in one transaction; returns (results, errors) by the items' indexes.

    An event of a kind the organisation's agreements do not declare is refused (field ``kind``).
    """
    bounded: list[tuple[int, EventIn]] = []
    bound_errors: list[dict[str, Any]] = []
    for index, item in items:
        problems = event_problems(item.record())
        if problems:
            bound_errors.extend(_bounds_errors(problems, index))
        else:
            bounded.append((index, item))
    items = bounded
    all_records = [item.record() for _, item in items]
    kept, refusals = events_refuse_unknown_kinds(organization, all_records)
    kind_errors = bound_errors + [
        {"index": items[r.index][0], "field": "kind", "reason": r.reason} for r in refusals
    ]
    items = [items[i] for i in kept]
    if not items:
        return [], kind_errors
    records = [all_records[i] for i in kept]
    client_keys = [item.key() for _, item in items]
    outcome = store_retrying(
        partial(
            store_batch,
            organization=organization,
            leads=[],
            events=records,
            now=timezone.now(),
            people=PeopleIndex(organization),
            checker=HandoffChecker(organization),
            unknown_leads="refuse",
            keys=client_keys,
        )
    )
    errors = kind_errors + [
        {"index": items[p.index][0], "field": p.field, "reason": p.reason + "; create the lead first"}
        for p in outcome.problems
    ]
    results = [
        {"index": items[i][0], "id": pk, "created": created}
        for i, (pk, created) in enumerate(zip(outcome.event_ids, outcome.events_created, strict=True))
        if pk is not None
    ]
    return results, errors


def _batch_answer(results: list[dict[str, Any]], errors: list[dict[str, Any]], total: int) -> Any:
    if not errors:
        return Status(200, {"results": results})
    refused = len({e["index"] for e in errors})
    return problem_response(
        status=422,
        problem="batch-items-invalid",
        detail=f"{refused} of {total} items were refused and not stored; "
        f"the other {total - refused} were stored",
        errors=sorted(errors, key=lambda e: (e["index"], e["field"])),
        results=results,
    )


# --- endpoints -------------------------------------------------------------------------------------------


@router.post(
    "/leads", response={200: UpsertOut, 201: UpsertOut, 422: ProblemOut}, summary="Create or update a lead"
)
def lead_upsert(request: HttpRequest, payload: LeadIn) -> Any:
    """Upsert by ``(source, external_id)``: repeating the same request gives the same lead, unchanged."""
    token = require_write(request)
    errors = _bounds_errors(lead_problems(payload.record()), None)
    errors += _owner_errors(payload, PeopleIndex(token.organization), None)
    errors += _duplicate_errors(token.organization, payload, None)
    if errors:
        return problem_response(
            status=422, problem="invalid-input", detail=errors[0]["reason"], errors=errors
        )
    outcome = store_retrying(
        partial(_store_leads, token.organization, [payload], PeopleIndex(token.organization))
    )
    lead = Lead.objects.select_related("marketing_owner", "sales_owner", "organization").get(
        pk=outcome.lead_ids[0]
    )
    created = outcome.leads_created[0]
    return Status(201 if created else 200, {"created": created, "lead": _lead_out(lead)})


@router.post(
    "/leads/batch", response={200: BatchOut, 422: ProblemOut}, summary="Create or update up to 1,000 leads"
)
def leads_upsert_batch(request: HttpRequest, payload: LeadBatchIn) -> Any:
    """Each lead is checked on its own; the valid ones are stored, the invalid named by index and field."""
    token = require_write(request)
    people = PeopleIndex(token.organization)
    valid: list[tuple[int, LeadIn]] = []
    errors: list[dict[str, Any]] = []
    for index, raw in enumerate(payload.leads):
        try:
            item = LeadIn.model_validate(raw)
        except ValidationError as exc:
            errors.extend(pydantic_errors([dict(e) for e in exc.errors()], index=index))
            continue
        owner_errors = _bounds_errors(lead_problems(item.record()), index)
        owner_errors += _owner_errors(item, people, index) + _duplicate_errors(
            token.organization, item, index
        )
        if owner_errors:
            errors.extend(owner_errors)
            continue
        valid.append((index, item))
    results: list[dict[str, Any]] = []
    if valid:
        outcome = store_retrying(
            partial(_store_leads, token.organization, [item for _, item in valid], people)
        )
        results = [
            {"index": valid[i][0], "id": pk, "created": created}
            for i, (pk, created) in enumerate(zip(outcome.lead_ids, outcome.leads_created, strict=True))
        ]
    return _batch_answer(results, errors, len(payload.leads))


@router.post(
    "/events", response={200: EventOut, 201: EventOut, 422: ProblemOut}, summary="Append one lead event"
)
def event_append(request: HttpRequest, payload: EventIn) -> Any:
    """Append an event to a known lead; the same event (or idempotency key) again returns the stored one.

    The key may also come as an ``Idempotency-Key`` header (the body's ``idempotency_key`` wins).
    """
    token = require_write(request)
    header = request.headers.get("Idempotency-Key", "").strip()
    if header and payload.idempotency_key is None:
        if len(header) > 200:
            return problem_response(
                status=422,
                problem="invalid-input",
                detail="the Idempotency-Key header is longer than 200 characters",
                errors=[{"index": None, "field": "Idempotency-Key", "reason": "longer than 200 characters"}],
            )
        payload = payload.model_copy(update={"idempotency_key": header})
    results, errors = _store_events(token.organization, [(0, payload)])
    if errors:
        for e in errors:
            e["index"] = None
        return problem_response(
            status=422, problem="invalid-input", detail=errors[0]["reason"], errors=errors
        )
    event = LeadEvent.objects.get(pk=results[0]["id"])
    return Status(201 if results[0]["created"] else 200, _event_out(event))


@router.post(
    "/events/batch", response={200: BatchOut, 422: ProblemOut}, summary="Append up to 1,000 lead events"
)
def events_append_batch(request: HttpRequest, payload: EventBatchIn) -> Any:
    """Each event is checked on its own; the valid ones are stored in one transaction."""
    token = require_write(request)
    valid: list[tuple[int, EventIn]] = []
    errors: list[dict[str, Any]] = []
    for index, raw in enumerate(payload.events):
        try:
            valid.append((index, EventIn.model_validate(raw)))
        except ValidationError as exc:
            errors.extend(pydantic_errors([dict(e) for e in exc.errors()], index=index))
    results: list[dict[str, Any]] = []
    if valid:
        results, store_errors = _store_events(token.organization, valid)
        errors.extend(store_errors)
    return _batch_answer(results, errors, len(payload.events))


@router.get("/leads", response=list[LeadOut], summary="List leads, newest first")
def leads_read(
    request: HttpRequest,
    source: str | None = None,
    external_id: str | None = None,
    limit: Annotated[int, Field(ge=1, le=500)] = 100,
    offset: Annotated[int, Field(ge=0, le=10_000_000)] = 0,
) -> Any:
    """Filter by ``source`` and ``external_id`` to find the lead a system knows by its id."""
    token = request_token(request)
    if source is not None and external_id is not None:
        if "\x00" in source or "\x00" in external_id:
            return []
        found = lead_by_source(organization=token.organization, source=source, external_id=external_id)
        leads = [found] if found is not None else []
    else:
        query = leads_list(organization=token.organization).select_related(
            "marketing_owner", "sales_owner", "state"
        )
        if source is not None:
            if "\x00" in source:
                return []
            query = query.filter(sources__source=source)
        leads = list(query.prefetch_related("sources")[offset : offset + limit])
    status = leads_handoff_status([lead.pk for lead in leads])
    return [_lead_out(lead, handoff=status[lead.pk]) for lead in leads]


@router.get(
    "/leads/{lead_id}",
    response={200: LeadDetailOut, 404: ProblemOut},
    summary="A lead with its events and state",
)
def lead_read(request: HttpRequest, lead_id: Annotated[int, Field(ge=1, le=2**62)]) -> Any:
    token = request_token(request)
    detail = lead_detail(organization=token.organization, lead_id=lead_id)
    if detail is None:
        raise HttpError(404, f"no lead {lead_id}")
    out = _lead_out(detail.lead, handoff=detail.handoff_status)
    out["events"] = [_event_out(e) for e in detail.events]
    out["handoff_checks"] = [_check_out(c) for c in detail.handoff_checks]
    return out
