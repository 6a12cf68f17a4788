"""Pure logic of pacing calls to a rate, shared by threads: when may the next one go."""

from __future__ import annotations

import threading


class Pacer:
    """At most ``per_second`` calls a second: each call gets the next free slot."""

    def __init__(self, per_second: float) -> None:
        self._gap = 1.0 / per_second
        self._next = float("-inf")
        self._lock = threading.Lock()

    def reserve(self, now: float) -> float:
        """Seconds to wait, from ``now``, before the call that takes the next slot."""
        with self._lock:
            at = max(now, self._next)
            self._next = at + self._gap
            return at - now
