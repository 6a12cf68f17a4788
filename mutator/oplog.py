"""The operation log: one JSON line per acknowledged operation (``--log FILE``).

A line is written only after the server acknowledged the operation, so replaying
the file in order (a put stores ``item`` under ``key``, a delete removes ``key``)
rebuilds what the run left in the table. Lines of one key are in the order the
server applied them; lines of different keys may interleave in any order.

    {"seq": 7, "time": 1718000000.125, "op": "put", "index": 42,
     "key": {"id": {"S": "key-000010"}, "version": {"N": "2"}},
     "digest": "<sha256 of the item's canonical form>", "item": {...}}
    {"seq": 8, "time": 1718000000.190, "op": "delete", "index": 7, "key": {...}}

In a run over several tables each line also names its ``"table"`` (after ``op``);
``index`` and ``key`` are then that table's.

``seq`` is the operation's number in its run (the key's index for ``--load``),
``time`` the acknowledgement's wall-clock time in seconds since the epoch. The file
is appended to, so a ``--load`` and later runs can share one log.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from toolkit.errors import UserError
from toolkit.logic.items import Item, Key, digest


@dataclass(frozen=True)
class Entry:
    seq: int
    op: str  # put or delete
    index: int
    key: Key
    item: Item | None  # the put's item, as sent
    table: str | None = None  # named only in a run over several tables

    def line(self, when: float) -> bytes:
        record: dict[str, Any] = {"seq": self.seq, "time": round(when, 6), "op": self.op}
        if self.table is not None:
            record["table"] = self.table
        record["index"] = self.index
        record["key"] = self.key
        if self.item is not None:
            record["digest"] = digest(self.item)
            record["item"] = self.item
        return orjson.dumps(record) + b"\n"


class OpLog:
    """Appends entries to a file; safe to share between threads."""

    def __init__(self, path: Path, now: Callable[[], float]) -> None:
        self.path = path
        self._now = now
        self._lock = threading.Lock()
        try:
            self._file: IO[bytes] = path.open("ab")
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise UserError(f"--log {path}: cannot open it for writing ({reason})") from None

    def write(self, entries: Sequence[Entry]) -> None:
        """Record acknowledged operations (call only after the server's answer)."""
        if not entries:
            return
        when = self._now()
        data = b"".join(entry.line(when) for entry in entries)
        with self._lock:
            self._file.write(data)
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


class TableLog:
    """The lines of one table of a run over several: each names its table."""

    def __init__(self, log: OpLog, table: str) -> None:
        self._log = log
        self._table = table

    def write(self, entries: Sequence[Entry]) -> None:
        self._log.write([dataclasses.replace(entry, table=self._table) for entry in entries])


Log = OpLog | TableLog  # where a run's acknowledged operations go
