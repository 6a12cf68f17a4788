"""The replication lag while the stream is replayed: how old the oldest change in hand is.

A shard's lag is now minus the creation time of the oldest record it read and has
not applied yet; the replay's lag is the largest, and 0 once every record read is
applied. A record not read yet does not count: an idle shard is polled at least
once a second, which bounds what that leaves out. Thread-safe: followers report
from their threads, the coordinator asks from its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable


class LagWatch:
    def __init__(self, wall: Callable[[], float]) -> None:
        self._wall = wall  # records carry epoch seconds
        self._lock = threading.Lock()
        self._behind: dict[str, float] = {}  # shard -> creation of its oldest unapplied record
        self._unread: set[str] = set()  # open shards not read yet in this run

    def known(self, shards: Iterable[str]) -> None:
        """Open shards to read before the lag can be said to be small."""
        with self._lock:
            self._unread.update(shards)

    def read(self, shard: str, created: float | None) -> None:
        """``shard`` read records from ``created`` on, not applied yet (None: none left)."""
        with self._lock:
            if created is None:
                self._behind.pop(shard, None)
            else:
                self._behind.setdefault(shard, created)
            self._unread.discard(shard)

    def held(self, shard: str, created: float | None) -> None:
        """``shard``'s last turns, known only once they ended, applied changes up to one
        made at ``created`` (None: none): until its next result, the shard's lag is at
        most now minus that (what it has still to apply came later)."""
        with self._lock:
            if created is None:
                self._behind.pop(shard, None)
            else:
                self._behind[shard] = created
            self._unread.discard(shard)

    def finished(self, shard: str) -> None:
        with self._lock:
            self._behind.pop(shard, None)
            self._unread.discard(shard)

    def lag(self) -> tuple[float, dict[str, float]]:
        """The lag in seconds, and each shard's that has records in hand."""
        now = self._wall()
        with self._lock:
            by_shard = {shard: max(0.0, now - at) for shard, at in self._behind.items()}
        return max(by_shard.values(), default=0.0), by_shard

    def below(self, seconds: float) -> bool:
        """Every open shard read at least once, and the lag below ``seconds``."""
        with self._lock:
            unread = bool(self._unread)
        return not unread and self.lag()[0] < seconds
