"""What reading a state file as SQLite sees it costs on a big state, run by hand.

Builds a state of N segment rows (each with a last key, as a snapshot's segments
hold them), then a second one whose last commits are in its -wal (a child commits
with wal_autocheckpoint=0 and kills itself), and times, on each: the check
`toolkit migrate` makes of an existing file (check_state_file: in place when no
-wal lies beside it, through a private copy when one does), `toolkit status`'s read
of a stopped run, and, for comparison, the former check (the file alone, immutable).

    python bench/state_check.py --segments 1000000

Prints one JSON line per measure: {"measure", "file_mb", "wal_mb", "seconds"}.
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import orjson

from toolkit.driver.status_command import read_status
from toolkit.work.state import SCHEMA
from toolkit.work.state_file import check_state_file

# The last commits of a run, left in the -wal: 10,000 checkpoints of one page each.
KILLED_IN_WAL = """
import os, signal, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA wal_autocheckpoint=0")
for n in range(10000):
    db.execute("UPDATE segments SET items = items + 10, pages = pages + 1 WHERE segment = ?",
               (n * 97 % int(sys.argv[2]),))
os.kill(os.getpid(), signal.SIGKILL)
"""


def build(path: Path, segments: int) -> None:
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO segments VALUES (?, ?, ?, ?, ?)",
            (
                (n, orjson.dumps({"id": {"S": f"key-{n:012d}"}}), 1000, 10, n % 2)
                for n in range(segments)
            ),
        )
        db.executemany(
            "INSERT INTO run VALUES (?, ?)",
            [("source table", "t"), ("target table", "t"), ("scan segments", str(segments))],
        )
        db.execute("COMMIT")


def timed(measure: str, path: Path, work: Callable[[], object], rounds: int = 3) -> None:
    seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - started)
    wal = Path(f"{path}-wal")
    print(
        orjson.dumps(
            {
                "measure": measure,
                "file_mb": round(path.stat().st_size / 1e6, 1),
                "wal_mb": round(wal.stat().st_size / 1e6, 1) if wal.exists() else 0,
                "seconds": round(sorted(seconds)[len(seconds) // 2], 3),
            }
        ).decode(),
        flush=True,
    )


def immutable_check(path: Path) -> None:
    """The check as it was: the file alone, its -wal ignored."""
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)) as db:
        db.execute("PRAGMA quick_check").fetchone()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--segments", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "run.sqlite"
        build(path, args.segments)
        timed("check, no -wal (in place)", path, lambda: check_state_file(path))
        timed("status, no -wal (in place)", path, lambda: read_status(path, time.time()))
        timed("former check, immutable", path, lambda: immutable_check(path))
        script = [sys.executable, "-c", KILLED_IN_WAL, str(path), str(args.segments)]
        killed = subprocess.run(script, check=False)
        assert killed.returncode == -signal.SIGKILL, killed
        timed("check, -wal beside (private copy)", path, lambda: check_state_file(path))
        timed("status, -wal beside (private copy)", path, lambda: read_status(path, time.time()))


if __name__ == "__main__":
    main()
