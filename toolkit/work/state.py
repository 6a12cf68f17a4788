"""The run's state in one SQLite file: what is copied, where each segment stands.

A checkpoint is written only after the target acknowledged every write before it,
so a restart continues each segment from its last finished page. The file holds
no credentials. A lock file beside it keeps a second live run away.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from toolkit.errors import UserError

SCHEMA = """
CREATE TABLE IF NOT EXISTS run (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS segments (
    segment INTEGER PRIMARY KEY,
    last_key BLOB,
    items INTEGER NOT NULL DEFAULT 0,
    pages INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS shards (
    shard_id TEXT PRIMARY KEY,
    parent_id TEXT,
    sequence TEXT,
    records INTEGER NOT NULL DEFAULT 0,
    finished INTEGER NOT NULL DEFAULT 0,
    at_enabling INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS export_files (
    export TEXT NOT NULL,
    file_key TEXT NOT NULL,
    items INTEGER NOT NULL DEFAULT 0,
    detail BLOB,
    PRIMARY KEY (export, file_key)
);
"""


@dataclass(frozen=True)
class ShardCheckpoint:
    shard_id: str
    sequence: str | None  # None: keep the one recorded (the end reached, nothing new)
    records: int  # applied since the last checkpoint
    finished: bool


@dataclass(frozen=True)
class ShardProgress:
    shard_id: str
    parent_id: str | None
    sequence: str | None  # the last sequence number whose change the target acknowledged
    finished: bool
    at_enabling: bool


@dataclass(frozen=True)
class SegmentProgress:
    segment: int
    last_key: dict[str, Any] | None
    items: int
    done: bool


class RunState:
    """Thread-safe: the snapshot's workers checkpoint through one connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.parent / f"{path.name}.lock"
        self._had_lock_file = self._lock_path.exists()
        self._lock_file = _take_lock(path, self._lock_path)
        try:
            self.created = not path.exists()  # this run made the file
            _check_existing(path)
            self._db = _open(path)
        except BaseException:
            # Refused: leave the folder as it was found, lock file included.
            self._drop_lock_file()
            raise
        self._mutex = threading.Lock()
        self._touched = False  # a side may have changed since: the file must stay

    def touching(self) -> None:
        """From here on a table, a stream or a file may change: keep the state whatever
        happens. Every write of progress says the same."""
        self._touched = True

    def close(self, *, drop_if_untouched: bool = False) -> None:
        """Close the file; with ``drop_if_untouched``, a file this run created and used
        for nothing but its claims is removed (a refused run leaves the folder as it was)."""
        self._db.close()
        if drop_if_untouched and self.created and not self._touched:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            self._drop_lock_file()
            return
        self._lock_file.close()

    def _drop_lock_file(self) -> None:
        # Removed while still held, so no other run can take it in between.
        if not self._had_lock_file:
            self._lock_path.unlink(missing_ok=True)
        self._lock_file.close()

    def get(self, name: str) -> str | None:
        with self._mutex:
            row = self._db.execute("SELECT value FROM run WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, name: str, value: str) -> None:
        self._touched = True
        with self._mutex:
            self._db.execute("INSERT OR REPLACE INTO run VALUES (?, ?)", (name, value))

    def put_many(self, values: dict[str, str]) -> None:
        self._touched = True
        with self._mutex:
            self._db.executemany("INSERT OR REPLACE INTO run VALUES (?, ?)", values.items())

    def claim(self, name: str, value: str, hint: str) -> None:
        """Record ``value`` the first time; later runs must bring the same one."""
        recorded = self.get(name)
        if recorded is None:
            with self._mutex:  # a claim alone is no progress: a refused run may drop it
                self._db.execute("INSERT INTO run VALUES (?, ?)", (name, value))
        elif recorded != value:
            raise UserError(
                f"the state file {self.path} belongs to {name} {recorded!r}, not {value!r}; {hint}"
            )

    def segments(self, total: int) -> list[SegmentProgress]:
        """Segments 0..total-1, each with its progress; rows for new ones are added.

        Added in chunks, one statement each: a signal's handler runs between two (one
        statement is one C call, which holds Python's handlers off until it returns)."""
        at_once = 10_000  # rows a statement adds: about 4 ms of SQLite (bench/segments.py)
        for start in range(0, total, at_once):
            with self._mutex:  # segments start..end-1, with no list of them in Python
                self._db.execute(
                    "WITH RECURSIVE numbers(n) AS (SELECT ?1 UNION ALL SELECT n + 1 FROM numbers "
                    "WHERE n + 1 < ?2) INSERT OR IGNORE INTO segments (segment) "
                    "SELECT n FROM numbers",
                    (start, min(start + at_once, total)),
                )
        with self._mutex:
            rows = self._db.execute(
                "SELECT segment, last_key, items, done FROM segments WHERE segment < ? "
                "ORDER BY segment",
                (total,),
            ).fetchall()
        return [
            SegmentProgress(seg, orjson.loads(key) if key else None, items, bool(done))
            for seg, key, items, done in rows
        ]

    def checkpoint(self, segment: int, last_key: dict[str, Any] | None, items: int) -> None:
        """A page is written: continue after ``last_key``; None means the segment is done."""
        key = orjson.dumps(last_key) if last_key is not None else None
        self._touched = True
        with self._mutex:
            self._db.execute(
                "UPDATE segments SET last_key = ?, items = items + ?, pages = pages + 1, "
                "done = ? WHERE segment = ?",
                (key, items, int(last_key is None), segment),
            )

    def record_shards(self, shards: list[tuple[str, str | None]], at_enabling: bool) -> None:
        """Remember shards as they are seen; known ones keep their progress."""
        self._touched = True
        with self._mutex:
            self._db.executemany(
                "INSERT OR IGNORE INTO shards (shard_id, parent_id, at_enabling) VALUES (?, ?, ?)",
                [(shard, parent, int(at_enabling)) for shard, parent in shards],
            )

    def shards(self) -> list[ShardProgress]:
        with self._mutex:
            rows = self._db.execute(
                "SELECT shard_id, parent_id, sequence, finished, at_enabling FROM shards "
                "ORDER BY shard_id"
            ).fetchall()
        return [ShardProgress(s, p, q, bool(f), bool(e)) for s, p, q, f, e in rows]

    def checkpoint_shards(self, checkpoints: Sequence[ShardCheckpoint]) -> None:
        """Each shard's changes up to its ``sequence`` are acknowledged by the target:
        one transaction for all (what a step of the replay took back)."""
        rows = [(c.sequence, c.records, int(c.finished), c.shard_id) for c in checkpoints]
        self._touched = True
        with self._mutex:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "UPDATE shards SET sequence = COALESCE(?, sequence), "
                    "records = records + ?, finished = ? WHERE shard_id = ?",
                    rows,
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # Data files of S3 exports that are finished: read into the target, or written. A
    # row is added only once every write of the file was acknowledged (or the file was
    # uploaded), so a restart copies each unfinished file again, whole.

    def export_files_done(self, export: str) -> dict[str, tuple[int, Any]]:
        """file key -> (items, detail) of the export's finished files."""
        with self._mutex:
            rows = self._db.execute(
                "SELECT file_key, items, detail FROM export_files WHERE export = ?", (export,)
            ).fetchall()
        return {key: (items, orjson.loads(d) if d else None) for key, items, d in rows}

    def export_file_done(
        self, export: str, file_key: str, items: int, detail: object = None
    ) -> None:
        blob = orjson.dumps(detail) if detail is not None else None
        self._touched = True
        with self._mutex:
            self._db.execute(
                "INSERT OR REPLACE INTO export_files VALUES (?, ?, ?, ?)",
                (export, file_key, items, blob),
            )


def _check_existing(path: Path) -> None:
    """Refuse a file that is not a sound state file, before anything writes to it.

    Read as immutable: SQLite then creates no journal beside it and takes no lock
    (the lock file already keeps other runs away).
    """
    if not path.exists():
        return
    fix = "move it away or give another --state (the run's progress is in that file)"
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            check = db.execute("PRAGMA quick_check").fetchone()
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        finally:
            db.close()
    except sqlite3.DatabaseError as error:
        problem = f"is not a sound SQLite database ({error})"
        raise UserError(f"the state file {path} {problem}; {fix}") from None
    if check is None or check[0] != "ok":
        found = check[0] if check else "no answer"
        raise UserError(f"the state file {path} is damaged ({found}); {fix}")
    if tables and "run" not in tables:
        problem = "is an SQLite database of something else, not a run's state"
        raise UserError(f"the state file {path} {problem}; {fix}")


def _open(path: Path) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
    except sqlite3.Error as error:
        raise UserError(
            f"the state file {path} cannot be opened ({error}); check that its folder is "
            "writable and the disk has room, or give another --state"
        ) from None
    return db


def _take_lock(path: Path, lock_path: Path) -> Any:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = lock_path.open("a+")
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise UserError(
            f"--state {path}: cannot create it or its lock file in {path.parent} ({reason}); "
            "give a --state in a folder this user can write"
        ) from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise UserError(
            f"the state file {path} is in use by a live run (pid {holder}); "
            "stop that run first, or give this one another --state"
        ) from None
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    return handle
