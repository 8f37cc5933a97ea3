"""Agreements as rows: the agreement, its numbered versions, the parties' signatures, the signed
definitions (one row per distinct content, shared across versions) and the commitments of each version.

A version is ``draft`` → ``proposed`` → ``signed`` → ``active`` → ``superseded``.  From ``signed`` on its
content never changes: :meth:`AgreementVersion.save` refuses it, and a database trigger (migration 0002)
refuses it for any UPDATE, even one that bypasses the ORM's ``save()``.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = [
    "FROZEN_STATUSES",
    "Agreement",
    "AgreementVersion",
    "Commitment",
    "DefinitionVersion",
    "FrozenVersionError",
    "Signature",
]


class FrozenVersionError(ValueError):
    """A signed (or later) version, its signatures, commitments and definitions never change."""


class Agreement(models.Model):
    """One SLA between two or more parties (teams), identified by its key across versions."""

    organization = models.ForeignKey(
        "organization.Organization",
        on_delete=models.PROTECT,
        related_name="agreements",
        verbose_name=_("organization"),
    )
    key = models.SlugField(_("key"), max_length=64)
    title = models.CharField(_("title"), max_length=300)

    class Meta:
        ordering = ("organization", "key")
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        constraints = (
            models.UniqueConstraint(
                fields=["organization", "key"], name="agreement_key_unique_per_organization"
            ),
        )

    def __str__(self) -> str:
        return self.title


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PROPOSED = "proposed", _("Proposed")
    SIGNED = "signed", _("Signed")
    ACTIVE = "active", _("Active")
    SUPERSEDED = "superseded", _("Superseded")


FROZEN_STATUSES = frozenset({Status.SIGNED, Status.ACTIVE, Status.SUPERSEDED})
_FROZEN_FIELDS = ("agreement_id", "number", "document", "content_hash", "effective_from", "effective_until")
# Which status may follow which (the same status is always allowed).
_NEXT_STATUS = {
    Status.DRAFT: {Status.PROPOSED},
    Status.PROPOSED: {Status.SIGNED},
    Status.SIGNED: {Status.ACTIVE},
    Status.ACTIVE: {Status.SUPERSEDED},
    Status.SUPERSEDED: set(),
}


class AgreementVersion(models.Model):
    """One numbered version of an agreement: the whole document, its content hash and its life cycle."""

    Status = Status

    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, related_name="versions", verbose_name=_("agreement")
    )
    number = models.PositiveIntegerField(_("number"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    effective_from = models.DateField(_("effective from"))
    effective_until = models.DateField(_("effective until"), null=True, blank=True, help_text=_("exclusive"))
    document = models.JSONField(_("document"), help_text=_("canonical data of the whole agreement document"))
    content_hash = models.CharField(_("content hash"), max_length=64)
    revision = models.PositiveIntegerField(
        _("revision"),
        default=1,
        help_text=_(
            "counts the saves of a draft; a save based on an older revision is refused (no lost update)"
        ),
    )
    parties = models.ManyToManyField(
        "organization.Team", related_name="agreement_versions", blank=True, verbose_name=_("parties")
    )
    definitions: models.ManyToManyField[DefinitionVersion, Any] = models.ManyToManyField(
        "DefinitionVersion", related_name="agreement_versions", blank=True, verbose_name=_("definitions")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"))
    proposed_at = models.DateTimeField(_("proposed at"), null=True, blank=True)
    signed_at = models.DateTimeField(
        _("signed at"), null=True, blank=True, help_text=_("when the last party signed")
    )
    activated_at = models.DateTimeField(
        _("activated at"), null=True, blank=True, help_text=_("in force from")
    )
    superseded_at = models.DateTimeField(
        _("superseded at"), null=True, blank=True, help_text=_("in force until (exclusive)")
    )

    class Meta:
        ordering = ("agreement", "-number")
        verbose_name = _("agreement version")
        verbose_name_plural = _("agreement versions")
        constraints = (
            models.UniqueConstraint(fields=["agreement", "number"], name="agreement_version_number_unique"),
            models.UniqueConstraint(
                fields=["agreement"],
                condition=models.Q(status="active"),
                name="agreement_one_active_version",
            ),
            models.CheckConstraint(
                condition=models.Q(number__gte=1), name="agreement_version_number_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(effective_until__isnull=True)
                | models.Q(effective_until__gt=models.F("effective_from")),
                name="agreement_version_until_after_from",
            ),
        )

    def __str__(self) -> str:
        return f"{self.agreement.key} v{self.number} ({self.status})"

    @property
    def is_frozen(self) -> bool:
        """Signed or later: the content can never change again."""
        return self.status in FROZEN_STATUSES

    def clean(self) -> None:
        if self.effective_until is not None and self.effective_until <= self.effective_from:
            raise ValidationError(
                {"effective_until": _("the end date is exclusive and must be after the start")}
            )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding and self.pk is not None:
            stored = AgreementVersion.objects.filter(pk=self.pk).values("status", *_FROZEN_FIELDS).first()
            if stored is not None:
                self._check_change(stored)
        super().save(*args, **kwargs)

    def _check_change(self, stored: dict[str, Any]) -> None:
        old = Status(stored["status"])
        if self.status != old and self.status not in _NEXT_STATUS[old]:
            raise FrozenVersionError(
                f"agreement version {self.pk}: status cannot go from {old} to {self.status}"
            )
        if old in FROZEN_STATUSES:
            changed = [f for f in _FROZEN_FIELDS if getattr(self, f) != stored[f]]
            if changed:
                raise FrozenVersionError(
                    f"agreement version {self.pk} is {old} and cannot change ({', '.join(changed)}); "
                    "make a new draft version instead"
                )

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.is_frozen:
            raise FrozenVersionError(f"agreement version {self.pk} is {self.status} and cannot be deleted")
        return super().delete(*args, **kwargs)


class DefinitionVersion(models.Model):
    """One distinct content of a glossary definition (term, text, rule); shared by every agreement
    version that contains that same content, so a measurement can name the exact definition it used."""

    organization = models.ForeignKey(
        "organization.Organization",
        on_delete=models.PROTECT,
        related_name="definitions",
        verbose_name=_("organization"),
    )
    key = models.SlugField(_("key"), max_length=64)
    number = models.PositiveIntegerField(_("number"), editable=False)
    term = models.CharField(_("term"), max_length=200)
    text = models.TextField(_("text"))
    rule = models.TextField(
        _("rule"), blank=True, help_text=_("CEL expression over `lead`, e.g. lead.score >= 50")
    )
    content_hash = models.CharField(_("content hash"), max_length=64, editable=False)

    class Meta:
        ordering = ("organization", "key", "-number")
        verbose_name = _("definition version")
        verbose_name_plural = _("definition versions")
        constraints = (
            models.UniqueConstraint(
                fields=["organization", "key", "number"], name="definition_version_number_unique"
            ),
            models.UniqueConstraint(
                fields=["organization", "key", "content_hash"], name="definition_version_content_unique"
            ),
        )

    def __str__(self) -> str:
        return f"{self.term} ({self.key} v{self.number})"

    def clean(self) -> None:
        from leadpact.agreements._rules import rule_check

        rule_check(self.rule, field="rule")

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding and self.pk is not None:
            stored = (
                DefinitionVersion.objects.filter(pk=self.pk).values("term", "text", "rule", "key").first()
            )
            if stored is not None and any(getattr(self, f) != v for f, v in stored.items()):
                raise FrozenVersionError(
                    f"definition {self.key} v{self.number} cannot change; a new content is a new version"
                )
        super().save(*args, **kwargs)


class Signature(models.Model):
    """A party's lead signed the exact content (hash) of a version."""

    version = models.ForeignKey(
        AgreementVersion, on_delete=models.PROTECT, related_name="signatures", verbose_name=_("version")
    )
    party = models.ForeignKey(
        "organization.Team", on_delete=models.PROTECT, related_name="signatures", verbose_name=_("party")
    )
    signed_by = models.ForeignKey(
        "organization.Person",
        on_delete=models.PROTECT,
        related_name="signatures",
        verbose_name=_("signed by"),
    )
    signed_at = models.DateTimeField(_("signed at"))
    content_hash = models.CharField(_("content hash"), max_length=64)

    class Meta:
        ordering = ("version", "signed_at")
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        constraints = (models.UniqueConstraint(fields=["version", "party"], name="signature_one_per_party"),)

    def __str__(self) -> str:
        return f"{self.party} signed {self.version} ({self.signed_by})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise FrozenVersionError(f"signature {self.pk} cannot change")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise FrozenVersionError(f"signature {self.pk} cannot be deleted")


