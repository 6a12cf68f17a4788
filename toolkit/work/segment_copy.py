"""Copy one scan segment: the snapshot's unit of work, the same on every engine.

A page is scanned, its items written and acknowledged, and only then reported to
``on_page`` (the embedded engine checkpoints it there; a Spark task reports the
whole segment when it ends). Nothing here knows which engine runs it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from toolkit.logic.items import RenameClash, apply_renames, key_of, ttl_expired
from toolkit.wire.dataplane import Answer
from toolkit.wire.retry import RetryPolicy, call_with_retries
from toolkit.wire.throughput import CapacityBudget, charge_read
from toolkit.work.writer import BatchWriter, Plane


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
class SegmentStart:
    """Where a segment's copy begins: its start, or after the last recorded page."""

    segment: int
    last_key: dict[str, Any] | None = None


@dataclass(frozen=True)
class PageCopied:
    segment: int
    last_key: dict[str, Any] | None  # None: the segment is done
    items: int  # live items written
    size: int  # bytes of the Scan page on the wire
    expired: int  # items skipped: their TTL has passed


@dataclass
class SegmentCopied:
    """A whole segment's copy (or what of it ran before a stop): the sum of its pages."""

    segment: int
    done: bool = False
    items: int = 0
    size: int = 0
    expired: int = 0

    def add(self, page: PageCopied) -> None:
        self.items += page.items
        self.size += page.size
        self.expired += page.expired
        self.done = page.last_key is None


@dataclass(frozen=True)
class CopyTools:
    """What one process needs to copy segments: the source's plane, the writer, budgets."""

    source: Plane
    writer: BatchWriter
    read_budget: CapacityBudget
    policy: RetryPolicy
    stop: threading.Event = field(default_factory=threading.Event)
    now: Callable[[], float] = time.time


def copy_segment(
    job: SnapshotJob,
    start: SegmentStart,
    tools: CopyTools,
    on_page: Callable[[PageCopied], None] = lambda page: None,
) -> SegmentCopied:
    """Copy the segment from ``start`` to its end, or until ``tools.stop`` is set."""
    copied = SegmentCopied(start.segment)
    start_key = start.last_key
    while not tools.stop.is_set():
        answer = _scan_page(job, tools, start.segment, start_key)
        items: list[dict[str, Any]] = answer.body.get("Items", [])
        now = tools.now()
        live = [i for i in items if not ttl_expired(i, job.ttl_attribute, now)]
        tools.writer.write([{"PutRequest": {"Item": _renamed(job, i)}} for i in live])
        start_key = answer.body.get("LastEvaluatedKey")
        page = PageCopied(start.segment, start_key, len(live), answer.size, len(items) - len(live))
        copied.add(page)
        on_page(page)
        if start_key is None:
            break
    return copied


def _renamed(job: SnapshotJob, item: dict[str, Any]) -> dict[str, Any]:
    try:
        return apply_renames(item, job.renames)
    except RenameClash as clash:  # raised before the page is written or checkpointed
        raise clash.at(job.source_table, key_of(item, job.key_names)) from None


def _scan_page(
    job: SnapshotJob, tools: CopyTools, segment: int, start_key: dict[str, Any] | None
) -> Answer:
    request: dict[str, Any] = {
        "TableName": job.source_table,
        "Segment": segment,
        "TotalSegments": job.total_segments,
    }
    if start_key is not None:
        request["ExclusiveStartKey"] = start_key
    if job.page_items:
        request["Limit"] = job.page_items
    budget = tools.read_budget
    if budget.limited and job.reports_capacity:
        request["ReturnConsumedCapacity"] = "TOTAL"
    budget.wait_turn()
    answer = call_with_retries(lambda: tools.source.call("Scan", request), tools.policy)
    charge_read(budget, answer.body, answer.size)
    return answer
