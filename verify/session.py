"""`toolkit verify` as orchestration: check the tables, compare, again if asked, repair.

A pass compares the tables once and reports. ``--recheck N`` runs up to N more
passes while differences remain, ``--interval`` seconds apart; ``--repair`` writes
what a pass found and then runs a pass that only verifies. The last pass decides.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from rich.console import Console

from toolkit.config import MigrationConfig, limits
from toolkit.driver.metrics import Metrics
from toolkit.engines.base import Engine
from toolkit.engines.embedded import EmbeddedEngine
from toolkit.logic.sizing import MIN_SEGMENTS, share
from toolkit.wire.connections import Connection, connect
from toolkit.wire.dataplane import DataPlane
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.scan import Table
from toolkit.wire.throughput import CapacityBudget
from toolkit.wire.writer import BatchWriter, TargetCapabilities
from verify.compare import Comparison, PassSettings, Progress
from verify.layout import Layout, read_layout
from verify.progress import VerifyObserver
from verify.repair import Repairer
from verify.report import Findings, ReportFile, Summary, print_report, summarize
from verify.spark_work import ComparisonFromConfig

log = logging.getLogger("verify")

# Items per Scan page. A worker holds a page and the target's items for it: 1000
# items of 200 bytes are a few MB of Python objects, where 1 MB pages take ~25 MB.
PAGE_ITEMS = 1000


@dataclass(frozen=True)
class VerifyOptions:
    both_directions: bool = False
    segments: int | None = None  # default: source.scanSegments, else by table size
    workers: int | None = None  # default: source.maxMapTasks, else 8
    recheck: int = 0  # passes after the first while differences remain
    interval: float = 10.0  # seconds between those passes
    recheck_delay: float = 1.0  # seconds before a suspect is read again, consistently
    repair: bool = False
    show: int = 20  # differences listed on the screen per pass
    page_items: int | None = PAGE_ITEMS  # None: the server's 1 MB pages
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    metrics: Metrics | None = None  # served on --metrics-port
    engine: Engine = field(default_factory=EmbeddedEngine)  # what compares the segments


@dataclass
class Session:
    config: MigrationConfig
    options: VerifyOptions
    layout: Layout
    settings: PassSettings
    source: Table
    target: Table
    target_plane: DataPlane  # for the repair's writes
    report: ReportFile
    console: Console
    progress: Progress
    sleep: Callable[[float], None] = time.sleep
    passes: int = 0

    @property
    def repairing(self) -> bool:
        return self.options.repair or self.config.validation.copy_missing_rows

    def until_identical(self) -> Summary:
        options = self.options
        summary = self.compare(repair=self.repairing)
        for attempt in range(1, options.recheck + 1):
            if summary.identical:
                break
            log.info(
                "%d differences remain; comparing again in %g s (try %d of %d)",
                summary.differences,
                options.interval,
                attempt,
                options.recheck,
            )
            self.sleep(options.interval)
            summary = self.compare(repair=self.repairing)
        return summary

    def compare(self, *, repair: bool) -> Summary:
        """One pass; after a repair, a second that verifies what was written."""
        summary = self._one_pass(repair)
        if repair and not summary.identical:
            log.info("Repaired %s items; verifying again", summary.repaired)
            summary = self._one_pass(False)
        return summary

    def _one_pass(self, repair: bool) -> Summary:
        self.passes += 1
        limit = self.config.validation.failures_to_fetch
        findings = Findings(
            self.passes, self.report, self.options.show, self._repairer(repair), limit
        )
        findings.metrics = self.options.metrics
        progress = VerifyObserver(self.progress, self.options.metrics)
        engine = self.options.engine
        comparison = Comparison(
            *(self.layout, self.settings, self.source, self.target, findings, progress),
            stop=findings.stop,
            engine=engine,
            work=None if engine.in_process else self._spark_work(),
        )
        result = comparison.run()
        summary = summarize(findings, result, self.layout.source_table, self.layout.target_table)
        self.report.write(summary.as_json())
        self.report.flush()
        print_report(self.console, summary, findings)
        return summary

    def _spark_work(self) -> ComparisonFromConfig:
        read_units = share(
            self.config.source.read_throughput, self.config.source.throughput_read_percent
        )
        patience = self.options.retry.give_up_after
        return ComparisonFromConfig(self.config, self.layout, self.settings, read_units, patience)

    def _repairer(self, repair: bool) -> Repairer | None:
        if not repair:
            return None
        target = self.config.target
        writer = BatchWriter(
            self.target_plane,
            self.layout.target_table,
            TargetCapabilities.of(target),
            CapacityBudget(None),
            self.options.retry,
            self.layout.target_keys,
        )
        if self.options.repair:
            return Repairer(writer, target.batch_size)
        log.info("validation.copyMissingRows is set: items missing in the target are copied")
        return Repairer(writer, target.batch_size, frozenset({"missing"}))


@dataclass(frozen=True)
class Shared:
    """What the tables of a run share: each side's connection (its endpoint, credentials
    and clients: a session and its client cost ~0.7 s of CPU) and the source's read budget."""

    source: Connection
    target: Connection
    reads: CapacityBudget


def run_verify(
    config: MigrationConfig,
    options: VerifyOptions,
    report: ReportFile,
    console: Console,
    progress: Progress,
    shared: Shared | None = None,
) -> Summary:
    """Compare one pair of tables; ``shared``: the sides and the source's read budget of a
    run of several tables (by default this config's own)."""
    metrics = options.metrics
    if shared is None:
        shared = Shared(
            connect("source", config.source, metrics),
            connect("target", config.target, metrics),
            source_reads(config),
        )
    source, target = shared.source, shared.target
    layout = read_layout(config, source, target)
    settings = pass_settings(config, options, layout)
    if settings.tolerance:
        log.info(
            "validation.floatingPointTolerance is %g: numbers that close count as equal",
            settings.tolerance,
        )
    patience = options.retry.give_up_after
    source_plane = source.data_plane(settings.workers, patience=patience)
    target_plane = target.data_plane(settings.workers, patience=patience)
    try:
        session = Session(
            config,
            options,
            layout,
            settings,
            Table(
                *(source_plane, layout.source_table, options.retry, shared.reads),
                reports_capacity=not config.source.remove_consumed_capacity,
            ),
            Table(target_plane, layout.target_table, options.retry),
            target_plane,
            report,
            console,
            progress,
        )
        return session.until_identical()
    finally:
        source_plane.close()
        target_plane.close()


def pass_settings(config: MigrationConfig, options: VerifyOptions, layout: Layout) -> PassSettings:
    return PassSettings(
        # one count for both sides: the config notes target.scanSegments as unused
        segments=options.segments or config.source.scan_segments or layout.default_segments(),
        workers=workers(config, options),
        both_directions=options.both_directions,
        recheck_delay=options.recheck_delay,
        page_items=options.page_items,
        tolerance=config.validation.floating_point_tolerance,
    )


def workers(config: MigrationConfig, options: VerifyOptions) -> int:
    """Segments read at a time: --workers, else source.maxMapTasks, else the engine's."""
    return (
        options.workers
        or config.source.max_map_tasks
        or min(options.engine.parallelism or MIN_SEGMENTS, int(limits.MAP_TASKS.high))
    )


def source_reads(config: MigrationConfig) -> CapacityBudget:
    """The source's readThroughput x throughputReadPercent (0.5 unless given), as migrate."""
    return CapacityBudget(
        share(config.source.read_throughput, config.source.throughput_read_percent)
    )
