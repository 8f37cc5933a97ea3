"""The copies of a lead's personal data outside the lead's own row and events, found and redacted.

A lead's name, e-mail address, phone number, company, job title and free fields also travel into:

- stored webhook deliveries (``WebhookDelivery.body`` and ``headers``: the request as the CRM sent it,
  kept so a crash loses nothing and a replay is recognised) — no key to the lead, so found by its values;
- import problems and jobs (``ImportProblem.reason``, ``ImportJob.error``: a row's reason may quote a value)
  and a pull connector's last result (``PullConnector.last_result``), found by their values;
- rows that point at the lead: disputes (``reason``, ``note``: free text about the person), alerts
  (``subject`` and ``body`` name the lead), handoff checks (``failed``: clauses in words, values read),
  review exchange notes and action items linked to it;
- review notes, decisions and closed review packs of its organisation that quote its values;
- the mail kept outside production (``OutboxMessage``: an alert names the lead, a review pack quotes it),
  its texts redacted and the attachments of a message that named the lead removed.

Redaction replaces each value (case-insensitively, longest first) by :data:`ERASED`; a JSON body keeps its
shape (a string that *is* a value becomes :data:`ERASED`). Nothing measured changes: codes, kinds,
times, amounts, outcomes and ids stay. ``WebhookDelivery.body_digest`` (a SHA-256 of the original body)
stays too, so the replay of an old request is still refused.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from django.db import connection, models

from leadpact.leads.models import HandoffCheck, ImportJob, ImportProblem, Lead, PullConnector, WebhookDelivery
from leadpact.measurement.alerts.models import Alert
from leadpact.measurement.disputes.models import Dispute
from leadpact.outbox.models import OutboxAttachment, OutboxMessage
from leadpact.reviews.models import ActionItem, AgendaItemNote, Decision, ExchangeNote, Review

__all__ = [
    "ERASED",
    "lead_values",
    "name_parts",
    "redact_data",
    "redact_text",
    "stores_erase",
    "stores_expire",
    "stores_export",
    "values_pattern",
]

ERASED = "[erased]"
_VALUE_FIELDS = ("name", "email", "phone", "company", "job_title")
_SHORTEST = 3  # a shorter value ("NL", "Jo") would redact other people's words: never searched for


def lead_values(lead: Lead) -> list[str]:
    """The lead's personal values worth searching for, longest first (so a name goes before its parts)."""
    values: set[str] = set()
    for field in _VALUE_FIELDS:
        text = str(getattr(lead, field) or "").strip()
        if text:
            values.add(text)
    for key, value in (lead.extra or {}).items():
        if key != "erased" and isinstance(value, str) and value.strip():
            values.add(value.strip())
    return sorted((v for v in values if len(v) >= _SHORTEST), key=lambda v: (-len(v), v))


def name_parts(lead: Lead) -> frozenset[str]:
    """The words of the lead's name (CRMs send first and last name apart), folded: a JSON string that is
    exactly one of them is erased in a body that holds the lead's other values; never searched for alone
    (another person's "Jan" is not this lead's)."""
    return frozenset(p.casefold() for p in str(lead.name or "").split() if len(p) >= 2)


