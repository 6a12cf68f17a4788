"""Wiring of a mutate or load run: connection, table, key space, log, then the run.

The control plane (DescribeTable, CreateTable) goes through boto3, the writes
through the data plane.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mutator.bodies import BodyGenerator, SizeBounds, smallest_item
from mutator.keys import KeySpace, LiveKeys
from mutator.load import Loader, LoadResult, LoadSettings
from mutator.oplog import OpLog
from mutator.plane import CountingPlane
from mutator.run import MutateResult, MutateSettings, Mutation
from mutator.stats import Counters
from mutator.table import live_indexes, table_keys
from toolkit.config import DYNAMODB_MAX_BATCH, SourceConfig
from toolkit.driver.metrics import Metrics
from toolkit.errors import UserError
from toolkit.logic.table_schema import show
from toolkit.wire.connections import Connection, connect
from toolkit.wire.dataplane import DataPlane
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.throughput import CapacityBudget
from toolkit.wire.writer import BatchWriter, TargetCapabilities

Say = Callable[[str], None]


@dataclass(frozen=True)
class Common:
    """What both modes share: where to write, item sizes, the log."""

    section: SourceConfig
    create_table: bool
    bounds: SizeBounds
    log_path: Path | None
    metrics: Metrics | None = None  # served on --metrics-port


@dataclass
class _Table:
    connection: Connection
    space: KeySpace
    created: bool


def run_mutate(
    common: Common, settings: MutateSettings, keys: int, say: Say, stop: threading.Event
) -> MutateResult:
    table = _open_table(common, keys)
    with _plane(table.connection, settings.workers + 1) as plane, _oplog(common) as oplog:
        counters = Counters()
        live = (
            []
            if table.created
            else live_indexes(plane, settings.table, table.space, settings.retry, counters)
        )
        say(
            f"Mutating table {settings.table} on {table.connection.where}, keys "
            f"[{show(table.space.parts)}]: {keys} keys ({len(live)} live), "
            f"{settings.rates} ops/s, {settings.put_fraction:.0%} puts, "
            f"{_until(settings)}, seed {settings.seed}"
        )
        mutation = Mutation(
            settings,
            plane,
            table.space,
            LiveKeys(keys, live),
            BodyGenerator(common.bounds, settings.seed),
            oplog,
            say,
            stop,
            metrics=common.metrics,
        )
        return mutation.run()


def run_load(common: Common, settings: LoadSettings, say: Say, stop: threading.Event) -> LoadResult:
    table = _open_table(common, settings.items)
    with _plane(table.connection, settings.workers) as plane, _oplog(common) as oplog:
        counters = Counters(common.metrics)
        writer = BatchWriter(
            CountingPlane(plane, counters),  # counts what the writer retries
            settings.table,
            TargetCapabilities(batch_size=DYNAMODB_MAX_BATCH, reports_consumed_capacity=False),
            CapacityBudget(None),
            RetryPolicy(),
            table.space.names,
        )
        say(
            f"Loading {settings.items} items into table {settings.table} on "
            f"{table.connection.where}, {settings.workers} workers, seed {settings.seed}"
        )
        loader = Loader(
            settings,
            writer.write,
            table.space,
            BodyGenerator(common.bounds, settings.seed),
            oplog,
            say,
            stop,
            counters,
        )
        return loader.run()


def _open_table(common: Common, keys: int) -> _Table:
    connection = connect("source", common.section, common.metrics)
    parts, created = table_keys(
        connection.control(), common.section.table, connection.where, common.create_table
    )
    space = KeySpace(parts, keys)
    largest = smallest_item(space.key(keys - 1))
    if largest > common.bounds.max_bytes:
        raise UserError(
            f"--max-item-bytes {common.bounds.max_bytes} is too small: the items of table "
            f"{common.section.table} need at least {largest} bytes (key and padding)"
        )
    return _Table(connection, space, created)


@contextmanager
def _plane(connection: Connection, connections: int) -> Iterator[DataPlane]:
    plane = connection.data_plane(connections)
    try:
        yield plane
    finally:
        plane.close()


@contextmanager
def _oplog(common: Common) -> Iterator[OpLog | None]:
    if common.log_path is None:
        yield None
        return
    oplog = OpLog(common.log_path, time.time)
    try:
        yield oplog
    finally:
        oplog.close()


def _until(settings: MutateSettings) -> str:
    limits = []
    if settings.duration is not None:
        limits.append(f"{settings.duration:g} s")
    if settings.operations is not None:
        limits.append(f"{settings.operations} operations")
    return "for " + " or ".join(limits) if limits else "until Ctrl-C"
