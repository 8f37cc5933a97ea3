"""The engine's fast paths give what the plain numpy they replace gives (issue #6, engine speed)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from leadpact.core._metrics_prep import MAX_US, MIN_US, RowIndex, Subject, kind_mask

kinds_16 = st.integers(-(1 << 15), (1 << 15) - 1)


@given(
    st.lists(st.integers(-3, 20) | kinds_16, max_size=200),
    st.lists(st.integers(-3, 20) | kinds_16, max_size=12),
)
def test_kind_mask_is_isin(events: list[int], kinds: list[int]) -> None:
    kind = np.asarray(events, dtype=np.int16)
    expected = np.isin(kind, np.asarray(kinds, dtype=np.int16))
    assert np.array_equal(kind_mask(kind, kinds), expected)


def _plain_select(index: RowIndex, people: set[int], start: int, end: int) -> list[int]:
    """The selection rule, row by row: in the period, owned by the subject, first and last in it."""
    rows = sorted(range(len(index.lead)), key=lambda r: (int(index.at_us[r]), r))
    return [
        r
        for r in rows
        if start <= index.at_us[r] < end
        and int(index.owner["sales"][r]) in people
        and index.prev_us[r] < start
        and index.next_us[r] >= end
    ]


@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 50)), max_size=40),
    st.integers(0, 50),
    st.integers(0, 50),
    st.booleans(),
    st.booleans(),
)
def test_select_with_and_without_sentinel_columns(
    rows: list[tuple[int, int]], start: int, width: int, prev_given: bool, next_given: bool
) -> None:
    lead = np.asarray([r[0] for r in rows], dtype=np.int64)
    at = np.asarray([r[1] for r in rows], dtype=np.int64)
    n = lead.shape[0]
    prev = at - 7 if prev_given else np.full(n, MIN_US, dtype=np.int64)
    nxt = at + 7 if next_given else np.full(n, MAX_US, dtype=np.int64)
    owners = np.asarray([0, 1, 2, 1, 0, 2], dtype=np.int32)
    index = RowIndex(
        lead=lead,
        at_us=at,
        prev_us=prev,
        next_us=nxt,
        owners={"marketing": owners, "sales": owners},
    )
    for people in ((1,), (0, 1, 2), (0, 2)):
        got = index.select(Subject.team("sales", list(people)), start, start + width)
        assert got.tolist() == _plain_select(index, set(people), start, start + width)
