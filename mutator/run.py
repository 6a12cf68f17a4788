"""The mutation run: operations at the asked rate, sent by key-sharded workers.

The rate is the run's total over its tables: each operation goes to a table drawn
uniformly, each table with its own key space and counts (``SpreadMix``).

One dispatcher (the calling thread) waits for each operation's turn and hands it to
the worker that owns its key (its table's place plus its index, modulo workers), so
operations on one key are sent, acknowledged and logged in order, while a slow
answer on one key does not hold up the others. An operation is counted and logged
only once acknowledged; a failure that retries cannot fix stops the run and is
raised after the summary.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import orjson

from mutator.bodies import BodyGenerator
from mutator.keys import TableKeys
from mutator.mix import PUT, Operation, SpreadMix
from mutator.oplog import Entry, Log, OpLog, TableLog
from mutator.plane import call_counted
from mutator.rate import RateController, RateRange
from mutator.report import WindowReporter
from mutator.stats import TableCounters, Tally, mutate_summary, table_line, window_line
from toolkit.driver.metrics import Metrics
from toolkit.errors import TerminalError, ToolkitError
from toolkit.logic.key_routing import routing_key
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.writer import Plane

QUEUE_PER_WORKER = 2  # a small backlog: the run stops on time, lag shows at once


@dataclass(frozen=True)
class MutateSettings:
    rates: RateRange
    put_fraction: float
    seed: int
    duration: float | None = None  # seconds; None: until stopped
    operations: int | None = None  # None: until stopped
    workers: int = 8
    window: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(frozen=True)
class MutateResult:
    tally: Tally
    seconds: float
    live: int
    keys: int
    restarts: int  # times the run fell behind the schedule and restarted it


class Mutation:
    def __init__(
        self,
        settings: MutateSettings,
        plane: Plane,
        tables: Sequence[TableKeys],
        bodies: BodyGenerator,
        oplog: OpLog | None,
        say: Callable[[str], None],
        stop: threading.Event,
        clock: Callable[[], float] = time.monotonic,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self._plane = plane
        self._tables = list(tables)
        self._bodies = bodies
        # One table's lines stay as they were; several tables' lines name their table.
        self._logs: list[Log | None] = [
            TableLog(oplog, t.name) if oplog and len(tables) > 1 else oplog for t in tables
        ]
        self._say = say
        self._stop = stop  # set by the user (Ctrl-C, SIGTERM) or by a failure
        self._clock = clock
        self._counters = TableCounters(len(tables), metrics)
        self._failures: list[BaseException] = []

    def run(self) -> MutateResult:
        s = self.settings
        mix = SpreadMix(
            [table.live for table in self._tables],
            s.put_fraction,
            random.Random(f"{s.seed}:operations"),
            random.Random(f"{s.seed}:tables"),
        )
        rng = random.Random(f"{s.seed}:rate")
        controller = RateController(s.rates, rng, self._clock, self._stop.wait)
        queues: list[queue.Queue[Operation | None]] = [
            queue.Queue(QUEUE_PER_WORKER) for _ in range(s.workers)
        ]
        workers = [
            threading.Thread(target=self._work, args=(q,), name=f"mutate-{n}", daemon=True)
            for n, q in enumerate(queues)
        ]
        with WindowReporter(
            self._counters, s.window, window_line, self._say, self._clock, controller.start
        ):
            for worker in workers:
                worker.start()
            try:
                self._dispatch(controller, mix, queues)
            finally:
                for q in queues:
                    q.put(None)
                for worker in workers:
                    worker.join()
        return self._finish(controller)

    def _dispatch(
        self,
        controller: RateController,
        mix: SpreadMix,
        queues: list[queue.Queue[Operation | None]],
    ) -> None:
        s = self.settings
        deadline = None if s.duration is None else controller.start + s.duration
        issued = 0
        while not self._stop.is_set() and (s.operations is None or issued < s.operations):
            if not controller.next_turn(deadline):
                return
            operation = mix.next()
            # One key's operations stay in one queue, so they reach the server in order.
            queues[(operation.index + operation.table) % len(queues)].put(operation)
            issued += 1

    def _work(self, inbox: queue.Queue[Operation | None]) -> None:
        while (operation := inbox.get()) is not None:
            if self._failures:
                continue  # the run is failing: send nothing more
            try:
                self._apply(operation)
            except BaseException as error:
                self._failures.append(self._explained(operation, error))
                self._stop.set()

    def _apply(self, operation: Operation) -> None:
        keys, counters = self._tables[operation.table], self._counters.tables[operation.table]
        key, table, policy = keys.space.key(operation.index), keys.name, self.settings.retry
        # Each write names its key: on a cluster, all of one item's writes reach one node.
        node_key = routing_key(key, sorted(key)) if self._plane.spreads_writes else None
        if operation.kind == PUT:
            item = self._bodies.item(key, random.Random(operation.body_seed))
            request = {"TableName": table, "Item": item}
            call_counted(self._plane, "PutItem", request, policy, counters, node_key)
        else:
            item = None
            request = {"TableName": table, "Key": key}
            call_counted(self._plane, "DeleteItem", request, policy, counters, node_key)
        counters.acknowledged(operation.kind)
        if (log := self._logs[operation.table]) is not None:
            log.write([Entry(operation.seq, operation.kind, operation.index, key, item)])

    def _explained(self, operation: Operation, error: BaseException) -> BaseException:
        if not isinstance(error, ToolkitError):
            return error
        table = self._tables[operation.table]
        key = orjson.dumps(table.space.key(operation.index)).decode()
        retried = f" after retrying for {self.settings.retry.give_up_after:g} s"
        return TerminalError(
            f"{operation.kind} of key {key} in table {table.name} failed"
            f"{retried if error.transient else ''}, so the run stopped: {error}"
        )

    def _finish(self, controller: RateController) -> MutateResult:
        result = MutateResult(
            self._counters.snapshot(),
            self._clock() - controller.start,
            sum(len(t.live) for t in self._tables),
            sum(t.live.size for t in self._tables),
            controller.restarts,
        )
        if len(self._tables) > 1:
            for t, counters in zip(self._tables, self._counters.tables, strict=True):
                self._say(table_line(t.name, counters.snapshot(), len(t.live), t.live.size))
        failed = bool(self._failures)
        state = "failed" if failed else "stopped" if self._stop.is_set() else "done"
        self._say(
            mutate_summary(
                state,
                result.tally,
                result.seconds,
                result.live,
                result.keys,
                result.restarts,
                len(self._tables),
            )
        )
        if failed:
            raise self._failures[0]
        return result
