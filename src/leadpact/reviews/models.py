"""The recurring review of an agreement: its series (an RFC 5545 recurrence with attendees), each review
with its frozen pack, the notes both sides exchange, the support commitments each side keeps, and what
the meeting records — attendance, notes per agenda item, decisions and action items."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = [
    "AGENDA_ITEMS",
    "ActionItem",
    "AgendaItemNote",
    "Attendance",
    "Decision",
    "ExchangeNote",
    "Review",
    "ReviewSeries",
    "SupportCheck",
    "SupportCommitment",
]

#: The agenda of every review, in the order of the meeting (DOMAIN.md, "The recurring review").
AGENDA_ITEMS: tuple[tuple[str, object], ...] = (
    ("scorecard", _("Scorecards of both sides")),
    ("breaches", _("Breaches and exceptions")),
    ("quality", _("Lead quality")),
    ("marketing_to_sales", _("Marketing → sales")),
    ("sales_to_marketing", _("Sales → marketing")),
    ("support", _("Support commitments")),
    ("actions", _("Last review's action items")),
    ("disputes", _("Open disputes and pending restatements")),
    ("changes", _("Proposed agreement changes")),
    ("targets", _("Targets in plain words")),
)


class ReviewSeries(models.Model):
    """A recurring meeting of an agreement's parties: weekly operating review, monthly results …"""

    agreement = models.ForeignKey(
        "agreements.Agreement",
        on_delete=models.PROTECT,
        related_name="review_series",
        verbose_name=_("agreement"),
    )
    key = models.SlugField(_("key"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    rrule = models.CharField(
        _("recurrence"),
        max_length=500,
        help_text=_("an RFC 5545 rule, e.g. FREQ=WEEKLY;BYDAY=TU or FREQ=MONTHLY;BYDAY=1TU"),
    )
    starts_on = models.DateField(_("first day"), help_text=_("the recurrence starts on this day"))
    time = models.TimeField(_("time of day"), help_text=_("in the organisation's time zone"))
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), default=45)
    period_kind = models.CharField(
        _("period shown"),
        max_length=12,
        choices=(
            ("month", _("the month of the review")),
            ("last_month", _("the month before the review")),
            ("week", _("the week of the review")),
            ("last_week", _("the week before the review")),
            ("quarter", _("the quarter of the review")),
            ("last_quarter", _("the quarter before the review")),
        ),
        default="month",
    )
    attendees = models.ManyToManyField(
        "organization.Person", related_name="review_series", blank=True, verbose_name=_("attendees")
    )
    feed_token = models.CharField(_("feed token"), max_length=64, unique=True)
    send_before_hours = models.PositiveIntegerField(
        _("send the pack (hours before)"), default=24, help_text=_("0: do not e-mail the pack")
    )
    language = models.CharField(
        _("language of the e-mailed pack"),
        max_length=8,
        choices=(("en", "English"), ("nl", "Nederlands")),
        default="en",
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ("agreement", "name")
        verbose_name = _("review series")
        verbose_name_plural = _("review series")
        constraints = (models.UniqueConstraint(fields=["agreement", "key"], name="review_series_key_unique"),)

    def __str__(self) -> str:
        return self.name


class Review(models.Model):
    """One meeting of a series on one day (moved off a closed day, and saying so)."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    series = models.ForeignKey(
        ReviewSeries, on_delete=models.CASCADE, related_name="reviews", verbose_name=_("series")
    )
    day = models.DateField(_("day"), help_text=_("the day the review takes place"))
    starts_at = models.DateTimeField(_("starts at"))
    moved_from = models.DateField(_("moved from"), null=True, blank=True)
    moved_reason = models.CharField(_("why it moved"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    closed_by = models.ForeignKey(
        "organization.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    pack = models.JSONField(_("pack"), null=True, blank=True, help_text=_("the pack as shown when closed"))
    emailed_at = models.DateTimeField(_("pack e-mailed at"), null=True, blank=True)

    class Meta:
        ordering = ("series", "day")
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = (models.UniqueConstraint(fields=["series", "day"], name="review_one_per_day"),)

    def __str__(self) -> str:
        return f"{self.series} {self.day}"

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


class ExchangeNote(models.Model):
    """Information one side has for the other, for the next review; it may ask a question."""

    class Direction(models.TextChoices):
        MARKETING_TO_SALES = "marketing_to_sales", _("marketing → sales")
        SALES_TO_MARKETING = "sales_to_marketing", _("sales → marketing")

    class Category(models.TextChoices):
        CAMPAIGN = "campaign", _("campaign or event coming")
        CONTENT = "content", _("new content")
        SCORING = "scoring", _("scoring or ICP change")
        LEAD_CONTEXT = "lead_context", _("lead context")
        OBJECTION = "objection", _("objection heard")
        COMPETITOR = "competitor", _("competitor named")
        WIN_LOSS = "win_loss", _("win or loss reason")
        CONTENT_REQUEST = "content_request", _("content request")
        LEAD_QUALITY = "lead_quality", _("lead quality remark")
        OTHER = "other", _("other")

    review = models.ForeignKey(
        Review, on_delete=models.PROTECT, related_name="notes", verbose_name=_("review")
    )
    direction = models.CharField(_("direction"), max_length=24, choices=Direction.choices)
    category = models.CharField(_("category"), max_length=24, choices=Category.choices)
    text = models.TextField(_("text"))
    author = models.ForeignKey(
        "organization.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("author")
    )
    created_at = models.DateTimeField(_("created at"))
    lead = models.ForeignKey(
        "leads.Lead",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("lead"),
    )
    commitment_key = models.SlugField(_("commitment"), max_length=64, blank=True)
    campaign = models.CharField(_("campaign"), max_length=200, blank=True)
    question = models.BooleanField(_("asks a question"), default=False)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        "organization.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("answered by"),
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        ordering = ("review", "created_at", "id")
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self) -> str:
        return self.text[:60]


#: The categories each direction offers.
DIRECTION_CATEGORIES = {
    ExchangeNote.Direction.MARKETING_TO_SALES: (
        ExchangeNote.Category.CAMPAIGN,
        ExchangeNote.Category.CONTENT,
        ExchangeNote.Category.SCORING,
        ExchangeNote.Category.LEAD_CONTEXT,
        ExchangeNote.Category.OTHER,
    ),
    ExchangeNote.Direction.SALES_TO_MARKETING: (
        ExchangeNote.Category.OBJECTION,
        ExchangeNote.Category.COMPETITOR,
        ExchangeNote.Category.WIN_LOSS,
        ExchangeNote.Category.CONTENT_REQUEST,
        ExchangeNote.Category.LEAD_QUALITY,
        ExchangeNote.Category.OTHER,
    ),
}


class SupportCommitment(models.Model):
    """What one side does for the other ("sales gives marketing a monthly list of lost reasons")."""

    agreement = models.ForeignKey(
        "agreements.Agreement",
        on_delete=models.PROTECT,
        related_name="support_commitments",
        verbose_name=_("agreement"),
    )
    series = models.ForeignKey(
        ReviewSeries,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="support_commitments",
        verbose_name=_("series"),
        help_text=_("empty: checked in every series of the agreement"),
    )
    side = models.ForeignKey(
        "organization.Team", on_delete=models.PROTECT, related_name="+", verbose_name=_("side")
    )
    text = models.CharField(_("text"), max_length=500)
    cadence = models.CharField(_("cadence"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ("agreement", "side", "id")
        verbose_name = _("support commitment")
        verbose_name_plural = _("support commitments")

    def __str__(self) -> str:
        return self.text


class SupportCheck(models.Model):
    """A review checked a support commitment off (kept or not)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="support_checks")
    commitment = models.ForeignKey(SupportCommitment, on_delete=models.PROTECT, related_name="checks")
    kept = models.BooleanField(_("kept"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    checked_by = models.ForeignKey("organization.Person", on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField()

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["review", "commitment"], name="support_check_once_per_review"),
        )


class Attendance(models.Model):
    """Who was at a review."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="attendance")
    person = models.ForeignKey("organization.Person", on_delete=models.PROTECT, related_name="+")
    present = models.BooleanField(default=True)

    class Meta:
        ordering = ("review", "person__name")
        constraints = (
            models.UniqueConstraint(fields=["review", "person"], name="attendance_once_per_review"),
        )


class AgendaItemNote(models.Model):
    """What was said in the meeting on one agenda item."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="item_notes")
    item = models.CharField(max_length=24, choices=[(k, v) for k, v in AGENDA_ITEMS])
    text = models.TextField()
    author = models.ForeignKey("organization.Person", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("review", "created_at", "id")


class Decision(models.Model):
    """A decision the review took."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="decisions")
    text = models.TextField()
    created_by = models.ForeignKey("organization.Person", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("review", "created_at", "id")


class ActionItem(models.Model):
    """Someone does something by a day; open items carry to every next review until done."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        DONE = "done", _("done")

    review = models.ForeignKey(
        Review, on_delete=models.PROTECT, related_name="action_items", verbose_name=_("raised in")
    )
    text = models.CharField(_("what"), max_length=500)
    owner = models.ForeignKey(
        "organization.Person", on_delete=models.PROTECT, related_name="action_items", verbose_name=_("owner")
    )
    due = models.DateField(_("due"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    commitment = models.ForeignKey(
        SupportCommitment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("support commitment"),
    )
    commitment_key = models.SlugField(_("agreement commitment"), max_length=64, blank=True)
    lead = models.ForeignKey(
        "leads.Lead",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("lead"),
    )
    note = models.ForeignKey(
        ExchangeNote,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("note"),
    )
    created_by = models.ForeignKey("organization.Person", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    done_by = models.ForeignKey(
        "organization.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("due", "id")
        verbose_name = _("action item")
        verbose_name_plural = _("action items")

    def __str__(self) -> str:
        return self.text
