"""`toolkit migrate`: the click command around ``toolkit.driver.migrate``."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import click
from rich.console import Console

from toolkit.config import limits, load_config
from toolkit.driver import observability
from toolkit.driver.log_format import display_console
from toolkit.driver.migrate import run_migration
from toolkit.driver.migration import MigrateOptions, MigrationResult
from toolkit.driver.progress import ReplayConsole, SnapshotBar
from toolkit.driver.stopping import graceful
from toolkit.driver.tables_board import TablesBoard
from toolkit.driver.tables_run import failure_line, run_tables
from toolkit.engines.choose import engine_for, engine_options
from toolkit.errors import TerminalError
from toolkit.work.replay import ReplaySettings

log = logging.getLogger("migrator")


def default_state_path(config_path: Path) -> Path:
    return config_path.with_name(f"{config_path.stem}.state.sqlite")


@click.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("config.yaml"),
    show_default=True,
    help="The migration's YAML file (the Scylla Migrator's format).",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite file of the run's progress [default: CONFIG's name + .state.sqlite].",
)
@click.option(
    "--scan-page-items",
    type=limits.PAGE_ITEMS.flag(),
    default=None,
    help="Items per Scan page (Scan's Limit) [default: 1 MB pages].",
)
@click.option(
    "--stop-when-drained",
    is_flag=True,
    help="Exit once the stream's backlog is applied and no new change arrives.",
)
@click.option(
    "--stop-when-lag-below",
    type=limits.STREAM_LAG.flag(),
    default=None,
    metavar="SECONDS",
    help="Exit once the replication lag is below this: the moment to stop the application.",
)
@click.option(
    "--accept-existing-stream",
    is_flag=True,
    help="Replay a stream the source table already had (it may miss old changes).",
)
@observability.options
@engine_options
def migrate(
    config_path: Path,
    state_path: Path | None,
    scan_page_items: int | None,
    stop_when_drained: bool,
    stop_when_lag_below: float | None,
    accept_existing_stream: bool,
    log_format: str,
    metrics_port: int | None,
    metrics_per_shard: bool,
    metrics_address: str,
    engine: str,
    master: str | None,
    spark_conf: tuple[str, ...],
) -> None:
    """Create the target table, copy the snapshot, replay the stream; resumable.

    Ctrl-C or SIGTERM finishes the batch in flight, checkpoints and exits 0; run
    the same command again to continue.
    """
    config = load_config(config_path)
    metrics = observability.start(
        log_format, metrics_port or config.metrics_port, metrics_address, metrics_per_shard
    )
    for note in config.notes:
        log.warning(note)
    stop = threading.Event()
    try:
        console = display_console()
        # Graceful around the engine too: a signal while Spark starts or stops is a stop.
        with graceful(stop, _stopping), engine_for(engine, master, spark_conf) as runner:
            options = MigrateOptions(
                config,
                state_path or default_state_path(config_path),
                page_items=scan_page_items,
                accept_existing_stream=accept_existing_stream,
                replay=ReplaySettings(
                    stop_when_drained=stop_when_drained, stop_when_lag_below=stop_when_lag_below
                ),
                metrics=metrics,
                engine=runner,
            )
            if config.tables is not None:
                _run_tables(options, console, stop)
                return
            with SnapshotBar(console) as bar, ReplayConsole(console) as status:
                result = run_migration(options, bar, status, stop)
    except BaseException:
        if metrics is not None:
            metrics.phase.state("failed")
        raise
    if metrics is not None:
        metrics.phase.state(_ended(result))
    for summary in (result.snapshot, result.replay):
        if summary is not None:
            click.echo(summary.line())


def _run_tables(options: MigrateOptions, console: Console, stop: threading.Event) -> None:
    """A run of several tables: their summaries, and one error line if any failed."""
    with TablesBoard(console) as board:
        result = run_tables(options, board, stop)
    for line in result.lines():
        click.echo(line)
    if result.failed:
        raise TerminalError(failure_line(result))
    if options.metrics is not None:
        ended = {_ended(r) for r in result.results.values()}
        options.metrics.phase.state(ended.pop() if len(ended) == 1 else "stopped")


def _ended(result: MigrationResult) -> str:
    """The phase a run ends in: drained, done (a snapshot alone), or stopped."""
    if result.replay is not None:
        return "drained" if result.replay.drained else "stopped"
    done = result.snapshot is not None and result.snapshot.complete
    return "done" if done else "stopped"


def _stopping() -> None:
    log.info("Stopping: finishing the batch in flight and saving the checkpoint")
