"""`--repair`: the source's version of missing and different items, and no extras.

With validation.copyMissingRows (and no --repair), only the missing items are
written, as the Scylla Migrator does: a different item is reported, never written.

Confirmed differences arrive from many workers; they are gathered into batches and
written with the toolkit's BatchWriter, each write acknowledged or the run stops.
A batch never holds one key twice (BatchWriteItem refuses that): the last wins.
"""

from __future__ import annotations

import threading
from typing import Any

from toolkit.logic.items import key_id
from toolkit.wire.writer import BatchWriter
from verify.diff import Difference, Kind

ALL_KINDS: frozenset[Kind] = frozenset({"missing", "extra", "different"})


class Repairer:
    """Writes what removes the differences of the kinds it is given (all, by default)."""

    def __init__(
        self, writer: BatchWriter, batch_size: int, kinds: frozenset[Kind] = ALL_KINDS
    ) -> None:
        self._writer = writer
        self._batch_size = batch_size
        self.kinds = kinds
        self._lock = threading.Lock()
        self._pending: dict[bytes, dict[str, Any]] = {}
        self.written = 0

    def add(self, difference: Difference) -> str | None:
        """Queue the write that removes this difference: "put" or "delete" (None: left as is)."""
        if difference.kind not in self.kinds:
            return None
        if difference.source is not None:
            action, request = "put", {"PutRequest": {"Item": difference.source}}
        else:
            action, request = "delete", {"DeleteRequest": {"Key": difference.key}}
        with self._lock:
            self._pending[key_id(difference.key)] = request
            batch = self._take() if len(self._pending) >= self._batch_size else []
        self._write(batch)
        return action

    def finish(self) -> None:
        with self._lock:
            batch = self._take()
        self._write(batch)

    def _take(self) -> list[dict[str, Any]]:
        batch, self._pending = list(self._pending.values()), {}
        return batch

    def _write(self, batch: list[dict[str, Any]]) -> None:
        if not batch:
            return
        self._writer.write(batch)
        with self._lock:
            self.written += len(batch)
