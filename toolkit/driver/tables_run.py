"""`toolkit migrate` of several tables: one run, one state file, one cut-over.

The run's tables are decided first (the file's list, or the source's tables that
match its pattern or tag, kept in the state so that a resumed run moves the same
ones) and every source table is described before any is touched: a missing one
refuses the run. Then each table runs the one orchestration of a single table
(``toolkit.driver.migrate.migrate_table``) on a thread of its own, with its own view
of the state: a few tables prepare and copy their snapshots at a time, and each goes
on to replay its stream as soon as its snapshot ends. An explicit read or write
budget is the run's, shared out among the tables by their remaining size. A table
that fails stops alone, with one line naming it, recorded in the state (`toolkit
status` says why); the others go on, and running the command again retries it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass
from functools import partial

import orjson

from toolkit.config import MigrationConfig
from toolkit.config.model import TableEntry
from toolkit.config.tables import for_table
from toolkit.connectors import source_for, target_for
from toolkit.connectors.base import Connect, Described, Source
from toolkit.connectors.table.listing import selected_tables
from toolkit.driver.log_format import TABLE
from toolkit.driver.metrics import table_view
from toolkit.driver.migrate import NEW_STATE, Sides, migrate_table
from toolkit.driver.migration import MigrateOptions, MigrationResult
from toolkit.driver.tables_board import TablesBoard
from toolkit.errors import ToolkitError, UserError
from toolkit.logic.shares import shares
from toolkit.wire.connections import connect
from toolkit.work.state import RunState

log = logging.getLogger("migrator")
SNAPSHOTS_AT_ONCE = 4  # tables that prepare and copy at a time: each has its own workers


@dataclass(frozen=True)
class TablesResult:
    results: dict[str, MigrationResult]  # by source table, of the tables that ended well
    failed: dict[str, str]  # by source table, its error line

    def lines(self) -> list[str]:
        said = []
        for table, result in self.results.items():
            said += [f"{table}: {s.line()}" for s in (result.snapshot, result.replay) if s]
        return said


@dataclass
class _Table:
    entry: TableEntry
    config: MigrationConfig
    described: Described
    view: RunState
    source: Source  # described once: its connection serves the table's whole run


def run_tables(options: MigrateOptions, board: TablesBoard, stop: threading.Event) -> TablesResult:
    state = RunState(options.state_path)
    try:
        tables = _described(options, state)
        log.info(
            "Migrating %d tables: %s",
            len(tables),
            ", ".join(t.entry.source for t in tables),
            extra={"tables": [t.entry.source for t in tables]},
        )
        gate = threading.Semaphore(min(SNAPSHOTS_AT_ONCE, len(tables)))
        results: dict[str, MigrationResult] = {}
        failed: dict[str, str] = {}
        # Each table has a stop of its own: its replay sets it when it ends (drained, or
        # below the lag), which must not end the others'. The run's stop sets them all.
        stops = [threading.Event() for _ in tables]
        threads = [
            threading.Thread(
                target=_one_table,
                args=(options, table, board, table_stop, gate, results, failed),
                name=f"table-{table.entry.source}",
                daemon=True,
            )
            for table, table_stop in zip(_shared_out(options.config, tables), stops, strict=True)
        ]
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            if stop.wait(0.2):  # with a timeout: a signal's handler runs in between
                for table_stop in stops:
                    table_stop.set()
                for thread in threads:
                    thread.join()
        return TablesResult(results, failed)
    finally:
        state.close(drop_if_untouched=True)


def _described(options: MigrateOptions, state: RunState) -> list[_Table]:
    """The run's tables, each source described: before any table is touched."""
    config = options.config
    entries = _entries(config, state, partial(connect, failures=options.metrics))
    tables = []
    for entry in entries:
        one = for_table(config, entry)
        metrics = table_view(options.metrics, entry.source)
        source = source_for(one, partial(connect, failures=metrics))
        try:  # a missing table refuses the run: every table is moved, or none starts
            described = source.describe()
        except UserError as error:
            where = f"check tables in {config.origin}"
            raise UserError(str(error).replace("check source.table", where)) from None
        tables.append(_Table(entry, one, described, state.scoped(entry.source), source))
    return tables


