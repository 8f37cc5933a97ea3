"""The audit log: an append-only, hash-chained, sealed list of every change to agreements, people and more.

Each entry is chained to the one before by its hash and sealed with an HMAC under a key kept outside the
database (:mod:`leadpact.audit.seal`); the :class:`AuditCheckpoint` seals how many entries there are and
the newest one's hash.  Database triggers (migration 0005) refuse UPDATE and DELETE of entries.
"""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["GENESIS_HASH", "AuditAppendOnlyError", "AuditCheckpoint", "AuditEntry"]

GENESIS_HASH = "0" * 64


class AuditAppendOnlyError(ValueError):
    """Audit entries are written once and never changed or deleted."""


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditAppendOnlyError("audit entries are append-only: update is refused")

    def delete(self) -> NoReturn:
        raise AuditAppendOnlyError("audit entries are append-only: delete is refused")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditAppendOnlyError("audit entries are append-only: bulk update is refused")


class AuditEntry(models.Model):
    """One change: who, when, what, before and after, chained to the previous entry by its hash.

    ``hash`` = sha256 over the canonical JSON of the entry's content and ``prev_hash``
    (see :func:`leadpact.audit.services.audit_entry_hash`).  ``prev_hash`` is unique, so the chain can
    never fork, even when two writers race.  ``seal`` = HMAC-SHA256 of ``hash`` under the audit key.
    """

    at = models.DateTimeField(_("at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(
        _("actor label"), max_length=150, help_text=_("user name, or who acted for the system (cli)")
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    organization = models.ForeignKey(
        "organization.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organization"),
    )
    agreement = models.ForeignKey(
        "agreements.Agreement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_entries",
        verbose_name=_("agreement"),
    )
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)
    seal = models.CharField(_("seal"), max_length=64, help_text=_("HMAC of the hash under the audit key"))

    objects: ClassVar[AuditEntryQuerySet] = AuditEntryQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ("id",)
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        constraints = (models.UniqueConstraint(fields=["prev_hash"], name="audit_entry_prev_hash_unique"),)

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id} by {self.actor_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None or not self._state.adding:
            raise AuditAppendOnlyError(f"audit entry {self.pk} is append-only: it cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditAppendOnlyError(f"audit entry {self.pk} is append-only: it cannot be deleted")


class AuditCheckpoint(models.Model):
    """The one row that seals the whole log: its chain, how many entries it has and the newest one's hash.

    Written in the same transaction as every entry, under the same lock; ``seal`` is an HMAC under the
    audit key, so a log with its newest entries removed (or a checkpoint set back) is detected.  ``chain``
    is a random name given when the first entry is written: it tells this database's log apart from any
    other's in the copy of the checkpoint kept in the data folder.  ``last_id`` and ``key_id`` are hints
    for messages, not sealed.
    """

    chain = models.CharField(_("chain"), max_length=32, unique=True)
    entries = models.PositiveBigIntegerField(_("entries"))
    last_id = models.BigIntegerField(_("last entry id"))
    last_hash = models.CharField(_("last hash"), max_length=64)
    key_id = models.CharField(_("key id"), max_length=16)
    seal = models.CharField(_("seal"), max_length=64)

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")

    def __str__(self) -> str:
        return f"audit checkpoint {self.chain}: {self.entries} entries"