def values_pattern(values: list[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern of the values (``None`` when there are none)."""
    if not values:
        return None
    return re.compile("|".join(re.escape(v) for v in values), re.IGNORECASE)


def redact_text(text: str, pattern: re.Pattern[str] | None) -> str:
    """``text`` with every value replaced by :data:`ERASED`."""
    return text if pattern is None or not text else pattern.sub(ERASED, text)


def redact_data(value: Any, pattern: re.Pattern[str] | None, parts: frozenset[str] = frozenset()) -> Any:
    """A JSON value with every string redacted (and every string that is one of ``parts``), shape kept."""
    if isinstance(value, str):
        return ERASED if value.strip().casefold() in parts else redact_text(value, pattern)
    if isinstance(value, list):
        return [redact_data(v, pattern, parts) for v in value]
    if isinstance(value, dict):
        return {k: redact_data(v, pattern, parts) for k, v in value.items()}
    return value


def _needles(values: list[str]) -> list[bytes]:
    """How a value may stand in a request body: as UTF-8, JSON-escaped, URL-encoded, XML-escaped."""
    out: list[bytes] = []
    for value in values:
        for form in (
            value,
            value.lower(),
            json.dumps(value)[1:-1],
            quote(value, safe=""),
            quote_plus(value),
            html.escape(value, quote=False),
        ):
            raw = form.encode()
            if raw not in out:
                out.append(raw)
    return out


def redact_body(body: bytes, values: list[str], parts: frozenset[str] = frozenset()) -> bytes:
    """A stored request body without the values: JSON walked and written again, anything else (form
    fields, XML) replaced byte-wise in each encoding a value may take."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        for needle in _needles(values):
            body = re.sub(re.escape(needle), ERASED.encode(), body, flags=re.IGNORECASE)
        return body
    redacted = redact_data(data, values_pattern(values), parts)
    return json.dumps(redacted, ensure_ascii=False, separators=(",", ":")).encode()


def _deliveries(organization_id: int, values: list[str]) -> models.QuerySet[WebhookDelivery]:
    """The organisation's stored deliveries whose body holds one of the values (a scan in the database)."""
    needles = _needles(values)
    deliveries = WebhookDelivery.objects.filter(integration__organization_id=organization_id)
    if not needles:
        return deliveries.none()
    test = "position(%s::bytea in body) > 0" if connection.vendor == "postgresql" else "instr(body, %s) > 0"
    where = " OR ".join([test] * len(needles))
    return deliveries.extra(where=[f"({where})"], params=needles)  # noqa: S610 - constant SQL, bound values


def _text_hits(queryset: models.QuerySet[Any], field: str, values: list[str]) -> models.QuerySet[Any]:
    condition = models.Q()
    for value in values:
        condition |= models.Q(**{f"{field}__icontains": value})
    return queryset.filter(condition) if values else queryset.none()


def _review_rows(organization_id: int, lead: Lead, values: list[str]) -> Iterable[tuple[models.Model, str]]:
    """Review texts of the organisation linked to the lead or quoting one of its values: (row, field)."""
    org = {"review__series__agreement__organization_id": organization_id}
    for note in ExchangeNote.objects.filter(
        models.Q(lead=lead) | _q(values, "text") | _q(values, "answer")
    ).filter(**org):
        yield note, "text"
        yield note, "answer"
    for item in ActionItem.objects.filter(models.Q(lead=lead) | _q(values, "text")).filter(**org):
        yield item, "text"
    for model in (AgendaItemNote, Decision):
        for row in _text_hits(model.objects.filter(**org), "text", values):
            yield row, "text"


def _q(values: list[str], field: str) -> models.Q:
    condition = models.Q(pk__in=[])
    for value in values:
        condition |= models.Q(**{f"{field}__icontains": value})
    return condition


def stores_erase(
    lead: Lead, values: list[str], *, parts: frozenset[str] = frozenset(), search: bool = True
) -> dict[str, int]:
    """Redact ``values`` (the lead's, read before its row was blanked) in every store; rows changed per store.

    ``search=False`` (the retention sweep, thousands of leads a pass) does not scan the two large stores
    without a key to the lead — webhook request bodies and import problems — for each lead:
    :func:`stores_expire` empties them by their age instead. The small ones (review texts and packs, pull
    results, import jobs' errors) are searched either way.
    """
    pattern = values_pattern(values)
    org = lead.organization_id
    changed: dict[str, int] = {}

    def count(store: str, n: int = 1) -> None:
        changed[store] = changed.get(store, 0) + n

    _search_erase(org, values, parts, pattern, count, bodies=search)
    _linked_erase(lead, pattern, count)
    for row, field in _review_rows(org, lead, values):
        text = str(getattr(row, field) or "")
        redacted = redact_text(text, pattern)
        if redacted != text:
            type(row)._base_manager.filter(pk=row.pk).update(**{field: redacted})
            count(f"review_{type(row)._meta.model_name}")
    for review in Review.objects.filter(series__agreement__organization_id=org, pack__isnull=False):
        pack = redact_data(_pack_unlinked(review.pack, lead.pk), pattern, parts)
        if pack != review.pack:
            Review.objects.filter(pk=review.pk).update(pack=pack)
            count("review_packs")
    return changed


def _pack_unlinked(value: Any, lead_id: int) -> Any:
    """A closed review's pack with the lead's entries (a dispute, a note: ``"lead": id``) without its name
    and the free text about it."""
    if isinstance(value, list):
        return [_pack_unlinked(v, lead_id) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: _pack_unlinked(v, lead_id) for k, v in value.items()}
    if out.get("lead") == lead_id:
        for key in ("lead_name", "reason", "note"):
            if isinstance(out.get(key), str) and out[key]:
                out[key] = ERASED
    return out


def _search_erase(
    org: int,
    values: list[str],
    parts: frozenset[str],
    pattern: re.Pattern[str] | None,
    count: Any,
    *,
    bodies: bool,
) -> None:
    for delivery in _deliveries(org, values if bodies else []):
        body = redact_body(bytes(delivery.body), values, parts)
        headers = redact_data(delivery.headers, pattern)
        error = redact_text(delivery.error, pattern)
        if (body, headers, error) != (bytes(delivery.body), delivery.headers, delivery.error):
            WebhookDelivery.objects.filter(pk=delivery.pk).update(body=body, headers=headers, error=error)
            count("webhook_deliveries")
    problems = _text_hits(
        ImportProblem.objects.filter(job__organization_id=org), "reason", values if bodies else []
    )
    for problem in problems:
        ImportProblem.objects.filter(pk=problem.pk).update(reason=redact_text(problem.reason, pattern))
        count("import_problems")
    for job in _text_hits(ImportJob.objects.filter(organization_id=org), "error", values):
        ImportJob.objects.filter(pk=job.pk).update(error=redact_text(job.error, pattern))
        count("import_jobs")
    for pull in _text_hits(PullConnector.objects.filter(organization_id=org), "last_result", values):
        PullConnector.objects.filter(pk=pull.pk).update(last_result=redact_text(pull.last_result, pattern))
        count("pull_connectors")
    # the mail kept outside production (an alert names the lead; a review pack's HTML and its PDF may):
    # the texts redacted, the attachments of a message that named the lead removed (a PDF is not searched)
    mentioned = _q(values, "subject") | _q(values, "body") | _q(values, "html")
    for message in OutboxMessage.objects.filter(organization_id=org).filter(mentioned):
        OutboxMessage.objects.filter(pk=message.pk).update(
            subject=redact_text(message.subject, pattern),
            body=redact_text(message.body, pattern),
            html=redact_text(message.html, pattern),
        )
        OutboxAttachment.objects.filter(message=message).delete()
        count("outbox_messages")


def _linked_erase(lead: Lead, pattern: re.Pattern[str] | None, count: Any) -> None:
    # free text people wrote about the person: the whole text goes (as an event's note does)
    for dispute in Dispute.objects.filter(lead=lead):
        Dispute.objects.filter(pk=dispute.pk).update(
            reason=ERASED if dispute.reason else "", note=ERASED if dispute.note else ""
        )
        count("disputes")
    for alert in Alert.objects.filter(lead=lead):
        subject, body = redact_text(alert.subject, pattern), redact_text(alert.body, pattern)
        if (subject, body) != (alert.subject, alert.body):
            Alert.objects.filter(pk=alert.pk).update(subject=subject, body=body)
            count("alerts")
    for check in HandoffCheck.objects.filter(lead=lead):
        failed, definitions = redact_data(check.failed, pattern), redact_data(check.definitions, pattern)
        if (failed, definitions) != (check.failed, check.definitions):
            HandoffCheck.objects.filter(pk=check.pk).update(failed=failed, definitions=definitions)
            count("handoff_checks")


def stores_expire(*, organization_id: int, before: Any) -> dict[str, int]:
    """The retention sweep's share of the stores without a key to a lead: webhook deliveries received and
    imports started before ``before`` lose their bodies and row texts (every lead they carried was made
    before then, so is being anonymised by the same sweep). Pending deliveries are left to be processed."""
    deliveries = WebhookDelivery.objects.filter(
        integration__organization_id=organization_id, received_at__lt=before
    ).exclude(status=WebhookDelivery.Status.PENDING)
    expired = {
        "webhook_deliveries": deliveries.exclude(body=ERASED.encode()).update(
            body=ERASED.encode(), headers={}, error=""
        ),
        "import_problems": ImportProblem.objects.filter(
            job__organization_id=organization_id, job__started_at__lt=before
        )
        .exclude(reason=ERASED)
        .update(reason=ERASED),
    }
    return {k: v for k, v in expired.items() if v}


def stores_export(lead: Lead) -> dict[str, list[dict[str, Any]]]:
    """What the stores without a key to the lead hold about it (for :func:`~.selectors.lead_export`)."""
    values = lead_values(lead)
    org = lead.organization_id
    out: dict[str, list[dict[str, Any]]] = {}
    deliveries = [
        {
            "id": d.pk,
            "integration": d.integration.name,
            "received_at": d.received_at,
            "status": d.status,
            "headers": d.headers,
            "body": bytes(d.body).decode("utf-8", "replace"),
        }
        for d in _deliveries(org, values).select_related("integration").order_by("pk")
    ]
    problems = [
        {
            "id": p.pk,
            "import": p.job_id,
            "file": p.job.file_name,
            "row": p.row,
            "column": p.column,
            "reason": p.reason,
        }
        for p in _text_hits(ImportProblem.objects.filter(job__organization_id=org), "reason", values)
        .select_related("job")
        .order_by("pk")
    ]
    jobs = [
        {"id": j.pk, "file": j.file_name, "error": j.error}
        for j in _text_hits(ImportJob.objects.filter(organization_id=org), "error", values).order_by("pk")
    ]
    reviews = [
        {"model": row._meta.label_lower, "id": row.pk, "field": field, "text": getattr(row, field)}
        for row, field in _review_rows(org, lead, values)
        if getattr(row, field)
    ]
    for key, rows in (
        ("leads.webhookdelivery", deliveries),
        ("leads.importproblem", problems),
        ("leads.importjob", jobs),
        ("reviews.text", reviews),
    ):
        if rows:
            out[key] = rows
    return out
