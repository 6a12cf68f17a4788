"""Bulk mode (``--load N``): keys 0..N-1 as fast as the server takes them.

Workers take chunks of consecutive keys, build their items and write them through
``BatchWriter`` (BatchWriteItem, retried until every item is acknowledged); only
then are the chunk's items counted and logged. Item ``i``'s body depends on the
seed and ``i`` only, so the same seed loads the same table.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from mutator.bodies import BodyGenerator
from mutator.keys import KeySpace
from mutator.mix import PUT
from mutator.oplog import Entry, Log
from mutator.report import WindowReporter
from mutator.stats import Counters, Tally, load_line, rate

WriteRequests = Callable[[list[dict[str, Any]]], None]


@dataclass(frozen=True)
class LoadSettings:
    table: str
    items: int
    seed: int
    workers: int = 8
    window: float = 10.0
    chunk: int = 250  # keys a worker builds and writes at a time (BatchWriter splits them)


@dataclass(frozen=True)
class LoadResult:
    items: int
    seconds: float
    tally: Tally
    complete: bool


def load_item_rng(seed: int, index: int) -> random.Random:
    return random.Random((seed << 32) | index)  # indexes stay below 2**31


class Loader:
    def __init__(
        self,
        settings: LoadSettings,
        write: WriteRequests,
        space: KeySpace,
        bodies: BodyGenerator,
        oplog: Log | None,
        say: Callable[[str], None],
        stop: threading.Event,
        counters: Counters,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._write = write
        self._space = space
        self._bodies = bodies
        self._oplog = oplog
        self._say = say
        self._stop = stop
        self._counters = counters
        self._clock = clock
        self._lock = threading.Lock()
        self._chunks = self._chunk_starts()

    def run(self) -> LoadResult:
        s = self.settings
        start = self._clock()
        failure: BaseException | None = None
        with (
            WindowReporter(self._counters, s.window, _window, self._say, self._clock, start),
            ThreadPoolExecutor(s.workers, thread_name_prefix="load") as pool,
        ):
            futures = [pool.submit(self._work) for _ in range(s.workers)]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failure = next((f.exception() for f in done if f.exception()), None)
            if failure is not None:
                self._stop.set()
        tally = self._counters.snapshot()
        result = LoadResult(tally.puts, self._clock() - start, tally, tally.puts == s.items)
        state = "failed" if failure else "done" if result.complete else "stopped"
        self._say(load_line(state, result.items, s.items, result.seconds, tally))
        if failure is not None:
            raise failure
        return result

    def _chunk_starts(self) -> Iterator[int]:
        return iter(range(0, self.settings.items, self.settings.chunk))

    def _next_chunk(self) -> range | None:
        with self._lock:
            start = next(self._chunks, None)
        if start is None or self._stop.is_set():
            return None
        return range(start, min(start + self.settings.chunk, self.settings.items))

    def _work(self) -> None:
        while (indexes := self._next_chunk()) is not None:
            entries = [self._entry(i) for i in indexes]
            self._write([{"PutRequest": {"Item": e.item}} for e in entries])
            self._counters.acknowledged(PUT, len(entries))
            if self._oplog is not None:
                self._oplog.write(entries)

    def _entry(self, index: int) -> Entry:
        key = self._space.key(index)
        item = self._bodies.item(key, load_item_rng(self.settings.seed, index))
        return Entry(index, PUT, index, key, item)


def _window(ended_at: float, seconds: float, tally: Tally, partial: bool) -> str:
    mark = f", last {seconds:.1f} s" if partial else ""
    return (
        f"[{ended_at:6.0f} s] {tally.puts} items, {rate(tally.puts, seconds):.0f} items/s, "
        f"{tally.errors} errors{mark}"
    )
