"""What runs the replay's shard turns: threads of this process, or an engine's rounds.

The coordinator (toolkit.work.replay) starts at most one turn per shard and takes
their results back; how they run is here. ``ThreadTurns`` runs each turn on a
thread as soon as it is due, reads a shard's next pages while its last ones are
written, and reports the records in hand as they are read. ``RoundTurns`` gathers
the turns due meanwhile into one round: the turns are cut into one group per task
slot and the engine runs the groups (on Spark: one task each), each as a stint
(toolkit.work.shard_stint: its shards followed for a few seconds), so a round
costs a few jobs however many shards are due, and a quiet stream a job per slot
every few seconds. Its tasks cannot report until they end, so the coordinator
bounds their lag from what they applied (toolkit.work.replay).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Protocol

from toolkit.engines.base import Engine, Work
from toolkit.logic.poll_backoff import PollPace
from toolkit.work.shard_stint import Stint, take_stint
from toolkit.work.shard_turn import Read, ShardTurn, Turned, TurnTools, take_turn, take_turns


class Turns(Protocol):
    capacity: int  # turns in flight at most
    live_lag: bool  # turns report the records they hold while they run

    def start(self, due: Sequence[tuple[ShardTurn, bool]]) -> None: ...  # (turn, idle poll)
    def ended(self) -> list[Turned]: ...  # the turns that ended since; raises a failure


class Writer(Protocol):
    def write(self, requests: Sequence[dict[str, Any]], at_once: int = 1) -> None: ...


@dataclass(frozen=True)
class ThreadsPlan:
    shards_at_once: int
    writes_at_once: int  # batches of one write in flight together, on its turn's thread


# Idle shards due together, polled by one thread with their GetRecords in flight
# together: one hand-off between threads and about one wait for the server for
# several short reads, not one each.
IDLE_POLLS_AT_ONCE = 8


def reads_in_flight(shards_at_once: int) -> int:
    """The most reads ``ThreadTurns`` has in flight at once, so the connections to keep
    (fewer are opened again and again): a group of idle polls on each shard thread,
    and a read ahead on each read thread."""
    return shards_at_once * (IDLE_POLLS_AT_ONCE + 1)


def writes_in_flight(shards_at_once: int, writes_at_once: int) -> int:
    """The most writes ``ThreadTurns`` has in flight at once: each turn's batches."""
    return shards_at_once * writes_at_once


