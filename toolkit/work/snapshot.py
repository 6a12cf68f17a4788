"""Copy a table's snapshot: parallel Scan segments into BatchWriteItem, resumable.

Each segment is one unit of work (``toolkit.work.segment_copy.copy_segment``), run by
an engine: threads of this process, or Spark tasks. The embedded engine
checkpoints every page once its writes are acknowledged, so a restart continues
each segment after its last finished page (at most one page copied twice). A
Spark task reports its segment when it ends, and only then is the segment
recorded as done: a restart copies unfinished segments again, from their last
recorded key.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from toolkit.engines.base import Engine, Work
from toolkit.wire.retry import StopRequested
from toolkit.work.segment_copy import (
    CopyTools,
    PageCopied,
    SegmentCopied,
    SegmentStart,
    SnapshotJob,
    copy_segment,
)
from toolkit.work.state import RunState, SegmentProgress

__all__ = ["SnapshotCopier", "SnapshotJob", "SnapshotProgress", "SnapshotSummary"]
log = logging.getLogger("migrator")


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


@dataclass
class SharedTools:
    """The embedded engine's work: one set of tools for all threads, pages checkpointed."""

    job: SnapshotJob
    tools: CopyTools
    state: RunState
    progress: SnapshotProgress

    @contextmanager
    def open(self, share: float) -> Iterator[Callable[[SegmentStart], SegmentCopied]]:
        yield lambda start: copy_segment(self.job, start, self.tools, self._page)

    def _page(self, page: PageCopied) -> None:
        self.state.checkpoint(page.segment, page.last_key, page.items)
        self.progress.page_copied(page.items, page.size, page.expired)


@dataclass
class SnapshotCopier:
    job: SnapshotJob
    work: Work[SegmentStart, SegmentCopied]
    engine: Engine
    state: RunState
    progress: SnapshotProgress
    stop: threading.Event
    records_pages: bool  # the work checkpoints each page itself (SharedTools)
    _copied: list[SegmentCopied] = field(default_factory=list)

    def run(self) -> SnapshotSummary:
        started = time.monotonic()
        segments = self._skip(self.state.segments(self.job.total_segments))
        todo = [SegmentStart(s.segment, s.last_key) for s in segments if not s.done]
        self.progress.started(
            len(segments), len(segments) - len(todo), sum(s.items for s in segments)
        )
        try:
            self.engine.run(self.work, todo, self.job.workers, self._done, self.stop)
        except StopRequested:
            pass  # asked to stop while retrying: the unwritten page is not checkpointed
        finally:
            self.progress.finished()
        complete = all(s.done for s in self.state.segments(self.job.total_segments))
        seconds = time.monotonic() - started
        items, size, expired = (sum(getattr(c, n) for c in self._copied) for n in _SUMMED)
        return SnapshotSummary(items, size, seconds, expired, complete)

    def _done(self, start: SegmentStart, copied: SegmentCopied) -> None:
        """A segment's unit ended (or stopped): record it unless its pages were."""
        self._copied.append(copied)
        if not self.records_pages:
            self.progress.page_copied(copied.items, copied.size, copied.expired)
            if copied.done:
                self.state.checkpoint(start.segment, None, copied.items)
        if copied.done:
            self.progress.segment_done()

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


_SUMMED = ("items", "size", "expired")
