"""Wiring of a mutate or load run: connection, table, key space, log, then the run.

The control plane (DescribeTable, CreateTable) goes through boto3, the writes
through the data plane.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mutator.bodies import BodyGenerator, SizeBounds, smallest_item
from mutator.keys import KeySpace, LiveKeys, TableKeys
from mutator.load import Loader, LoadResult, LoadSettings
from mutator.oplog import Log, OpLog, TableLog
from mutator.plane import CountingPlane
from mutator.run import MutateResult, MutateSettings, Mutation
from mutator.stats import Counters, Tally, load_line
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

    # One section per table, the same but for the table: one connection serves them all.
    sections: Sequence[SourceConfig]
    create_table: bool
    bounds: SizeBounds
    log_path: Path | None
    metrics: Metrics | None = None  # served on --metrics-port


@dataclass(frozen=True)
class _Table:
    name: str
    space: KeySpace
    created: bool


def run_mutate(
    common: Common, settings: MutateSettings, keys: int, say: Say, stop: threading.Event
) -> MutateResult:
    connection, opened = _open_tables(common, keys)
    with _plane(connection, settings.workers + 1) as plane, _oplog(common) as oplog:
        counters = Counters()

        def live(table: _Table) -> LiveKeys:
            if table.created:
                return LiveKeys(keys)
            return LiveKeys(
                keys, live_indexes(plane, table.name, table.space, settings.retry, counters)
            )

        tables = [TableKeys(t.name, t.space, live(t)) for t in opened]
        _say_start(tables, connection.where, settings, say)
        mutation = Mutation(
            settings,
            plane,
            tables,
            BodyGenerator(common.bounds, settings.seed),
            oplog,
            say,
            stop,
            metrics=common.metrics,
        )
        return mutation.run()


def run_load(common: Common, settings: LoadSettings, say: Say, stop: threading.Event) -> LoadResult:
    """Keys 0..N-1 into each table, one table after the other (each with every worker)."""
    connection, opened = _open_tables(common, settings.items)
    with _plane(connection, settings.workers) as plane, _oplog(common) as oplog:
        if len(opened) == 1:
            _say_loading(settings, opened[0].name, connection.where, say)
            return _load(common, settings, plane, opened[0], oplog, say, stop)
        start, tally = time.monotonic(), Tally()
        for table in opened:
            if stop.is_set():
                break
            _say_loading(settings, table.name, connection.where, say)
            log = None if oplog is None else TableLog(oplog, table.name)
            one = dataclasses.replace(settings, table=table.name)
            tally += _load(common, one, plane, table, log, _prefixed(table.name, say), stop).tally
        items = settings.items * len(opened)
        total = LoadResult(tally.puts, time.monotonic() - start, tally, tally.puts == items)
        state = "done" if total.complete else "stopped"
        say(load_line(state, total.items, items, total.seconds, tally, len(opened)))
        return total


def _load(
    common: Common,
    settings: LoadSettings,
    plane: DataPlane,
    table: _Table,
    oplog: Log | None,
    say: Say,
    stop: threading.Event,
) -> LoadResult:
    counters = Counters(common.metrics)
    writer = BatchWriter(
        CountingPlane(plane, counters),  # counts what the writer retries
        table.name,
        TargetCapabilities(batch_size=DYNAMODB_MAX_BATCH, reports_consumed_capacity=False),
        CapacityBudget(None),
        RetryPolicy(),
        table.space.names,
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


def _open_tables(common: Common, keys: int) -> tuple[Connection, list[_Table]]:
    """Each table described once (created if asked), all before anything is written."""
    connection = connect("source", common.sections[0], common.metrics)
    tables = []
    for section in common.sections:
        parts, created = table_keys(
            connection.control(), section.table, connection.where, common.create_table
        )
        tables.append(_Table(section.table, KeySpace(parts, keys), created))
    for table in tables:
        largest = smallest_item(table.space.key(keys - 1))
        if largest > common.bounds.max_bytes:
            raise UserError(
                f"--max-item-bytes {common.bounds.max_bytes} is too small: the items of table "
                f"{table.name} need at least {largest} bytes (key and padding)"
            )
    return connection, tables


def _say_start(tables: Sequence[TableKeys], where: str, settings: MutateSettings, say: Say) -> None:
    s = settings
    how = f"{s.put_fraction:.0%} puts, {_until(s)}, seed {s.seed}"
    if len(tables) == 1:
        t = tables[0]
        say(
            f"Mutating table {t.name} on {where}, keys [{show(t.space.parts)}]: "
            f"{t.live.size} keys ({len(t.live)} live), {s.rates} ops/s, {how}"
        )
        return
    say(
        f"Mutating {len(tables)} tables on {where}: {tables[0].live.size} keys each, "
        f"{s.rates} ops/s in total (each operation to a table drawn at random), {how}"
    )
    for t in tables:
        say(f"Table {t.name}: keys [{show(t.space.parts)}], {len(t.live)} live")


def _say_loading(settings: LoadSettings, table: str, where: str, say: Say) -> None:
    say(
        f"Loading {settings.items} items into table {table} on {where}, "
        f"{settings.workers} workers, seed {settings.seed}"
    )


def _prefixed(table: str, say: Say) -> Say:
    return lambda line: say(f"Table {table}: {line}")


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
