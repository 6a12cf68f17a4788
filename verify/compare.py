"""One comparison pass: source -> target, then (both directions) target -> source.

Each direction scans one side in parallel segments, page by page, and looks the
page's keys up on the other side with BatchGetItem. What does not match is only a
suspect: on a live source the target may simply lag. Suspects wait a short delay,
then are read again on both sides with consistent reads; only what still differs is
confirmed to the sink. Memory holds a page and a bounded list of suspects per
worker, never a table.

A segment of one direction is the unit of work (``Comparison.segment``), run by an
engine: threads of this process (the default), or Spark tasks, each building its
own ``Comparison`` from the config (``verify.spark_work``) and bringing its
differences back to the driver's sink when it ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from toolkit.engines.base import Engine, Work
from toolkit.engines.embedded import EmbeddedEngine
from toolkit.logic.items import Item, Key, RenameClash, key_id, key_of, ttl_expired
from toolkit.wire.scan import Table
from verify.diff import Difference, Kind, Outcome, absent_keys, diff_items
from verify.layout import Layout
from verify.reads import BATCH_GET_KEYS, batch_get, scan_pages

MAX_SUSPECTS = 5000  # per worker: past this many, a worker rechecks before reading on


@dataclass(frozen=True)
class Direction:
    name: str
    kinds: frozenset[Kind]  # what this direction reports; the other finds the rest


FORWARD = Direction("source → target", frozenset({"missing", "different"}))
BACKWARD = Direction("target → source", frozenset({"extra"}))


@dataclass(frozen=True)
class PassSettings:
    segments: int  # Scan segments, on either side
    workers: int
    both_directions: bool
    recheck_delay: float  # seconds a suspect waits before its consistent re-read
    page_items: int | None = None  # Scan's Limit; None: 1 MB pages
    tolerance: float = 0.0  # numbers this close are equal (validation.floatingPointTolerance)


class Sink(Protocol):
    def confirmed(self, difference: Difference) -> None: ...


class Progress(Protocol):
    def direction_started(self, name: str, segments: int) -> None: ...
    def page_compared(self, items: int) -> None: ...
    def direction_done(self) -> None: ...


@dataclass
class Tally:
    items: int = 0  # live items scanned on this direction's side
    identical: int = 0
    expired: int = 0  # skipped: their TTL has passed
    suspects: int = 0  # read again with consistent reads
    settled: int = 0  # suspects that matched, or were gone, when read again

    def add(self, other: Tally) -> None:
        for name in ("items", "identical", "expired", "suspects", "settled"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class SegmentUnit:
    """One segment of one direction: what a worker (a thread, a Spark task) compares."""

    direction: Direction
    segment: int
    segments: int


@dataclass
class SegmentCompared:
    tally: Tally
    differences: list[Difference] = field(default_factory=list)  # those not yet sunk


@dataclass(frozen=True)
class DirectionResult:
    name: str
    tally: Tally
    seconds: float

    @property
    def items_per_second(self) -> float:
        return self.tally.items / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class PassResult:
    forward: DirectionResult
    backward: DirectionResult | None

    @property
    def directions(self) -> list[DirectionResult]:
        return [self.forward] if self.backward is None else [self.forward, self.backward]


@dataclass
class _Suspects:
    keys: list[Key] = field(default_factory=list)
    since: float = 0.0  # monotonic time the oldest was found

    def add(self, keys: Sequence[Key], now: float) -> None:
        if keys and not self.keys:
            self.since = now
        self.keys += keys


@dataclass
class Comparison:
    layout: Layout
    settings: PassSettings
    source: Table
    target: Table
    sink: Sink
    progress: Progress
    stop: threading.Event = field(default_factory=threading.Event)
    now: Callable[[], float] = time.time  # for TTL: epoch seconds
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    engine: Engine = field(default_factory=EmbeddedEngine)
    work: Work[SegmentUnit, SegmentCompared] | None = None  # None: this comparison's tools

    def run(self) -> PassResult:
        forward = self._direction(FORWARD)
        backward = self._direction(BACKWARD) if self.settings.both_directions else None
        return PassResult(forward, backward)

    def _direction(self, direction: Direction) -> DirectionResult:
        segments = self.settings.segments
        self.progress.direction_started(direction.name, segments)
        started = self.clock()
        workers = max(1, min(self.settings.workers, segments))
        units = [SegmentUnit(direction, s, segments) for s in range(segments)]
        total = Tally()

        def done(unit: SegmentUnit, compared: SegmentCompared) -> None:
            total.add(compared.tally)
            for difference in compared.differences:
                self.sink.confirmed(difference)
            if not self.engine.in_process:  # its pages were counted where it ran
                self.progress.page_compared(compared.tally.items)

        self.engine.run(self.work or self, units, workers, done, self.stop)
        self.progress.direction_done()
        return DirectionResult(direction.name, total, self.clock() - started)

    @contextmanager
    def open(self, share: float) -> Iterator[Callable[[SegmentUnit], SegmentCompared]]:
        """This comparison's own tables: the embedded engine's threads share them."""
        yield self.segment

    def segment(self, unit: SegmentUnit) -> SegmentCompared:
        """Compare one segment; confirmed differences go to the sink as they are found."""
        direction, segment, segments = unit.direction, unit.segment, unit.segments
        tally, suspects = Tally(), _Suspects()
        forward = direction == FORWARD
        side = self.source if forward else self.target
        attributes = None if forward else self._target_key_attributes()
        pages = scan_pages(
            side, segment, segments, attributes=attributes, page_items=self.settings.page_items
        )
        for page in pages:
            if self.stop.is_set():
                break
            found = self._compare_source_page(page, tally) if forward else self._extras(page, tally)
            suspects.add(found, self.clock())
            self.progress.page_compared(len(page))
            crowded = len(suspects.keys) >= MAX_SUSPECTS
            ripe = self.clock() - suspects.since >= self.settings.recheck_delay
            if crowded or (len(suspects.keys) >= BATCH_GET_KEYS and ripe):
                self._recheck(direction, suspects, tally)
        if suspects.keys and not self.stop.is_set():
            self._recheck(direction, suspects, tally)
        return SegmentCompared(tally)

    def _target_key_attributes(self) -> list[str]:
        ttl = self.layout.target_ttl
        keys = list(self.layout.target_keys)
        return keys if ttl is None or ttl in keys else [*keys, ttl]

    def _compare_source_page(self, page: list[Item], tally: Tally) -> list[Key]:
        """Look a source page up on the target; the keys that do not match are suspects."""
        layout, now = self.layout, self.now()
        live = [item for item in page if not ttl_expired(item, layout.source_ttl, now)]
        tally.expired += len(page) - len(live)
        tally.items += len(live)
        found = batch_get(self.target, [layout.target_key_of(item) for item in live])
        outcome = self._diff(live, found)
        tally.identical += outcome.identical
        return [difference.key for difference in outcome.differences]

    def _diff(self, source_items: list[Item], target_items: list[Item]) -> Outcome:
        layout = self.layout
        try:
            return diff_items(
                *(source_items, target_items, layout.target_keys, layout.renames),
                self.settings.tolerance,
            )
        except (
            RenameClash
        ) as clash:  # verify applies renames as migrate does: never one over another
            raise clash.at(layout.source_table, clash.key) from None

    def _extras(self, page: list[Item], tally: Tally) -> list[Key]:
        """Look a page of target keys up on the source; those not there are suspects."""
        layout, now = self.layout, self.now()
        live = [item for item in page if not ttl_expired(item, layout.target_ttl, now)]
        tally.expired += len(page) - len(live)
        tally.items += len(live)
        keys = [key_of(item, layout.target_keys) for item in live]
        wanted = [layout.source_key_of(key) for key in keys]
        found = batch_get(self.source, wanted, attributes=layout.source_keys)
        return absent_keys(keys, found, layout.target_keys, layout.renames)

    def _recheck(self, direction: Direction, suspects: _Suspects, tally: Tally) -> None:
        """Read the suspects again, consistently, on both sides; confirm what still differs."""
        delay = suspects.since + self.settings.recheck_delay - self.clock()
        if delay > 0:
            self.sleep(delay)
        keys, suspects.keys = suspects.keys, []
        tally.suspects += len(keys)
        for start in range(0, len(keys), BATCH_GET_KEYS):
            confirmed = self._read_again(direction, keys[start : start + BATCH_GET_KEYS], tally)
            tally.settled += min(BATCH_GET_KEYS, len(keys) - start) - len(confirmed)
            for difference in confirmed:
                self.sink.confirmed(difference)

    def _read_again(self, direction: Direction, keys: list[Key], tally: Tally) -> list[Difference]:
        layout, forward = self.layout, direction == FORWARD
        wanted = [layout.source_key_of(key) for key in keys]
        source_items = batch_get(self.source, wanted, consistent=True)
        target_items = batch_get(self.target, keys, consistent=True)
        now = self.now()
        expired = {
            key_id(layout.target_key_of(item))
            for item in source_items
            if ttl_expired(item, layout.source_ttl, now)
        }
        if not forward:
            expired |= {
                key_id(key_of(item, layout.target_keys))
                for item in target_items
                if ttl_expired(item, layout.target_ttl, now)
            }
        outcome = self._diff(
            [item for item in source_items if key_id(layout.target_key_of(item)) not in expired],
            [
                item
                for item in target_items
                if key_id(key_of(item, layout.target_keys)) not in expired
            ],
        )
        if forward:
            tally.identical += outcome.identical
        return [d for d in outcome.differences if d.kind in direction.kinds]
