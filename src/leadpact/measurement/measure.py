"""Measurement: every commitment × period × subject (the owner team and each of its people).

The service around :mod:`leadpact.core.metrics`: it reads the database once per table into numpy
frames (:mod:`._frames`), takes the targets from :func:`commitment_targets`, paces count and amount
targets in the subject's own calendar (a person's calendar for a person), and hands back plain values
with their evidence — the lead ids behind each number, split by why. A closed period returns its stored
figures, with a :class:`~leadpact.measurement.models.Restatement` when a recomputation differs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from leadpact.agreements.models import AgreementVersion
from leadpact.agreements.services import agreement_version_document
from leadpact.core.agreement import AgreementDocument, Commitment
from leadpact.core.calendar import BusinessCalendar
from leadpact.core.durations import BusinessDuration
from leadpact.core.metrics import (
    Calendars,
    Frames,
    Measurement,
    StatusRules,
    Subject,
    acceptance_rate,
    attempts_within,
    conversion,
    decision_latency,
    feedback_completeness,
    handoff_completeness,
    lead_volume,
    pipeline_amount,
    speed_to_lead,
    won_amount,
)
from leadpact.core.periods import Period, PeriodError
from leadpact.errors import ApplicationError
from leadpact.measurement._frames import frames_load, kind_codes
from leadpact.measurement.selectors import CommitmentTarget, _people_in, commitment_targets
from leadpact.organization.models import Person, Team
from leadpact.organization.selectors import person_calendar, team_calendar

__all__ = [
    "NOT_CHECKED_BUCKET",
    "MeasureResult",
    "SubjectKind",
    "business_window",
    "clock_calendar",
    "measure",
    "measure_periods",
    "period_bounds",
    "result_data",
    "result_from_data",
    "team_side",
    "unusable_warnings",
]

SubjectKind = Literal["team", "person"]
_ZERO_IDS = np.zeros(0, dtype=np.int64)
#: The evidence bucket of leads not checked against the commitment's definition at handoff.
NOT_CHECKED_BUCKET = "not_checked"


@dataclass(frozen=True, slots=True)
class MeasureResult:
    """One figure: commitment × period × subject, with target, pace, status and evidence.

    ``evidence`` maps a bucket (``counted``, ``excluded_definition``, ``excluded_disputed``,
    ``breached`` …) to lead ids; ``counted`` are exactly the leads behind ``actual``.
    """

    commitment_key: str
    title: str
    kind: str
    metric: str
    unit: str
    period: str
    subject_kind: SubjectKind
    subject_id: int
    subject_name: str
    actual: Decimal | None
    target: Decimal
    expected_to_date: Decimal | None
    attainment: Decimal | None
    status: str
    sample_size: int
    evidence: Mapping[str, Any] = field(repr=False, compare=False)
    figures: Mapping[str, Any] = field(default_factory=dict)
    agreement_version: int = 0
    definition_versions: Mapping[str, int] = field(default_factory=dict)
    closed: bool = False
    restatement_id: int | None = None
    # stored values the figures could not use (an amount no number, an instant out of range): the same for
    # every result of one call; not part of the figures (nor of a closed period's stored data)
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def subject(self) -> str:
        """``team:<id>`` or ``person:<id>``."""
        return f"{self.subject_kind}:{self.subject_id}"

    def evidence_ids(self) -> dict[str, list[int]]:
        """Bucket → lead ids as plain lists."""
        return {k: [int(i) for i in v] for k, v in self.evidence.items()}


def unusable_warnings(total: int, examples: Sequence[tuple[int, str]]) -> tuple[str, ...]:
    """The warning for stored events measurement could not fully use (``Snapshot.unusable``), or none.

    >>> unusable_warnings(2, [(17, "amount is not a number"), (18, "occurred_at is out of range")])[0][:60]
    '2 stored events carry values that cannot be measured (event 1'
    """
    if not total:
        return ()
    listed = "; ".join(f"event {pk}: {why}" for pk, why in examples)
    more = f"; and {total - len(examples)} more" if total > len(examples) else ""
    return (
        f"{total} stored events carry values that cannot be measured ({listed}{more}): an amount counts as "
        "none, an event out of range is left out. Void such an event with "
        "`leadpact events void ID --reason … --by …` and record it again.",
    )


def team_side(team: Team) -> Literal["marketing", "sales"]:
    """Which owner of a lead a team's people are: marketing's or sales' (SDR and others)."""
    return "marketing" if team.kind == Team.Kind.MARKETING else "sales"


