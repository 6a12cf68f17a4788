"""Telling the user when a side stops answering, and when it answers again.

The retries keep a run going through an outage of up to two minutes; without a
word, that looks like a hang. One line when a side stops answering (and again at
most every ``every`` seconds while it stays silent) says which side, since when,
and how long the toolkit keeps trying; one line says when it answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("migrator")
LOG_EVERY_SECONDS = 5.0


class Reachability:
    """Shared by every worker of one side; cheap when all is well (one attribute read)."""

    def __init__(
        self,
        side: str,
        patience: float,
        every: float = LOG_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._side = side  # e.g. "target http://scylla:8000"
        self._patience = patience
        self._every = every
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._down_since: float | None = None  # monotonic time of the first failure
        self._down_at = 0.0  # wall-clock time of the same, to show
        self._next_line = 0.0

    def failed(self, where: str, reason: object) -> None:
        """A request to ``where`` got no answer (refused, reset, timed out)."""
        with self._lock:
            now = self._clock()
            if self._down_since is None:
                self._down_since, self._down_at = now, self._wall()
                self._next_line = now
            if now < self._next_line:
                return
            self._next_line = now + self._every
            since, at = now - self._down_since, self._down_at
        log.warning(
            "%s does not answer (%s) since %s, %.0f s ago; the toolkit keeps trying for up to "
            "%.0f s before it stops",
            *(where, reason, time.strftime("%H:%M:%S", time.localtime(at)), since),
            self._patience,
        )

    def answered(self) -> None:
        """Any answer, even an error: the side is reachable."""
        if self._down_since is None:  # the common case, without taking the lock
            return
        with self._lock:
            if self._down_since is None:
                return
            down_for = self._clock() - self._down_since
            self._down_since = None
        log.info("%s answers again, after %.0f s", self._side, down_for)
