"""Leads, their source ids, their append-only event log, the state cache derived from it, handoff checks,
API tokens, file import jobs and webhook deliveries."""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models
from django.db.models.functions import Lower

from leadpact.connectors.bounds import EVENT_TEXT, EXTERNAL_ID_LENGTH, LEAD_TEXT, SOURCE_LENGTH
from leadpact.leads._prepare import key_digest

__all__ = [
    "ApiToken",
    "AppendOnlyError",
    "HandoffCheck",
    "ImportJob",
    "ImportProblem",
    "Lead",
    "LeadEvent",
    "LeadSource",
    "LeadState",
    "PullConnector",
    "SavedMapping",
    "WebhookDelivery",
    "WebhookIntegration",
    "WebhookRejection",
    "digest_of_key",
]


def digest_of_key(idempotency_key: str) -> bytes:
    """The first 16 bytes of the sha256 of an idempotency key: what the unique index holds.

    >>> len(digest_of_key("client:api:order-17"))
    16
    """
    return key_digest(idempotency_key)


class AppendOnlyError(ValueError):
    """Lead events are never changed or deleted: a correction is a new event."""


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    HANDED_OVER = "handed_over", "Handed over"
    ASSIGNED = "assigned", "Assigned"
    CONTACT_ATTEMPT = "contact_attempt", "Contact attempt"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    QUALIFIED = "qualified", "Qualified"
    OPPORTUNITY = "opportunity", "Opportunity"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    RECYCLED = "recycled", "Recycled"
    FEEDBACK = "feedback", "Feedback"
    FIELD_CHANGED = "field_changed", "Field changed"
    RESUMED = "resumed", "Resumed (ends a pause)"
    VOIDED = "voided", "Voided (a correction: names the event it voids)"


class Lead(models.Model):
    """One lead: its typed core fields (the ones rules and contracts name), ``extra`` for the rest."""

    # indexes kept to those reads need: every index is paid for on each of a million inserts
    organization = models.ForeignKey(
        "organization.Organization", on_delete=models.PROTECT, related_name="leads", db_index=False
    )
    name = models.CharField(max_length=LEAD_TEXT["name"], blank=True)
    email = models.CharField(max_length=LEAD_TEXT["email"], blank=True)
    phone = models.CharField(max_length=LEAD_TEXT["phone"], blank=True)
    company = models.CharField(max_length=LEAD_TEXT["company"], blank=True)
    country = models.CharField(max_length=LEAD_TEXT["country"], blank=True)
    source = models.CharField(max_length=LEAD_TEXT["source"], blank=True)
    campaign = models.CharField(max_length=LEAD_TEXT["campaign"], blank=True)
    score = models.IntegerField(null=True, blank=True)
    job_title = models.CharField(max_length=LEAD_TEXT["job_title"], blank=True)
    industry = models.CharField(max_length=LEAD_TEXT["industry"], blank=True)
    company_size = models.CharField(max_length=LEAD_TEXT["company_size"], blank=True)
    trigger = models.CharField(max_length=LEAD_TEXT["trigger"], blank=True)
    consent = models.BooleanField(null=True, blank=True)
    recent_touches = models.IntegerField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    # no index on the owners: no read looks leads up by owner alone, and each index is paid for on every
    # one of a million inserts (deleting a person, rare, scans the leads once instead)
    marketing_owner = models.ForeignKey(
        "organization.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    sales_owner = models.ForeignKey(
        "organization.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # the earlier lead this one duplicates: set by hand (API, admin) or at the handoff check (same e-mail)
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="duplicates",
        db_index=False,
        help_text="the earlier lead this one is a duplicate of; duplicates leave every count",
    )
    created_at = models.DateTimeField(help_text="when the source created the lead")
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = (
            models.Index(fields=["organization", "created_at"], name="lead_org_created"),
            # partial: the million leads without an e-mail or a duplicate mark never touch these
            models.Index(
                models.F("organization"), Lower("email"), name="lead_org_email", condition=~models.Q(email="")
            ),
            models.Index(
                fields=["duplicate_of"],
                name="lead_duplicate_of",
                condition=models.Q(duplicate_of__isnull=False),
            ),
        )

    def __str__(self) -> str:
        return self.name or self.email or f"lead {self.pk}"