def period_bounds(period: Period, tz: str) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)`` of a period as aware instants at local midnight of ``tz``."""
    zone = ZoneInfo(tz)
    return (
        dt.datetime.combine(period.start, dt.time(), tzinfo=zone),
        dt.datetime.combine(period.end, dt.time(), tzinfo=zone),
    )


def business_window(commitment: Commitment) -> dt.timedelta | BusinessDuration:
    """The clock window: business minutes as a timedelta; ``Nbd`` as it is — each lead's own window,
    from its start to the same business time of day N business days on (:mod:`leadpact.core.clocks`)."""
    assert commitment.clock is not None
    window = commitment.clock.window
    if window.minutes is not None:
        return dt.timedelta(minutes=window.minutes)
    return window


def clock_calendar(person: Person) -> BusinessCalendar:
    """The calendar a person's SLA clocks run in: their hours and leave, from their start date.

    Unlike :func:`person_calendar` it stays open after the person's end date (their leads' clocks keep
    running in their hours until someone else takes the lead; a calendar that never opens again would
    have no deadline at all).
    """
    leave = [(item.first_day, item.end_day) for item in person.leave.all()]
    return team_calendar(person.team).narrowed(
        hours=person.hours, leave=sorted(leave), start=person.start_date
    )


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
                    self._team_people[(team.pk, period)] = _people_in(team, period)
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
        headline: Any = "median" if ct.unit == "duration" else "percent_within"
        if c.kind == "volume":
            return lead_volume(f, target=value, **common)
        if c.kind == "acceptance":
            return acceptance_rate(f, target=value, **common)
        if c.kind == "handoff":
            return handoff_completeness(f, target=value, fields=[x.field for x in c.fields], **common)
        if c.kind == "pipeline":
            return pipeline_amount(f, target=value, **common)
        if c.kind == "revenue":
            return won_amount(f, target=value, **common)
        if c.kind == "conversion":
            if c.outcome is None:
                return None
            return conversion(f, stage=c.outcome, target=value, **common)  # type: ignore[arg-type]
        if c.kind == "feedback":
            within: dict[str, Any] = {}
            if c.clock is not None:  # a reason within the clock's window (pending while it runs)
                within = {
                    "window": business_window(c),
                    "calendars": self.calendars(ct.team),
                    "clock_start": c.clock.start
                    if c.clock.start in ("handed_over", "assigned", "accepted")
                    else "accepted",
                }
            return feedback_completeness(
                f, target=value, valid_reasons=range(len(self.reason_codes)), **within, **common
            )
        assert c.clock is not None
        cals = self.calendars(ct.team)
        window = business_window(c)
        if c.kind == "decision":
            return decision_latency(
                f, window=window, calendars=cals, target=value, headline=headline, **common
            )
        start_kind: Any = c.clock.start if c.clock.start in ("handed_over", "assigned") else "handed_over"
        if c.kind == "first_attempt":
            return speed_to_lead(
                f,
                window=window,
                calendars=cals,
                target=value,
                clock_start=start_kind,
                headline=headline,
                **common,
            )
        if c.kind == "attempts":
            attempt_start: Any = (
                c.clock.start if c.clock.start in ("handed_over", "assigned", "accepted") else "handed_over"
            )
            return attempts_within(
                f,
                window=window,
                attempts=c.clock.attempts or 1,
                calendars=cals,
                target=value,
                clock_start=attempt_start,
                **common,
            )
        return None

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
                warnings=self.warnings,
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
            warnings=self.warnings,
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


def _parse(period: Period | str) -> Period:
    if isinstance(period, Period):
        return period
    try:
        return Period.parse(period)
    except PeriodError as error:
        raise ApplicationError("measure.period", f"period {period!r}: {error}") from error


def measure_periods(
    *,
    version: AgreementVersion,
    periods: Sequence[Period | str],
    now: dt.datetime,
    subject: Team | Person | None = None,
    closed: Literal["stored", "recompute"] = "stored",
) -> dict[str, list[MeasureResult]]:
    """:func:`measure` for several periods sharing one read of the database (a year's months)."""
    if now.tzinfo is None:
        raise ApplicationError("measure.now", "measure: now must be an aware datetime")
    parsed = [_parse(p) for p in periods]
    if not parsed:
        return {}
    measurer = _Measurer(version=version, periods=parsed, now=now)
    out = {str(p): measurer.period_results(p, subject) for p in parsed}
    if closed == "stored":
        from leadpact.measurement.closing import closed_results

        for p in parsed:
            out[str(p)] = closed_results(
                version=version, period=p, fresh=out[str(p)], now=now, narrowed=subject is not None
            )
    return out


def measure(
    *,
    version: AgreementVersion,
    period: Period | str,
    now: dt.datetime,
    subject: Team | Person | None = None,
) -> list[MeasureResult]:
    """Every commitment of ``version`` in ``period``: the owner team's row and each person's.

    ``subject`` narrows to one team or one person. A closed period gives its stored figures (and the
    pending restatement's id when the data changed since).
    """
    p = _parse(period)
    return measure_periods(version=version, periods=[p], now=now, subject=subject)[str(p)]


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def result_data(r: MeasureResult) -> dict[str, Any]:
    """A result as JSON-able data (decimals as text, evidence as lists of lead ids)."""
    return {
        "commitment": r.commitment_key,
        "title": r.title,
        "kind": r.kind,
        "metric": r.metric,
        "unit": r.unit,
        "period": r.period,
        "subject": r.subject,
        "subject_name": r.subject_name,
        "actual": _text(r.actual),
        "target": str(r.target),
        "expected_to_date": _text(r.expected_to_date),
        "attainment": _text(r.attainment),
        "status": r.status,
        "sample_size": r.sample_size,
        "figures": {k: (str(v) if isinstance(v, Decimal) else v) for k, v in r.figures.items()},
        "agreement_version": r.agreement_version,
        "definition_versions": dict(r.definition_versions),
        "evidence": r.evidence_ids(),
    }


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def result_from_data(data: Mapping[str, Any], **changes: Any) -> MeasureResult:
    """The result :func:`result_data` wrote."""
    kind, _, pk = str(data["subject"]).partition(":")
    r = MeasureResult(
        commitment_key=data["commitment"],
        title=data["title"],
        kind=data["kind"],
        metric=data["metric"],
        unit=data["unit"],
        period=data["period"],
        subject_kind=kind,  # type: ignore[arg-type]
        subject_id=int(pk),
        subject_name=data["subject_name"],
        actual=_dec(data["actual"]),
        target=Decimal(data["target"]),
        expected_to_date=_dec(data["expected_to_date"]),
        attainment=_dec(data["attainment"]),
        status=data["status"],
        sample_size=int(data["sample_size"]),
        evidence={k: np.asarray(v, dtype=np.int64) if v else _ZERO_IDS for k, v in data["evidence"].items()},
        figures=dict(data["figures"]),
        agreement_version=int(data["agreement_version"]),
        definition_versions=dict(data["definition_versions"]),
    )
    return replace(r, **changes) if changes else r
