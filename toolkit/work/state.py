"""The run's state in one SQLite file: what is copied, where each segment stands.

A checkpoint is written only after the target acknowledged every write before it,
so a restart continues each segment from its last finished page. The file holds
no credentials. A lock file beside it keeps a second live run away. Each write of
progress checks that the file is still the one opened (its device and inode): one
deleted or replaced under the run stops it, rather than record into nowhere.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from toolkit.errors import TerminalError, UserError
from toolkit.work.state_file import check_state_file
from toolkit.work.state_open import SCHEMA, identity, open_state, scope_names, take_lock


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


DELETED, REPLACED = "was deleted", "was replaced by another file"


class RunState:
    """Thread-safe: the snapshot's workers checkpoint through one connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.parent / f"{path.name}.lock"
        self._had_lock_file = self._lock_path.exists()
        # The folders --state names that are not there yet: a refused run removes them.
        self._new_folders = [f for f in (path.parent, *path.parent.parents) if not f.exists()]
        self._lock_file = take_lock(path, self._lock_path)
        try:
            self.created = not path.exists()  # this run made the file
            check_state_file(path)
            self._db = open_state(path)
            self._identity = identity(path)
        except BaseException:
            # Refused: leave the folder as it was found, lock file included.
            self._drop_lock_file()
            raise
        self._mutex = threading.Lock()
        self._flags = {"touched": False}  # a side may have changed since: the file must stay
        self.checkpointed_at: float | None = None  # wall clock of this run's last checkpoint
        self.scope = ""  # the table this view records; "": a run of one table
        self._names = scope_names("")

    def scoped(self, table: str) -> RunState:
        """The view of one table of a run of several: its own phases and checkpoints, in
        tables of its own in the same file, through the same connection and lock."""
        view = copy.copy(self)
        view.scope, view._names = table, scope_names(table)
        with self._mutex:
            self._db.executescript(view._sql(SCHEMA))
        return view

    def _sql(self, text: str) -> str:
        return text.format_map(self._names)

    def _touch(self) -> None:
        self._flags["touched"] = True

    def touching(self) -> None:
        """From here on a table, a stream or a file may change: keep the state whatever
        happens. Every write of progress says the same."""
        self._touch()

    def close(self, *, drop_if_untouched: bool = False) -> None:
        """Close the file; with ``drop_if_untouched``, a file this run created and used
        for nothing but its claims is removed (a refused run leaves the folder as it was)."""
        self._db.close()
        change = self._change()
        if change == DELETED:
            # SQLite leaves the -wal and -shm of a deleted file: a next run's file would
            # find them beside it.
            for suffix in ("-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        if drop_if_untouched and self.created and not self._flags["touched"] and change is None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            self._drop_lock_file()
            return
        self._lock_file.close()

    def _change(self) -> str | None:
        """What happened to the file since it was opened, if it is not that file anymore."""
        try:
            return None if identity(self.path) == self._identity else REPLACED
        except FileNotFoundError:
            return DELETED

    def _checkpointed(self) -> None:
        self._still_the_file()
        self.checkpointed_at = time.time()

    def _still_the_file(self) -> None:
        """After each write of progress (one stat): a file deleted or replaced under the
        run takes that progress with it when the run ends, so the run stops at once."""
        change = self._change()
        if change is None:
            return
        again = "resume from the file now there (or give another --state)"
        if change == DELETED:
            # The unlinked file still reads: a stream it recorded is enabled on the source.
            stream = self.get("stream")
            again = "start over with a new state file" + (
                f", adding --accept-existing-stream (the stream {stream} this run enabled "
                "holds the changes since)"
                if stream
                else ""
            )
        raise TerminalError(
            f"the state file {self.path} {change} while the run was going on: the progress "
            f"since is recorded nowhere, so the run stopped; run the same command again to "
            f"{again}"
        )

    def _drop_lock_file(self) -> None:
        # Removed while still held, so no other run can take it in between.
        if not self._had_lock_file:
            self._lock_path.unlink(missing_ok=True)
        self._lock_file.close()
        for folder in self._new_folders:  # the deepest first; one that holds files stays
            with contextlib.suppress(OSError):
                folder.rmdir()

    def get(self, name: str) -> str | None:
        with self._mutex:
            sql = self._sql("SELECT value FROM {run} WHERE name = ?")
            row = self._db.execute(sql, (name,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, name: str, value: str) -> None:
        self._touch()
        with self._mutex:
            self._db.execute(self._sql("INSERT OR REPLACE INTO {run} VALUES (?, ?)"), (name, value))
        self._still_the_file()

    def put_many(self, values: dict[str, str]) -> None:
        self._touch()
        with self._mutex:
            sql = self._sql("INSERT OR REPLACE INTO {run} VALUES (?, ?)")
            self._db.executemany(sql, values.items())
        self._still_the_file()

    def claim(self, name: str, value: str, hint: str) -> None:
        """Record ``value`` the first time; later runs must bring the same one."""
        recorded = self.get(name)
        if recorded is None:
            with self._mutex:  # a claim alone is no progress: a refused run may drop it
                self._db.execute(self._sql("INSERT INTO {run} VALUES (?, ?)"), (name, value))
            self._still_the_file()
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
                    self._sql(
                        "WITH RECURSIVE numbers(n) AS (SELECT ?1 UNION ALL SELECT n + 1 FROM "
                        "numbers WHERE n + 1 < ?2) INSERT OR IGNORE INTO {segments} (segment) "
                        "SELECT n FROM numbers"
                    ),
                    (start, min(start + at_once, total)),
                )
        with self._mutex:
            rows = self._db.execute(
                self._sql(
                    "SELECT segment, last_key, items, done FROM {segments} WHERE segment < ? "
                    "ORDER BY segment"
                ),
                (total,),
            ).fetchall()
        return [
            SegmentProgress(seg, orjson.loads(key) if key else None, items, bool(done))
            for seg, key, items, done in rows
        ]

    def segments_done(self) -> set[int]:
        """The segments recorded as done: a set, with no row turned into an object."""
        with self._mutex:
            sql = self._sql("SELECT segment FROM {segments} WHERE done")
            rows = self._db.execute(sql).fetchall()
        return {segment for (segment,) in rows}

    def checkpoint(self, segment: int, last_key: dict[str, Any] | None, items: int) -> None:
        """A page is written: continue after ``last_key``; None means the segment is done."""
        key = orjson.dumps(last_key) if last_key is not None else None
        self._touch()
        with self._mutex:
            # An upsert: a segment's first checkpoint makes its row if segments() did not.
            self._db.execute(
                self._sql(
                    "INSERT INTO {segments} (segment, last_key, items, pages, done) "
                    "VALUES (?, ?, ?, 1, ?) ON CONFLICT (segment) DO UPDATE SET "
                    "last_key = excluded.last_key, items = items + excluded.items, "
                    "pages = pages + 1, done = excluded.done"
                ),
                (segment, key, items, int(last_key is None)),
            )
        self._checkpointed()

    def record_shards(self, shards: list[tuple[str, str | None]], at_enabling: bool) -> None:
        """Remember shards as they are seen; known ones keep their progress."""
        self._touch()
        with self._mutex:
            self._db.executemany(
                self._sql(
                    "INSERT OR IGNORE INTO {shards} (shard_id, parent_id, at_enabling) "
                    "VALUES (?, ?, ?)"
                ),
                [(shard, parent, int(at_enabling)) for shard, parent in shards],
            )
        self._still_the_file()

    def shards(self) -> list[ShardProgress]:
        with self._mutex:
            rows = self._db.execute(
                self._sql(
                    "SELECT shard_id, parent_id, sequence, finished, at_enabling FROM {shards} "
                    "ORDER BY shard_id"
                )
            ).fetchall()
        return [ShardProgress(s, p, q, bool(f), bool(e)) for s, p, q, f, e in rows]

    def checkpoint_shards(self, checkpoints: Sequence[ShardCheckpoint]) -> None:
        """Each shard's changes up to its ``sequence`` are acknowledged by the target:
        one transaction for all (what a step of the replay took back)."""
        rows = [(c.sequence, c.records, int(c.finished), c.shard_id) for c in checkpoints]
        self._touch()
        with self._mutex:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    self._sql(
                        "UPDATE {shards} SET sequence = COALESCE(?, sequence), "
                        "records = records + ?, finished = ? WHERE shard_id = ?"
                    ),
                    rows,
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        self._checkpointed()

    # Data files of S3 exports that are finished: read into the target, or written. A
    # row is added only once every write of the file was acknowledged (or the file was
    # uploaded), so a restart copies each unfinished file again, whole.

    def export_files_done(self, export: str) -> dict[str, tuple[int, Any]]:
        """file key -> (items, detail) of the export's finished files."""
        with self._mutex:
            rows = self._db.execute(
                self._sql("SELECT file_key, items, detail FROM {export_files} WHERE export = ?"),
                (export,),
            ).fetchall()
        return {key: (items, orjson.loads(d) if d else None) for key, items, d in rows}

    def export_file_done(
        self, export: str, file_key: str, items: int, detail: object = None
    ) -> None:
        blob = orjson.dumps(detail) if detail is not None else None
        self._touch()
        with self._mutex:
            self._db.execute(
                self._sql("INSERT OR REPLACE INTO {export_files} VALUES (?, ?, ?, ?)"),
                (export, file_key, items, blob),
            )
        self._checkpointed()
