"""`toolkit verify` of a run of several tables: each compared as a single-table verify
compares it, a few at a time within the run's budgets, a report per table, one verdict.

The config's workers (--workers, else source.maxMapTasks) and its read budget are the
whole run's: the tables compared at once share them, so the source sees no more reads
than one table's verify would send. A table's report is printed whole once it is done,
never interleaved with another's.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from rich.console import Console

from toolkit.config import MigrationConfig
from toolkit.config.model import TableEntry
from toolkit.config.tables import for_table
from toolkit.errors import TerminalError, ToolkitError, UserError
from toolkit.wire.connections import connect
from verify.compare import Progress
from verify.layout import read_layout
from verify.report import ReportFile, TableReport
from verify.session import Shared, VerifyOptions, run_verify, source_reads, workers

log = logging.getLogger("verify")

AT_ONCE = 4  # tables compared at a time, at most


@dataclass(frozen=True)
class Compared:
    entry: TableEntry
    identical: bool

    def said(self) -> str:
        return f"{name(self.entry)} ({'identical' if self.identical else 'differs'})"


def name(entry: TableEntry) -> str:
    return entry.source if entry.source == entry.target else f"{entry.source} → {entry.target}"


def tables_at_once(tables: int, total_workers: int, in_process: bool) -> int:
    """A Spark engine spreads one table over its cluster already: one table at a time
    there; here up to AT_ONCE, each with at least one worker."""
    return max(1, min(tables, AT_ONCE, total_workers)) if in_process else 1


def verify_tables(
    config: MigrationConfig,
    entries: list[TableEntry],
    options: VerifyOptions,
    report: ReportFile,
    console: Console,
    progress: Callable[[str], Progress],
) -> bool:
    """Compare every table; print each one's report and then the verdict. True when
    every table is identical. A table that cannot be compared raises its error, named,
    after the reports of the tables compared before it."""
    configs = [for_table(config, entry) for entry in entries]
    shared = Shared(
        connect("source", config.source, options.metrics),
        connect("target", config.target, options.metrics),
        source_reads(config),  # one budget for all: the run's reads never exceed it
    )
    check_tables(configs, shared)
    total = workers(config, options)
    at_once = tables_at_once(len(entries), total, options.engine.in_process)
    log.info(
        "Comparing %d tables, %d at a time, %d workers each",
        *(len(entries), at_once, max(1, total // at_once)),
    )
    run = TablesRun(
        dataclasses.replace(options, workers=max(1, total // at_once)),
        report,
        console,
        progress,
        shared,
    )
    with ThreadPoolExecutor(at_once, thread_name_prefix="verify-table") as pool:
        list(pool.map(run.compare, entries, configs))
    if run.failure is not None:
        raise run.failure
    run.compared.sort(key=lambda done: entries.index(done.entry))
    console.print(verdict(run.compared), markup=False, highlight=False, soft_wrap=True)
    return all(done.identical for done in run.compared)


def check_tables(configs: list[MigrationConfig], shared: Shared) -> None:
    """Every pair exists with keys that match, before any comparison (or repair) starts:
    bad input is refused whole, as a single table's verify refuses it."""
    for config in configs:
        read_layout(config, shared.source, shared.target)


@dataclass
class TablesRun:
    options: VerifyOptions
    report: ReportFile
    console: Console
    progress: Callable[[str], Progress]
    shared: Shared  # the sides and the source's read budget
    compared: list[Compared] = dataclasses.field(default_factory=list)
    failure: ToolkitError | None = None
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def compare(self, entry: TableEntry, config: MigrationConfig) -> None:
        if self.failure is not None:
            return  # a table failed: the ones not started are not compared
        screen = io.StringIO()
        try:
            summary = run_verify(
                config,
                self.options,
                TableReport(self.report, entry.source),
                _like(self.console, screen),
                self.progress(entry.source),
                self.shared,
            )
        except ToolkitError as error:
            self._failed(entry, error)
            return
        with self._lock:
            self.console.rule(f"table {name(entry)}", style="bold")
            self.console.file.write(screen.getvalue())
            self.console.file.flush()
            self.compared.append(Compared(entry, summary.identical))

    def _failed(self, entry: TableEntry, error: ToolkitError) -> None:
        with self._lock:
            if self.failure is not None:
                return
            before = ", ".join(done.said() for done in self.compared) or "none"
            self.console.print(
                f"table {name(entry)} could not be compared; compared before it: {before}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
            kind = UserError if isinstance(error, UserError) else TerminalError
            self.failure = kind(f"table {name(entry)}: {error}")


def _like(console: Console, file: io.StringIO) -> Console:
    """A console that writes into ``file`` as ``console`` would write on its own."""
    return Console(
        file=file,
        width=console.width,
        force_terminal=console.is_terminal,
        color_system=console.color_system,  # type: ignore[arg-type]
    )


def verdict(compared: list[Compared]) -> str:
    differ = [name(done.entry) for done in compared if not done.identical]
    tables = f"{len(compared)} table{'s' if len(compared) != 1 else ''}"
    if not differ:
        return f"{tables} identical"
    return f"{len(differ)} of {tables} differ: {', '.join(differ)}"
