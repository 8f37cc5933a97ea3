"""Who takes part: the organisation, its teams (the parties of agreements), their people and leave."""

from __future__ import annotations

import re
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

__all__ = ["Leave", "Membership", "Organization", "Person", "Team"]


def _validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(
            _("unknown time zone %(value)r: use an IANA name such as Europe/Amsterdam"),
            code="invalid",
            params={"value": value},
        ) from error


class Organization(models.Model):
    """The company that runs leadpact; agreement dates are read in its time zone."""

    key = models.SlugField(_("key"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Amsterdam", validators=[_validate_timezone]
    )

    class Meta:
        ordering = ("name",)
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A party of agreements: marketing, sales, SDR, a partner; keeps its business calendar."""

    class Kind(models.TextChoices):
        MARKETING = "marketing", _("Marketing")
        SALES = "sales", _("Sales")
        SDR = "sdr", _("SDR")
        PARTNER = "partner", _("Partner")
        OTHER = "other", _("Other")

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="teams", verbose_name=_("organization")
    )
    key = models.SlugField(_("key"), max_length=64, help_text=_("the party key used in agreements"))
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.OTHER)
    calendar = models.JSONField(
        _("calendar"), help_text=_("business calendar spec (timezone, hours, holidays, …)")
    )

    class Meta:
        ordering = ("organization", "key")
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = (
            models.UniqueConstraint(fields=["organization", "key"], name="team_key_unique_per_organization"),
        )

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from leadpact.organization._calendars import calendar_from_spec

        calendar_from_spec(self.calendar, field="calendar")


_CRM_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


def _validate_crm_ids(value: object) -> None:
    """``{"hubspot": "7301", ...}``: CRM names in lower case, ids as text of at most 64 characters."""
    if not isinstance(value, dict):
        raise ValidationError(_('give the CRM user ids as an object, e.g. {"hubspot": "7301"}'))
    for crm, user_id in value.items():
        if not isinstance(crm, str) or not _CRM_NAME.fullmatch(crm):
            raise ValidationError(_("%(crm)r is not a CRM name (lower-case letters)"), params={"crm": crm})
        if not isinstance(user_id, str) or not user_id.strip() or len(user_id) > 64:
            raise ValidationError(
                _("the %(crm)s user id must be text of 1 to 64 characters"), params={"crm": crm}
            )


class Person(models.Model):
    """A member of a team, with the share of a full week they work and, optionally, their own hours."""

    class Role(models.TextChoices):
        LEAD = "lead", _("Team lead")  # not "Lead": in leadpact a lead is a prospect
        MEMBER = "member", _("Member")

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="people", verbose_name=_("team"))
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=8, choices=Role.choices, default=Role.MEMBER)
    fte = models.DecimalField(
        _("FTE"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    hours = models.JSONField(
        _("hours"),
        null=True,
        blank=True,
        help_text=format_lazy(
            _("own weekly hours in the calendar “hours” syntax, e.g. {example}"),
            example='{"mon-wed": ["09:00-17:00"]}',
        ),
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(
        _("end date"), null=True, blank=True, help_text=_("first day no longer in the team")
    )
    crm_ids = models.JSONField(
        _("CRM user ids"),
        default=dict,
        blank=True,
        validators=[_validate_crm_ids],
        help_text=format_lazy(
            _("this person's user id in each CRM, so owners in imports and webhooks match, e.g. {example}"),
            example='{"hubspot": "7301", "salesforce": "0055g00000AAAAAAA1", "pipedrive": "42"}',
        ),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
        verbose_name=_("user"),
    )

    class Meta:
        ordering = ("team", "name")
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = (
            models.UniqueConstraint(fields=["team", "email"], name="person_email_unique_per_team"),
            models.CheckConstraint(
                condition=models.Q(fte__gte=0) & models.Q(fte__lte=1), name="person_fte_between_0_and_1"
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True) | models.Q(end_date__gt=models.F("start_date")),
                name="person_end_after_start",
            ),
        )

    def __str__(self) -> str:
        return self.name

    @property
    def is_lead(self) -> bool:
        return self.role == self.Role.LEAD

    def clean(self) -> None:
        if self.end_date is not None and self.start_date is not None and self.end_date <= self.start_date:
            raise ValidationError({"end_date": _("end date must be after the start date (it is exclusive)")})
        if self.hours is not None and self.team_id is not None:
            from leadpact.organization._calendars import hours_check

            hours_check(self.team.calendar, self.hours, field="hours")


class Leave(models.Model):
    """Days a person is away, half-open: ``[first_day, end_day)``."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="leave", verbose_name=_("person")
    )
    first_day = models.DateField(_("first day"))
    end_day = models.DateField(_("end day"), help_text=_("the day the person is back (exclusive)"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ("person", "first_day")
        verbose_name = _("leave")
        verbose_name_plural = _("leave")
        constraints = (
            models.CheckConstraint(
                condition=models.Q(end_day__gt=models.F("first_day")), name="leave_end_after_first"
            ),
        )

    def __str__(self) -> str:
        return f"{self.person}: {self.first_day} – {self.end_day}"

    def clean(self) -> None:
        if self.first_day is not None and self.end_day is not None and self.end_day <= self.first_day:
            raise ValidationError({"end_day": _("the end day is exclusive and must be after the first day")})


class Membership(models.Model):
    """A user's place in an organisation: what they may do there.

    Whether a member leads a party is not stored here: it is the role of the person the user is in the
    organisation (``Person.role``), so that the team page and the agreement's signatures agree.
    """

    class Role(models.TextChoices):
        ADMIN = "admin", _("Organisation admin")
        MEMBER = "member", _("Member")
        VIEWER = "viewer", _("Viewer (read only)")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("organization")
    )
    role = models.CharField(_("role"), max_length=8, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ("organization", "user")
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = (
            models.UniqueConstraint(
                fields=["user", "organization"], name="membership_unique_per_organization"
            ),
        )

    def __str__(self) -> str:
        return f"{self.user} · {self.organization} · {self.get_role_display()}"