class Commitment(models.Model):
    """One clause of one agreement version, as a row for querying (the full clause is in ``spec``)."""

    class Kind(models.TextChoices):
        VOLUME = "volume", _("Volume")
        DECISION = "decision", _("Decision")
        FIRST_ATTEMPT = "first_attempt", _("First attempt")
        ATTEMPTS = "attempts", _("Attempts")
        HANDOFF = "handoff", _("Handoff")
        FEEDBACK = "feedback", _("Feedback")
        CONVERSION = "conversion", _("Conversion")
        PIPELINE = "pipeline", _("Pipeline")
        REVENUE = "revenue", _("Revenue")
        ACCEPTANCE = "acceptance", _("Acceptance")

    version = models.ForeignKey(
        AgreementVersion, on_delete=models.CASCADE, related_name="commitments", verbose_name=_("version")
    )
    key = models.SlugField(_("key"), max_length=64)
    title = models.CharField(_("title"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    owner = models.ForeignKey(
        "organization.Team",
        on_delete=models.PROTECT,
        related_name="commitments_owned",
        verbose_name=_("owner"),
    )
    beneficiary = models.ForeignKey(
        "organization.Team",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commitments_received",
        verbose_name=_("beneficiary"),
    )
    covers = models.ForeignKey(
        DefinitionVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commitments",
        verbose_name=_("covers"),
    )
    spec = models.JSONField(_("spec"), help_text=_("the clause exactly as in the agreement document"))

    class Meta:
        ordering = ("version", "key")
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        constraints = (
            models.UniqueConstraint(fields=["version", "key"], name="commitment_key_unique_per_version"),
        )

    def __str__(self) -> str:
        return f"{self.key} ({self.version})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if AgreementVersion.objects.filter(pk=self.version_id, status__in=FROZEN_STATUSES).exists():
            raise FrozenVersionError(f"commitment {self.key}: version {self.version_id} is signed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if AgreementVersion.objects.filter(pk=self.version_id, status__in=FROZEN_STATUSES).exists():
            raise FrozenVersionError(f"commitment {self.key}: version {self.version_id} is signed")
        return super().delete(*args, **kwargs)
