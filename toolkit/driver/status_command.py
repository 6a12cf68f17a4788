"""`toolkit status`: a run's progress, read from its state file by another process.

The file is opened read-only and its lock is never taken, so a live run goes on
undisturbed. Exit codes, for a cut-over script to wait on: 0 when the stream is
drained (or the lag is below --max-lag), 1 when not yet, 2 on an error.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import click
import orjson

from toolkit.driver.migrate_command import default_state_path
from toolkit.errors import UserError
from toolkit.logic.status import Status, Tables, status_of

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
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Exit 0 once the replication lag is below this, not only once drained.",
)
def status(
    config_path: Path | None, state_path: Path | None, as_json: bool, max_lag: float | None
) -> int:
    """A run's phase, snapshot progress (with an ETA), shards, checkpoint age and lag.

    Exit 0 when the stream is drained (or the lag is below --max-lag), 1 when not yet.
    """
    path = state_path or default_state_path(config_path or Path("config.yaml"))
    now = read_status(path, time.time())
    if as_json:
        click.echo(orjson.dumps({**now.as_json(), "ready": now.ready(max_lag)}).decode())
    else:
        for line in now.lines():
            click.echo(line)
    return EXIT_READY if now.ready(max_lag) else EXIT_NOT_YET


def read_status(path: Path, now: float) -> Status:
    if not path.is_file():
        raise UserError(
            f"no state file {path}: give the --state (or --config) the run was started with"
        )
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            notes = {str(k): str(v) for k, v in db.execute("SELECT name, value FROM run")}
            segments = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(done), 0), COALESCE(SUM(items), 0) FROM segments"
            ).fetchone()
            shards = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(finished), 0), COALESCE(SUM(records), 0) FROM shards"
            ).fetchone()
    except sqlite3.Error as error:
        raise UserError(
            f"cannot read the state file {path} ({error}); is it a run's state?"
        ) from None
    total = int(segments[0]) or int(notes.get("scan segments") or 0)
    tables = Tables(
        *(total, int(segments[1]), int(segments[2])),
        *(int(shards[0]) - int(shards[1]), int(shards[1]), int(shards[2])),
    )
    return status_of(notes, tables, _live(path), now)


def _live(path: Path) -> bool:
    """Whether the process that last locked the run is still running: its pid is in the
    lock file. Looked at, never locked: taking the lock could turn a run starting away."""
    try:
        pid = int((path.parent / f"{path.name}.lock").read_text().strip() or 0)
        command = Path(f"/proc/{pid}/cmdline").read_bytes() if pid else b""
    except (OSError, ValueError):
        return False
    return pid != os.getpid() and b"toolkit" in command
