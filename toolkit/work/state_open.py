"""Opening a run's state file: its lock, its tables (one set per scope), its identity."""

from __future__ import annotations

import fcntl
import os
import sqlite3
from pathlib import Path
from typing import Any

from toolkit.errors import UserError

SCHEMA = """
CREATE TABLE IF NOT EXISTS {run} (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {segments} (
    segment INTEGER PRIMARY KEY,
    last_key BLOB,
    items INTEGER NOT NULL DEFAULT 0,
    pages INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS {shards} (
    shard_id TEXT PRIMARY KEY,
    parent_id TEXT,
    sequence TEXT,
    records INTEGER NOT NULL DEFAULT 0,
    finished INTEGER NOT NULL DEFAULT 0,
    at_enabling INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS {export_files} (
    export TEXT NOT NULL,
    file_key TEXT NOT NULL,
    items INTEGER NOT NULL DEFAULT 0,
    detail BLOB,
    PRIMARY KEY (export, file_key)
);
"""


def scope_names(table: str) -> dict[str, str]:
    """The SQL names of a scope's tables: a run of one table keeps the plain names (its
    files from before stay valid); each table of a run of several gets its own, quoted
    (a DynamoDB table's name holds no quote)."""
    return {
        name: f'"{table}/{name}"' if table else name
        for name in ("run", "segments", "shards", "export_files")
    }


def identity(path: Path) -> tuple[int, int]:
    """The file itself, whatever its name: its device and inode."""
    found = path.stat()
    return found.st_dev, found.st_ino


def open_state(path: Path) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA.format_map(scope_names("")))
    except sqlite3.Error as error:
        raise UserError(
            f"the state file {path} cannot be opened ({error}); check that its folder is "
            "writable and the disk has room, or give another --state"
        ) from None
    return db


def take_lock(path: Path, lock_path: Path) -> Any:
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
