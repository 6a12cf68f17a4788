"""Copy a table's snapshot: parallel Scan segments into BatchWriteItem, resumable.

Each worker owns one segment at a time. A page is scanned, its items written and
acknowledged, and only then is the page checkpointed, so a restart continues
every segment after its last finished page (at most one page is copied twice).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from toolkit.dataplane import Answer, DataPlane
from toolkit.items import RenameClash, apply_renames, key_of, ttl_expired
from toolkit.retry import RetryPolicy, StopRequested, call_with_retries
from toolkit.state import RunState, SegmentProgress
from toolkit.throughput import CapacityBudget, charge_read
from toolkit.workers import wait_for_workers
from toolkit.writer import BatchWriter

log = logging.getLogger("migrator")


@dataclass(frozen=True)
class SnapshotJob:
    source_table: str
    total_segments: int
    workers: int
    renames: Mapping[str, str]
    ttl_attribute: str | None
    page_items: int | None = None  # Scan's Limit; None lets the server fill 1 MB pages
    key_names: tuple[str, ...] = ()  # the source's key attributes, to name an item
    skip: tuple[int, ...] = ()  # segments copied by someone else (a Migrator savepoint's)
    reports_capacity: bool = True  # False (Alternator): never ask for ConsumedCapacity


@dataclass(frozen=True)
class SnapshotSummary:
    items: int
    bytes: int
    seconds: float
    expired: int
    complete: bool

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        state = "done" if self.complete else "stopped"
        expired = f", {self.expired} expired items skipped" if self.expired else ""
        return (
            f"Snapshot {state}: {self.items} items, {self.bytes / 1e6:.1f} MB, "
            f"{self.seconds:.1f} s, {self.items_per_second:.0f} items/s{expired}"
        )


class SnapshotProgress(Protocol):
    def started(self, segments: int, segments_done: int, items_done: int) -> None: ...
    def page_copied(self, items: int, size: int = 0, expired: int = 0) -> None: ...
    def segment_done(self) -> None: ...
    def finished(self) -> None: ...


class _Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items = self.bytes = self.expired = 0

    def add(self, items: int, size: int, expired: int) -> None:
        with self._lock:
            self.items += items
            self.bytes += size
            self.expired += expired


@dataclass
class SnapshotCopier:
    job: SnapshotJob
    source: DataPlane
    writer: BatchWriter
    state: RunState
    read_budget: CapacityBudget
    policy: RetryPolicy
    progress: SnapshotProgress
    stop: threading.Event
    now: Callable[[], float] = time.time

    def run(self) -> SnapshotSummary:
        started = time.monotonic()
        segments = self._skip(self.state.segments(self.job.total_segments))
        todo = [s for s in segments if not s.done]
        self.progress.started(
            len(segments), len(segments) - len(todo), sum(s.items for s in segments)
        )
        counters = _Counters()
        try:
            with ThreadPoolExecutor(self.job.workers, thread_name_prefix="segment") as pool:
                futures = [pool.submit(self._copy_segment, s, counters) for s in todo]
                wait_for_workers(futures, self.stop)
        except StopRequested:
            pass  # asked to stop while retrying: the unwritten page is not checkpointed
        finally:
            self.progress.finished()
        complete = all(s.done for s in self.state.segments(self.job.total_segments))
        seconds = time.monotonic() - started
        return SnapshotSummary(counters.items, counters.bytes, seconds, counters.expired, complete)

    def _skip(self, segments: list[SegmentProgress]) -> list[SegmentProgress]:
        """Record the skipped segments as done (none of their items counted); the rest as is."""
        skipped = [s.segment for s in segments if s.segment in self.job.skip and not s.done]
        if not skipped:
            return segments
        log.info(
            "Skipping scan segments %s: skipSegments says they were copied already",
            ", ".join(map(str, skipped)),
        )
        for segment in skipped:
            self.state.checkpoint(segment, None, 0)
        return self.state.segments(self.job.total_segments)

    def _copy_segment(self, segment: SegmentProgress, counters: _Counters) -> None:
        start_key = segment.last_key
        while not self.stop.is_set():
            answer = self._scan_page(segment.segment, start_key)
            items: list[dict[str, Any]] = answer.body.get("Items", [])
            now = self.now()
            live = [i for i in items if not ttl_expired(i, self.job.ttl_attribute, now)]
            self.writer.write([{"PutRequest": {"Item": self._renamed(i)}} for i in live])
            start_key = answer.body.get("LastEvaluatedKey")
            self.state.checkpoint(segment.segment, start_key, len(live))
            counters.add(len(live), answer.size, len(items) - len(live))
            self.progress.page_copied(len(live), answer.size, len(items) - len(live))
            if start_key is None:
                self.progress.segment_done()
                return

    def _renamed(self, item: dict[str, Any]) -> dict[str, Any]:
        try:
            return apply_renames(item, self.job.renames)
        except RenameClash as clash:  # raised before the page is written or checkpointed
            raise clash.at(self.job.source_table, key_of(item, self.job.key_names)) from None

    def _scan_page(self, segment: int, start_key: dict[str, Any] | None) -> Answer:
        request: dict[str, Any] = {
            "TableName": self.job.source_table,
            "Segment": segment,
            "TotalSegments": self.job.total_segments,
        }
        if start_key is not None:
            request["ExclusiveStartKey"] = start_key
        if self.job.page_items:
            request["Limit"] = self.job.page_items
        if self.read_budget.limited and self.job.reports_capacity:
            request["ReturnConsumedCapacity"] = "TOTAL"
        self.read_budget.wait_turn()
        answer = call_with_retries(lambda: self.source.call("Scan", request), self.policy)
        charge_read(self.read_budget, answer.body, answer.size)
        return answer
