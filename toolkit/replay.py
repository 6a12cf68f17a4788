"""Replay a stream onto the target until stopped, or until drained when asked.

One worker follows each shard whose parent is finished; a coordinator re-reads
the shard tree, starts children once their parents are done, and tells when the
stream is drained. A shard's checkpoint moves only after the target
acknowledged every change up to it.

A page of records keeps one change per key, so its writes may go out at once:
the page is cut into parts written in parallel (no key is in two parts, so no
key's changes can be reordered), and the checkpoint waits for all of them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from toolkit.retry import StopRequested
from toolkit.shard_tree import Shard, ready_shards, vanished
from toolkit.state import RunState
from toolkit.stream_reader import RECORDS_PER_CALL, IteratorExpired, lost
from toolkit.stream_records import change_of, count_by_type, last_change_per_key


class Reader(Protocol):
    def shards(self) -> list[Shard]: ...
    def iterator(self, shard_id: str, after: str | None) -> str: ...
    def records(self, iterator: str) -> tuple[list[dict[str, Any]], str | None]: ...


class Writer(Protocol):
    def write(self, requests: Sequence[dict[str, Any]]) -> None: ...


class Read(NamedTuple):
    records: list[dict[str, Any]]
    next_iterator: str | None  # None: the shard is closed and read to its end
    backlog: bool  # the last page came full: more records are likely waiting


TICK_SECONDS = 0.02  # the coordinator's pace: the most a due poll waits to be scheduled


@dataclass(frozen=True)
class ReplayStats:
    records: int
    records_per_second: float
    shards_open: int
    shards_finished: int
    seconds_since_change: float | None


class ReplayStatus(Protocol):
    def batch_applied(self, counts: Mapping[str, int]) -> None: ...
    def tick(self, stats: ReplayStats) -> None: ...


def page_parts(
    requests: list[dict[str, Any]], parts_at_most: int, batch: int
) -> list[list[dict[str, Any]]]:
    """A page's writes cut into at most ``parts_at_most`` even parts of whole batches,
    so that no part sends a short batch before the last one."""
    size = -(-len(requests) // parts_at_most // batch) * batch or batch
    return [requests[i : i + size] for i in range(0, len(requests), size)] or [requests]


@dataclass(frozen=True)
class ReplaySettings:
    renames: Mapping[str, str] = field(default_factory=dict)
    table: str = ""  # the source table, named in errors
    stop_when_drained: bool = False
    idle_polls_to_drain: int = 3  # consecutive empty polls of every open shard
    poll_interval: float = 0.25  # pause after an empty GetRecords
    describe_interval: float = 10.0  # how often new shards are looked for
    max_shards_at_once: int = 8
    writes_at_once: int = 8  # parts of one page written in parallel
    batch_size: int = 25  # the target's BatchWriteItem size: parts are whole batches
    records_per_apply: int = 4000  # pages read before one write and checkpoint, in a backlog


@dataclass(frozen=True)
class ReplaySummary:
    records: int
    seconds: float
    drained: bool

    def line(self) -> str:
        state = "drained" if self.drained else "stopped"
        return f"Stream replay {state}: {self.records} records applied in {self.seconds:.1f} s"


class _Follower:
    """Follows one shard, a step at a time: read a page, write it, checkpoint it.

    Steps run on a bounded pool, so any number of open shards share a few threads.
    While a page is written, the next one is read ahead; it is kept in memory only,
    so a stop drops it and a restart reads it again after the checkpoint.
    """

    def __init__(self, replayer: Replayer, shard: str, after: str | None) -> None:
        self.replayer = replayer
        self.shard = shard
        self.after = after
        self.iterator: str | None = None
        self.ahead: Read | None = None  # the pages after self.iterator's, read ahead
        self.done = False
        self.idle_polls = 0
        self.next_poll = 0.0

    def step(self) -> None:
        r = self.replayer
        if self.iterator is None:
            self.iterator = r.reader.iterator(self.shard, self.after)
        if self.ahead is not None:
            read, self.ahead = self.ahead, None
        else:
            try:
                read = r.read(self.iterator)
            except IteratorExpired:
                self.iterator = None  # reopened after the checkpoint on the next step
                return
        records, next_iterator = read.records, read.next_iterator
        reading = r.read_ahead(next_iterator) if read.backlog and next_iterator else None
        self._apply(records, finished=next_iterator is None)
        self.iterator = next_iterator
        self.done = next_iterator is None
        if reading is not None:
            try:
                self.ahead = reading.result()
            except IteratorExpired:
                self.iterator = None
        if records:
            self.idle_polls = 0
        else:
            self.idle_polls += 1
            self.next_poll = r.clock() + r.settings.poll_interval

    def _apply(self, records: list[dict[str, Any]], finished: bool) -> None:
        r = self.replayer
        if not records and not finished:
            return
        changes = [change_of(record, r.settings.renames, r.settings.table) for record in records]
        batch = last_change_per_key(changes)
        r.write([c.request for c in batch])
        if records:
            self.after = records[-1]["dynamodb"]["SequenceNumber"]
        r.state.checkpoint_shard(self.shard, self.after, len(records), finished)
        if records:
            r.applied(len(records), count_by_type(batch))


@dataclass
class Replayer:
    reader: Reader
    writer: Writer
    state: RunState
    settings: ReplaySettings
    status: ReplayStatus
    stop: threading.Event
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._records = 0
        self._last_change: float | None = None
        self._followers: dict[str, _Follower] = {}
        self._futures: dict[str, Future[None]] = {}
        self._write_pool: ThreadPoolExecutor | None = None
        self._read_pool: ThreadPoolExecutor | None = None

    def write(self, requests: list[dict[str, Any]]) -> None:
        """Write one page's changes (one per key); return once all are acknowledged."""
        pool = self._write_pool
        parts = page_parts(requests, self.settings.writes_at_once, self.settings.batch_size)
        if pool is None or len(parts) == 1:
            self.writer.write(requests)
            return
        futures = [pool.submit(self.writer.write, part) for part in parts]
        wait(futures)  # a failure is raised only once no part is still in flight
        for future in futures:
            future.result()

    def read(self, iterator: str) -> Read:
        """A page, or while pages come full (a backlog), several: up to records_per_apply.

        One apply (write, then checkpoint) per several pages spends the wait for its
        slowest write once for many records; a short page ends the read at once.
        """
        records, next_iterator = self.reader.records(iterator)
        last_page = len(records)
        while (
            next_iterator is not None
            and last_page == RECORDS_PER_CALL
            and len(records) < self.settings.records_per_apply
            and not self.stop.is_set()
        ):
            more, next_iterator = self.reader.records(next_iterator)
            records = records + more
            last_page = len(more)
        return Read(records, next_iterator, backlog=last_page == RECORDS_PER_CALL)

    def read_ahead(self, iterator: str) -> Future[Read]:
        assert self._read_pool is not None
        return self._read_pool.submit(self.read, iterator)

    def applied(self, records: int, counts: Mapping[str, int]) -> None:
        with self._lock:
            self._records += records
            self._last_change = self.clock()
        self.status.batch_applied(counts)

    def run(self) -> ReplaySummary:
        started = self.clock()
        drained = False
        next_describe = started
        # The read and write pools are left last: the shard pool's steps use them.
        with (
            ThreadPoolExecutor(self.settings.max_shards_at_once, "read") as self._read_pool,
            ThreadPoolExecutor(self.settings.writes_at_once, "write") as self._write_pool,
            ThreadPoolExecutor(self.settings.max_shards_at_once, "shard") as pool,
        ):
            try:
                while not self.stop.is_set():
                    if self.clock() >= next_describe:
                        self._refresh_shards()
                        next_describe = self.clock() + self.settings.describe_interval
                    self._check_steps()
                    self._start_ready()
                    self._schedule(pool)
                    self.status.tick(self._stats(started))
                    if self.settings.stop_when_drained and self._drained_after_a_look():
                        drained = True
                        break
                    self.stop.wait(TICK_SECONDS)
            except StopRequested:
                pass  # asked to stop while retrying: that page is not checkpointed
            finally:
                self.stop.set()
        with suppress(StopRequested):
            self._check_steps()
        return ReplaySummary(self._records, self.clock() - started, drained)

    def _refresh_shards(self) -> None:
        described = self.reader.shards()
        self.state.record_shards([(s.shard_id, s.parent_id) for s in described], False)
        unfinished = [s.shard_id for s in self.state.shards() if not s.finished]
        gone = vanished(unfinished, {s.shard_id for s in described})
        if gone:
            raise lost(f"shard {gone[0]} left the stream before it was replayed")

    def _start_ready(self) -> None:
        shards = self.state.shards()
        finished = {s.shard_id for s in shards if s.finished}
        tree = [Shard(s.shard_id, s.parent_id) for s in shards]
        for shard_id in ready_shards(tree, finished, self._followers.keys()):
            after = next(s.sequence for s in shards if s.shard_id == shard_id)
            self._followers[shard_id] = _Follower(self, shard_id, after)

    def _schedule(self, pool: ThreadPoolExecutor) -> None:
        """One step in flight per shard, for the shards whose next poll is due."""
        now = self.clock()
        for shard_id, follower in self._followers.items():
            if follower.done or shard_id in self._futures or follower.next_poll > now:
                continue
            self._futures[shard_id] = pool.submit(follower.step)

    def _check_steps(self) -> None:
        for shard_id, future in list(self._futures.items()):
            if not future.done():
                continue
            del self._futures[shard_id]
            if future.exception() is not None:
                self.stop.set()
                future.result()

    def _drained_after_a_look(self) -> bool:
        """Drained, and still so after asking the stream for shards not seen yet."""
        if not self._drained():
            return False
        self._refresh_shards()
        self._start_ready()
        return self._drained()

    def _drained(self) -> bool:
        """Every leaf shard is open and came back empty several polls in a row.

        A finished shard whose children are not listed yet is not drained: its
        changes go on in a child that DescribeStream will show shortly.
        """
        shards = self.state.shards()
        parents = {s.parent_id for s in shards if s.parent_id}
        leaves_open = False
        for shard in shards:
            if shard.finished:
                if shard.shard_id not in parents:
                    return False
                continue
            follower = self._followers.get(shard.shard_id)
            if follower is None or follower.idle_polls < self.settings.idle_polls_to_drain:
                return False
            leaves_open = True
        return leaves_open

    def _stats(self, started: float) -> ReplayStats:
        shards = self.state.shards()
        finished = sum(s.finished for s in shards)
        elapsed = max(self.clock() - started, 1e-9)
        since = None if self._last_change is None else self.clock() - self._last_change
        return ReplayStats(
            self._records, self._records / elapsed, len(shards) - finished, finished, since
        )
