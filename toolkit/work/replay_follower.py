"""One shard followed a step at a time: read a page, write it, checkpoint it.

Steps run on a bounded pool, so any number of open shards share a few threads.
While a page is written, the next one is read ahead; it is kept in memory only,
so a stop drops it and a restart reads it again after the checkpoint. A shard
never has more than one GetRecords in flight (the service allows two).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from toolkit.logic.poll_backoff import PollPace
from toolkit.logic.shard_tree import Shard
from toolkit.logic.stream_records import change_of, count_by_type, last_change_per_key
from toolkit.wire.stream_reader import RECORDS_PER_CALL, IteratorExpired, ShardThrottled
from toolkit.work.state import RunState


class Reader(Protocol):
    def shards(self) -> list[Shard]: ...
    def children(self, shard_id: str) -> list[Shard] | None: ...  # None: no ShardFilter
    def iterator(self, shard_id: str, after: str | None) -> str: ...
    def records(self, iterator: str) -> tuple[list[dict[str, Any]], str | None]: ...


class Read(NamedTuple):
    records: list[dict[str, Any]]
    next_iterator: str | None  # None: the shard is closed and read to its end
    backlog: bool  # the last page came full: more records are likely waiting
    throttled: bool = False  # the service asked this shard's reader to slow down


@dataclass(frozen=True)
class Pages:
    """How one step reads: up to ``records_per_apply`` while pages come full."""

    reader: Reader
    records_per_apply: int
    stopping: Callable[[], bool]

    def read(self, iterator: str) -> Read:
        """One apply (write, then checkpoint) per several pages spends the wait for its
        slowest write once for many records; a short page ends the read at once."""
        try:
            records, next_iterator = self.reader.records(iterator)
        except ShardThrottled:
            return Read([], iterator, backlog=False, throttled=True)
        last_page = len(records)
        while (
            next_iterator is not None
            and last_page == RECORDS_PER_CALL
            and len(records) < self.records_per_apply
            and not self.stopping()
        ):
            try:
                more, after = self.reader.records(next_iterator)
            except ShardThrottled:
                return Read(records, next_iterator, backlog=True, throttled=True)
            records, next_iterator, last_page = records + more, after, len(more)
        return Read(records, next_iterator, backlog=last_page == RECORDS_PER_CALL)


def created_at(record: Mapping[str, Any]) -> float | None:
    """A record's ApproximateCreationDateTime, in epoch seconds (None when absent)."""
    value = record.get("dynamodb", {}).get("ApproximateCreationDateTime")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class Apply(Protocol):
    """What a follower needs of the replay around it."""

    renames: Mapping[str, str]
    table: str  # the source table, named in errors
    state: RunState

    def write(self, requests: Sequence[dict[str, Any]]) -> None: ...
    def applied(self, records: int, counts: Mapping[str, int]) -> None: ...
    def behind(self, shard: str, created: float | None) -> None: ...


class Follower:
    def __init__(
        self,
        shard: str,
        after: str | None,
        pages: Pages,
        read_pool: ThreadPoolExecutor,
        target: Apply,
        pace: PollPace,
    ) -> None:
        self.shard = shard
        self.after = after  # the checkpoint: the last sequence number acknowledged
        self.iterator: str | None = None
        self.ahead: Future[Read] | None = None  # the pages after self.iterator's
        self.done = False
        self.idle_polls = 0
        self.had_records = False  # a page of this run had records: its iterator is past them
        self.throttles = 0
        self.delay = 0.0  # seconds from the end of this step to the next one
        self._pages, self._read_pool, self._target, self._pace = pages, read_pool, target, pace

    def step(self) -> None:
        if self.iterator is None:
            self.iterator = self._pages.reader.iterator(self.shard, self.after)
        try:
            read = self._next_read(self.iterator)
        except IteratorExpired:
            self._reopen()
            return
        records, next_iterator = read.records, read.next_iterator
        self._target.behind(self.shard, created_at(records[0]) if records else None)
        if read.backlog and next_iterator and not read.throttled:
            self.ahead = self._read_pool.submit(self._pages.read, next_iterator)
        self._apply(records, finished=next_iterator is None)
        self.iterator = next_iterator
        self.done = next_iterator is None
        self.throttles = self.throttles + 1 if read.throttled else 0
        self.idle_polls = 0 if records or read.throttled else self.idle_polls + 1
        self.had_records = self.had_records or bool(records)
        self.delay = self._pace.delay(self.idle_polls, self.throttles, bool(records), read.backlog)

    def _next_read(self, iterator: str) -> Read:
        ahead, self.ahead = self.ahead, None
        return ahead.result() if ahead is not None else self._pages.read(iterator)

    def _reopen(self) -> None:
        """An expired iterator: open a new one after the checkpoint on the next step."""
        self.iterator, self.ahead, self.delay = None, None, 0.0

    def _apply(self, records: list[dict[str, Any]], finished: bool) -> None:
        target = self._target
        if not records and not finished:
            return
        changes = [change_of(record, target.renames, target.table) for record in records]
        batch = last_change_per_key(changes)
        target.write([c.request for c in batch])
        if records:
            self.after = records[-1]["dynamodb"]["SequenceNumber"]
        target.state.checkpoint_shard(self.shard, self.after, len(records), finished)
        target.behind(self.shard, None)  # caught up with what was read
        if records:
            target.applied(len(records), count_by_type(batch))
