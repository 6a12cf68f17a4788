"""`toolkit verify`: the click command around ``verify.session``.

Exit codes: 0 when source and target are identical, 1 when they differ, 2 on an
error (raised as a ``ToolkitError``, printed as one line by ``toolkit.cli``).
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import click
from rich.console import Console

from toolkit.config import limits
from toolkit.driver import observability
from toolkit.driver.log_format import display_console
from toolkit.engines.choose import engine_for, engine_options
from toolkit.errors import UserError
from verify.progress import ComparisonBar, TablesBar
from verify.report import ReportFile
from verify.run_tables import tables_to_verify
from verify.session import PAGE_ITEMS, VerifyOptions, run_verify
from verify.settings import Flags, SideFlags, load_verify_config
from verify.tables import verify_tables

log = logging.getLogger("verify")

EXIT_IDENTICAL = 0
EXIT_DIFFERENT = 1


@click.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The migration's YAML file, as for migrate [default: ./config.yaml].",
)
@click.option(
    "--source-endpoint", metavar="URL", help="e.g. http://localhost:8000; overrides the file."
)
@click.option("--source-table", metavar="NAME", help="Overrides source.table.")
@click.option(
    "--target-endpoint", metavar="URL", help="e.g. http://scylla:8000; overrides the file."
)
@click.option("--target-table", metavar="NAME", help="Overrides target.table.")
@click.option("--region", help="AWS region of both sides; overrides the file.")
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A config with tables: the run's state file, whose tables are compared "
    "[default: CONFIG's name + .state.sqlite, if there; else the tables the config selects].",
)
@click.option(
    "--both-directions",
    is_flag=True,
    help="Also scan the target, for items the source does not have (extra items).",
)
@click.option(
    "--segments",
    type=limits.SCAN_SEGMENTS.flag(),
    help="Parallel Scan segments [default: source.scanSegments, else one per 128 MB, at least 8].",
)
@click.option(
    "--workers",
    type=limits.MAP_TASKS.flag(),
    help="Segments read at a time [default: source.maxMapTasks, else 8].",
)
@click.option(
    "--recheck",
    type=limits.PASSES.flag(),
    default=0,
    show_default=True,
    metavar="N",
    help="Compare again, up to N more times, while differences remain (a live source).",
)
@click.option(
    "--interval",
    type=limits.PASS_INTERVAL.flag(),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="Wait between those comparisons.",
)
@click.option(
    "--recheck-delay",
    type=limits.RECHECK_DELAY.flag(),
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="Wait before a suspect item is read again, consistently, on both sides.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write JSON lines: one per difference, and a summary line per comparison.",
)
@click.option(
    "--repair",
    is_flag=True,
    help="Write the source's version of missing and different items, delete extras, verify again.",
)
@click.option(
    "--show",
    type=limits.SHOWN.flag(),
    default=20,
    show_default=True,
    metavar="N",
    help="Differences listed on the screen per comparison.",
)
@click.option(
    "--scan-page-items",
    type=limits.PAGE_ITEMS.flag(),
    default=PAGE_ITEMS,
    show_default=True,
    help="Items per Scan page (Scan's Limit): memory per worker grows with it.",
)
@observability.options
@engine_options
def verify(
    config_path: Path | None,
    source_endpoint: str | None,
    source_table: str | None,
    target_endpoint: str | None,
    target_table: str | None,
    region: str | None,
    state_path: Path | None,
    both_directions: bool,
    segments: int | None,
    workers: int | None,
    recheck: int,
    interval: float,
    recheck_delay: float,
    report_path: Path | None,
    repair: bool,
    show: int,
    scan_page_items: int,
    log_format: str,
    metrics_port: int | None,
    metrics_per_shard: bool,
    metrics_address: str,
    engine: str,
    master: str | None,
    spark_conf: tuple[str, ...],
) -> int:
    """Compare source and target item by item; exit 0 only when identical.

    Missing and different items are found by scanning the source and reading the
    same keys from the target; with --both-directions, extra items by scanning the
    target's keys. Suspects are read again, consistently, before they are reported.
    """
    flags = Flags(
        SideFlags(source_endpoint, source_table), SideFlags(target_endpoint, target_table), region
    )
    config = load_verify_config(config_path, flags)
    if state_path is not None and config.tables is None:
        raise UserError(
            f"--state {state_path}: {config.origin} names one table, and verify reads a state "
            "only for a config with tables; leave --state out"
        )
    # Not the config's metricsPort: that is the migration's, which may run beside verify.
    metrics = observability.start(log_format, metrics_port, metrics_address, metrics_per_shard)
    for note in config.notes:
        log.warning(note)
    with ExitStack() as stack:
        options = VerifyOptions(
            both_directions=both_directions,
            segments=segments,
            workers=workers,
            recheck=recheck,
            interval=interval,
            recheck_delay=recheck_delay,
            repair=repair,
            show=show,
            page_items=scan_page_items,
            engine=stack.enter_context(engine_for(engine, master, spark_conf)),
            metrics=metrics,
        )
        # The tables are known (and checked) before the report file is made.
        entries = None if config.tables is None else tables_to_verify(config, state_path)
        stream = stack.enter_context(_open_report(report_path)) if report_path else None
        if entries is not None:
            bars = stack.enter_context(TablesBar(display_console()))
            report = ReportFile(stream)
            identical = verify_tables(config, entries, options, report, Console(), bars.for_table)
        else:
            bar = stack.enter_context(ComparisonBar(display_console()))
            identical = run_verify(config, options, ReportFile(stream), Console(), bar).identical
    return EXIT_IDENTICAL if identical else EXIT_DIFFERENT


def _open_report(path: Path) -> IO[bytes]:
    try:
        return path.open("wb")
    except OSError as error:
        raise UserError(f"--report {path}: cannot write it ({error.strerror})") from None
