"""``leadpact review``: a review series' pack for a date (HTML, PDF or Markdown, English or Dutch), its
calendar as .ics, the series there are, and a new series."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from leadpact.agreements.models import Agreement
from leadpact.errors import ApplicationError
from leadpact.organization.models import Organization
from leadpact.reviews.ics import series_ics
from leadpact.reviews.models import ReviewSeries
from leadpact.reviews.render import FORMATS, pack_html, pack_markdown, pack_pdf
from leadpact.reviews.schedule import series_occurrences
from leadpact.reviews.selectors import review_on, review_pack
from leadpact.reviews.services import series_create


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"{option} {text!r}: give a date as YYYY-MM-DD") from error


def _instant(text: str | None) -> dt.datetime:
    if not text:
        return timezone.now()
    try:
        found = dt.datetime.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"--now {text!r}: not an ISO 8601 instant") from error
    if found.tzinfo is None:
        raise CommandError(f"--now {text!r}: give the offset, e.g. +01:00")
    return found


def _organization(key: str | None) -> Organization:
    orgs = list(Organization.objects.filter(key=key) if key else Organization.objects.all()[:2])
    if len(orgs) != 1:
        if key:
            raise CommandError(f"no organisation {key!r}")
        raise CommandError("choose the organisation with --organization")
    return orgs[0]


def _series(options: dict[str, Any]) -> ReviewSeries:
    org = _organization(options.get("organization"))
    found = ReviewSeries.objects.filter(agreement__organization=org, key=options["series"])
    if options.get("agreement"):
        found = found.filter(agreement__key=options["agreement"])
    items = list(found.select_related("agreement__organization")[:2])
    if not items:
        keys = ReviewSeries.objects.filter(agreement__organization=org).values_list("key", flat=True)
        known = ", ".join(keys)
        raise CommandError(f"no review series {options['series']!r} (there are: {known or 'none'})")
    if len(items) > 1:
        raise CommandError(
            f"review series {options['series']!r} is in several agreements: choose with --agreement"
        )
    return items[0]


def _write(data: bytes, output: str | None, stdout: Any) -> None:
    if output and output != "-":
        with open(output, "wb") as handle:
            handle.write(data)
        return
    if hasattr(sys.stdout, "buffer") and stdout._out is sys.stdout:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        stdout.write(data.decode("utf-8", "replace"), ending="")


class Command(BaseCommand):
    help = "Review series: the pack of a review (html, pdf, md), the calendar (.ics), list, create."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)

        def common(p: CommandParser) -> None:
            p.add_argument("--organization", help="organisation key (default: the only one)")
            p.add_argument("--agreement", help="agreement key (when a series key is in several)")

        pack = sub.add_parser("pack", help="the pack of one review")
        common(pack)
        pack.add_argument("--series", required=True, help="the series key")
        pack.add_argument("--date", required=True, help="the review's day (or the day it was planned)")
        pack.add_argument("--format", choices=FORMATS, default="md")
        pack.add_argument("--lang", choices=["en", "nl"], default="en")
        pack.add_argument("--output", "-o", help="file to write (default: standard output)")
        pack.add_argument("--now", help="measure as at this instant (ISO 8601 with offset; default now)")

        ics = sub.add_parser("ics", help="the series as an iCalendar file")
        common(ics)
        ics.add_argument("--series", required=True, help="the series key")
        ics.add_argument("--output", "-o", help="file to write (default: standard output)")

        listing = sub.add_parser("list", help="the series and their next reviews")
        common(listing)

        create = sub.add_parser("create", help="a new review series (attendees: every party's people)")
        common(create)
        create.add_argument("--key", required=True)
        create.add_argument("--name", required=True)
        create.add_argument("--rrule", required=True, help="RFC 5545, e.g. FREQ=WEEKLY;BYDAY=TU")
        create.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
        create.add_argument("--time", default="10:00", help="time of day in the organisation's zone")
        create.add_argument("--duration", type=int, default=45, help="minutes (default 45)")
        create.add_argument(
            "--period",
            default="month",
            choices=["month", "last_month", "week", "last_week", "quarter", "last_quarter"],
            help="the period the pack shows",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except ApplicationError as error:
            raise CommandError(error.message) from error

    def _pack(self, options: dict[str, Any]) -> None:
        series = _series(options)
        day = _date(options["date"], "--date")
        review = review_on(series, day)
        if review is None:
            raise CommandError(f"review series {series.key} does not meet on {day.isoformat()}")
        pack = review_pack(review=review, now=_instant(options.get("now")))
        lang, fmt = options["lang"], options["format"]
        if fmt == "pdf":
            if not options.get("output") or options["output"] == "-":
                raise CommandError("--format pdf: give a file with --output")
            data = pack_pdf(pack, lang)
        elif fmt == "html":
            data = pack_html(pack, lang).encode()
        else:
            data = pack_markdown(pack, lang).encode()
        _write(data, options.get("output"), self.stdout)
        if options.get("output") and options["output"] != "-":
            self.stderr.write(f"wrote {options['output']} ({len(data):,} bytes)")

    def _ics(self, options: dict[str, Any]) -> None:
        series = _series(options)
        _write(series_ics(series, now=timezone.now()), options.get("output"), self.stdout)

    def _list(self, options: dict[str, Any]) -> None:
        org = _organization(options.get("organization"))
        today = timezone.localdate()
        for series in ReviewSeries.objects.filter(agreement__organization=org).select_related("agreement"):
            coming = next(iter(series_occurrences(series, after=today)), None)
            when = "—" if coming is None else coming.day.isoformat()
            moved = ""
            if coming is not None and coming.moved:
                moved = f" (moved from {coming.planned}: {coming.reason})"
            self.stdout.write(f"{series.key}\t{series.name}\t{series.rrule}\tnext {when}{moved}")

    def _create(self, options: dict[str, Any]) -> None:
        org = _organization(options.get("organization"))
        agreements = Agreement.objects.filter(organization=org)
        if options.get("agreement"):
            agreements = agreements.filter(key=options["agreement"])
        found = list(agreements[:2])
        if len(found) != 1:
            raise CommandError("choose the agreement with --agreement")
        try:
            time = dt.time.fromisoformat(options["time"])
        except ValueError as error:
            raise CommandError(f"--time {options['time']!r}: give HH:MM") from error
        series = series_create(
            agreement=found[0],
            key=options["key"],
            name=options["name"],
            rrule=options["rrule"],
            starts_on=_date(options["start"], "--start"),
            time=time,
            duration_minutes=options["duration"],
            period_kind=options["period"],
            actor="cli",
            now=timezone.now(),
        )
        self.stdout.write(f"review series {series.key} created ({series.attendees.count()} attendees)")
