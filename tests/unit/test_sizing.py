"""A run's size: segments for a table's size and how many run at once, within what a
run holds (toolkit/logic/sizing.py)."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from toolkit.config import limits
from toolkit.logic.sizing import segments_at_once, segments_for


@given(st.integers(0, 2**60))
def test_the_default_segments_stay_within_what_a_run_holds(size: int) -> None:
    segments = segments_for(size)
    assert limits.SCAN_SEGMENTS.holds(segments) and segments >= 8
    if segments < limits.SCAN_SEGMENTS.high:  # below the cap: a segment per 128 MB
        assert segments == max(8, math.ceil(size / (128 * 2**20)))


def test_a_table_of_a_petabyte_gets_the_cap() -> None:
    assert segments_for(2**50) == 10_000


@given(
    st.none() | st.integers(1, int(limits.MAP_TASKS.high)),
    st.none() | st.integers(1, 100_000),
    st.integers(1, int(limits.SCAN_SEGMENTS.high)),
)
def test_segments_at_once_are_what_was_asked_within_what_a_process_runs(
    max_map_tasks: int | None, slots: int | None, segments: int
) -> None:
    workers = segments_at_once(max_map_tasks, slots, segments)
    assert min(segments, limits.MAP_TASKS.high) >= workers >= 1
    if max_map_tasks is not None:  # within the cap by the config's check
        assert workers == min(max_map_tasks, segments)
    elif slots is None:  # the embedded engine: every segment at once, up to the cap
        assert workers == min(segments, limits.MAP_TASKS.high)
