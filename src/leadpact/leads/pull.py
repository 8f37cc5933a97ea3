"""Pull connectors: read a CRM on a schedule (``leadpact worker``) and store what changed.

Each page of contacts is stored in its own transaction together with the connector's cursor, so a run
that is interrupted (a crash, HubSpot's limits, a deploy) resumes after the last page it stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from leadpact.audit.services import Actor, audit_record
from leadpact.connectors.hubspot_pull import HubSpotError, Opener, search_pages
from leadpact.errors import ApplicationError
from leadpact.jobs import job_claim
from leadpact.leads._handoff import HandoffChecker
from leadpact.leads._kinds import events_refuse_unknown_kinds
from leadpact.leads._secrets import SecretUnreadable, seal, unseal
from leadpact.leads._store import PeopleIndex, store_batch, store_retrying
from leadpact.leads.models import PullConnector
from leadpact.organization.models import Organization

__all__ = ["PullOutcome", "pull_connector_create", "pull_connector_run", "pull_connectors_run_due"]


class PullOutcome:
    """What one run read: contacts, events stored, pages, and the cursor it left."""

    def __init__(self) -> None:
        self.contacts = 0
        self.events_stored = 0
        self.pages = 0
        self.notes: list[str] = []
        self.cursor = ""

    def __str__(self) -> str:
        text = f"{self.contacts} contacts in {self.pages} page(s), {self.events_stored} events stored"
        return text + (f"; {len(self.notes)} note(s): {self.notes[0]}" if self.notes else "")


@transaction.atomic
def pull_connector_create(
    *,
    organization: Organization,
    kind: str,
    name: str,
    token: str,
    base_url: str = "https://api.hubapi.com",
    since: str = "",
    every_seconds: int = 300,
    actor: Actor,
    now: dt.datetime | None = None,
) -> PullConnector:
    """Register a CRM to read on a schedule; the token is sealed at once (never shown again)."""
    if kind not in PullConnector.Kind.values:
        raise ApplicationError("pull.kind", f"pull connector {name!r}: unknown kind {kind!r}")
    if len(token.strip()) < 16:
        raise ApplicationError("pull.token", f"pull connector {name!r}: give the private app's access token")
    if since:
        try:
            start = dt.datetime.fromisoformat(since)
        except ValueError:
            raise ApplicationError(
                "pull.since", f"pull connector {name!r}: {since!r} is no ISO 8601 instant"
            ) from None
        if start.tzinfo is None:
            raise ApplicationError("pull.since", f"pull connector {name!r}: give {since!r} an offset")
        since = start.astimezone(dt.UTC).isoformat()
    row = PullConnector(
        organization=organization,
        kind=kind,
        name=name.strip(),
        token_sealed=seal(token.strip()),
        base_url=base_url,
        cursor=since,
        every_seconds=every_seconds,
        created_at=now or timezone.now(),
    )
    row.full_clean()
    row.save()
    audit_record(
        actor=actor,
        action="pull_connector.create",
        obj=row,
        at=row.created_at,
        after={"kind": kind, "name": row.name, "base_url": base_url, "since": since, "token": "given"},
        organization=organization,
    )
    return row


def pull_connector_run(
    connector: PullConnector,
    *,
    now: dt.datetime | None = None,
    opener: Opener | None = None,
    sleep: Callable[[float], None] | None = None,
    max_pages: int | None = None,
) -> PullOutcome:
    """Read what changed since the connector's cursor and store it, a page at a time (see the module).

    One process reads a connector at a time (:func:`leadpact.jobs.job_claim`): a run that finds another
    one reading it (a second worker, ``leadpact pull`` by hand) stores nothing and says so; a run that
    gets it reads the cursor the last one left.
    """
    moment = now or timezone.now()
    with job_claim("pull", connector.pk) as mine:
        if not mine:
            outcome = PullOutcome()
            outcome.notes.append("another process is reading this connector now")
            outcome.cursor = connector.cursor
            return outcome
        fresh = PullConnector.objects.filter(pk=connector.pk).values_list("cursor", flat=True).first()
        if fresh is not None:
            connector.cursor = fresh
        return _run(connector, moment, opener=opener, sleep=sleep, max_pages=max_pages)


def _run(
    connector: PullConnector,
    moment: dt.datetime,
    *,
    opener: Opener | None,
    sleep: Callable[[float], None] | None,
    max_pages: int | None,
) -> PullOutcome:
    outcome = PullOutcome()
    try:
        token = unseal(connector.token_sealed)
    except SecretUnreadable as error:
        return _finish(connector, moment, outcome, f"the token cannot be used: {error}")
    organization = connector.organization
    options: dict[str, Any] = {"max_pages": max_pages}
    if opener is not None:
        options["opener"] = opener
    if sleep is not None:
        options["sleep"] = sleep
    try:
        for page in search_pages(base_url=connector.base_url, token=token, since=connector.cursor, **options):
            with transaction.atomic():
                kept, refusals = events_refuse_unknown_kinds(organization, page.events)
                events = [page.events[i] for i in kept]
                stored = store_retrying(
                    partial(
                        store_batch,
                        organization=organization,
                        leads=page.leads,
                        events=events,
                        now=moment,
                        people=PeopleIndex(organization),
                        checker=HandoffChecker(organization),
                    )
                )
                PullConnector.objects.filter(pk=connector.pk).update(cursor=page.cursor)
            connector.cursor = page.cursor
            outcome.pages += 1
            outcome.contacts += page.contacts
            outcome.events_stored += sum(stored.events_created)
            outcome.notes += [f"{p.what} {p.index}: {p.field}: {p.reason}" for p in stored.problems]
            outcome.notes += [f"event {r.index}: {r.reason}" for r in refusals]
    except HubSpotError as error:
        return _finish(connector, moment, outcome, str(error))
    return _finish(connector, moment, outcome, "")


def _finish(connector: PullConnector, moment: dt.datetime, outcome: PullOutcome, error: str) -> PullOutcome:
    outcome.cursor = connector.cursor
    if error:
        outcome.notes.insert(0, error)
    text = (f"failed: {error}; " if error else "") + str(outcome)
    PullConnector.objects.filter(pk=connector.pk).update(last_run_at=moment, last_result=text[:2000])
    return outcome


def pull_connectors_run_due(*, now: dt.datetime) -> list[tuple[PullConnector, PullOutcome]]:
    """Run every active connector whose interval has passed since its last run (the worker calls it)."""
    done: list[tuple[PullConnector, PullOutcome]] = []
    for connector in PullConnector.objects.filter(active=True).select_related("organization"):
        with job_claim("pull", connector.pk) as mine:
            if not mine:
                continue  # another worker reads it now
            # read again under the claim: a worker that just finished it has moved last_run_at on
            connector.refresh_from_db(fields=["last_run_at", "cursor", "active"])
            last = connector.last_run_at
            if not connector.active or (
                last is not None and (now - last).total_seconds() < connector.every_seconds
            ):
                continue
            done.append((connector, _run(connector, now, opener=None, sleep=None, max_pages=None)))
    return done
