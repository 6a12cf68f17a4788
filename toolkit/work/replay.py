"""Replay a stream onto the target until stopped, or until drained when asked.

Each shard whose parent is finished is followed turn by turn (a turn reads its
next records and writes them: toolkit.work.shard_turn); the coordinator here starts
children once their parents are done, records each turn's checkpoint once the turn
ended (so only after the target acknowledged every change up to it), and tells
when the stream is drained. The turns run on this process's threads, or in rounds
on an engine such as Spark (toolkit.work.replay_turns): the coordinator is the same.

The coordinator's work per tick follows what changed (steps that ended, shards
found, shards whose next poll is due), never the number of shards: the tree is
kept in memory (toolkit.logic.shard_tree), due polls in a heap, and the state is read
in full once, at the start.

A turn's records keep one change per key, so its writes may go out at once (no
key's changes can be reordered); the checkpoint waits for all of them.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Protocol

from toolkit.logic.poll_backoff import PollPace
from toolkit.logic.shard_tree import Shard, ShardTree, vanished
from toolkit.wire.retry import StopRequested
from toolkit.wire.stream_reader import lost
from toolkit.work.replay_discovery import Children, Discovery, Listing
from toolkit.work.replay_drained import DrainWatch
from toolkit.work.replay_follower import Follower, Reader
from toolkit.work.replay_lag import LagWatch
from toolkit.work.replay_turns import RoundsPlan, ThreadsPlan, Turns, Writer, turns_of
from toolkit.work.shard_turn import Pages, ShardTurn, Turned, TurnTools
from toolkit.work.state import RunState, ShardCheckpoint

__all__ = ["Reader", "ReplaySettings", "ReplayStats", "ReplayStatus", "Replayer", "RoundsPlan"]


# --stop-when-drained ends once every change made before it began is on the target: a
# shard counts once it came back empty or applied a change made this long after that
# moment (creation times are rounded down to the second; clocks differ a little).
PIN_MARGIN_SECONDS = 2.0
TICK_SECONDS = 0.02  # the coordinator's pace: the most a due poll waits to be scheduled
STATUS_SECONDS = 0.25  # the live status line is redrawn at most 4 times a second


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
    writes_at_once: int = 8  # batches of one write in flight together
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
    rounds: RoundsPlan | None = None  # turns in rounds on this engine; None: on threads here
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time  # records carry epoch seconds

    def __post_init__(self) -> None:
        self._wake = threading.Event()
        self._records = 0
        self._last_change: float | None = None
        self._tree = ShardTree()
        self._checkpoints: dict[str, str | None] = {}
        self._followers: dict[str, Follower] = {}
        self._due: list[tuple[float, int, str]] = []  # (when, order, shard) of idle followers
        self._order = 0
        self._running: set[str] = set()  # shards whose turn is in flight
        settings = self.settings
        self._drain = DrainWatch(settings.idle_polls_to_drain, settings.settle_seconds, self.clock)
        self._seen_at: dict[str, float] = {}  # when each shard was first known, this run
        self._lag = LagWatch(self.wall)
        self._ended_below = False
        self._look_from: float | None = None  # looked drained since: a listing after confirms
        self._looked = False
        self._turns: Turns | None = None
        self._discovery = Discovery(
            self.reader, self.settings.describe_interval, self._tree.__len__, self.clock, self.stop
        )

    def _plan(self) -> ThreadsPlan | RoundsPlan:
        settings = self.settings
        if self.rounds is not None:
            return self.rounds
        return ThreadsPlan(settings.max_shards_at_once, settings.writes_at_once)

    def _tools(self) -> TurnTools:
        """The turns' tools on this process's threads (a round's engine has its own)."""
        settings = self.settings
        pages = Pages(self.reader, settings.records_per_apply, self.stop.is_set)
        return TurnTools(pages, self.writer.write, settings.renames, settings.table, self._lag.read)

    def run(self) -> ReplaySummary:
        started = self.clock()
        if self.settings.stop_when_drained:
            self._drain.pin(self.wall() + PIN_MARGIN_SECONDS)
        drained = False
        lag_below = self.settings.stop_when_lag_below
        next_status = started
        with turns_of(self._plan(), self._tools(), self.writer, self._wake.set, self.stop) as turns:
            self._turns = turns
            try:
                self._load()
                self._discovery.start()
                while not self.stop.is_set():
                    self._wake.clear()
                    self._check_steps()
                    self._take_found()
                    self._schedule(turns)
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
        unfinished = [s.shard_id for s in recorded if not s.finished]
        self._drain.open(unfinished)
        self._lag.known(unfinished)
        for shard in recorded:
            if shard.finished and not self._tree.children(shard.shard_id):
                self._drain.finished(shard.shard_id, children_known=False)
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
        self._drain.listed = True
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
            self._drain.added(shard.shard_id, shard.parent_id)
        self._lag.known(s.shard_id for s in added.new)
        self._start(added.ready)

    def _start(self, shard_ids: list[str]) -> None:
        for shard_id in shard_ids:
            self._tree.start(shard_id)
            after = self._checkpoints.pop(shard_id, None)
            follower = Follower(shard_id, after, self.settings.pace)
            self._followers[shard_id] = follower
            self._due_at(self.clock(), shard_id)

    # --- the followers ------------------------------------------------------------

    def _due_at(self, when: float, shard_id: str) -> None:
        self._order += 1
        heapq.heappush(self._due, (when, self._order, shard_id))

    def _schedule(self, turns: Turns) -> None:
        """One turn in flight per shard, for the shards whose next poll is due."""
        now = self.clock()
        due: list[tuple[ShardTurn, bool]] = []
        while self._due and self._due[0][0] <= now and len(self._running) < turns.capacity:
            _, _, shard_id = heapq.heappop(self._due)  # the rest wait, in the order they came
            self._running.add(shard_id)
            follower = self._followers[shard_id]
            due.append((follower.turn(), follower.delay > 0))  # short or empty last time
        if due:
            turns.start(due)

    def _check_steps(self) -> None:
        if self._turns is None:
            return
        try:
            ended = self._turns.ended()
        except BaseException:
            self.stop.set()
            raise
        self._checkpoint(ended)
        for turned in ended:
            self._running.discard(turned.shard)
            self._record(turned)
            follower = self._followers[turned.shard]
            follower.took(turned)
            self._stepped(follower)

    def _checkpoint(self, ended: list[Turned]) -> None:
        """The step's checkpoints, in one transaction (their writes are acknowledged),
        and what it applied: one table, as the Migrator prints one per batch."""
        written = [t for t in ended if t.wrote]
        if not written:
            return
        self.state.checkpoint_shards(
            [ShardCheckpoint(t.shard, t.after, t.records, t.finished) for t in written]
        )
        applied = Counter[str]()
        for turned in written:
            applied.update(turned.counts)
        if applied:
            self.status.batch_applied(dict(sorted(applied.items())))

    def _record(self, turned: Turned) -> None:
        """A turn's counts and lag: its writes are all acknowledged, and checkpointed."""
        if turned.records:
            self._records += turned.records
            self._last_change = self.clock()
        self._drain.applied(turned.shard, turned.newest)
        assert self._turns is not None
        if not self._turns.live_lag:
            # What a task read is known only once it ended. Every change up to the
            # newest it applied is on the target, and any change still to apply came
            # after that one: now minus its creation bounds the lag from above until
            # the shard's next result.
            self._lag.held(turned.shard, turned.newest)

    def _stepped(self, follower: Follower) -> None:
        shard_id = follower.shard
        self._drain.polled(shard_id, follower.idle_polls, follower.had_records)
        if not follower.done:
            self._due_at(self.clock() + follower.delay, shard_id)
            return
        del self._followers[shard_id]
        self._lag.finished(shard_id)
        self._start(self._tree.finish(shard_id))
        known = bool(self._tree.children(shard_id))
        self._drain.finished(shard_id, known)
        if not known:
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
        return self._drain.drained(len(self._tree) - self._tree.finished_count)

    def _lag_below(self, seconds: float) -> bool:
        """The stream listed, every open shard read this run, and the lag below ``seconds``."""
        self._ended_below = self._drain.listed and self._lag.below(seconds)
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
