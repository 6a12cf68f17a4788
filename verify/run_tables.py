"""Which tables a verify of a run of several compares: the ones its state recorded, else
the ones its config selects now.

A run keeps its tables in its state file (a pattern or a tag is resolved when the run
starts), so verify compares what was moved, even if the source has more tables since.
The file is read as `toolkit status` reads it: never written, its lock never taken.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import orjson

from toolkit.config import MigrationConfig
from toolkit.config.model import TableEntry
from toolkit.connectors.table.listing import selected_tables
from toolkit.driver.migrate_command import default_state_path
from toolkit.driver.status_command import live_run, reading
from toolkit.errors import UserError

log = logging.getLogger("verify")


def tables_to_verify(config: MigrationConfig, state_path: Path | None) -> list[TableEntry]:
    """The run's tables, in its order: ``state_path`` (else the config's own) if it
    exists, else the config's selection; each with the config's overrides for it."""
    assert config.tables is not None and config.path is not None  # a file with tables
    path = state_path or default_state_path(config.path)
    if state_path is not None and not path.is_file():
        raise UserError(
            f"no state file {path}: give the --state the run was started with, or leave "
            "--state out to compare the tables the config selects"
        )
    pairs = recorded_tables(path) if path.is_file() else None
    if pairs is None:
        return selected_tables(config)
    log.info("Comparing the %d tables the run's state %s recorded", len(pairs), path)
    listed = {entry.source: entry for entry in config.tables.entries}
    return [_entry(listed.get(source), source, target) for source, target in pairs]


def _entry(listed: TableEntry | None, source: str, target: str) -> TableEntry:
    if listed is None or listed.target != target:
        return TableEntry(source, target)
    return listed


def recorded_tables(path: Path) -> list[tuple[str, str]] | None:
    """The [source, target] pairs the run recorded; None when it recorded none (a run of
    one table, or one that stopped before it found its tables)."""
    try:
        with reading(path, live_run(path)) as db:
            names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
            row = (
                db.execute("SELECT value FROM run WHERE name = 'tables'").fetchone()
                if "run" in names
                else None
            )
    except sqlite3.Error as error:
        raise UserError(
            f"cannot read the state file {path} ({error}); is it a run's state? "
            "give the run's --state, or leave --state out"
        ) from None
    if row is None:
        return None
    return _pairs(path, row[0])


def _pairs(path: Path, value: object) -> list[tuple[str, str]]:
    try:
        data = orjson.loads(str(value))
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(n, str) for n in pair)
        for pair in data
    ):
        raise UserError(
            f"the state file {path} records its tables as {str(value)[:80]!r}, not a list of "
            "[source, target] pairs; give the run's own state file with --state"
        )
    return [(source, target) for source, target in data]
