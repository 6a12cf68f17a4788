"""`toolkit migrate`: the click command around ``toolkit.migrate``."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import click

from toolkit.config import load_config
from toolkit.migrate import MigrateOptions, run_migration
from toolkit.progress import SnapshotBar

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
    type=click.IntRange(min=1),
    default=None,
    help="Items per Scan page (Scan's Limit) [default: 1 MB pages].",
)
def migrate(config_path: Path, state_path: Path | None, scan_page_items: int | None) -> None:
    """Create the target table, copy the snapshot, resume where a run stopped."""
    config = load_config(config_path)
    for note in config.notes:
        log.warning(note)
    options = MigrateOptions(
        config, state_path or default_state_path(config_path), page_items=scan_page_items
    )
    stop = threading.Event()
    with SnapshotBar() as bar:
        summary = run_migration(options, bar, stop)
    if summary is not None:
        click.echo(summary.line())
