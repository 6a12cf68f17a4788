"""How big a run is: scan segments for a table's size, how many run at once, and the
share of the read capacity it spends. migrate and verify size their runs alike."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

SEGMENT_BYTES = 128 * 1024 * 1024  # the Scylla Migrator's rule of thumb: a segment per 128 MB
MIN_SEGMENTS = 8
# What one run holds (bench/segments.py measured it); config/limits.py refuses more.
MOST_SEGMENTS = 10_000
MOST_AT_ONCE = 256  # each is a thread with a connection to each side
DEFAULT_READ_PERCENT = 0.5  # throughputReadPercent when not given, as in the Migrator


def default_segments(description: Mapping[str, Any]) -> int:
    return segments_for(int(description.get("TableSizeBytes") or 0))


def segments_for(size: int) -> int:
    """A segment per 128 MB, at least 8; a table above 1.28 TB gets larger segments, as
    many as a run holds."""
    return min(MOST_SEGMENTS, max(MIN_SEGMENTS, math.ceil(size / SEGMENT_BYTES)))


def segments_at_once(max_map_tasks: int | None, slots: int | None, segments: int) -> int:
    """maxMapTasks, else the engine's task slots, else every segment; never more than the
    segments, nor than one process runs (each is a thread and a connection to each side)."""
    return min(max_map_tasks or slots or segments, segments, MOST_AT_ONCE)


def on_demand_read_cap(description: Mapping[str, Any]) -> int | None:
    """OnDemandThroughput.MaxReadRequestUnits when set (-1 or absent: no maximum)."""
    units = int((description.get("OnDemandThroughput") or {}).get("MaxReadRequestUnits") or 0)
    return units if units > 0 else None


def share(units: int | None, percent: float | None) -> float | None:
    """The units a run may spend per second; None when nothing limits it (on demand)."""
    if not units:
        return None
    return units * (DEFAULT_READ_PERCENT if percent is None else percent)
