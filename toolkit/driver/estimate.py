"""A run's budgets from its config and the source's description, and the snapshot's
duration, said in the log (the pure sizing is toolkit/logic/sizing.py)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from toolkit.config import SourceConfig, TargetConfig
from toolkit.logic.sizing import on_demand_read_cap, share
from toolkit.wire.throughput import READ_UNIT_BYTES

log = logging.getLogger("migrator")

STREAM_RETENTION_SECONDS = 24 * 3600
WARN_FRACTION = 0.75  # warn well before the retention is reached


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
