"""A state file deleted or replaced under a live run stops it, wherever progress is
written: one line naming the file and what happened, exit 2. The progress since is
recorded nowhere (the run writes into a file no name leads to), so going on and
exiting 0 would lose it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from tests.fakes.fault_proxy import FaultProxy
from tests.helpers import error_line, run_cli
from tests.refusals import Case
from tests.tables import create_table, load, section, table_state, write_config
from toolkit.errors import TerminalError
from toolkit.work.state import RunState, ShardCheckpoint

WRITES: dict[str, Callable[[RunState], None]] = {
    "put": lambda state: state.put("snapshot", "done"),
    "put_many": lambda state: state.put_many({"phase": "replay", "lag_seconds": "0"}),
    "claim": lambda state: state.claim("target table", "orders", ""),
    "checkpoint": lambda state: state.checkpoint(0, {"id": {"S": "k1"}}, 10),
    "record_shards": lambda state: state.record_shards([("shard-2", "shard-1")], False),
    "checkpoint_shards": lambda state: state.checkpoint_shards(
        [ShardCheckpoint("shard-1", "100", 3, False)]
    ),
    "export_file_done": lambda state: state.export_file_done("export", "data/1.json.gz", 5),
}


def started(folder: Path) -> RunState:
    state = RunState(folder / "run.sqlite")
    state.segments(1)
    state.record_shards([("shard-1", None)], at_enabling=True)
    return state


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_every_write_of_progress_notices_a_deleted_state_file(
    tmp_path: Path, write: Callable[[RunState], None]
) -> None:
    state = started(tmp_path)
    state.path.unlink()
    with pytest.raises(TerminalError) as stopped:
        write(state)
    assert str(stopped.value).startswith(
        f"the state file {state.path} was deleted while the run was going on: the progress "
        "since is recorded nowhere, so the run stopped; run the same command again to start over"
    )
    state.close(drop_if_untouched=True)
    # The -wal and -shm SQLite leaves of a deleted file would lie beside the next one.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.sqlite.lock"]


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_every_write_of_progress_notices_a_replaced_state_file(
    tmp_path: Path, write: Callable[[RunState], None]
) -> None:
    state = started(tmp_path)
    other = tmp_path / "restored.sqlite"
    with closing(sqlite3.connect(other)) as db:
        db.execute("CREATE TABLE run (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
    other.replace(state.path)
    with pytest.raises(TerminalError, match="was replaced by another file while the run"):
        write(state)
    state.close()
    assert state.path.exists()  # the file put there stays


def test_a_created_state_replaced_before_any_progress_is_not_dropped(tmp_path: Path) -> None:
    state = RunState(tmp_path / "run.sqlite")
    (tmp_path / "mine.sqlite").write_bytes(b"the user's own file")
    (tmp_path / "mine.sqlite").replace(state.path)
    state.close(drop_if_untouched=True)  # a refused run's claims only: but not that file
    assert state.path.read_bytes() == b"the user's own file"


def test_writes_go_on_while_the_file_stays(tmp_path: Path) -> None:
    state = started(tmp_path)
    for write in WRITES.values():
        write(state)
    state.close()
    again = RunState(tmp_path / "run.sqlite")
    assert again.get("snapshot") == "done" and again.export_files_done("export")
    again.close()


# --- through the CLI: a run that is copying, or replaying --------------------------


def wait_for(what: Callable[[], bool], process: subprocess.Popen[str], name: str) -> None:
    deadline = time.monotonic() + 120
    while not what():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"no {name} within 120 s"
        time.sleep(0.05)


def stopped_by_the_deletion(process: subprocess.Popen[str], state: Path) -> str:
    out, err = process.communicate(timeout=120)
    line = error_line(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    assert line.startswith(f"error: the state file {state} was deleted while the run was going")
    assert not any(Path(f"{state}{suffix}").exists() for suffix in ("", "-wal", "-shm"))
    return line


def migrate(config: Path, state: Path, *more: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "toolkit", "migrate", "--config", str(config)]
    return subprocess.Popen(
        [*command, "--state", str(state), *more],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_state_file_deleted_while_the_snapshot_runs_stops_it(case: Case) -> None:
    create_table(case.source, case.table)
    rows = [{"id": {"S": f"k{n:04}"}} for n in range(400)]
    load(case.endpoints.source, case.table, rows, ["id"])
    state = case.tmp / "run.sqlite"
    with FaultProxy(case.endpoints.target) as proxy:
        config = write_config(
            case.tmp / "config.yaml",
            section(case.endpoints.source, case.table, scanSegments=4),
            section(proxy.url, case.table),
        )
        held = proxy.hold("BatchWriteItem")  # a page in flight, its checkpoint to come
        run = migrate(config, state, "--scan-page-items", "10")
        wait_for(lambda: proxy.count("held BatchWriteItem") > 0, run, "write")
        state.unlink()
        held.set()
        stopped_by_the_deletion(run, state)

        again = run_cli("migrate", "--config", str(config), "--state", str(state))
    assert again.returncode == 0, again.stderr  # started over, with a new state file
    assert table_state(case.endpoints.target, case.table, ["id"]) == table_state(
        case.endpoints.source, case.table, ["id"]
    )


def test_a_state_file_deleted_while_the_stream_is_replayed_stops_it(case: Case) -> None:
    case.source_table()
    state = case.tmp / "run.sqlite"
    run = migrate(case.config(), state)

    def replaying() -> bool:
        try:
            with closing(sqlite3.connect(f"{state.as_uri()}?mode=ro", uri=True)) as db:
                phase = db.execute("SELECT value FROM run WHERE name = 'phase'").fetchone()
        except sqlite3.OperationalError:
            return False  # not created yet
        return bool(phase == ("replay",))

    wait_for(replaying, run, "replay")
    state.unlink()
    load(case.endpoints.source, case.table, [{"id": {"S": "k0"}, "n": {"N": "9"}}], ["id"])
    line = stopped_by_the_deletion(run, state)
    # The stream this run enabled is still on: starting over takes it, as the line says.
    assert "adding --accept-existing-stream" in line
    again = case.run("migrate", case.config(), "--accept-existing-stream", "--stop-when-drained")
    assert again.returncode == 0, again.stderr
    assert table_state(case.endpoints.target, case.table, ["id"]) == table_state(
        case.endpoints.source, case.table, ["id"]
    )