class ThreadTurns:
    """Turns on this process's threads, sharing one reader, one writer and its budgets."""

    live_lag = True

    def __init__(
        self, tools: TurnTools, writer: Writer, plan: ThreadsPlan, wake: Callable[[], None]
    ):
        self.capacity = plan.shards_at_once * IDLE_POLLS_AT_ONCE
        self._writer, self._plan, self._wake = writer, plan, wake
        self._tools = replace(tools, write=self._write, ahead=self._read_ahead)
        # Each task's future once it ended: a tick takes what ended, not all that runs.
        self._ended: deque[Future[list[Turned]]] = deque()
        self._ahead: dict[str, tuple[str, Future[Read]]] = {}  # shard -> (iterator, its read)
        self._tasks = 0  # submitted and not yet taken back (the coordinator's thread only)
        self._lock = threading.Lock()
        width = plan.shards_at_once
        # Two pools, so that a turn waiting on a read ahead never holds a thread it needs.
        # A turn's writes go in flight together on its own thread: no hand-off.
        self._turn_pool = ThreadPoolExecutor(width, "shard")
        self._read_pool = ThreadPoolExecutor(width, "read")

    def start(self, due: Sequence[tuple[ShardTurn, bool]]) -> None:
        """A shard with a backlog has a thread of its own. Shards due together that
        open an iterator, and idle polls (a short or empty read last time, no read
        ahead), go in groups, a thread each: their requests in flight together, their
        first pages written as one. Idle polls do not wake the coordinator: its next
        tick collects them."""
        idle: list[ShardTurn] = []
        fresh: list[ShardTurn] = []
        for turn, quiet in due:
            with self._lock:
                ahead = self._ahead.pop(turn.shard, None)
            if ahead is not None and ahead[0] == turn.iterator:
                self._submit(partial(self._take, turn, _result_of(ahead[1])))
            elif turn.iterator is None:
                fresh.append(turn)
            elif quiet:
                idle.append(turn)
            else:
                self._submit(partial(self._take, turn, None))
        # Groups as large as the threads left free need, so that few new shards each
        # get a thread of their own, and many share one.
        free = max(1, self._plan.shards_at_once - self._tasks)
        size = max(1, min(IDLE_POLLS_AT_ONCE, -(-len(fresh) // free)))
        for at in range(0, len(fresh), size):
            self._submit(partial(self._opens, fresh[at : at + size]))
        for at in range(0, len(idle), IDLE_POLLS_AT_ONCE):
            self._submit(partial(self._polls, idle[at : at + IDLE_POLLS_AT_ONCE]), wake=False)

    def ended(self) -> list[Turned]:
        done = [self._ended.popleft() for _ in range(len(self._ended))]
        self._tasks -= len(done)
        for future in done:
            future.result()  # a failed turn: raised before any other is taken
        return [turned for future in done for turned in future.result()]

    def _submit(self, take: Callable[[], list[Turned]], wake: bool = True) -> None:
        self._tasks += 1
        future = self._turn_pool.submit(take)
        future.add_done_callback(self._ended.append if not wake else self._ended_and_wake)

    def _ended_and_wake(self, future: Future[list[Turned]]) -> None:
        self._ended.append(future)
        self._wake()

    def _take(self, turn: ShardTurn, read: Callable[[str], Read] | None) -> list[Turned]:
        return [take_turn(self._tools, turn, read)]

    def _opens(self, turns: list[ShardTurn]) -> list[Turned]:
        """Shards' new iterators, in flight together, then their polls together."""
        reader = self._tools.pages.reader
        opened: list[ShardTurn] = []
        for turn, iterator in zip(
            turns, reader.iterators_all([(t.shard, t.after) for t in turns]), strict=True
        ):
            if isinstance(iterator, Exception):
                raise iterator  # retried already: the run's end, as one turn's would be
            opened.append(replace(turn, iterator=iterator))
        return self._polls(opened)

    def _polls(self, turns: list[ShardTurn]) -> list[Turned]:
        """Shards' first pages, in flight together, written as one write: a full page
        says "backlog", and the shard's next turn, on a thread of its own, reads on."""
        reads = self._tools.pages.read_all([turn.iterator or "" for turn in turns], follow=False)
        return take_turns(self._tools, [(t, _given(r)) for t, r in zip(turns, reads, strict=True)])

    def close(self) -> None:
        """The pools are left last to first: a turn's reads ahead end before it."""
        self._turn_pool.shutdown()
        self._read_pool.shutdown()

    def _read_ahead(self, shard: str, iterator: str) -> None:
        future = self._read_pool.submit(self._tools.pages.read, iterator)
        with self._lock:
            self._ahead[shard] = (iterator, future)

    def _write(self, requests: Sequence[dict[str, Any]]) -> None:
        """One write's batches, in flight together on this thread; back once all are
        acknowledged."""
        self._writer.write(requests, self._plan.writes_at_once)


def _result_of(future: Future[Read]) -> Callable[[str], Read]:
    return lambda _iterator: future.result()


def _given(read: Read | Exception) -> Callable[[str], Read]:
    def given(_iterator: str) -> Read:
        if isinstance(read, Exception):
            raise read
        return read

    return given


@dataclass(frozen=True)
class RoundsPlan:
    engine: Engine
    work: Work[Stint, list[Turned]]
    slots: int  # groups per round: one task each
    turns_per_task: int  # the most shards one task follows in a round
    pace: PollPace  # how a task paces its shards' turns
    stint_seconds: float = 2.0  # how long a task follows its shards, at most


class RoundTurns:
    """Turns in rounds: the engine runs each round's groups, one round at a time."""

    live_lag = False

    def __init__(self, plan: RoundsPlan, wake: Callable[[], None], stop: threading.Event):
        self.capacity = plan.slots * plan.turns_per_task
        self._plan, self._wake, self._stop = plan, wake, stop
        self._due: list[ShardTurn] = []
        self._done: list[Turned] = []
        self._failure: BaseException | None = None
        self._closing = False
        self._lock = threading.Condition()
        self._thread = threading.Thread(target=self._rounds, name="rounds", daemon=True)
        self._thread.start()

    def start(self, due: Sequence[tuple[ShardTurn, bool]]) -> None:
        with self._lock:
            self._due.extend(turn for turn, _ in due)
            self._lock.notify()

    def ended(self) -> list[Turned]:
        with self._lock:
            if self._failure is not None:
                raise self._failure
            done, self._done = self._done, []
        return done

    def close(self) -> None:
        with self._lock:
            self._closing = True
            self._lock.notify()
        self._thread.join()

    def _rounds(self) -> None:
        try:
            plan = self._plan
            while (turns := self._next_round()) is not None:
                stints = [
                    Stint(g, plan.stint_seconds, plan.pace) for g in _groups(turns, plan.slots)
                ]
                plan.engine.run(plan.work, stints, len(stints), self._took, self._stop)
        except BaseException as error:  # handed to the coordinator, which stops the run
            with self._lock:
                self._failure = error
        finally:
            self._wake()

    def _next_round(self) -> list[ShardTurn] | None:
        """The turns due since the last round began (None: the replay is ending)."""
        with self._lock:
            while not self._due and not self._closing and not self._stop.is_set():
                self._lock.wait(0.5)
            if self._closing or self._stop.is_set():
                return None
            turns, self._due = self._due, []
        return turns

    def _took(self, _stint: Stint, turned: list[Turned]) -> None:
        with self._lock:
            self._done.extend(turned)
        self._wake()


def _groups(turns: list[ShardTurn], slots: int) -> list[list[ShardTurn]]:
    """At most ``slots`` groups of nearly even size."""
    count = max(1, min(slots, len(turns)))
    return [turns[i::count] for i in range(count)]


@dataclass(frozen=True)
class InProcessTurns:
    """A round's work where the tools are this process's own (the embedded engine)."""

    tools: TurnTools
    width: int = 4  # a stint's turns at once

    @contextmanager
    def open(self, share: float) -> Iterator[Callable[[Stint], list[Turned]]]:
        yield lambda stint: take_stint(self.tools, stint, self.width)


@contextmanager
def turns_of(
    plan: ThreadsPlan | RoundsPlan,
    tools: TurnTools,
    writer: Writer,
    wake: Callable[[], None],
    stop: threading.Event,
) -> Iterator[ThreadTurns | RoundTurns]:
    """The runner of ``plan``, closed (its turns ended or dropped) on the way out."""
    turns = (
        ThreadTurns(tools, writer, plan, wake)
        if isinstance(plan, ThreadsPlan)
        else RoundTurns(plan, wake, stop)
    )
    try:
        yield turns
    finally:
        turns.close()
