"""Prepared frames: events sorted once, handoff episodes, and row indexes for period × subject slices.

Private module behind :mod:`leadpact.core.metrics`. Times are int64 microseconds since the epoch (UTC).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeVar

import numpy as np
import numpy.typing as npt

from leadpact.core._metrics_frames import (
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


@dataclass(frozen=True, slots=True)
class Subject:
    """Whose leads a measurement counts: a team (several people) or one person, on one side.

    A lead belongs to the subject when its ``side`` owner (marketing or sales owner) is one of
    ``people``; with ``unowned="include"`` leads without an owner on that side belong too.

    >>> Subject.person("sales", 3)
    Subject(side='sales', people=(3,), unowned='exclude')
    """

    side: Side
    people: tuple[int, ...]
    unowned: Literal["include", "exclude"] = "exclude"

    @classmethod
    def team(
        cls,
        side: Side,
        people: tuple[int, ...] | list[int],
        *,
        unowned: Literal["include", "exclude"] = "include",
    ) -> Subject:
        """A team: all its people (and, by default, the leads nobody on that side owns)."""
        return cls(side, tuple(sorted({int(p) for p in people})), unowned)

    @classmethod
    def person(cls, side: Side, person: int) -> Subject:
        """One person's leads."""
        return cls(side, (int(person),), "exclude")

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
    ) -> None:
        self.lead = lead
        self.at_us = at_us
        self.prev_us = prev_us
        self.next_us = next_us
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
        if len(subject.people) == 1 and subject.unowned == "exclude":
            order, owners, times = self._owner_order(subject.side)
            person = subject.people[0]
            lo = int(np.searchsorted(owners, person, "left"))
            hi = int(np.searchsorted(owners, person, "right"))
            a = lo + int(np.searchsorted(times[lo:hi], start_us, "left"))
            b = lo + int(np.searchsorted(times[lo:hi], end_us, "left"))
            rows = order[a:b]
        else:
            a = int(np.searchsorted(self.time_sorted, start_us, "left"))
            b = int(np.searchsorted(self.time_sorted, end_us, "left"))
            rows = self.time_order[a:b]
            if not self._covers_everyone(subject):
                owner = self.owner[subject.side][rows]
                table = subject.member_table(int(owner.max(initial=-1)) + 2)
                rows = rows[table[owner + 1]]
        keep = (self.prev_us[rows] < start_us) & (self.next_us[rows] >= end_us)
        return rows[keep]


_us = micros


class Frames:
    """Events and leads prepared once for many measurements: sorted, cut at ``now``, split in episodes.

    Events after ``now`` are left out. A lead's **episode** runs from one of its ``handed_over``
    events up to (not including) its next ``handed_over``; events sort by time, ties in input order.
    """

    def __init__(self, events: EventFrame, leads: LeadFrame, *, now: datetime) -> None:
        self.leads = leads
        self.now_us = _us(now)
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
            own = self.h_lead.take(np.maximum(ep, 0)) == self.ev_lead
            own &= ep >= 0
            ep[~own] = -1
        self.ep = ep
        same_prev = np.zeros(self.h_pos.shape[0], dtype=np.bool_)
        same_prev[1:] = self.h_lead[1:] == self.h_lead[:-1]
        self.h_prev_at = np.full(self.h_pos.shape[0], MIN_US, dtype=np.int64)
        self.h_prev_at[1:][same_prev[1:]] = self.h_at[:-1][same_prev[1:]]
        recycled = np.flatnonzero(self.ev_kind == EventKind.RECYCLED)
        lead_start = np.searchsorted(self.ev_lead, self.h_lead, "left")
        self.h_recycled = np.searchsorted(recycled, self.h_pos) > np.searchsorted(recycled, lead_start)
        # handoffs numbered in time order: a period is then a contiguous run of handoff numbers, so
        # the per-handoff tables are read sequentially (episodes stay contiguous in the event order)
        by_time = np.argsort(self.h_at, kind="stable")
        number = np.empty(by_time.shape[0] + 1, dtype=np.int32)
        number[by_time] = np.arange(by_time.shape[0], dtype=np.int32)
        number[-1] = -1  # ep -1 (outside any episode) stays -1
        self.h_pos, self.h_lead, self.h_at = self.h_pos[by_time], self.h_lead[by_time], self.h_at[by_time]
        self.h_prev_at, self.h_recycled = self.h_prev_at[by_time], self.h_recycled[by_time]
        self.ep = number.take(self.ep)
        self.h_dup = leads.duplicate_of[self.h_lead] >= 0
        self.handoffs = RowIndex(
            lead=self.h_lead,
            at_us=self.h_at,
            prev_us=self.h_prev_at,
            next_us=np.full(self.h_pos.shape[0], MAX_US, dtype=np.int64),
            owners=self.owners,
        )
        self._cache: dict[Hashable, tuple[object, object]] = {}
        self._selections: dict[tuple[Subject, int, int], tuple[IntArray, IntArray, IntArray]] = {}
        self._recent: dict[Hashable, object] = {}

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

    def all_handoff_rows(self, subject: Subject, start_us: int, end_us: int) -> IntArray:
        """The period's handoff rows of the subject, duplicates included."""
        self.handoff_rows(subject, start_us, end_us)
        return self._selections[(subject, start_us, end_us)][0]

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
        return np.where(positions >= 0, self.ev_at[np.clip(positions, 0, None)], MAX_US)

    def event_index(self, kinds: tuple[int, ...], *, last_per_period: bool) -> tuple[IntArray, RowIndex]:
        """Positions of events of ``kinds`` and a row index over them (or the lead's last in period)."""

        def build() -> tuple[IntArray, RowIndex]:
            pos = np.flatnonzero(np.isin(self.ev_kind, np.asarray(kinds, dtype=np.int16))).astype(np.int64)
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
            )
            return pos, index

        return self.cached(("events", kinds, last_per_period), None, build)
