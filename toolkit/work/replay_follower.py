"""One shard followed turn by turn, as the coordinator sees it: where it is, when next.

The follower holds what the driver knows of a shard between turns: its checkpoint,
the iterator the last turn left, and how often it came back empty or throttled,
from which the next turn's delay follows. The turns themselves (read, write) are
toolkit.work.shard_turn's, run wherever the engine runs them.
"""

from __future__ import annotations

from typing import Protocol

from toolkit.logic.poll_backoff import PollPace
from toolkit.logic.shard_tree import Shard
from toolkit.work.shard_turn import ShardRecords, ShardTurn, Turned


class Reader(ShardRecords, Protocol):
    def shards(self) -> list[Shard]: ...
    def children(self, shard_id: str) -> list[Shard] | None: ...  # None: no ShardFilter


class Follower:
    def __init__(self, shard: str, after: str | None, pace: PollPace) -> None:
        self.shard = shard
        self.after = after  # the checkpoint: the last sequence number acknowledged
        self.iterator: str | None = None
        self.done = False
        self.idle_polls = 0
        self.had_records = False  # a page of this run had records: its iterator is past them
        self.throttles = 0
        self.delay = 0.0  # seconds from the end of this turn to the next one
        self._pace = pace

    def turn(self) -> ShardTurn:
        return ShardTurn(self.shard, self.after, self.iterator, self.idle_polls, self.throttles)

    def took(self, turned: Turned) -> None:
        """The turn (or stint of turns) ended, and its checkpoint (if any) is recorded."""
        self.after = turned.after
        if turned.expired:  # open a new iterator after the checkpoint, at once
            self.iterator, self.delay = None, 0.0
            return
        got = turned.records > 0
        self.iterator, self.done = turned.iterator, turned.finished
        self.throttles = (
            turned.throttles
            if turned.throttles is not None
            else self.throttles + 1
            if turned.throttled
            else 0
        )
        self.idle_polls = (
            turned.idle_polls
            if turned.idle_polls is not None
            else 0
            if got or turned.throttled
            else self.idle_polls + 1
        )
        self.had_records = self.had_records or got
        got = got and self.idle_polls == 0  # a stint's last turn, not any of them, had some
        self.delay = self._pace.delay(self.idle_polls, self.throttles, got, turned.backlog)

    def restore(self, turn: ShardTurn) -> None:
        """Go on from where ``turn`` left the shard (a stint's follower, in its task)."""
        self.iterator, self.idle_polls, self.throttles = (
            turn.iterator,
            turn.idle_polls,
            turn.throttles,
        )
