"""The fresh figures: every commitment × period × subject (the owner team and each of its people).

The service around :mod:`leadpact.core.metrics`: it reads the database once per table into numpy
frames (:mod:`leadpact.measurement._frames`), takes the targets from
:func:`~leadpact.measurement.targets.selectors.commitment_targets`, paces count and amount targets in
the subject's own calendar (a person's calendar for a person), and hands back plain values with their
evidence — the lead ids behind each number, split by why. Closed periods are not its business: the
scorecard's selectors put a closed period's stored figures in place of these.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from django.utils.translation import gettext_lazy

from leadpact.agreements.models import AgreementVersion
from leadpact.agreements.services import agreement_version_document
from leadpact.core.agreement import AgreementDocument, Commitment
from leadpact.core.calendar import BusinessCalendar
from leadpact.core.metrics import (
    Calendars,
    Frames,
    Measurement,
    MetricInputs,
    StatusRules,
    Subject,
    metric_for,
)
from leadpact.core.pacing import member_line, pace
from leadpact.core.periods import Period, PeriodError
from leadpact.core.targets import TargetRule
from leadpact.errors import ApplicationError
from leadpact.measurement._frames import frames_load, kind_codes
from leadpact.measurement.clocks.windows import business_window, clock_calendar
from leadpact.measurement.periods import period_bounds
from leadpact.measurement.scorecard.results import (
    NOT_CHECKED_BUCKET,
    MeasureResult,
    PacingDay,
    PacingSeries,
    SubjectKind,
    unusable_warnings,
)
from leadpact.measurement.subjects import people_in, team_side
from leadpact.measurement.targets.selectors import CommitmentTarget, commitment_targets
from leadpact.organization.models import Person, Team
from leadpact.organization.selectors import person_calendar, team_calendar

__all__ = ["Measurer", "measure_fresh", "period_parse"]

_ZERO_IDS = np.zeros(0, dtype=np.int64)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_DECIMALS = decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN)  # as the engine's figures
_MAX_US = int(np.iinfo(np.int64).max)
#: The name of the row of a team's leads nobody in post answers for (pages label it by ``subject_kind``).
_OUTSIDE_NAME = gettext_lazy("Unassigned or left")


@dataclass(frozen=True, slots=True)
class _Row:
    """One row of a commitment: who (team, person, or nobody in post), their target and calendar."""

    kind: SubjectKind
    pk: int
    name: Any
    subject: Subject
    target: Any
    calendar: BusinessCalendar
    person: Person | None


def _micros(moment: dt.datetime) -> int:
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


def _decimal(numerator: Decimal | int, denominator: int) -> Decimal:
    """``numerator ÷ denominator`` to 28 significant digits, half to even (the engine's precision)."""
    return _DECIMALS.divide(Decimal(numerator), Decimal(denominator))


def _metric_name(kind: str) -> str:
    found = metric_for(kind)
    return "unsupported" if found is None else found.name


def _fraction_elapsed(
    calendar: BusinessCalendar, basis: str, start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> Fraction:
    """The share of ``[start, end)`` behind us at ``now``: wall time for calendar days, else business time."""
    if now >= end:
        return Fraction(1)
    if now <= start:
        return Fraction(0)
    micro = dt.timedelta(microseconds=1)
    if basis == "calendar_days":
        return Fraction((now - start) // micro, (end - start) // micro)
    total = calendar.elapsed(start, end)
    if not total:
        return Fraction(0)
    return Fraction(calendar.elapsed(start, now) // micro, total // micro)


class Measurer:
    """Everything shared by the figures of one call: the document, frames, calendars and targets."""

    def __init__(
        self,
        *,
        version: AgreementVersion,
        periods: Sequence[Period],
        now: dt.datetime,
        commitments: Sequence[str] | None = None,
    ) -> None:
        self.version = version
        self.now = now
        self.doc: AgreementDocument = agreement_version_document(version)
        # only what the wanted commitments read is read (a trend of one commitment skips the rest)
        self.keys = None if commitments is None else frozenset(commitments)
        wanted = [c for c in self.doc.commitments if self.keys is None or c.key in self.keys]
        org = version.agreement.organization
        self.tz = org.timezone
        self.teams = {
            t.key: t for t in Team.objects.filter(organization=org, key__in=[p.key for p in self.doc.parties])
        }
        bounds = [period_bounds(p, self.tz) for p in periods]
        self.reason_codes = [r.code for r in self.doc.reason_codes]
        fields: list[str] = []
        for c in wanted:
            for f in c.fields:
                if f.field not in fields:
                    fields.append(f.field)
        self.pause_kinds = sorted({k for c in wanted if c.clock for k in c.clock.pause})
        self.kind_codes = kind_codes(self.pause_kinds)
        loaded = frames_load(
            organization_id=org.pk,
            agreement_id=version.agreement_id,
            version_id=version.pk,
            since=min(b[0] for b in bounds),
            until=max(b[1] for b in bounds),
            now=now,
            reason_codes=self.reason_codes,
            field_names=fields,
            definition_keys=sorted({c.covers for c in wanted if c.covers}),
            pause_kinds=self.pause_kinds,
            also_with=sorted(
                {k for c in wanted if (m := metric_for(c.kind)) is not None for k in m.events_for(c)}
            ),
        )
        self.loaded = loaded
        self.warnings = unusable_warnings(*loaded.unusable)
        self.frames = Frames(loaded.events, loaded.leads, now=now)
        self._paused_frames: dict[tuple[int, ...], Frames] = {(): self.frames}
        self._unchecked: dict[str, npt.NDArray[np.int64] | None] = {}
        s = self.doc.settings
        self.rules = StatusRules(min_sample=s.min_sample, on_track=s.pacing.on_track, behind=s.pacing.behind)
        self.definitions = {d.key: d.number for d in version.definitions.all()}
        self._person_cal: dict[int, BusinessCalendar] = {}
        self._team_cal: dict[int, BusinessCalendar] = {}
        self._calendars: dict[int, Calendars] = {}
        self._team_people: dict[tuple[int, Period], list[Person]] = {}
        self._rules: dict[str, TargetRule] = {}
        self._lines: dict[tuple[str, Period, str, int], tuple[list[tuple[dt.date, Fraction]], Any]] = {}
        everyone = Person.objects.filter(team__in=list(self.teams.values())).select_related("team")
        self.people = {p.pk: p for p in everyone.prefetch_related("leave")}

    def frames_for(self, c: Commitment) -> Frames:
        """The frames a commitment's clock runs on: with its pause kinds (shared by those with the same)."""
        pauses = tuple(sorted(self.kind_codes[k] for k in c.clock.pause)) if c.clock else ()
        if pauses not in self._paused_frames:
            self._paused_frames[pauses] = self.frames.with_pauses(pauses)
        return self._paused_frames[pauses]

    def team_cal(self, team: Team) -> BusinessCalendar:
        if team.pk not in self._team_cal:
            self._team_cal[team.pk] = team_calendar(team)
        return self._team_cal[team.pk]

    def person_cal(self, person: Person) -> BusinessCalendar:
        if person.pk not in self._person_cal:
            self._person_cal[person.pk] = person_calendar(person)
        return self._person_cal[person.pk]

    def calendars(self, team: Team) -> Calendars:
        """Clocks run in the calendar of the lead's sales owner (the owner team's when unowned)."""
        if team.pk not in self._calendars:
            self._calendars[team.pk] = Calendars(
                team=self.team_cal(team),
                people={
                    pk: clock_calendar(p) for pk, p in self.people.items() if team_side(p.team) == "sales"
                },
            )
        return self._calendars[team.pk]

    def in_force(self, period: Period) -> tuple[dt.datetime, dt.datetime] | None:
        """The part of ``period`` in which the agreement is in force (its effective dates, ``[from,
        until)``, at local midnight), or ``None`` when it is in force on no day of it."""
        start, end = period_bounds(period, self.tz)
        info = self.doc.info
        zone = ZoneInfo(self.tz)
        start = max(start, dt.datetime.combine(info.effective_from, dt.time(), tzinfo=zone))
        if info.effective_until is not None:
            end = min(end, dt.datetime.combine(info.effective_until, dt.time(), tzinfo=zone))
        return (start, end) if start < end else None

    def tenure(self, person: Person) -> tuple[int, int]:
        """A person's working dates ``[start, end)`` as µs since the epoch (local midnight)."""
        zone = ZoneInfo(self.tz)
        first = dt.datetime.combine(person.start_date, dt.time(), tzinfo=zone)
        last = (
            _MAX_US
            if person.end_date is None
            else _micros(dt.datetime.combine(person.end_date, dt.time(), tzinfo=zone))
        )
        return _micros(first), last

    def team_members(self, team: Team) -> list[Person]:
        """Everyone who ever was in the team: a lead of someone who left is still the team's."""
        return [p for p in self.people.values() if p.team_id == team.pk]

    def period_targets(self, period: Period) -> list[CommitmentTarget]:
        return commitment_targets(
            version=self.version,
            period=period,
            document=self.doc,
            teams=self.teams,
            commitments=self.keys,
            rules=self._rules,
        )

    def rows(self, ct: CommitmentTarget, period: Period, subject: Team | Person | None) -> list[_Row]:
        """The rows of a commitment in ``period``: the owner team's, each person's in post, and the row of
        the leads nobody in post answers for — those of ``subject`` only when given."""
        team = ct.team
        if isinstance(subject, Team) and subject.pk != team.pk:
            return []
        if isinstance(subject, Person) and subject.team_id != team.pk:
            return []
        side = team_side(team)
        # the leads a commitment measures: those meeting the definition it covers (a volume keeps
        # the others, to show them as excluded); no ``covers``: every lead handed over
        covers = ct.commitment.covers if ct.commitment.kind != "volume" else None
        if ct.people:
            people = [pt.person for pt in ct.people]
        else:
            if (team.pk, period) not in self._team_people:
                self._team_people[(team.pk, period)] = people_in(team, period)
            people = self._team_people[(team.pk, period)]
        person_target = {pt.person.pk: pt.value for pt in ct.people}
        members = self.team_members(team)
        rows: list[_Row] = []
        if not isinstance(subject, Person):
            whole = Subject.team(side, [p.pk for p in members], covers=covers)
            rows.append(_Row("team", team.pk, team.name, whole, ct.value, self.team_cal(team), None))
        for p in people:
            if isinstance(subject, Person) and subject.pk != p.pk:
                continue
            value = person_target.get(p.pk, ct.value)
            one = Subject.person(side, p.pk, covers=covers, tenure=self.tenure(p))
            rows.append(_Row("person", p.pk, p.name, one, value, self.person_cal(p), p))
        if subject is None or isinstance(subject, Team):
            nobody = Subject.nobody(side, {p.pk: self.tenure(p) for p in members}, covers=covers)
            rows.append(_Row("outside", team.pk, _OUTSIDE_NAME, nobody, 0, self.team_cal(team), None))
        return rows

    def period_results(self, period: Period, subject: Team | Person | None) -> list[MeasureResult]:
        window = self.in_force(period)
        out: list[MeasureResult] = []
        for ct in self.period_targets(period):
            for row in self.rows(ct, period, subject):
                if window is None:
                    out.append(self.not_in_force(ct, period, row))
                    continue
                m, line = self.one(ct, period, window, row)
                if row.kind == "outside" and (m is None or (m.sample_size == 0 and not m.actual)):
                    continue  # nobody outside: no row
                out.append(self.result(ct, period, row, m, line, window))
        return out

    def series(self, period: Period, commitment_key: str, subject: str) -> PacingSeries | None:
        """The figure of one commitment and subject (``team:<id>``, ``person:<id>``, ``outside:<id>``) in
        ``period`` with, per day of the period, the figure at the day's end and the target line."""
        kind, _, pk = subject.partition(":")
        ct = next((t for t in self.period_targets(period) if t.commitment.key == commitment_key), None)
        if ct is None or not pk.isdigit():
            return None
        narrowed: Team | Person | None = ct.team if kind in ("team", "outside") else self.people.get(int(pk))
        row = next((r for r in self.rows(ct, period, narrowed) if r.kind == kind and r.pk == int(pk)), None)
        if row is None:
            return None
        window = self.in_force(period)
        if window is None:
            return PacingSeries(self.not_in_force(ct, period, row), ())
        m, share = self.one(ct, period, window, row)
        result = self.result(ct, period, row, m, share, window)
        if m is None:
            return PacingSeries(result, ())
        zone = ZoneInfo(self.tz)
        weights = self.line_weights(ct, row)
        total = sum(weights.values(), Fraction(0))
        target = None if row.kind == "outside" else Decimal(row.target)
        days: list[PacingDay] = []
        done = Fraction(0)
        day = window[0].astimezone(zone).date()
        while (begin := max(dt.datetime.combine(day, dt.time(), tzinfo=zone), window[0])) < window[1]:
            done += weights.get(day, Fraction(0))
            end = min(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone), window[1])
            expected = target
            if target is not None and ct.unit in ("count", "amount"):
                part = done / total if total else Fraction(0)
                expected = _decimal(target * part.numerator, part.denominator)
            actual: Decimal | None = None
            if begin <= self.now:  # the figure so far: the same metric on [start of the window, day's end)
                so_far, _ = self.one(ct, period, (window[0], end), row)
                actual = None if so_far is None else so_far.actual
            days.append(PacingDay(day, actual, expected, day in weights))
            day += dt.timedelta(days=1)
        return PacingSeries(result, tuple(days))

    def line_weights(self, ct: CommitmentTarget, row: _Row) -> dict[dt.date, Fraction]:
        """The exact target of each basis day of the row's line (empty without a rate)."""
        if ct.rule is None or row.kind == "outside":
            return {}
        self.line_share(ct, row, (self.now, self.now))  # fills the line cache
        line, _ = self._lines[(ct.commitment.key, ct.period, row.kind, row.pk)]
        found: dict[dt.date, Fraction] = {}
        for day, amount in line:
            found[day] = found.get(day, Fraction(0)) + amount
        return found

    def evidence(self, ct: CommitmentTarget, m: Measurement) -> Mapping[str, Any]:
        """The measurement's evidence, plus ``not_checked``: its leads that were never checked against
        the definition the commitment covers (older checks, or none): measured all the same, named."""
        covers = ct.commitment.covers
        if not covers:
            return m.evidence
        unchecked = self.unchecked_ids(covers)
        if unchecked is None:
            return m.evidence
        return _NotChecked(m.evidence, unchecked)

    def unchecked_ids(self, covers: str) -> npt.NDArray[np.int64] | None:
        """The ids of the leads not checked against ``covers`` (``None``: none), once per definition:
        every figure's evidence shares the one array (a copy per figure held a year's leads 3,000 times).
        """
        if covers not in self._unchecked:
            unchecked = self.frames.not_checked(covers)
            self._unchecked[covers] = self.frames.leads.lead_id[unchecked] if unchecked.any() else None
        return self._unchecked[covers]

    def line_share(
        self, ct: CommitmentTarget, row: _Row, window: tuple[dt.datetime, dt.datetime]
    ) -> Fraction:
        """The share of the period's target line behind us at ``now`` (0–1): the line of the target's
        rate (:meth:`TargetRule.daily`: the agreement's effective dates, growth, seasonality) — a
        person's share spread over their capacity (:func:`member_line`) — paced as
        :func:`leadpact.core.pacing.pace` does; without a rate, the share of the in-force window's basis
        time."""
        rule = ct.rule
        c = ct.commitment
        if rule is None:
            basis = c.basis or self.doc.settings.basis
            return _fraction_elapsed(row.calendar, basis, window[0], window[1], self.now)
        key = (c.key, ct.period, row.kind, row.pk)
        if key not in self._lines:
            shares = ct.split.allocation if ct.split is not None else None
            if (
                row.person is not None
                and shares is not None
                and str(row.pk) in {x.key for x in shares.shares}
            ):
                assert ct.split is not None
                line: list[tuple[dt.date, Fraction]] = member_line(ct.split, str(row.pk))
                calendar: Any = row.calendar
            else:
                line, calendar = rule.daily(ct.period), rule.calendar
            self._lines[key] = (line, calendar)
        line, calendar = self._lines[key]
        elapsed: Fraction = pace(
            line=line, calendar=calendar, basis=rule.basis, now=self.now, actual=0
        ).elapsed
        return elapsed

    def one(
        self, ct: CommitmentTarget, period: Period, window: tuple[dt.datetime, dt.datetime], row: _Row
    ) -> tuple[Measurement | None, Fraction | None]:
        """The measurement of one row in the in-force ``window`` of the period, and the share of its
        target line behind us (counts and amounts)."""
        c = ct.commitment
        f = self.frames_for(c)
        expected: Decimal | None = None
        share: Fraction | None = None
        if ct.unit in ("count", "amount"):
            share = self.line_share(ct, row, window)
            expected = _decimal(Decimal(row.target) * share.numerator, share.denominator)
        start, end = window
        common: dict[str, Any] = {
            "start": start,
            "end": end,
            "subject": row.subject,
            "expected_to_date": expected,
            "rules": self.rules,
        }
        value: Any = Decimal(row.target)
        if ct.unit == "duration":
            value = dt.timedelta(hours=float(row.target))
        found = metric_for(c.kind)
        if found is None:
            return None, share
        team = ct.team
        inputs = MetricInputs(
            unit=ct.unit,  # type: ignore[arg-type]
            window=business_window(c) if c.clock is not None else None,
            calendars=lambda: self.calendars(team),
            reason_codes=len(self.reason_codes),
        )
        params = found.for_commitment(c, inputs)
        if params is None:
            return None, share
        return found(f, target=value, **common, **params), share

    def _base(self, ct: CommitmentTarget, period: Period, row: _Row) -> dict[str, Any]:
        c = ct.commitment
        return {
            "commitment_key": c.key,
            "title": c.title,
            "kind": c.kind,
            "period": str(period),
            "subject_kind": row.kind,
            "subject_id": row.pk,
            "subject_name": str(row.name),
            "agreement_version": self.version.number,
            "definition_versions": {c.covers: self.definitions[c.covers]}
            if c.covers in self.definitions
            else {},
            "currency": ct.currency,
            "warnings": self.warnings,
        }

    def not_in_force(self, ct: CommitmentTarget, period: Period, row: _Row) -> MeasureResult:
        """A row of a period in which the agreement is in force on no day: nothing measured, nothing owed."""
        return MeasureResult(
            **self._base(ct, period, row),
            metric=_metric_name(ct.commitment.kind),
            unit=ct.unit,
            actual=None,
            target=Decimal(row.target),
            expected_to_date=None,
            attainment=None,
            status="not_in_force",
            sample_size=0,
            evidence={},
        )

    def result(
        self,
        ct: CommitmentTarget,
        period: Period,
        row: _Row,
        m: Measurement | None,
        share: Fraction | None,
        window: tuple[dt.datetime, dt.datetime],
    ) -> MeasureResult:
        base = self._base(ct, period, row)
        if m is None:
            return MeasureResult(
                **base,
                metric="unsupported",
                unit=ct.unit,
                actual=None,
                target=Decimal(row.target),
                expected_to_date=None,
                attainment=None,
                status="not_enough_data",
                sample_size=0,
                evidence={},
                figures={"unsupported": 1},
            )
        status: str = m.status
        pace_now = m.pace
        elapsed = projected = remaining = None
        if share is not None and m.actual is not None:
            elapsed = _decimal(Decimal(share.numerator), share.denominator)
            projected = _decimal(m.actual * share.denominator, share.numerator) if share else None
            remaining = max(m.target - m.actual, Decimal(0))
        if self.now < window[0]:  # the period has begun, the agreement not yet
            status, pace_now = "not_in_force", None
        attainment = m.attainment
        if row.kind == "outside":  # nobody's target: the leads are shown, nothing is graded
            status, pace_now, attainment, remaining, projected = "no_target", None, None, None, None
        return MeasureResult(
            **base,
            metric=m.metric,
            unit=m.unit,
            actual=m.actual,
            target=m.target,
            expected_to_date=m.expected_to_date,
            attainment=attainment,
            status=status,
            sample_size=m.sample_size,
            evidence=self.evidence(ct, m),
            figures=dict(m.figures),
            pace=pace_now,
            elapsed=elapsed,
            projected=projected,
            remaining=remaining,
        )


class _NotChecked(Mapping[str, Any]):
    """Evidence with a ``not_checked`` bucket: the leads in any other bucket that were not checked.

    Lazy like :class:`~leadpact.core.metrics.Evidence`: nothing is looked up until a bucket is read.
    The bucket overlaps the others (those leads are counted, breached … as well).
    """

    __slots__ = ("_evidence", "_found", "_unchecked")

    def __init__(self, evidence: Mapping[str, Any], unchecked_ids: npt.NDArray[np.int64]) -> None:
        self._evidence = evidence
        self._unchecked = unchecked_ids
        self._found: npt.NDArray[np.int64] | None = None

    def __getitem__(self, key: str) -> Any:
        if key != NOT_CHECKED_BUCKET:
            return self._evidence[key]
        if self._found is None:
            parts = [np.asarray(self._evidence[k], dtype=np.int64) for k in self._evidence]
            ids = np.concatenate(parts) if parts else _ZERO_IDS
            self._found = ids[np.isin(ids, self._unchecked)]
        return self._found

    def __iter__(self) -> Iterator[str]:
        yield from self._evidence
        yield NOT_CHECKED_BUCKET

    def __len__(self) -> int:
        return len(self._evidence) + 1


def period_parse(period: Period | str) -> Period:
    """``period`` as a :class:`Period`; text that names no period is an :class:`ApplicationError`."""
    if isinstance(period, Period):
        return period
    try:
        return Period.parse(period)
    except PeriodError as error:
        raise ApplicationError("measure.period", f"period {period!r}: {error}") from error


def measure_fresh(
    *,
    version: AgreementVersion,
    periods: Sequence[Period | str],
    now: dt.datetime,
    subject: Team | Person | None = None,
    commitments: Sequence[str] | None = None,
) -> dict[str, list[MeasureResult]]:
    """Every figure of ``periods`` computed from the events now, one read of the database for all of them
    (a year's months); a closed period's stored figures are not consulted (that is
    :func:`leadpact.measurement.scorecard.selectors.measure_periods`). ``commitments`` (keys) narrows
    to those commitments, and the read to what they need."""
    if now.tzinfo is None:
        raise ApplicationError("measure.now", "measure: now must be an aware datetime")
    parsed = [period_parse(p) for p in periods]
    if not parsed:
        return {}
    measurer = Measurer(version=version, periods=parsed, now=now, commitments=commitments)
    return {str(p): measurer.period_results(p, subject) for p in parsed}
