"""The per-day table behind business-time arithmetic: open windows as UTC microseconds and their sums.

Private to :mod:`leadpact.core.calendar`.

``B(t)`` is the business microseconds between the table's first instant and ``t``; it is continuous,
non-decreasing and piecewise linear (slope 1 inside a window, 0 outside). ``elapsed(a, b) = B(b) - B(a)``
and a deadline is the inverse of ``B``. Both are one binary search over the window boundaries; the
vectorised forms use :class:`SortedIndex`, a bucketed search that beats ``np.searchsorted`` on
unsorted keys by a few times because the boundaries are nearly evenly spread.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

__all__ = [
    "EPOCH",
    "ONE_US",
    "LevelFunction",
    "MinutesOf",
    "SortedIndex",
    "Table",
    "build_table",
    "wall_to_us",
    "windows_us",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)  # noqa: DTZ001 - wall-clock arithmetic, offsets applied by hand
ONE_US = timedelta(microseconds=1)
_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min
_MAX_BUCKETS = 1 << 22
_MAX_LEVEL_BUCKETS = 1 << 20
_LEVEL_CHUNK = 1 << 15  # rows per pass of LevelFunction: its buffers stay in the CPU cache

Int64Array = npt.NDArray[np.int64]
MinutesOf = Callable[[date], Sequence[tuple[int, int]]]
"""``minutes_of(d)``: the wall-clock windows of local date ``d``, in minutes after midnight."""
_ONE_DAY = timedelta(days=1)
_US_PER_DAY = 86_400_000_000
_US_PER_MINUTE = 60_000_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _offset_at(zone: ZoneInfo, us: int) -> timedelta:
    offset = (EPOCH + timedelta(microseconds=us)).astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def wall_to_us(zone: ZoneInfo, wall: datetime) -> int:
    """The UTC instant (µs since 1970) of a naive wall-clock time in ``zone``.

    An ambiguous wall time (clocks going back) is its first occurrence (``fold=0``); a wall time that
    does not exist (clocks going forward) is the instant the clocks jump, so the mapping never runs
    backwards.
    """
    aware = wall.replace(tzinfo=zone, fold=0)
    before = aware.utcoffset()
    after = aware.replace(fold=1).utcoffset()
    assert before is not None and after is not None
    earliest = (wall - before - _EPOCH_NAIVE) // ONE_US
    if before >= after:  # unique (equal) or ambiguous (first occurrence)
        return earliest
    # In a gap: the jump lies in (wall - after, wall - before]; find its first instant.
    low, high = (wall - after - _EPOCH_NAIVE) // ONE_US, earliest
    while high - low > 1:
        middle = (low + high) // 2
        if _offset_at(zone, middle) == before:
            low = middle
        else:
            high = middle
    return high


def _steady_offset(zone: ZoneInfo, wall: datetime) -> timedelta | None:
    """The UTC offset at a wall time that is neither skipped nor repeated, else ``None``."""
    aware = wall.replace(tzinfo=zone)
    offset = aware.utcoffset()
    return offset if offset == aware.replace(fold=1).utcoffset() else None


def windows_us(zone: ZoneInfo, first: date, end: date, minutes_of: MinutesOf) -> list[tuple[int, int]]:
    """The business windows of the local dates ``[first, end)`` as UTC µs, in order; empty ones dropped.

    A day with the same steady offset at both of its midnights has no clock change inside (in tzdata
    no zone changes its clocks twice within 95 hours), so its windows are its midnight plus minutes;
    other days convert every edge with :func:`wall_to_us`. (95 hours: the closest two changes of any
    zone in the tzdata installed here, Africa/Freetown 1939; checked when this was written.)
    """
    out: list[tuple[int, int]] = []
    midnight = datetime.combine(first, time())
    here = _steady_offset(zone, midnight)
    for ordinal in range(first.toordinal(), end.toordinal()):
        following = midnight + _ONE_DAY
        there = _steady_offset(zone, following)
        minutes = minutes_of(date.fromordinal(ordinal))
        if minutes:
            if here is not None and here == there:
                base = (ordinal - _EPOCH_ORDINAL) * _US_PER_DAY - here // ONE_US
                out.extend((base + a * _US_PER_MINUTE, base + b * _US_PER_MINUTE) for a, b in minutes)
            else:
                for a, b in minutes:
                    opens = wall_to_us(zone, midnight + timedelta(minutes=a))
                    closes = wall_to_us(zone, midnight + timedelta(minutes=b))
                    if closes > opens:  # a window inside the skipped hour holds no time
                        out.append((opens, closes))
        midnight, here = following, there
    return out


@dataclass(frozen=True, slots=True)
class SortedIndex:
    """Counts of sorted ``values`` below keys, vectorised: ``right(t) == np.searchsorted(v, t, 'right')``.

    Keys fall into power-of-two buckets; each bucket knows how many values lie before it, and at most
    ``steps`` values lie inside one bucket, so a lookup is one shift, one gather and ``steps``
    compare-and-add passes. Falls back to ``np.searchsorted`` when the values cluster too much.
    Keys must lie in the ``[low, high]`` given to :meth:`build` (the caller guarantees it).
    """

    values: Int64Array  # sorted, followed by one INT64_MAX sentinel
    size: int
    origin: int
    shift: int
    left_start: Int64Array
    right_start: Int64Array
    steps: int

    @classmethod
    def build(cls, values: Int64Array, low: int, high: int) -> SortedIndex:
        """Index ``values`` (sorted, all in ``[low, high]``) for keys that all lie in ``[low, high]``."""
        size = len(values)
        padded = np.append(values, np.int64(_INT64_MAX)).astype(np.int64)
        empty = np.zeros(1, dtype=np.int64)
        if size == 0:
            return cls(padded, 0, 0, 0, empty, empty, 0)
        origin = low
        span = high - origin + 1
        shift = max(0, (span // (4 * size)).bit_length() - 1)
        best: tuple[int, int] | None = None
        for _ in range(5):  # from about 4 buckets per value, halving up to four times
            buckets = (span >> shift) + 1
            edges = origin + (np.arange(buckets + 1, dtype=np.int64) << shift)
            left = np.searchsorted(values, edges, side="left")
            steps = int(np.max(np.diff(left)))
            if best is None or steps < best[1]:
                best = (shift, steps)
            if steps <= 3 or shift == 0 or (buckets << 1) > _MAX_BUCKETS:
                break
            shift -= 1
        assert best is not None
        shift, steps = best
        if steps > 12:
            return cls(padded, size, origin, -1, empty, empty, steps)
        buckets = (span >> shift) + 1
        edges = origin + (np.arange(buckets, dtype=np.int64) << shift)
        return cls(
            padded,
            size,
            origin,
            shift,
            np.searchsorted(values, edges, side="left").astype(np.int64),
            np.searchsorted(values, edges, side="right").astype(np.int64),
            steps,
        )

    def _count(self, keys: Int64Array, side: str) -> Int64Array:
        if self.size == 0:
            return np.zeros(keys.shape, dtype=np.int64)
        if self.shift < 0:
            found: Int64Array = np.searchsorted(self.values[: self.size], keys, side=side).astype(np.int64)  # type: ignore[call-overload]
            return found
        # keys lie in [low, high] (the table covers them), so every bucket number is in range
        bucket = keys - self.origin
        np.right_shift(bucket, self.shift, out=bucket)
        index: Int64Array = (self.left_start if side == "left" else self.right_start)[bucket]
        values = self.values
        for _ in range(self.steps):
            if side == "left":
                index += values[index] < keys
            else:
                index += values[index] <= keys
        return index

    def left(self, keys: Int64Array) -> Int64Array:
        """How many values are ``< key``, per key."""
        return self._count(keys, "left")

    def right(self, keys: Int64Array) -> Int64Array:
        """How many values are ``<= key``, per key."""
        return self._count(keys, "right")


@dataclass(frozen=True, slots=True)
class LevelFunction:
    """``B(t)`` with no search: ``min(max(t + P[k], L[k]), U[k])`` for the bucket ``k`` of ``t``.

    Buckets are narrower than the smallest gap between window boundaries, so each holds at most
    one boundary and ``B`` on it is a clipped line. Built only when the buckets stay few.
    """

    origin: int
    shift: int
    plus: Int64Array
    lower: Int64Array
    upper: Int64Array

    @classmethod
    def build(cls, bounds: Int64Array, level: Int64Array, low: int, high: int) -> LevelFunction | None:
        if len(bounds) < 2:
            return None
        smallest_gap = int(np.min(np.diff(bounds)))
        shift = smallest_gap.bit_length() - 1  # 2**shift <= smallest gap
        if shift < 0 or ((high - low) >> shift) + 1 > _MAX_LEVEL_BUCKETS:
            return None
        width = 1 << shift
        edges = low + (np.arange(((high - low) >> shift) + 1, dtype=np.int64) << shift)
        count = np.searchsorted(bounds, edges, side="right")
        is_open = (count & 1).astype(bool)
        at_edge = level[count] + np.where(is_open, edges, 0)
        following = np.append(bounds, np.int64(_INT64_MAX))[count]
        inside = following < edges + width
        low_end, high_end = np.int64(_INT64_MIN), np.int64(_INT64_MAX)
        plus = np.where(is_open, at_edge - edges, np.where(inside, at_edge - following, 0))
        lower = np.where(is_open, low_end, at_edge)
        upper = np.where(
            is_open,
            np.where(inside, at_edge + following - edges, high_end),
            np.where(inside, high_end, at_edge),
        )
        return cls(low, shift, plus.astype(np.int64), lower.astype(np.int64), upper.astype(np.int64))

    def __call__(self, t: Int64Array) -> Int64Array:
        # In chunks through two small reused buffers: fresh million-row temporaries cost more in page
        # faults and cache misses than the arithmetic. Buckets are in range, so ``mode="clip"`` (an
        # unbuffered take into ``out=``) never clips.
        n = t.shape[0]
        out: Int64Array = np.empty(n, dtype=np.int64)
        size = min(n, _LEVEL_CHUNK)
        bucket_buf = np.empty(size, dtype=np.int64)
        bound_buf = np.empty(size, dtype=np.int64)
        for lo in range(0, n, _LEVEL_CHUNK):
            hi = min(lo + _LEVEL_CHUNK, n)
            part, bucket, bound = t[lo:hi], bucket_buf[: hi - lo], bound_buf[: hi - lo]
            got = out[lo:hi]
            np.subtract(part, self.origin, out=bucket)
            np.right_shift(bucket, self.shift, out=bucket)
            self.plus.take(bucket, out=got, mode="clip")
            got += part
            self.lower.take(bucket, out=bound, mode="clip")
            np.maximum(got, bound, out=got)
            self.upper.take(bucket, out=bound, mode="clip")
            np.minimum(got, bound, out=got)
        return out


@dataclass(frozen=True, slots=True)
class Table:
    """Business windows of the local dates ``[first, end)`` as UTC µs, with cumulative sums.

    ``B(t)`` is exact for ``low <= t <= high`` (local midnight of ``first`` and of ``end``).
    """

    first: date
    end: date
    low: int
    high: int
    raw_opens: Int64Array  # per-day windows before merging across midnight (kept for extension)
    raw_closes: Int64Array
    bounds: Int64Array  # open0, close0, open1, close1, … (strictly increasing)
    level: Int64Array  # len(bounds) + 1; B(t) = level[i] + t * (i odd), i = bounds <= t
    cum_open: Int64Array  # B at each window's open
    cum_close: Int64Array  # B at each window's close
    shift: Int64Array  # open - cum_open: the deadline for business level x in window j is x + shift[j]
    bounds_index: SortedIndex
    level_function: LevelFunction | None
    close_index: SortedIndex
    open_index: SortedIndex
    bounds_list: list[int]
    level_list: list[int]
    cum_open_list: list[int]
    cum_close_list: list[int]
    shift_list: list[int]

    @property
    def total(self) -> int:
        """Business µs in the whole table."""
        return self.cum_close_list[-1] if self.cum_close_list else 0

    # ---- scalar

    def level_at(self, t: int) -> int:
        """``B(t)``."""
        i = bisect_right(self.bounds_list, t)
        return self.level_list[i] + (t if i & 1 else 0)

    def is_open(self, t: int) -> bool:
        return bool(bisect_right(self.bounds_list, t) & 1)

    def next_open(self, t: int) -> int | None:
        """``t`` if open, else the next opening in the table (``None`` if none)."""
        i = bisect_right(self.bounds_list, t)
        if i & 1:
            return t
        return self.bounds_list[i] if i < len(self.bounds_list) else None

    def forward(self, target: int) -> int:
        """The earliest instant with ``B == target``; needs ``0 < target <= total``."""
        j = bisect_left(self.cum_close_list, target)
        return target + self.shift_list[j]

    def backward(self, target: int) -> int:
        """The latest instant with ``B == target``; needs ``0 <= target < total``."""
        j = bisect_right(self.cum_open_list, target) - 1
        return target + self.shift_list[j]

    # ---- vectorised

    def levels_at(self, t: Int64Array) -> Int64Array:
        if self.level_function is not None:
            return self.level_function(t)
        i = self.bounds_index.right(t)
        out: Int64Array = self.level[i]
        out += t * (i & 1)
        return out

    def forwards(self, target: Int64Array) -> Int64Array:
        out: Int64Array = target + self.shift[self.close_index.left(target)]
        return out

    def backwards(self, target: Int64Array) -> Int64Array:
        out: Int64Array = target + self.shift[self.open_index.right(target) - 1]
        return out


def build_table(
    first: date,
    end: date,
    zone: ZoneInfo,
    minutes_of: MinutesOf,
    previous: Table | None = None,
) -> Table:
    """The table for ``[first, end)``, reusing the days ``previous`` already holds."""
    opens: list[Int64Array] = []
    closes: list[Int64Array] = []

    def add_days(lo: date, hi: date) -> None:
        pairs = np.array(windows_us(zone, lo, hi, minutes_of), dtype=np.int64).reshape(-1, 2)
        opens.append(pairs[:, 0].copy())
        closes.append(pairs[:, 1].copy())

    if previous is None:
        add_days(first, end)
    else:
        add_days(first, previous.first)
        opens.append(previous.raw_opens)
        closes.append(previous.raw_closes)
        add_days(previous.end, end)
    raw_opens = np.concatenate(opens)
    raw_closes = np.concatenate(closes)
    # A window closing exactly when the next opens (24:00 then 00:00) is one window.
    keep_open = np.ones(len(raw_opens), dtype=bool)
    keep_close = np.ones(len(raw_opens), dtype=bool)
    touching = raw_closes[:-1] == raw_opens[1:]
    keep_close[:-1] &= ~touching
    keep_open[1:] &= ~touching
    win_opens = raw_opens[keep_open]
    win_closes = raw_closes[keep_close]
    lengths = win_closes - win_opens
    cum_close = np.cumsum(lengths, dtype=np.int64)
    cum_open = cum_close - lengths
    bounds = np.empty(2 * len(win_opens), dtype=np.int64)
    bounds[0::2] = win_opens
    bounds[1::2] = win_closes
    level = np.zeros(len(bounds) + 1, dtype=np.int64)
    level[1::2] = cum_open - win_opens
    level[2::2] = cum_close
    shift = win_opens - cum_open
    midnight = datetime.min.time()
    low = wall_to_us(zone, datetime.combine(first, midnight))
    high = wall_to_us(zone, datetime.combine(end, midnight))
    total = int(cum_close[-1]) if len(cum_close) else 0
    return Table(
        first=first,
        end=end,
        low=low,
        high=high,
        raw_opens=raw_opens,
        raw_closes=raw_closes,
        bounds=bounds,
        level=level,
        cum_open=cum_open,
        cum_close=cum_close,
        shift=shift,
        bounds_index=SortedIndex.build(bounds, low, high),
        level_function=LevelFunction.build(bounds, level, low, high),
        close_index=SortedIndex.build(cum_close, 0, total),
        open_index=SortedIndex.build(cum_open, 0, total),
        bounds_list=bounds.tolist(),
        level_list=level.tolist(),
        cum_open_list=cum_open.tolist(),
        cum_close_list=cum_close.tolist(),
        shift_list=shift.tolist(),
    )