class LeadSource(models.Model):
    """The id a source system (``hubspot``, ``salesforce``, ``api`` …) knows a lead by."""

    organization = models.ForeignKey(
        "organization.Organization", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="sources")
    source = models.CharField(max_length=SOURCE_LENGTH)
    external_id = models.CharField(max_length=EXTERNAL_ID_LENGTH)

    class Meta:
        ordering = ("source", "external_id")
        constraints = (
            models.UniqueConstraint(
                fields=["organization", "source", "external_id"], name="lead_source_external_id_unique"
            ),
        )

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"


class _AppendOnlyQuerySet(models.QuerySet["LeadEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("lead events are append-only: they cannot be updated")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("lead events are append-only: they cannot be deleted")


class LeadEvent(models.Model):
    """One fact in a lead's life, at the source's time; never changed, never deleted.

    ``data`` holds the kind's values: ``channel``, ``human`` (contact attempts), ``reason_code``,
    ``reason`` (rejected, lost), ``amount`` (a decimal as text) and ``currency``, ``value``/``field``
    (assigned, field_changed), ``source_ref`` (the delivery it came in).
    """

    Kind = EventKind

    # the unique key and the two indexes below cover these foreign keys' lookups
    organization = models.ForeignKey(
        "organization.Organization", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="events", db_index=False)
    # one of EventKind, or a pause kind an agreement of the organisation declares, or ``resumed``
    kind = models.CharField(max_length=64)
    occurred_at = models.DateTimeField(help_text="when it happened, by the source's clock")
    recorded_at = models.DateTimeField(help_text="when leadpact stored it")
    actor = models.ForeignKey(
        "organization.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    actor_label = models.CharField(max_length=EVENT_TEXT["actor"], blank=True)
    source = models.CharField(max_length=SOURCE_LENGTH)
    idempotency_key = models.CharField(max_length=64)
    # 128 bits of the key's sha256: a third of the key's size in the unique index, which every one of a
    # million inserts pays for; set by the store and by save(), empty on rows made some other way
    key_digest = models.BinaryField(max_length=16, null=True, blank=True, editable=False)
    data = models.JSONField(default=dict, blank=True)

    objects = _AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ("occurred_at", "id")
        constraints = (
            models.UniqueConstraint(
                fields=["organization", "key_digest"], name="lead_event_key_digest_unique"
            ),
        )
        indexes = (
            models.Index(fields=["lead", "occurred_at"], name="lead_event_lead_time"),
            # handoffs in a period (scorecards, clocks, accountability) are the only reads by kind and time:
            # a partial index holds those, not every event (a third of an import's index inserts saved)
            models.Index(
                fields=["organization", "occurred_at"],
                name="lead_event_handoffs",
                condition=models.Q(kind="handed_over"),
            ),
        )

    def __str__(self) -> str:
        return f"{self.kind} at {self.occurred_at:%Y-%m-%d %H:%M} (lead {self.lead_id})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"lead event {self.pk} cannot change: record a new event instead")
        if self.key_digest is None and self.idempotency_key:
            self.key_digest = digest_of_key(self.idempotency_key)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError(f"lead event {self.pk} cannot be deleted: lead events are append-only")


class LeadState(models.Model):
    """A cache of the state derived from the lead's events (``leads._state.derive_state``); rebuildable."""

    lead = models.OneToOneField(Lead, on_delete=models.CASCADE, primary_key=True, related_name="state")
    stage = models.CharField(max_length=16, default="new")
    owner = models.ForeignKey(  # not indexed, like the lead's owners
        "organization.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    owner_label = models.CharField(max_length=200, blank=True)
    handed_over_at = models.DateTimeField(null=True, blank=True)
    handoffs = models.PositiveIntegerField(default=0)
    decision = models.CharField(max_length=8, blank=True, help_text="accepted, rejected or empty")
    decided_at = models.DateTimeField(null=True, blank=True)
    reason_code = models.CharField(max_length=64, blank=True)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    first_human_attempt_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    human_attempts = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=4, blank=True, help_text="won, lost or empty")
    closed_at = models.DateTimeField(null=True, blank=True)
    amount = models.CharField(max_length=40, blank=True)
    recycled = models.PositiveIntegerField(default=0)
    events = models.PositiveIntegerField(default=0)
    last_event_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"lead {self.lead_id}: {self.stage}"


class HandoffCheck(models.Model):
    """A lead checked at a handoff against the agreement version then in force: the rule of every
    definition a commitment covers (by its exact definition version) and the handoff data contract.

    ``definition_version``/``met``/``failed`` are the volume commitment's definition (kept for the
    pages and rows written before ``definitions`` existed); ``definitions`` holds every covered one.
    """

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="handoff_checks")
    event = models.ForeignKey(LeadEvent, on_delete=models.PROTECT, related_name="handoff_checks")
    agreement_version = models.ForeignKey(
        "agreements.AgreementVersion", on_delete=models.PROTECT, related_name="+"
    )
    definition_version = models.ForeignKey(
        "agreements.DefinitionVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    met = models.BooleanField(help_text="met the definition's rule (true when the definition has no rule)")
    failed = models.JSONField(default=list, blank=True, help_text="the failed clauses, in words")
    missing_fields = models.JSONField(default=list, blank=True, help_text="contract fields that failed")
    definitions = models.JSONField(
        default=dict,
        db_default={},  # rows written by hand or by older code (without the column) read as "not checked"
        blank=True,
        help_text="every definition a commitment of the version covers: key → "
        '{"version": definition version id, "met": bool, "failed": [clauses]}',
    )
    checked_at = models.DateTimeField()

    class Meta:
        ordering = ("event", "agreement_version")
        constraints = (
            models.UniqueConstraint(fields=["event", "agreement_version"], name="handoff_check_once"),
        )

    def __str__(self) -> str:
        return f"handoff of lead {self.lead_id}: {'met' if self.met else 'not met'}"

    @property
    def complete(self) -> bool:
        """Every field of the data contract passed."""
        return not self.missing_fields


class ApiToken(models.Model):
    """A token per integration: ``lp_<prefix>_<secret>``; only the sha256 of the whole token is kept."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Read and write"

    organization = models.ForeignKey("organization.Organization", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=16, unique=True)
    hashed_secret = models.CharField(max_length=64)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("organization", "name")

    def __str__(self) -> str:
        return f"{self.name} (lp_{self.prefix}_…, {self.scope})"


class SavedMapping(models.Model):
    """A column mapping saved by name for reuse (``connectors.Mapping`` as JSON)."""

    organization = models.ForeignKey("organization.Organization", on_delete=models.PROTECT, related_name="+")
    name = models.SlugField(max_length=64)
    mapping = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("organization", "name")
        constraints = (
            models.UniqueConstraint(fields=["organization", "name"], name="saved_mapping_name_unique"),
        )

    def __str__(self) -> str:
        return self.name


class ImportJob(models.Model):
    """One import of one file; batches commit whole and move ``last_committed_row`` along."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        INTERRUPTED = "interrupted", "Interrupted"

    organization = models.ForeignKey("organization.Organization", on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64, db_index=True)
    preset = models.CharField(max_length=64, blank=True)
    mapping = models.JSONField(help_text="the mapping used, with the date order and time zone applied")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    rows_read = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    problems_count = models.PositiveIntegerField(default=0)
    leads_added = models.PositiveIntegerField(default=0, help_text="leads the import made (not there before)")
    events_added = models.PositiveIntegerField(
        default=0, help_text="events the import stored (not there before): 0 when a file adds nothing new"
    )
    last_committed_row = models.PositiveIntegerField(default=0, help_text="spreadsheet row number")
    error = models.TextField(blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # who runs it, and when it last said so: a "running" job whose process is gone was interrupted
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="last sign of life of a running import"
    )
    host = models.CharField(max_length=255, blank=True, help_text="the machine the import runs on")
    pid = models.PositiveIntegerField(null=True, blank=True, help_text="the importing process")

    class Meta:
        ordering = ("-started_at", "-id")

    def __str__(self) -> str:
        return f"import {self.pk} of {self.file_name} ({self.status})"


class ImportProblem(models.Model):
    """Why (part of) a row was not taken: spreadsheet row number, column header, reason."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="problems")
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=300, blank=True)
    reason = models.TextField()

    class Meta:
        ordering = ("job", "row", "id")

    def __str__(self) -> str:
        return f"row {self.row}" + (f", column {self.column!r}" if self.column else "") + f": {self.reason}"


class WebhookIntegration(models.Model):
    """One webhook sender: its kind, the secret (or basic credentials) its requests are verified with."""

    class Kind(models.TextChoices):
        HUBSPOT = "hubspot", "HubSpot"
        MAUTIC = "mautic", "Mautic"
        PIPEDRIVE = "pipedrive", "Pipedrive"
        GENERIC = "generic", "Generic (signed)"
        SALESFORCE = "salesforce", "Salesforce Outbound Messages"
        SALESFORCE_CDC = "salesforce_cdc", "Salesforce Change Data Capture (relayed, signed)"

    organization = models.ForeignKey("organization.Organization", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    slug = models.SlugField(max_length=64, unique=True, help_text="the last part of the webhook URL")
    name = models.CharField(max_length=200)
    # never in clear (leads._secrets): a signing secret sealed with a key derived from SECRET_KEY, a
    # password as its SHA-256
    secret_sealed = models.CharField(
        max_length=500,
        blank=True,
        editable=False,
        help_text="HubSpot client secret, Mautic or generic signing secret, encrypted with SECRET_KEY",
    )
    username = models.CharField(max_length=200, blank=True, help_text="Pipedrive basic auth user")
    password_hash = models.CharField(
        max_length=200, blank=True, editable=False, help_text="SHA-256 of the Pipedrive basic auth password"
    )
    public_url = models.URLField(
        blank=True, help_text="the URL as the sender calls it (HubSpot signs it); default: as received"
    )
    account_id = models.CharField(
        max_length=64,
        blank=True,
        help_text="Salesforce: the organisation id (00D…) every Outbound Message must carry",
    )
    cursor = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="Salesforce CDC: the highest replay id processed; a relay resumes after it",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("organization", "name")

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class WebhookDelivery(models.Model):
    """One verified request, stored before it is processed so that a crash in between loses nothing."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    integration = models.ForeignKey(WebhookIntegration, on_delete=models.PROTECT, related_name="deliveries")
    received_at = models.DateTimeField()
    headers = models.JSONField()
    body = models.BinaryField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    events_stored = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    # sha256 of the body: the same body again (a replay of a scheme without a timestamp) is not applied
    # twice; empty on deliveries stored before it was kept
    body_digest = models.BinaryField(max_length=32, null=True, blank=True, editable=False)
    attempts = models.PositiveIntegerField(
        default=0, help_text="times processing failed unexpectedly; failed for good after 5"
    )

    class Meta:
        ordering = ("received_at", "id")
        indexes = (models.Index(fields=["status", "received_at"], name="webhook_delivery_status"),)
        constraints = (
            models.UniqueConstraint(
                fields=["integration", "body_digest"],
                name="webhook_delivery_body_once",
                condition=models.Q(body_digest__isnull=False),
            ),
        )

    def __str__(self) -> str:
        return f"delivery {self.pk} to {self.integration} ({self.status})"


class WebhookRejection(models.Model):
    """A request refused (bad or missing signature, unknown or inactive integration); never processed."""

    integration = models.ForeignKey(
        WebhookIntegration, null=True, blank=True, on_delete=models.CASCADE, related_name="rejections"
    )
    path = models.CharField(max_length=500)
    received_at = models.DateTimeField(help_text="the last refusal this row counts")
    reason = models.CharField(max_length=500)
    remote_addr = models.CharField(max_length=64, blank=True)
    count = models.PositiveIntegerField(
        default=1, help_text="refusals this row stands for (past the cap, later ones are counted here)"
    )

    class Meta:
        ordering = ("-received_at", "-id")
        indexes = (models.Index(fields=["received_at"], name="webhook_rejection_received"),)

    def __str__(self) -> str:
        return f"rejected {self.path}: {self.reason}"


class PullConnector(models.Model):
    """A CRM leadpact reads from on a schedule (``leadpact worker``): HubSpot's CRM v3 objects API with a
    private app token (sealed like a webhook secret), and where the last run stopped (``cursor``)."""

    class Kind(models.TextChoices):
        HUBSPOT = "hubspot", "HubSpot (private app token)"

    organization = models.ForeignKey("organization.Organization", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=200)
    token_sealed = models.CharField(
        max_length=1000, editable=False, help_text="the token, encrypted with SECRET_KEY"
    )
    base_url = models.URLField(default="https://api.hubapi.com", help_text="the API's address")
    cursor = models.CharField(
        max_length=64, blank=True, help_text="contacts changed from this instant on are read next (ISO 8601)"
    )
    every_seconds = models.PositiveIntegerField(default=300, help_text="how often the worker reads")
    active = models.BooleanField(default=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_result = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("organization", "name")

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"
