"""Prepared frames: events sorted once, handoff episodes, and row indexes for period × subject slices.

Private module behind :mod:`leadpact.core.metrics`. Times are int64 microseconds since the epoch (UTC).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeVar

import numpy as np
import numpy.typing as npt

from leadpact.core._metrics_frames import (
    NOT_CHECKED,
    BusinessCalendarLike,
    EventFrame,
    EventKind,
    FrameError,
    LeadFrame,
    micros,
)

__all__ = ["Calendars", "Frames", "RowIndex", "Side", "Subject"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Side = Literal["marketing", "sales"]

MIN_US = np.iinfo(np.int64).min
MAX_US = np.iinfo(np.int64).max
_T = TypeVar("_T")
_FEW_KINDS = 8


def kind_mask(kind: npt.NDArray[np.int16], kinds: Sequence[int]) -> BoolArray:
    """Where ``kind`` is one of ``kinds`` (cast to int16 as ``np.asarray(kinds, dtype=np.int16)``).

    For a few kinds, one comparison each: ``np.isin`` sorts and takes ~15× longer on millions of
    events; for many, a lookup table.
    """
    codes = np.asarray(kinds, dtype=np.int16).ravel()
    if codes.shape[0] > _FEW_KINDS:
        table = np.zeros(1 << 16, dtype=np.bool_)
        table[codes.view(np.uint16)] = True
        found: BoolArray = table[kind.astype(np.int16, copy=False).view(np.uint16)]
        return found
    mask: BoolArray = np.zeros(kind.shape, dtype=np.bool_)
    for code in codes:
        mask |= kind == code
    return mask


@dataclass(frozen=True, slots=True)
class Subject:
    """Whose leads a measurement counts: a team (several people) or one person, on one side.

    A lead belongs to the subject when its ``side`` owner (marketing or sales owner) is one of
    ``people``; with ``unowned="include"`` leads without an owner on that side belong too. With
    ``covers`` (a definition key) only the leads that did not miss that definition at handoff belong:
    met, or not checked against it (:data:`NOT_CHECKED`; the measurement cannot tell, so they stay).

    People's working dates: ``tenure`` holds ``(person, first µs, end µs)`` — ``[first, end)`` in µs
    since the epoch — and a row (a handoff, an event) of a person with a tenure belongs to them only
    when its time falls inside it. ``outside=True`` turns the subject around: the rows of its people
    *outside* their tenure, and (with ``unowned="include"``) the unowned ones — the leads nobody in
    post answers for. A team without tenure counts every row of its people: the sum of both.

    >>> Subject.person("sales", 3)
    Subject(side='sales', people=(3,), unowned='exclude', covers=None, tenure=(), outside=False)
    """

    side: Side
    people: tuple[int, ...]
    unowned: Literal["include", "exclude"] = "exclude"
    covers: str | None = None
    tenure: tuple[tuple[int, int, int], ...] = ()
    outside: bool = False

    @classmethod
    def team(
        cls,
        side: Side,
        people: tuple[int, ...] | list[int],
        *,
        unowned: Literal["include", "exclude"] = "include",
        covers: str | None = None,
    ) -> Subject:
        """A team: all its people (and, by default, the leads nobody on that side owns)."""
        return cls(side, tuple(sorted({int(p) for p in people})), unowned, covers)

    @classmethod
    def person(
        cls, side: Side, person: int, *, covers: str | None = None, tenure: tuple[int, int] | None = None
    ) -> Subject:
        """One person's leads (with ``tenure``: only those arriving in ``[first µs, end µs)``)."""
        dates = () if tenure is None else ((int(person), int(tenure[0]), int(tenure[1])),)
        return cls(side, (int(person),), "exclude", covers, dates)

    @classmethod
    def nobody(
        cls,
        side: Side,
        people: Mapping[int, tuple[int, int]],
        *,
        covers: str | None = None,
    ) -> Subject:
        """The leads of a team nobody in post answers for: unowned, or of one of ``people`` (person →
        ``(first µs, end µs)``) arriving outside their working dates."""
        tenure = tuple(sorted((int(p), int(a), int(b)) for p, (a, b) in people.items()))
        return cls(side, tuple(p for p, _, _ in tenure), "include", covers, tenure, outside=True)

    def tenure_tables(self, size: int) -> tuple[IntArray, IntArray]:
        """``first[owner + 1]`` and ``end[owner + 1]`` in µs: an owner without a tenure is always in post."""
        top = max(size, max(self.people, default=-1) + 2)
        first = np.full(top, MIN_US, dtype=np.int64)
        end = np.full(top, MAX_US, dtype=np.int64)
        for person, a, b in self.tenure:
            first[person + 1], end[person + 1] = a, b
        return first, end

    def member_table(self, size: int) -> BoolArray:
        """``table[owner + 1]`` is true when a lead with that owner belongs to the subject."""
        table = np.zeros(max(size, max(self.people, default=-1) + 2), dtype=np.bool_)
        if self.people:
            table[np.asarray(self.people, dtype=np.int64) + 1] = True
        table[0] = self.unowned == "include"
        return table


