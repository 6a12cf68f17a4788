"""Finding the stream's shards while the replay runs, on a thread of its own.

DescribeStream is slow next to the reads (100 shards a page, at most 10 calls a
second), so it never runs on the coordinator or on a read thread. A finished
shard's children are looked up at once with ShardFilter where the server has
it (asked once, after the first listing); many lookups at once, or a server
without it, take a full listing instead, whichever needs fewer calls. Full
listings also come every ``interval`` seconds: they show shards that left the
stream unread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from toolkit.logic.shard_tree import Shard
from toolkit.wire.retry import StopRequested
from toolkit.work.replay_follower import Reader

SHARDS_PER_PAGE = 100
RETRY_EMPTY_LOOKUP = 0.5  # a closed shard whose children are not listed yet


@dataclass(frozen=True)
class Listing:
    shards: list[Shard]
    started: float  # when its first page was asked for


@dataclass(frozen=True)
class Children:
    parent: str
    shards: list[Shard]


Found = Listing | Children | BaseException


class Discovery:
    def __init__(
        self,
        reader: Reader,
        interval: float,
        known: Callable[[], int],
        clock: Callable[[], float],
        stop: threading.Event,
    ) -> None:
        self._reader, self._interval, self._known, self._clock = reader, interval, known, clock
        self._stop = stop
        self._found: queue.SimpleQueue[Found] = queue.SimpleQueue()
        self._lock = threading.Condition()
        self._lookups: dict[str, float] = {}  # parent -> when to look it up
        self._listing_due = clock()
        self.filters: bool | None = None  # ShardFilter works: unknown until first tried
        self._thread = threading.Thread(target=self._run, name="describe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self) -> None:
        with self._lock:
            self._lock.notify_all()
        self._thread.join(timeout=30)

    def want_children(self, parent: str, delay: float = 0.0) -> None:
        with self._lock:
            self._lookups[parent] = self._clock() + delay
            self._lock.notify_all()

    def want_listing(self) -> None:
        with self._lock:
            self._listing_due = min(self._listing_due, self._clock())
            self._lock.notify_all()

    def found(self) -> list[Found]:
        """What was found since the last call, in the order found."""
        results = []
        while True:
            try:
                results.append(self._found.get_nowait())
            except queue.Empty:
                return results

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                work = self._next_work()
                if work is not None:
                    self._found.put(work())
        except StopRequested:
            pass  # a paced or retried DescribeStream was waiting when the run stopped
        except BaseException as error:  # handed to the coordinator, which raises it
            self._found.put(error)

    def _next_work(self) -> Callable[[], Found] | None:
        with self._lock:
            now = self._clock()
            due = [p for p, at in self._lookups.items() if at <= now]
            pages = -(-self._known() // SHARDS_PER_PAGE)
            if self._listing_due <= now or (due and (self.filters is False or len(due) > pages)):
                self._lookups = {p: at for p, at in self._lookups.items() if at > now}
                self._listing_due = float("inf")
                return self._listing
            if due:
                del self._lookups[due[0]]
                return lambda: self._children(due[0])
            wake = min([self._listing_due, *self._lookups.values()]) - now
            self._lock.wait(timeout=min(max(wake, 0.0), 0.5))
            return None

    def _listing(self) -> Listing:
        started = self._clock()
        shards = self._reader.shards()
        if self.filters is None and shards:
            self._probe(shards[0].shard_id)
        with self._lock:
            self._listing_due = min(self._listing_due, self._clock() + self._interval)
        return Listing(shards, started)

    def _probe(self, shard_id: str) -> None:
        """Whether the server has ShardFilter, asked once, of any shard: where it has, a
        stream that looks drained needs no confirming listing (of thousands of shards,
        seconds at 10 calls a second) even when no shard finished yet."""
        self.filters = self._reader.children(shard_id) is not None

    def _children(self, parent: str) -> Found:
        children = None if self.filters is False else self._reader.children(parent)
        if children is None:
            self.filters = False  # told once; from now on, listings find children
            self.want_listing()
            return Children(parent, [])
        self.filters = True
        if not children:
            self.want_children(parent, RETRY_EMPTY_LOOKUP)
        return Children(parent, children)
