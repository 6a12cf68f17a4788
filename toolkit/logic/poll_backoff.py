"""Pure logic of when to read a shard again.

A shard with a backlog is read again at once; a shard that keeps coming back
empty is polled less and less often, up to a cap (the Kinesis Client Library
waits about 1 s between reads of an idle shard), so that a thousand quiet
shards do not keep a core busy. A throttled shard backs off the same way.
"""

from __future__ import annotations

from dataclasses import dataclass


def backoff(attempts: int, first: float, cap: float) -> float:
    """Seconds to wait after ``attempts`` fruitless tries in a row: doubling, capped."""
    if attempts <= 0:
        return 0.0
    return min(cap, first * 2.0 ** min(attempts - 1, 60))


@dataclass(frozen=True)
class PollPace:
    first: float = 0.05  # after the first empty poll
    cap: float = 1.0  # an idle shard is polled about once a second
    active: float = 0.02  # after a page that was not full: more may come soon
    throttled_first: float = 0.2
    throttled_cap: float = 5.0

    def delay(self, empty_polls: int, throttles: int, got_records: bool, backlog: bool) -> float:
        """Seconds before the next read of a shard, after the read just done."""
        if throttles:
            return backoff(throttles, self.throttled_first, self.throttled_cap)
        if got_records:
            return 0.0 if backlog else self.active
        return backoff(empty_polls, self.first, self.cap)