def _entries(config: MigrationConfig, state: RunState, connecting: Connect) -> list[TableEntry]:
    """The file's list; or the tables a pattern or tag found when the run began, as kept."""
    selection = config.tables
    assert selection is not None  # a run of several tables
    state.claim("table selection", selection.describe(), NEW_STATE)
    recorded = state.get("tables")
    if recorded is None:
        entries = selected_tables(config, connecting)
        pairs = [[e.source, e.target] for e in entries]
        state.claim("tables", orjson.dumps(pairs).decode(), NEW_STATE)
        return entries
    by_source = {e.source: e for e in selection.entries}
    return [by_source.get(s) or TableEntry(s, t) for s, t in orjson.loads(recorded)]


def _shared_out(config: MigrationConfig, tables: list[_Table]) -> list[_Table]:
    """Each table's share of an explicit budget and of maxMapTasks: the run's, in all."""
    source, target = config.source, config.target
    weights = [_remaining(t) for t in tables]
    at_once = min(SNAPSHOTS_AT_ONCE, len(tables))
    reads = _split(source.read_throughput, source.throughput_read_percent, weights)
    writes = _split(target.write_throughput, target.throughput_write_percent, weights)
    shared = []
    for table, read, write in zip(tables, reads, writes, strict=True):
        one = table.config
        src = dataclasses.replace(
            one.source,
            read_throughput=read,
            throughput_read_percent=1.0 if read else one.source.throughput_read_percent,
            max_map_tasks=max(1, one.source.max_map_tasks // at_once)
            if one.source.max_map_tasks
            else None,
        )
        tgt = dataclasses.replace(
            one.target,
            write_throughput=write,
            throughput_write_percent=1.0 if write else one.target.throughput_write_percent,
        )
        shared.append(
            dataclasses.replace(table, config=dataclasses.replace(one, source=src, target=tgt))
        )
    return shared


def _split(units: int | None, percent: float | None, weights: list[int]) -> list[int | None]:
    if not units:
        return [None] * len(weights)
    return [max(1, s) for s in shares(int(units * (percent or 1.0)), weights)]


def _remaining(table: _Table) -> int:
    """What is left of a table's snapshot, in bytes, as the source described it."""
    if table.view.get("snapshot") == "done":
        return 0
    return int(table.described.description.get("TableSizeBytes") or 0)


def _one_table(
    options: MigrateOptions,
    table: _Table,
    board: TablesBoard,
    stop: threading.Event,
    gate: threading.Semaphore,
    results: dict[str, MigrationResult],
    failed: dict[str, str],
) -> None:
    name = table.entry.source
    TABLE.set(name)
    options = dataclasses.replace(options, config=table.config)
    try:
        if table.view.get("failed"):
            log.info("Retrying table %s, which failed before", name)
            table.view.put("failed", "")
        sides = _sides(options, table)
        results[name] = migrate_table(options, sides, table.view, board.table(name), stop, gate)
        board.ended(name, results[name])
    except ToolkitError as error:
        failed[name] = str(error)
        log.error("Table %s failed: %s; the other tables go on", name, error)
        table.view.put("failed", " ".join(str(error).split()))
        board.failed(name, str(error))
    except Exception as error:  # a bug: this table stops, the others go on
        failed[name] = f"unexpected {type(error).__name__}: {error}"
        log.exception("Table %s failed unexpectedly; the other tables go on", name)
        table.view.put("failed", failed[name])
        board.failed(name, failed[name])


def _sides(options: MigrateOptions, table: _Table) -> Sides:
    metrics = table_view(options.metrics, table.entry.source)
    connecting = partial(connect, failures=metrics)
    target = target_for(
        table.config, connecting, None if metrics is None else metrics.writes_failed.inc
    )
    checked = target.check(table.described)
    return table.source, target, table.described, checked


def failure_line(result: TablesResult) -> str:
    """The run's one error line when tables failed: which, and what to do."""
    names = sorted(result.failed)
    first = names[0]
    more = f" (and {len(names) - 1} more: {', '.join(names[1:])})" if len(names) > 1 else ""
    return (
        f"{len(names)} of {len(names) + len(result.results)} tables failed: {first}: "
        f"{result.failed[first]}{more}; `toolkit status` says why each failed; fix it and "
        "run the same command again to retry them (the others continue where they stopped)"
    )
