"""`toolkit status`: a run's progress, read from its state file by another process.

The file is read as SQLite sees it (the commits still in its -wal too), never
written, and its lock is never taken, so a live run goes on undisturbed. Exit codes,
for a cut-over script to wait on: 0 when the stream is drained (or the lag is below
--max-lag), or the run is done with no stream to follow; 1 when not yet; 2 on an error.
A run of several tables shows a row per table and their total, and exits 0 only when
every table is ready (a failed one never is).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import click
import orjson

from toolkit.config import limits
from toolkit.driver.migrate_command import default_state_path
from toolkit.errors import UserError
from toolkit.logic.status import Status, Tables, status_of
from toolkit.logic.status_tables import RunOfTables, TableStatus, table_pairs
from toolkit.work.state_file import as_sqlite_sees_it
from toolkit.work.state_open import scope_names

EXIT_READY, EXIT_NOT_YET = 0, 1


@click.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The migration's YAML file: its state file is CONFIG's name + .state.sqlite.",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The run's state file, as given to `toolkit migrate --state`.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of lines.")
@click.option(
    "--max-lag",
    type=limits.STATUS_LAG.flag(),
    default=None,
    metavar="SECONDS",
    help="Exit 0 once the replication lag is below this, not only once drained.",
)
def status(
    config_path: Path | None, state_path: Path | None, as_json: bool, max_lag: float | None
) -> int:
    """A run's phase, snapshot progress (with an ETA), shards, checkpoint age and lag.

    Exit 0 when the stream is drained (or the lag is below --max-lag), or the run is
    done with no stream to follow; 1 when not yet. A run of several tables: a summary
    line, a line per table and the total; exit 0 only when every table is ready.
    """
    path = state_path or default_state_path(config_path or Path("config.yaml"))
    now = read_status(path, time.time())
    if isinstance(now, RunOfTables):
        shown, lines = now.as_json(max_lag), now.lines(max_lag)
    else:
        shown, lines = {**now.as_json(), "ready": now.ready(max_lag)}, now.lines()
    if as_json:
        click.echo(orjson.dumps(shown).decode())
    else:
        for line in lines:
            click.echo(line)
    return EXIT_READY if now.ready(max_lag) else EXIT_NOT_YET


def read_status(path: Path, now: float) -> Status | RunOfTables:
    """The run's status; a run of several tables (its list in the state): each one's."""
    if not path.is_file():
        raise UserError(
            f"no state file {path}: give the --state (or --config) the run was started with"
        )
    live = live_run(path)
    try:
        with reading(path, live) as db:
            db.execute("BEGIN")  # one snapshot of a live run's file for every count
            found = {
                row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            notes = {str(k): str(v) for k, v in db.execute("SELECT name, value FROM run")}
            if "tables" not in notes:
                return status_of(notes, _tables(db, found, scope_names("")), live, now)
            pairs = table_pairs(notes["tables"])
            return RunOfTables(
                live,
                tuple(_table(db, found, source, target, live, now) for source, target in pairs),
            )
    except (sqlite3.Error, ValueError) as error:
        raise UserError(
            f"cannot read the state file {path} ({error}); is it a run's state?"
        ) from None


def _table(
    db: sqlite3.Connection, found: set[str], source: str, target: str, live: bool, now: float
) -> TableStatus:
    """One table of a run of several, from its own part of the file (none yet: starting)."""
    names = scope_names(source)
    run = names["run"]
    rows = db.execute(f"SELECT name, value FROM {run}") if run.strip('"') in found else []
    notes = {str(k): str(v) for k, v in rows}
    failed = notes.get("failed", "")
    # A failed table copies and follows nothing until the run is started again.
    status = status_of(notes, _tables(db, found, names), live and not failed, now)
    return TableStatus(source, target, status, failed)


@contextmanager
def reading(path: Path, live: bool) -> Iterator[sqlite3.Connection]:
    """A live run's file through SQLite's shared memory, one more reader beside its
    writer; a file no run writes, as SQLite sees it (its -wal included) without writing
    anything beside it: also in a read-only folder."""
    if not live:
        with as_sqlite_sees_it(path) as db:
            yield db
        return
    uri = f"{path.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, isolation_level=None)) as db:
        yield db


def _tables(db: sqlite3.Connection, found: set[str], names: dict[str, str]) -> Tables:
    """The counts of a scope's tables; one an older state (or a table not started) lacks
    counts 0."""
    sums = {
        "segments": "COUNT(*), COALESCE(SUM(done), 0), COALESCE(SUM(items), 0)",
        "shards": "COUNT(*), COALESCE(SUM(finished), 0), COALESCE(SUM(records), 0)",
        "export_files": "COUNT(*), COALESCE(SUM(items), 0)",
    }
    counts = {
        table: [int(n) for n in db.execute(f"SELECT {sql} FROM {names[table]}").fetchone()]
        if names[table].strip('"') in found
        else [0, 0, 0]
        for table, sql in sums.items()
    }
    (segments, done, items), (shards, finished, records) = counts["segments"], counts["shards"]
    files, file_items = counts["export_files"][:2]
    return Tables(segments, done, items, shards - finished, finished, records, files, file_items)


def live_run(path: Path) -> bool:
    """Whether the process that last locked the run is still running: its pid is in the
    lock file. Looked at, never locked: taking the lock could turn a run starting away."""
    try:
        pid = int((path.parent / f"{path.name}.lock").read_text().strip() or 0)
        command = Path(f"/proc/{pid}/cmdline").read_bytes() if pid else b""
    except (OSError, ValueError):
        return False
    return pid != os.getpid() and b"toolkit" in command