@dataclass(frozen=True, slots=True, eq=False)
class Calendars:
    """The business calendar per sales owner: a person's own where given, else the team's.

    Any object with the :class:`BusinessCalendarLike` methods works; calendars shared by several
    people are called once for all of their leads.
    """

    team: BusinessCalendarLike
    people: Mapping[int, BusinessCalendarLike] = field(default_factory=dict)

    def index_of_owner(self, owners: npt.NDArray[np.int32]) -> tuple[list[BusinessCalendarLike], IntArray]:
        """Distinct calendars and, per row, the index of the row owner's calendar in that list."""
        distinct: list[BusinessCalendarLike] = [self.team]
        number = {id(self.team): 0}
        top = max([int(owners.max(initial=-1)), *self.people.keys(), -1]) + 2
        table = np.zeros(top, dtype=np.int64)
        for person, calendar in self.people.items():
            if person < 0:
                continue
            if id(calendar) not in number:
                number[id(calendar)] = len(distinct)
                distinct.append(calendar)
            table[person + 1] = number[id(calendar)]
        return distinct, table[owners.astype(np.int64) + 1]


class RowIndex:
    """Rows (handoffs or events) with a lead and a time, ordered to slice by period and subject.

    A row is selected for ``[start, end)`` when its time is inside, its lead belongs to the subject,
    ``prev_us < start`` (it is the lead's first such row in the period) and ``next_us >= end`` (the
    last); pass sentinels to switch either rule off.
    """

    def __init__(
        self,
        *,
        lead: IntArray,
        at_us: IntArray,
        prev_us: IntArray,
        next_us: IntArray,
        owners: Mapping[Side, npt.NDArray[np.int32]],
        definitions: Mapping[str, npt.NDArray[np.int8]] | None = None,
    ) -> None:
        self.lead = lead
        self.definitions = definitions or {}
        self.at_us = at_us
        self.prev_us = prev_us
        self.next_us = next_us
        # a rule switched off by its sentinel everywhere needs no per-row gather in select()
        self._check_prev = bool((prev_us != MIN_US).any())
        self._check_next = bool((next_us != MAX_US).any())
        self.owner = {side: owner_of_lead[lead].astype(np.int64) for side, owner_of_lead in owners.items()}
        self.time_order = np.argsort(at_us, kind="stable")
        self.time_sorted = at_us[self.time_order]
        self._by_owner: dict[Side, tuple[IntArray, IntArray, IntArray]] = {}
        self._covers: dict[tuple[Side, tuple[int, ...], str], bool] = {}

    def _owner_order(self, side: Side) -> tuple[IntArray, IntArray, IntArray]:
        if side not in self._by_owner:
            owner = self.owner[side][self.time_order]
            if owner.shape[0] and owner.min() >= -1 and owner.max() < np.iinfo(np.int16).max:
                owner = owner.astype(np.int16)  # a stable sort of 16-bit keys is a radix sort
            order = self.time_order[np.argsort(owner, kind="stable")]
            self._by_owner[side] = (order, self.owner[side][order], self.at_us[order])
        return self._by_owner[side]

    def _covers_everyone(self, subject: Subject) -> bool:
        """Whether every owner on the subject's side belongs to it (then no row needs a check)."""
        key = (subject.side, subject.people, subject.unowned)
        if key not in self._covers:
            owners = self._owner_order(subject.side)[1]
            present = owners[np.r_[True, owners[1:] != owners[:-1]]] if owners.shape[0] else owners
            table = subject.member_table(int(present.max(initial=-1)) + 2)
            self._covers[key] = bool(table[present + 1].all())
        return self._covers[key]

    def select(self, subject: Subject, start_us: int, end_us: int) -> IntArray:
        """Row numbers selected for the subject and ``[start, end)``, in time order."""
        if len(subject.people) == 1 and subject.unowned == "exclude" and not subject.outside:
            order, owners, times = self._owner_order(subject.side)
            person = subject.people[0]
            lo = int(np.searchsorted(owners, person, "left"))
            hi = int(np.searchsorted(owners, person, "right"))
            first, last = start_us, end_us
            for _, t0, t1 in subject.tenure:  # in post: the rows inside their working dates only
                first, last = max(first, t0), min(last, t1)
            last = max(first, last)
            a = lo + int(np.searchsorted(times[lo:hi], first, "left"))
            b = lo + int(np.searchsorted(times[lo:hi], last, "left"))
            rows = order[a:b]
        elif subject.outside:
            a = int(np.searchsorted(self.time_sorted, start_us, "left"))
            b = int(np.searchsorted(self.time_sorted, end_us, "left"))
            rows = self.time_order[a:b]
            owner = self.owner[subject.side][rows]
            size = int(owner.max(initial=-1)) + 2
            table = subject.member_table(size)
            since, until = subject.tenure_tables(size)
            at = self.at_us[rows]
            away = (at < since[owner + 1]) | (at >= until[owner + 1])
            rows = rows[table[owner + 1] & ((owner < 0) | away)]
        else:
            a = int(np.searchsorted(self.time_sorted, start_us, "left"))
            b = int(np.searchsorted(self.time_sorted, end_us, "left"))
            rows = self.time_order[a:b]
            if not self._covers_everyone(subject):
                owner = self.owner[subject.side][rows]
                table = subject.member_table(int(owner.max(initial=-1)) + 2)
                rows = rows[table[owner + 1]]
        if self._check_prev or start_us <= MIN_US:
            if self._check_next:
                rows = rows[(self.prev_us[rows] < start_us) & (self.next_us[rows] >= end_us)]
            else:
                rows = rows[self.prev_us[rows] < start_us]
        elif self._check_next:
            rows = rows[self.next_us[rows] >= end_us]
        else:
            rows = rows.copy()  # a fresh array, as the row mask gave (callers may keep it)
        if subject.covers is not None:
            column = self.definitions.get(subject.covers)
            if column is not None:  # no column: no lead was checked against it, every one stays
                rows = rows[column[self.lead[rows]] != 0]
        return rows


