"""Admin for reviews: records to read. Series, notes, action items and closing go through the pages and
``leadpact review`` (their services audit every write)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from leadpact.reviews.models import ActionItem, ExchangeNote, Review, ReviewSeries, SupportCommitment


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReviewSeries)
class ReviewSeriesAdmin(_ReadOnly):
    list_display = ("name", "agreement", "rrule", "starts_on", "time", "duration_minutes")
    list_filter = ("agreement",)
    exclude = ("feed_token",)  # the feed's secret: shown on the series page to its organisation only


@admin.register(Review)
class ReviewAdmin(_ReadOnly):
    list_display = ("series", "day", "moved_from", "status", "closed_by", "closed_at")
    list_filter = ("series", "status")
    exclude = ("pack",)


@admin.register(ExchangeNote)
class ExchangeNoteAdmin(_ReadOnly):
    list_display = ("review", "direction", "category", "author", "question", "created_at")
    list_filter = ("direction", "category")
    search_fields = ("text",)


@admin.register(ActionItem)
class ActionItemAdmin(_ReadOnly):
    list_display = ("text", "owner", "due", "status", "review")
    list_filter = ("status",)


@admin.register(SupportCommitment)
class SupportCommitmentAdmin(_ReadOnly):
    list_display = ("text", "side", "cadence", "agreement", "active")
