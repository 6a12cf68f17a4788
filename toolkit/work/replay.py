"""Replay a stream onto the target until stopped, or until drained when asked.

One follower reads each shard whose parent is finished; a coordinator starts
children once their parents are done, and tells when the stream is drained. A
shard's checkpoint moves only after the target acknowledged every change up to it.

The coordinator's work per tick follows what changed (steps that ended, shards
found, shards whose next poll is due), never the number of shards: the tree is
kept in memory (toolkit.logic.shard_tree), due polls in a heap, and the state is read
in full once, at the start.

A page of records keeps one change per key, so its writes may go out at once:
the page is cut into parts written in parallel (no key is in two parts, so no
key's changes can be reordered), and the checkpoint waits for all of them.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Protocol

from toolkit.logic.poll_backoff import PollPace, read_to_its_end
from toolkit.logic.shard_tree import Shard, ShardTree, vanished
from toolkit.wire.retry import StopRequested
from toolkit.wire.stream_reader import lost
from toolkit.work.replay_discovery import Children, Discovery, Listing
from toolkit.work.replay_follower import Follower, Pages, Reader
from toolkit.work.replay_lag import LagWatch
from toolkit.work.state import RunState

__all__ = ["Reader", "ReplaySettings", "ReplayStats", "ReplayStatus", "Replayer"]


class Writer(Protocol):
    def write(self, requests: Sequence[dict[str, Any]]) -> None: ...


TICK_SECONDS = 0.02  # the coordinator's pace: the most a due poll waits to be scheduled
STATUS_SECONDS = 0.25  # the live status line is redrawn at most 4 times a second
IDLE_POLLS_AT_ONCE = 8  # idle shards due together, polled one after another by one step


def idle_poll(follower: Follower) -> bool:
    """Its last read was short or empty: the next is likely one short GetRecords."""
    return follower.delay > 0 and follower.iterator is not None and follower.ahead is None


def step_all(followers: list[Follower]) -> None:
    for follower in followers:
        follower.step()


@dataclass(frozen=True)
class ReplayStats:
    records: int
    records_per_second: float
    shards_open: int
    shards_finished: int
    seconds_since_change: float | None
    lag_seconds: float = 0.0  # now minus the creation of the oldest change read, not applied
    behind: Mapping[str, float] = field(default_factory=dict)  # that lag, of each such shard
    quiet: bool = False  # every shard read to its end and found empty: drained for now


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
    stop_when_lag_below: float | None = None  # seconds: end once the lag is below this
    settle_seconds: float = 0.0  # quiet this long before drained (records shown late)
    idle_polls_to_drain: int = 3  # empty polls in a row of a shard that showed no records yet
    pace: PollPace = field(default_factory=PollPace)
    describe_interval: float = 10.0  # how often the whole stream is listed
    max_shards_at_once: int = 8
    writes_at_once: int = 8  # parts of one page written in parallel
    batch_size: int = 25  # the target's BatchWriteItem size: parts are whole batches
    records_per_apply: int = 4000  # pages read before one write and checkpoint, in a backlog


@dataclass(frozen=True)
class ReplaySummary:
    records: int
    seconds: float
    drained: bool
    lag_below: float | None = None  # ended once the lag was below this many seconds

    def line(self) -> str:
        state = "drained" if self.drained else "stopped"
        if self.lag_below is not None:
            state = f"stopped at a lag below {self.lag_below:g} s"
        return f"Stream replay {state}: {self.records} records applied in {self.seconds:.1f} s"


@dataclass
class Replayer:
    reader: Reader
    writer: Writer
    state: RunState
    settings: ReplaySettings
    status: ReplayStatus
    stop: threading.Event
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time  # records carry epoch seconds

    def __post_init__(self) -> None:
        self.renames = self.settings.renames
        self.table = self.settings.table  # the source table, named in errors
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._records = 0
        self._last_change: float | None = None
        self._tree = ShardTree()
        self._checkpoints: dict[str, str | None] = {}
        self._followers: dict[str, Follower] = {}
        self._due: list[tuple[float, int, str]] = []  # (when, order, shard) of idle followers
        self._order = 0
        self._futures: dict[str, Future[None]] = {}
        self._tasks: set[Future[None]] = set()  # the steps in flight (one may poll several)
        self._unquiet: set[str] = set()  # unfinished shards not yet seen empty often enough
        self._childless: set[str] = set()  # finished shards whose children are not known yet
        self._seen_at: dict[str, float] = {}  # when each shard was first known, this run
        self._listed_since_start = False
        self._lag = LagWatch(self.wall)
        self._quiet_since: float | None = None  # when every shard last became quiet
        self._ended_below = False
        self._look_from: float | None = None  # looked drained since: a listing after confirms
        self._looked = False
        self._write_pool: ThreadPoolExecutor | None = None
        self._read_pool: ThreadPoolExecutor | None = None
        self._discovery = Discovery(
            self.reader, self.settings.describe_interval, self._tree.__len__, self.clock, self.stop
        )

    def write(self, requests: Sequence[dict[str, Any]]) -> None:
        """Write one page's changes (one per key); return once all are acknowledged."""
        pool = self._write_pool
        parts = page_parts(list(requests), self.settings.writes_at_once, self.settings.batch_size)
        if pool is None or len(parts) == 1:
            self.writer.write(requests)
            return
        futures = [pool.submit(self.writer.write, part) for part in parts]
        wait(futures)  # a failure is raised only once no part is still in flight
        for future in futures:
            future.result()

    def applied(self, records: int, counts: Mapping[str, int]) -> None:
        with self._lock:
            self._records += records
            self._last_change = self.clock()
        self.status.batch_applied(counts)

    def behind(self, shard: str, created: float | None) -> None:
        """A shard read records from ``created`` on, not applied yet (None: none left)."""
        self._lag.read(shard, created)

    def run(self) -> ReplaySummary:
        started = self.clock()
        drained = False
        lag_below = self.settings.stop_when_lag_below
        next_status = started
        width = self.settings.max_shards_at_once
        # The read and write pools are left last: the shard pool's steps use them.
        with (
            ThreadPoolExecutor(width, "read") as self._read_pool,
            ThreadPoolExecutor(self.settings.writes_at_once, "write") as self._write_pool,
            ThreadPoolExecutor(width, "shard") as pool,
        ):
            try:
                self._load()
                self._discovery.start()
                while not self.stop.is_set():
                    self._wake.clear()
                    self._check_steps()
                    self._take_found()
                    self._schedule(pool)
                    if self.clock() >= next_status:  # the loop wakes per step: not per line
                        self.status.tick(self._stats(started))
                        next_status = self.clock() + STATUS_SECONDS
                    if self.settings.stop_when_drained and self._drained_after_a_look():
                        drained = True
                        break
                    if lag_below is not None and self._lag_below(lag_below):
                        break
                    self._wake.wait(TICK_SECONDS)
            except StopRequested:
                pass  # asked to stop while retrying: that page is not checkpointed
            finally:
                self.stop.set()
                self._discovery.join()
        with suppress(StopRequested):
            self._check_steps()
        below = lag_below if lag_below is not None and not drained and self._ended_below else None
        return ReplaySummary(self._records, self.clock() - started, drained, below)

    # --- the tree -----------------------------------------------------------------

    def _load(self) -> None:
        """The state's shards, read once: the tree is kept in memory from here on."""
        recorded = self.state.shards()
        self._checkpoints = {s.shard_id: s.sequence for s in recorded}
        ready = self._tree.load((Shard(s.shard_id, s.parent_id), s.finished) for s in recorded)
        self._seen_at = dict.fromkeys(self._checkpoints, float("-inf"))
        self._unquiet = {s.shard_id for s in recorded if not s.finished}
        self._lag.known(self._unquiet)
        for shard in recorded:
            if shard.finished and not self._tree.children(shard.shard_id):
                self._childless.add(shard.shard_id)
                self._discovery.want_children(shard.shard_id)
        self._start(ready)

    def _take_found(self) -> None:
        for found in self._discovery.found():
            if isinstance(found, BaseException):
                raise found
            if isinstance(found, Listing):
                self._listed(found)
            else:
                self._found_children(found)

    def _listed(self, listing: Listing) -> None:
        self._add(listing.shards)
        # A shard found after the listing began may be past its last page: not gone.
        before = [s for s in self._tree.unfinished() if self._seen_at[s] < listing.started]
        gone = vanished(before, {s.shard_id for s in listing.shards})
        if gone:
            raise lost(f"shard {gone[0]} left the stream before it was replayed")
        self._listed_since_start = True
        if self._look_from is not None and listing.started >= self._look_from:
            self._looked = True

    def _found_children(self, found: Children) -> None:
        self._add(found.shards)

    def _add(self, shards: list[Shard]) -> None:
        added = self._tree.add(shards)
        if added.orphans:
            shard = next(s for s in added.new if s.shard_id == added.orphans[0])
            raise lost(
                f"shard {shard.parent_id}, parent of {shard.shard_id}, left the stream "
                "before it was replayed"
            )
        if not added.new:
            return
        self.state.record_shards([(s.shard_id, s.parent_id) for s in added.new], False)
        now = self.clock()
        for shard in added.new:
            self._seen_at[shard.shard_id] = now
            self._unquiet.add(shard.shard_id)
            if shard.parent_id is not None:
                self._childless.discard(shard.parent_id)
        self._lag.known(s.shard_id for s in added.new)
        self._start(added.ready)

    def _start(self, shard_ids: list[str]) -> None:
        pages = Pages(self.reader, self.settings.records_per_apply, self.stop.is_set)
        assert self._read_pool is not None
        for shard_id in shard_ids:
            self._tree.start(shard_id)
            after = self._checkpoints.pop(shard_id, None)
            follower = Follower(shard_id, after, pages, self._read_pool, self, self.settings.pace)
            self._followers[shard_id] = follower
            self._due_at(self.clock(), shard_id)

    # --- the followers ------------------------------------------------------------

    def _due_at(self, when: float, shard_id: str) -> None:
        self._order += 1
        heapq.heappush(self._due, (when, self._order, shard_id))

    def _schedule(self, pool: ThreadPoolExecutor) -> None:
        """One step in flight per shard, for the shards whose next poll is due; idle
        shards due together are polled back to back on one thread (one hand-off)."""
        now = self.clock()
        while self._due and self._due[0][0] <= now:
            if len(self._tasks) >= self.settings.max_shards_at_once:
                return  # the rest wait for a free thread, in the order they came due
            group = [self._followers[heapq.heappop(self._due)[2]]]
            idle = idle_poll(group[0])  # asked before the step runs and changes it
            while idle and len(group) < IDLE_POLLS_AT_ONCE and self._due:
                if self._due[0][0] > now or not idle_poll(self._followers[self._due[0][2]]):
                    break
                group.append(self._followers[heapq.heappop(self._due)[2]])
            future = pool.submit(step_all, group)
            if not idle:  # idle polls are collected by the next tick
                future.add_done_callback(lambda _: self._wake.set())
            self._tasks.add(future)
            self._futures.update((f.shard, future) for f in group)

    def _check_steps(self) -> None:
        for shard_id, future in list(self._futures.items()):
            if not future.done():
                continue
            del self._futures[shard_id]
            self._tasks.discard(future)
            if future.exception() is not None:
                self.stop.set()
                future.result()
            self._stepped(self._followers[shard_id])

    def _stepped(self, follower: Follower) -> None:
        shard_id = follower.shard
        polls_to_drain = self.settings.idle_polls_to_drain
        if read_to_its_end(follower.idle_polls, follower.had_records, polls_to_drain):
            self._unquiet.discard(shard_id)
        else:
            self._unquiet.add(shard_id)
        self._mark_quiet()
        if not follower.done:
            self._due_at(self.clock() + follower.delay, shard_id)
            return
        del self._followers[shard_id]
        self._unquiet.discard(shard_id)
        self._lag.finished(shard_id)
        self._mark_quiet()
        self._start(self._tree.finish(shard_id))
        if not self._tree.children(shard_id):
            self._childless.add(shard_id)
            self._discovery.want_children(shard_id)

    # --- drained ------------------------------------------------------------------

    def _drained_after_a_look(self) -> bool:
        """Drained, and, where children cannot be looked up, still so after a listing
        begun once the stream looked drained (shards may appear unseen)."""
        if not self._drained():
            self._look_from, self._looked = None, False
            return False
        if self._discovery.filters:
            return True
        if self._look_from is None:
            self._look_from = self.clock()
            self._discovery.want_listing()
        return self._looked

    def _drained(self) -> bool:
        """Every unfinished shard came back empty several polls in a row, and every
        finished one's children are known: a finished shard's changes go on in them.

        A source that shows records late (Alternator: ~10 s after the write) must
        also have been quiet for ``settle_seconds``.
        """
        unfinished = len(self._tree) - self._tree.finished_count
        quiet = self._quiet_since is not None
        settled = (
            quiet and self.clock() - (self._quiet_since or 0.0) >= self.settings.settle_seconds
        )
        return (
            self._listed_since_start
            and not self._unquiet
            and not self._childless
            and unfinished > 0
            and settled
        )

    def _mark_quiet(self) -> None:
        if self._unquiet:
            self._quiet_since = None
        elif self._quiet_since is None:
            self._quiet_since = self.clock()

    def _lag_below(self, seconds: float) -> bool:
        """The stream listed, every open shard read this run, and the lag below ``seconds``."""
        self._ended_below = self._listed_since_start and self._lag.below(seconds)
        return self._ended_below

    def _stats(self, started: float) -> ReplayStats:
        finished = self._tree.finished_count
        elapsed = max(self.clock() - started, 1e-9)
        since = None if self._last_change is None else self.clock() - self._last_change
        lag, behind = self._lag.lag()
        return ReplayStats(
            *(self._records, self._records / elapsed, len(self._tree) - finished, finished),
            *(since, lag, behind, self._drained()),
        )