_us = micros


class Frames:
    """Events and leads prepared once for many measurements: sorted, cut at ``now``, split in episodes.

    Events after ``now`` are left out. A lead's **episode** runs from one of its ``handed_over``
    events up to (not including) its next ``handed_over``; events sort by time, ties in input order.

    ``pause_kinds`` (event codes, :attr:`EventKind.CUSTOM` and up) pause the clocks measured on
    these frames: a run of such events starts a pause, the lead's next event of another kind (such
    as :attr:`EventKind.RESUMED`) ends it, and the business time inside pauses is left out of every
    clock (:meth:`paused_between`). Commitments pausing on different kinds use frames of their own.
    """

    def __init__(
        self, events: EventFrame, leads: LeadFrame, *, now: datetime, pause_kinds: Sequence[int] = ()
    ) -> None:
        self.leads = leads
        self.now_us = _us(now)
        self.pause_kinds = tuple(sorted({int(k) for k in pause_kinds}))
        n_leads = len(leads)
        if len(events) and (events.lead.min() < 0 or events.lead.max() >= n_leads):
            bad = int(np.flatnonzero((events.lead < 0) | (events.lead >= n_leads))[0])
            raise FrameError(f"event row {bad}: lead index {int(events.lead[bad])} is not a row of the leads")
        at = events.occurred_at.view(np.int64)
        lead = events.lead
        # bool temporaries only: fresh big arrays cost page faults
        in_order = bool((lead[1:] >= lead[:-1]).all()) and bool(
            ((lead[1:] > lead[:-1]) | (at[1:] >= at[:-1])).all()
        )
        if in_order and not (at > self.now_us).any():
            # already sorted by (lead, time), as a database reads them: no copy at all
            self.ev_lead, self.ev_kind, self.ev_at = lead, events.kind, at
            self.ev_human, self.ev_amount, self.ev_reason = events.human, events.amount_cents, events.reason
        else:
            kept = np.flatnonzero(at <= self.now_us)
            order = kept if in_order else kept[np.lexsort((at[kept], lead[kept]))]
            self.ev_lead = lead[order]
            self.ev_kind = events.kind[order]
            self.ev_at = at[order]
            self.ev_human = events.human[order]
            self.ev_amount = events.amount_cents[order]
            self.ev_reason = events.reason[order]
        self.owners: dict[Side, npt.NDArray[np.int32]] = {
            "marketing": leads.marketing_owner,
            "sales": leads.sales_owner,
        }

        is_h = self.ev_kind == EventKind.HANDED_OVER
        self.h_pos = np.flatnonzero(is_h).astype(np.int64)
        self.h_lead = self.ev_lead[self.h_pos]
        self.h_at = self.ev_at[self.h_pos]
        ep = np.cumsum(is_h, dtype=np.int32)  # int32 halves the memory touched per event
        ep -= 1
        if self.h_pos.shape[0]:
            # fancy indexing, not take(): take converts the int32 episode numbers to intp first
            own = self.h_lead[np.maximum(ep, 0)] == self.ev_lead
            own &= ep >= 0
            ep[~own] = -1
        self.ep = ep
        same_prev = np.zeros(self.h_pos.shape[0], dtype=np.bool_)
        same_prev[1:] = self.h_lead[1:] == self.h_lead[:-1]
        self.h_prev_at = np.full(self.h_pos.shape[0], MIN_US, dtype=np.int64)
        self.h_prev_at[1:][same_prev[1:]] = self.h_at[:-1][same_prev[1:]]
        recycled = np.flatnonzero(self.ev_kind == EventKind.RECYCLED)
        # each lead's first event, by where the (sorted) lead number changes: no binary search per handoff
        first_event = np.zeros(n_leads, dtype=np.int64)
        if self.ev_lead.shape[0]:
            new_lead = np.empty(self.ev_lead.shape[0], dtype=np.bool_)
            new_lead[0] = True
            np.not_equal(self.ev_lead[1:], self.ev_lead[:-1], out=new_lead[1:])
            starts = np.flatnonzero(new_lead)
            first_event[self.ev_lead[starts]] = starts
        lead_start = first_event[self.h_lead]
        self.h_recycled = np.searchsorted(recycled, self.h_pos) > np.searchsorted(recycled, lead_start)
        # handoffs numbered in time order: a period is then a contiguous run of handoff numbers, so
        # the per-handoff tables are read sequentially (episodes stay contiguous in the event order)
        by_time = np.argsort(self.h_at, kind="stable")
        number = np.empty(by_time.shape[0] + 1, dtype=np.int32)
        number[by_time] = np.arange(by_time.shape[0], dtype=np.int32)
        number[-1] = -1  # ep -1 (outside any episode) stays -1
        self.h_pos, self.h_lead, self.h_at = self.h_pos[by_time], self.h_lead[by_time], self.h_at[by_time]
        self.h_prev_at, self.h_recycled = self.h_prev_at[by_time], self.h_recycled[by_time]
        self.ep = number[self.ep]  # -1 picks number[-1] == -1; fancy indexing beats take() on int32
        self.h_dup = leads.duplicate_of[self.h_lead] >= 0
        self.handoffs = RowIndex(
            lead=self.h_lead,
            at_us=self.h_at,
            prev_us=self.h_prev_at,
            next_us=np.full(self.h_pos.shape[0], MAX_US, dtype=np.int64),
            owners=self.owners,
            definitions=leads.definitions,
        )
        self._cache: dict[Hashable, tuple[object, object]] = {}
        self._selections: dict[tuple[Subject, int, int], tuple[IntArray, IntArray, IntArray]] = {}
        self._recent: dict[Hashable, object] = {}

    def with_pauses(self, pause_kinds: Sequence[int]) -> Frames:
        """The same frames pausing on ``pause_kinds``: the sorted events, episodes and handoff index are
        shared (they do not depend on pauses), the derived tables start empty."""
        kinds = tuple(sorted({int(k) for k in pause_kinds}))
        if kinds == self.pause_kinds:
            return self
        other = copy.copy(self)
        other.pause_kinds = kinds
        other._cache = {}
        other._selections = {}
        other._recent = {}
        return other

    def calendar_groups(self, calendars: Calendars) -> list[tuple[BusinessCalendarLike, IntArray | None]]:
        """The team calendar for every handoff (``None``), then each person's own with its handoffs.

        Computing the team calendar for all rows and overwriting the few others is cheaper than
        gathering and scattering the team's (by far the largest) share.
        """

        def build() -> list[tuple[BusinessCalendarLike, IntArray | None]]:
            distinct, which = calendars.index_of_owner(self.owners["sales"][self.h_lead])
            groups: list[tuple[BusinessCalendarLike, IntArray | None]] = [(distinct[0], None)]
            groups += [(distinct[k], np.flatnonzero(which == k)) for k in range(1, len(distinct))]
            return groups

        return self.cached("calendar groups", calendars, build)

    def recall(self, key: Hashable, build: Callable[[], _T]) -> _T:
        """Remember a per-(subject, period) result for the next metric of the same scorecard."""
        if key in self._recent:
            return self._recent[key]  # type: ignore[return-value]
        value = build()
        if len(self._recent) >= 256:
            self._recent.pop(next(iter(self._recent)))
        self._recent[key] = value
        return value

    def handoff_rows(self, subject: Subject, start_us: int, end_us: int) -> tuple[IntArray, IntArray]:
        """The period's handoff rows of the subject without duplicates, and the duplicate leads.

        Remembered for the last few (subject, period) pairs: the metrics of one scorecard share them.
        """
        key = (subject, start_us, end_us)
        hit = self._selections.get(key)
        if hit is None:
            rows = self.handoffs.select(subject, start_us, end_us)
            dup = self.h_dup[rows]
            hit = (rows, rows[~dup], self.h_lead[rows[dup]])
            if len(self._selections) >= 64:
                self._selections.pop(next(iter(self._selections)))
            self._selections[key] = hit
        return hit[1], hit[2]

    def not_checked(self, covers: str | None) -> BoolArray:
        """Per lead, whether it was not checked against the definition ``covers`` at handoff."""
        if covers is None:
            return np.zeros(len(self.leads), dtype=np.bool_)
        column = self.leads.definitions.get(covers)
        if column is None:
            return np.ones(len(self.leads), dtype=np.bool_)
        unchecked: BoolArray = column == NOT_CHECKED
        return unchecked

    def all_handoff_rows(self, subject: Subject, start_us: int, end_us: int) -> IntArray:
        """The period's handoff rows of the subject, duplicates included."""
        self.handoff_rows(subject, start_us, end_us)
        return self._selections[(subject, start_us, end_us)][0]

    def _pauses(self) -> tuple[IntArray, IntArray, IntArray]:
        """Pause intervals inside episodes: per pause its handoff number, start and end (µs).

        A pause still open ends at ``now``; a pause is cut at its episode's end (the next handoff).
        """
        is_p = kind_mask(self.ev_kind, self.pause_kinds)
        n = is_p.shape[0]
        new_lead = np.ones(n, dtype=np.bool_)
        new_lead[1:] = self.ev_lead[1:] != self.ev_lead[:-1]
        prev_p = np.zeros(n, dtype=np.bool_)
        prev_p[1:] = is_p[:-1]
        begins = np.flatnonzero(is_p & (new_lead | ~prev_p) & (self.ep >= 0))
        # the pause's end: the first later event that is not a pause kind, in the same lead
        enders = np.flatnonzero(~is_p)
        j = np.searchsorted(enders, begins, "right")
        found = np.where(j < enders.shape[0], enders[np.minimum(j, max(enders.shape[0] - 1, 0))], -1)
        same = found >= 0
        same[same] = self.ev_lead[found[same]] == self.ev_lead[begins[same]]
        ends = np.where(same, self.ev_at[np.maximum(found, 0)], self.now_us)
        return self.ep[begins].astype(np.int64), self.ev_at[begins], np.minimum(ends, self.now_us)

    def paused_between(self, calendars: Calendars, begin_us: IntArray, end_us: IntArray) -> IntArray:
        """Per handoff, the business µs of its episode's pauses inside ``[begin, end)`` (0 without pause
        kinds), in the calendar of the lead's sales owner — what a clock from ``begin`` to ``end`` loses.
        """
        out = np.zeros(self.n_handoffs, dtype=np.int64)
        if not self.pause_kinds:
            return out
        episode, p_start, p_end = self.cached("pauses", None, self._pauses)
        if episode.shape[0] == 0:
            return out
        a = np.maximum(p_start, begin_us[episode])
        b = np.maximum(np.minimum(p_end, end_us[episode]), a)
        distinct, which = calendars.index_of_owner(self.owners["sales"][self.h_lead[episode]])
        lost = np.zeros(episode.shape[0], dtype=np.int64)
        for k, calendar in enumerate(distinct):
            rows = np.flatnonzero(which == k)
            if rows.shape[0]:
                got = calendar.elapsed_many(a[rows].view("datetime64[us]"), b[rows].view("datetime64[us]"))
                lost[rows] = np.asarray(got).astype("timedelta64[us]").view(np.int64)
        np.add.at(out, episode, lost)
        return out

    def pause_extended(
        self, calendars: Calendars, begin_us: IntArray, duration_us: IntArray, due_us: IntArray
    ) -> IntArray:
        """Per handoff, the instant ``duration`` of *active* business time after ``begin`` is spent:
        ``due`` (``add(begin, duration)`` without pauses) moved on by the pauses that begin before it.

        The fixed point of ``due = add(begin, duration + paused_between(begin, due))``, reached in at
        most one round per pause of an episode (each round can only move ``due`` later).
        """
        if not self.pause_kinds:
            return due_us
        due = due_us.copy()
        for _ in range(self.n_handoffs + 1):
            paused = self.paused_between(calendars, begin_us, due)
            moved = np.flatnonzero(paused > 0)
            if moved.shape[0] == 0:
                return due
            later = self._add(calendars, moved, begin_us[moved], duration_us[moved] + paused[moved])
            grew = later > due[moved]
            if not grew.any():
                return due
            due[moved[grew]] = later[grew]
        return due

    def _add(self, calendars: Calendars, rows: IntArray, start_us: IntArray, spend_us: IntArray) -> IntArray:
        """``add(start, spend)`` for the given handoff rows, each in its sales owner's calendar (µs)."""
        distinct, which = calendars.index_of_owner(self.owners["sales"][self.h_lead[rows]])
        out = np.empty(rows.shape[0], dtype=np.int64)
        for k, calendar in enumerate(distinct):
            part = np.flatnonzero(which == k)
            if part.shape[0]:
                got = calendar.add_many(
                    start_us[part].view("datetime64[us]"), spend_us[part].view("timedelta64[us]")
                )
                out[part] = np.asarray(got).astype("datetime64[us]").view(np.int64)
        return out

    @property
    def n_handoffs(self) -> int:
        return int(self.h_pos.shape[0])

    def cached(self, key: Hashable, pin: object, build: Callable[[], _T]) -> _T:
        """Memoise a derived table; ``pin`` (e.g. the calendars) must be the same object to hit."""
        hit = self._cache.get(key)
        if hit is not None and hit[0] is pin:
            return hit[1]  # type: ignore[return-value]
        value = build()
        self._cache[key] = (pin, value)
        return value

    def episode_positions(self, mask: BoolArray) -> IntArray:
        """Positions (ascending) of the events inside an episode where ``mask`` holds."""
        return np.flatnonzero(mask & (self.ep >= 0))

    def first_in_episode(self, mask: BoolArray) -> IntArray:
        """Per handoff, the position of the first event in its episode where ``mask`` holds (-1: none)."""
        return self.first_of(self.episode_positions(mask))

    def first_of(self, pos: IntArray) -> IntArray:
        """Per handoff, the first of the given ascending in-episode positions in its episode (-1: none).

        An episode's events are contiguous in the event order, so a change of episode number
        between neighbours marks the first of an episode.
        """
        eps = self.ep[pos]
        keep = np.ones(pos.shape[0], dtype=np.bool_)
        keep[1:] = eps[1:] != eps[:-1]
        out = np.full(self.n_handoffs, -1, dtype=np.int64)
        out[eps[keep]] = pos[keep]
        return out

    def count_of(self, pos: IntArray) -> IntArray:
        """Per handoff, how many of the given in-episode positions fall in its episode."""
        return np.bincount(self.ep[pos], minlength=self.n_handoffs).astype(np.int64)

    def _last_in_lead(self, mask: BoolArray) -> IntArray:
        """Per lead, the position of its last event where ``mask`` holds (-1: none)."""
        hits = np.flatnonzero(mask)
        leads = self.ev_lead[hits]
        last = np.ones(hits.shape[0], dtype=np.bool_)
        last[:-1] = leads[1:] != leads[:-1]
        out = np.full(len(self.leads), -1, dtype=np.int64)
        out[leads[last]] = hits[last]
        return out

    def later_in_lead_of_handoffs(self, mask: BoolArray) -> BoolArray:
        """Per handoff, whether a later event of the same lead satisfies ``mask``."""
        return self._last_in_lead(mask)[self.h_lead] > self.h_pos

    def later_in_lead(self, rows_pos: IntArray, mask: BoolArray) -> BoolArray:
        """Per given position, whether a later event of the same lead satisfies ``mask``."""
        return self._last_in_lead(mask)[self.ev_lead[rows_pos]] > rows_pos

    def at_of(self, positions: IntArray) -> IntArray:
        """Event times at positions, with ``MAX_US`` where the position is -1."""
        out: IntArray = self.ev_at.take(positions, mode="clip")
        out[positions < 0] = MAX_US
        return out

    def event_index(self, kinds: tuple[int, ...], *, last_per_period: bool) -> tuple[IntArray, RowIndex]:
        """Positions of events of ``kinds`` and a row index over them (or the lead's last in period)."""

        def build() -> tuple[IntArray, RowIndex]:
            pos = np.flatnonzero(kind_mask(self.ev_kind, kinds)).astype(np.int64)
            lead = self.ev_lead[pos]
            nxt = np.full(pos.shape[0], MAX_US, dtype=np.int64)
            if last_per_period and pos.shape[0] > 1:
                same = lead[1:] == lead[:-1]
                nxt[:-1][same] = self.ev_at[pos[1:]][same]
            by_time = np.argsort(self.ev_at[pos], kind="stable")  # rows of a period are contiguous
            pos, lead, nxt = pos[by_time], lead[by_time], nxt[by_time]
            index = RowIndex(
                lead=lead,
                at_us=self.ev_at[pos],
                prev_us=np.full(pos.shape[0], MIN_US, dtype=np.int64),
                next_us=nxt,
                owners=self.owners,
                definitions=self.leads.definitions,
            )
            return pos, index

        return self.cached(("events", kinds, last_per_period), None, build)
