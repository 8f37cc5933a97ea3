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
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

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
from leadpact.core.periods import Period, PeriodError
from leadpact.errors import ApplicationError
from leadpact.measurement._frames import frames_load, kind_codes
from leadpact.measurement.clocks.windows import business_window, clock_calendar
from leadpact.measurement.periods import period_bounds
from leadpact.measurement.scorecard.results import NOT_CHECKED_BUCKET, MeasureResult, SubjectKind
from leadpact.measurement.subjects import people_in, team_side
from leadpact.measurement.targets.selectors import CommitmentTarget, commitment_targets
from leadpact.organization.models import Person, Team
from leadpact.organization.selectors import person_calendar, team_calendar

__all__ = ["measure_fresh", "period_parse"]

_ZERO_IDS = np.zeros(0, dtype=np.int64)


def _fraction_elapsed(
    calendar: BusinessCalendar, basis: str, start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> Decimal:
    if now >= end:
        return Decimal(1)
    if now <= start:
        return Decimal(0)
    if basis == "calendar_days":
        return Decimal((now - start) // dt.timedelta(microseconds=1)) / Decimal(
            (end - start) // dt.timedelta(microseconds=1)
        )
    total = calendar.elapsed(start, end)
    if not total:
        return Decimal(0)
    return Decimal(calendar.elapsed(start, now) // dt.timedelta(microseconds=1)) / Decimal(
        total // dt.timedelta(microseconds=1)
    )


class _Measurer:
    """Everything shared by the figures of one call: the document, frames, calendars and targets."""

    def __init__(self, *, version: AgreementVersion, periods: Sequence[Period], now: dt.datetime) -> None:
        self.version = version
        self.now = now
        self.doc: AgreementDocument = agreement_version_document(version)
        org = version.agreement.organization
        self.tz = org.timezone
        self.teams = {
            t.key: t for t in Team.objects.filter(organization=org, key__in=[p.key for p in self.doc.parties])
        }
        bounds = [period_bounds(p, self.tz) for p in periods]
        self.reason_codes = [r.code for r in self.doc.reason_codes]
        fields: list[str] = []
        for c in self.doc.commitments:
            for f in c.fields:
                if f.field not in fields:
                    fields.append(f.field)
        self.pause_kinds = sorted({k for c in self.doc.commitments if c.clock for k in c.clock.pause})
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
            definition_keys=sorted({c.covers for c in self.doc.commitments if c.covers}),
            pause_kinds=self.pause_kinds,
            also_with=sorted(
                {k for c in self.doc.commitments if (m := metric_for(c.kind)) is not None for k in m.events}
            ),
        )
        self.loaded = loaded
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

    def period_results(self, period: Period, subject: Team | Person | None) -> list[MeasureResult]:
        start, end = period_bounds(period, self.tz)
        out: list[MeasureResult] = []
        targets = commitment_targets(version=self.version, period=period, document=self.doc, teams=self.teams)
        for ct in targets:
            team = ct.team
            if isinstance(subject, Team) and subject.pk != team.pk:
                continue
            if isinstance(subject, Person) and subject.team_id != team.pk:
                continue
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
            rows: list[tuple[SubjectKind, int, str, Subject, Any, BusinessCalendar]] = []
            if not isinstance(subject, Person):
                rows.append(
                    (
                        "team",
                        team.pk,
                        team.name,
                        Subject.team(side, [p.pk for p in people], covers=covers),
                        ct.value,
                        self.team_cal(team),
                    )
                )
            for p in people:
                if isinstance(subject, Person) and subject.pk != p.pk:
                    continue
                value = person_target.get(p.pk, ct.value)
                one = Subject.person(side, p.pk, covers=covers)
                rows.append(("person", p.pk, p.name, one, value, self.person_cal(p)))
            for kind, pk, name, subj, target, calendar in rows:
                m = self.one(ct, period, start, end, subj, target, calendar)
                out.append(self.result(ct, period, kind, pk, name, m))
        return out

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

    def one(
        self,
        ct: CommitmentTarget,
        period: Period,
        start: dt.datetime,
        end: dt.datetime,
        subject: Subject,
        target: Any,
        calendar: BusinessCalendar,
    ) -> Measurement | None:
        c = ct.commitment
        f = self.frames_for(c)
        expected: Decimal | None = None
        if ct.unit in ("count", "amount"):
            share = _fraction_elapsed(calendar, c.basis or self.doc.settings.basis, start, end, self.now)
            expected = Decimal(target) * share
        common: dict[str, Any] = {
            "start": start,
            "end": end,
            "subject": subject,
            "expected_to_date": expected,
            "rules": self.rules,
        }
        value: Any = Decimal(target)
        if ct.unit == "duration":
            value = dt.timedelta(hours=float(target))
        found = metric_for(c.kind)
        if found is None:
            return None
        team = ct.team
        inputs = MetricInputs(
            unit=ct.unit,  # type: ignore[arg-type]
            window=business_window(c) if c.clock is not None else None,
            calendars=lambda: self.calendars(team),
            reason_codes=len(self.reason_codes),
        )
        params = found.for_commitment(c, inputs)
        if params is None:
            return None
        return found(f, target=value, **common, **params)

    def result(
        self,
        ct: CommitmentTarget,
        period: Period,
        kind: SubjectKind,
        pk: int,
        name: str,
        m: Measurement | None,
    ) -> MeasureResult:
        c = ct.commitment
        definitions = {c.covers: self.definitions[c.covers]} if c.covers in self.definitions else {}
        if m is None:
            return MeasureResult(
                commitment_key=c.key,
                title=c.title,
                kind=c.kind,
                metric="unsupported",
                unit=ct.unit,
                period=str(period),
                subject_kind=kind,
                subject_id=pk,
                subject_name=name,
                actual=None,
                target=Decimal(ct.value),
                expected_to_date=None,
                attainment=None,
                status="not_enough_data",
                sample_size=0,
                evidence={},
                figures={"unsupported": 1},
                agreement_version=self.version.number,
                definition_versions=definitions,
            )
        return MeasureResult(
            commitment_key=c.key,
            title=c.title,
            kind=c.kind,
            metric=m.metric,
            unit=m.unit,
            period=str(period),
            subject_kind=kind,
            subject_id=pk,
            subject_name=name,
            actual=m.actual,
            target=m.target,
            expected_to_date=m.expected_to_date,
            attainment=m.attainment,
            status=m.status,
            sample_size=m.sample_size,
            evidence=self.evidence(ct, m),
            figures=dict(m.figures),
            agreement_version=self.version.number,
            definition_versions=definitions,
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
) -> dict[str, list[MeasureResult]]:
    """Every figure of ``periods`` computed from the events now, one read of the database for all of them
    (a year's months); a closed period's stored figures are not consulted (that is
    :func:`leadpact.measurement.scorecard.selectors.measure_periods`)."""
    if now.tzinfo is None:
        raise ApplicationError("measure.now", "measure: now must be an aware datetime")
    parsed = [period_parse(p) for p in periods]
    if not parsed:
        return {}
    measurer = _Measurer(version=version, periods=parsed, now=now)
    return {str(p): measurer.period_results(p, subject) for p in parsed}
