"""A state whose last commits are only in its -wal (a kill -9 between a commit and a
checkpoint) is read as SQLite reads it: by the check of `toolkit migrate` and by
`toolkit status`, which write nothing beside it, also in a read-only folder."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from tests.e2e.test_status_kinds import status_json
from tests.helpers import error_line, run_cli
from tests.mounts import read_only_view
from tests.refusals import Case
from tests.scenario import progress
from tests.tables import create_table, load, section, table_state, write_config

ITEMS = 3000


def files_of(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def as_sqlite_reads(state: Path, tmp: Path) -> tuple[int, int]:
    """(items, segments done) as SQLite itself opens the file: a plain connection to a
    copy of the file and its -wal (SQLite recovers the copy's WAL)."""
    copy = tmp / "sqlite-reads"
    copy.mkdir()
    for path in state.parent.glob(f"{state.name}*"):
        if not path.name.endswith((".lock", "-shm")):
            shutil.copyfile(path, copy / path.name)
    with closing(sqlite3.connect(copy / state.name)) as db:
        items, done = db.execute("SELECT SUM(items), SUM(done) FROM segments").fetchone()
    return int(items), int(done)


def snapshot_of(case: Case, tmp: Path) -> Path:
    """A table of ITEMS items and the config of its snapshot (no stream): its state
    takes a checkpoint per page."""
    create_table(case.source, case.table)
    rows = [{"id": {"S": f"k{n:05}"}, "v": {"S": "x" * 100}} for n in range(ITEMS)]
    load(case.endpoints.source, case.table, rows, ["id"])
    return write_config(
        tmp / "config.yaml",
        section(case.endpoints.source, case.table, scanSegments=4),
        section(case.endpoints.target, case.table),
    )


def identical(case: Case) -> bool:
    source = table_state(case.endpoints.source, case.table, ["id"])
    return table_state(case.endpoints.target, case.table, ["id"]) == source


def test_a_run_killed_with_its_last_commits_in_the_wal_resumes_from_them(
    case: Case, tmp_path: Path
) -> None:
    config = snapshot_of(case, tmp_path)
    folder = tmp_path / "run"
    folder.mkdir()
    state = folder / "run.sqlite"
    args = ("migrate", "--config", str(config), "--state", str(state), "--scan-page-items", "10")
    process = subprocess.Popen([sys.executable, "-m", "toolkit", *args], stderr=subprocess.DEVNULL)
    try:
        while progress(state).copied < 200:
            assert process.poll() is None, "the run ended before it could be killed"
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    items, done = as_sqlite_reads(state, tmp_path)
    with closing(sqlite3.connect(f"{state.as_uri()}?mode=ro&immutable=1", uri=True)) as alone:
        tables = alone.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
    assert tables == 0 and 200 <= items < ITEMS  # the file alone holds nothing yet: all in WAL

    before = files_of(folder)
    code, killed = status_json(state)
    assert files_of(folder) == before  # nothing written beside it: no -shm, no checkpoint
    assert code == 1 and not killed["live"] and killed["phase"] == "snapshot"
    assert (killed["items_copied"], killed["segments_done"], killed["segments_total"]) == (
        items,
        done,
        4,
    )
    with read_only_view(folder) as view:
        if view is not None:  # a folder this process cannot write: read all the same
            again = status_json(view / state.name)[1]
            assert {**again, "checkpoint_age_seconds": 0} == {**killed, "checkpoint_age_seconds": 0}

    resumed = run_cli(*args)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Snapshot done: {ITEMS - items} items" in resumed.stdout  # from the WAL's checkpoints
    assert identical(case)
    code, finished = status_json(state)  # a snapshot with no stream to follow: done
    assert code == 0 and finished["phase"] == "done" and finished["items_copied"] == ITEMS


KILLED_IN_WAL = """
import os, signal, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA wal_autocheckpoint=0")  # every commit stays in the -wal
db.executescript(sys.argv[2])
os.kill(os.getpid(), signal.SIGKILL)  # after the commits, before any checkpoint
"""
PHOTOS = (
    "CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO photos VALUES (1, 'a');"
)
LIMITED = """
import os, resource, sys
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
os.execv(sys.executable, [sys.executable, "-m", "toolkit", *sys.argv[2:]])
"""


def killed_in_wal(state: Path, sql: str) -> None:
    """A child commits ``sql`` into ``state`` and is killed before any checkpoint."""
    killed = subprocess.run([sys.executable, "-c", KILLED_IN_WAL, str(state), sql], check=False)
    assert killed.returncode == -signal.SIGKILL
    assert Path(f"{state}-wal").stat().st_size > 0


def run_with_file_size_limit(limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    """`toolkit ARGS` whose writes to any file stop at ``limit`` bytes (RLIMIT_FSIZE)."""
    command = [sys.executable, "-c", LIMITED, str(limit), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_a_foreign_database_killed_with_its_tables_in_the_wal_is_refused_untouched(
    case: Case,
) -> None:
    """The file alone looks empty (a new state for SQLite's immutable view); SQLite
    itself sees another application's tables, so the run must refuse it."""
    case.source_table()
    config, state = case.config(), case.tmp / "run.sqlite"
    killed_in_wal(state, PHOTOS)
    before = files_of(case.tmp)

    line = case.refused("migrate", config, f"the state file {state.name}")
    assert "is an SQLite database of something else" in line

    assert files_of(case.tmp) == before  # the file, its -wal and -shm as they were


def test_status_says_when_its_private_copy_finds_no_room(tmp_path: Path) -> None:
    state = tmp_path / "run.sqlite"
    killed_in_wal(state, "CREATE TABLE run (name TEXT PRIMARY KEY, value TEXT NOT NULL);")
    before = files_of(tmp_path)

    copying = run_with_file_size_limit(2048, "status", "--state", str(state))

    line = error_line(copying)
    assert line.startswith(f"error: cannot read the state file {state} and its -wal through a ")
    assert line.endswith("free space there or set TMPDIR to a folder with room")
    assert files_of(tmp_path) == before
