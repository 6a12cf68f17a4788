"""Sizing a run from the source's description: segments, budgets, duration."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from toolkit.config import SourceConfig, TargetConfig, limits
from toolkit.wire.throughput import READ_UNIT_BYTES

log = logging.getLogger("migrator")

SEGMENT_BYTES = 128 * 1024 * 1024  # the Scylla Migrator's rule of thumb: a segment per 128 MB
MIN_SEGMENTS = 8
STREAM_RETENTION_SECONDS = 24 * 3600
WARN_FRACTION = 0.75  # warn well before the retention is reached
DEFAULT_READ_PERCENT = 0.5  # throughputReadPercent when not given, as in the Migrator


def default_segments(description: Mapping[str, Any]) -> int:
    return segments_for(int(description.get("TableSizeBytes") or 0))


def segments_for(size: int) -> int:
    """A segment per 128 MB, at least 8; a table above 1.28 TB gets larger segments, as
    many as a run holds."""
    return min(int(limits.SCAN_SEGMENTS.high), max(MIN_SEGMENTS, math.ceil(size / SEGMENT_BYTES)))


def segments_at_once(max_map_tasks: int | None, slots: int | None, segments: int) -> int:
    """maxMapTasks, else the engine's task slots, else every segment; never more than the
    segments, nor than one process runs (each is a thread and a connection to each side)."""
    return min(max_map_tasks or slots or segments, segments, int(limits.MAP_TASKS.high))


def read_budget(source: SourceConfig, description: Mapping[str, Any]) -> float | None:
    """readThroughput (else the table's provisioned reads, else its on-demand maximum) x
    throughputReadPercent.

    The percent defaults to 0.5, as the Scylla Migrator documents it: half the
    capacity, leaving the rest to the application that still uses the table. An
    on-demand table's MaxReadRequestUnits also caps the default budget: DynamoDB throttles
    reads above it. An explicit readThroughput is kept, with a warning when it goes above.
    """
    provisioned = int(description.get("ProvisionedThroughput", {}).get("ReadCapacityUnits") or 0)
    cap = None if provisioned else on_demand_read_cap(description)
    budget = share(source.read_throughput or provisioned or cap, source.throughput_read_percent)
    if cap is None or budget is None:
        return budget
    return _within_cap(source.read_throughput, budget, cap, str(description.get("TableName")))


def _within_cap(explicit: int | None, budget: float, cap: int, table: str) -> float:
    """The default budget at most the on-demand maximum; an explicit one as given, warned."""
    if explicit is None:
        log.info(
            "Table %s is on demand with at most %d read units a second: the snapshot reads "
            "at most %.0f a second",
            *(table, cap, min(budget, cap)),
        )
        return min(budget, cap)
    if max(explicit, budget) > cap:
        log.warning(
            "readThroughput %d (%.0f read units a second with throughputReadPercent) is above "
            "the on-demand maximum of table %s, %d read units a second: DynamoDB throttles "
            "the reads beyond it; lower readThroughput or leave it out",
            *(explicit, budget, table, cap),
        )
    return budget


def on_demand_read_cap(description: Mapping[str, Any]) -> int | None:
    """OnDemandThroughput.MaxReadRequestUnits when set (-1 or absent: no maximum)."""
    units = int((description.get("OnDemandThroughput") or {}).get("MaxReadRequestUnits") or 0)
    return units if units > 0 else None


def share(units: int | None, percent: float | None) -> float | None:
    """The units a run may spend per second; None when nothing limits it (on demand)."""
    if not units:
        return None
    return units * (DEFAULT_READ_PERCENT if percent is None else percent)


def write_budget(target: TargetConfig) -> float | None:
    if not target.write_throughput:
        return None
    return target.write_throughput * (target.throughput_write_percent or 1.0)


def snapshot_seconds(size_bytes: int, units_per_second: float | None) -> float | None:
    """The shortest time the read budget allows for the snapshot; None when unlimited."""
    if units_per_second is None:
        return None
    return size_bytes / (units_per_second * READ_UNIT_BYTES)


def warn_if_snapshot_is_long(
    description: Mapping[str, Any], units_per_second: float | None, streaming: bool
) -> None:
    seconds = snapshot_seconds(int(description.get("TableSizeBytes") or 0), units_per_second)
    if seconds is None:
        log.info("The snapshot's read rate is not limited; its duration depends on the servers")
        return
    log.info(
        "At %.0f read units/s the snapshot needs at least %.1f hours",
        units_per_second,
        seconds / 3600,
    )
    if streaming and seconds > WARN_FRACTION * STREAM_RETENTION_SECONDS:
        log.warning(
            "The snapshot may take %.1f hours, near or beyond the stream's 24-hour retention: "
            "changes made early in the copy could be trimmed before replay; raise "
            "readThroughput or throughputReadPercent",
            seconds / 3600,
        )
