"""Pure logic of when to read a shard again.

A shard with a backlog is read again at once; a shard that keeps coming back
empty is polled less and less often, up to a cap (the Kinesis Client Library
waits about 1 s between reads of an idle shard; 0.9 s here, so that a change on
a quiet shard is read within a second), so that a thousand quiet shards do not
keep a core busy. A throttled shard backs off the same way.
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
    cap: float = 0.9  # an idle shard is polled about once a second
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


def read_to_its_end(empty_polls: int, had_records: bool, polls_to_drain: int) -> bool:
    """Whether a shard counts as read to its current end (drained, for now).

    An empty page proves little on its own: the API reference says GetRecords
    answers an empty list where the part of the shard its iterator points to holds
    no records, and that it may take several calls to reach records. So a shard
    that has shown none yet must come back empty ``polls_to_drain`` times in a row.
    Once a page had records, the iterator is past them, where the shard's next
    record goes: one empty page there says nothing more is in the shard yet.
    """
    return empty_polls >= (1 if had_records else max(polls_to_drain, 1))
