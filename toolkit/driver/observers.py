"""What a run reports, passed on to everyone who watches it.

The snapshot and the replay report to one SnapshotProgress and one ReplayStatus;
these pass each report on to the person's display, to the metrics (when served)
and to the run's state file, where `toolkit status` reads it from another process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from toolkit.driver.metrics import TableMetrics
from toolkit.work.replay import ReplayStats, ReplayStatus
from toolkit.work.snapshot import SnapshotProgress
from toolkit.work.state import RunState

NOTE_EVERY_SECONDS = 1.0  # how often the live figures are written to the state file


@dataclass
class StateNotes:
    """The live figures `toolkit status` shows, written to the run's state at most once a second."""

    state: RunState
    clock: Callable[[], float] = time.time
    _noted_at: float = 0.0
    _noted_checkpoint: bool = False

    def note(self, force: bool = False, **figures: object) -> None:
        now = self.clock()
        # The state knows when a checkpoint was last written: a page of a segment, a
        # step of the replay, a data file of an export (not each page of that file).
        checkpoint_at = self.state.checkpointed_at
        first_checkpoint = checkpoint_at is not None and not self._noted_checkpoint
        if not force and not first_checkpoint and now - self._noted_at < NOTE_EVERY_SECONDS:
            return
        self._noted_checkpoint = checkpoint_at is not None
        self._noted_at = now
        values = {k: str(v) for k, v in figures.items()} | {"noted_at": str(now)}
        if checkpoint_at is not None:
            values["checkpoint_at"] = str(checkpoint_at)
        self.state.put_many(values)


class SnapshotObserver:
    def __init__(
        self, display: SnapshotProgress, metrics: TableMetrics | None, notes: StateNotes | None
    ) -> None:
        self._display, self._metrics, self._notes = display, metrics, notes
        self._started_at = time.time()
        self._items = self._items_before = self._segments = self._done = 0

    def started(self, segments: int, segments_done: int, items_done: int) -> None:
        self._display.started(segments, segments_done, items_done)
        self._segments, self._done = segments, segments_done
        self._items = self._items_before = items_done
        self._started_at = time.time()
        if self._metrics is not None:
            self._metrics.phase.state("snapshot")
            self._metrics.segments_total.set(segments)
            self._metrics.segments_done.set(segments_done)
            self._metrics.items_copied.inc(0)
            self._metrics.progressed()
        self._note(force=True)

    def page_copied(self, items: int, size: int = 0, expired: int = 0) -> None:
        self._display.page_copied(items, size, expired)
        self._items += items  # one thread at a time per call; a lost update only delays a note
        if self._metrics is not None:
            self._metrics.items_copied.inc(items)
            self._metrics.bytes_copied.inc(size)
            self._metrics.items_expired.inc(expired)
            self._metrics.progressed()
        self._note()

    def segment_done(self) -> None:
        self._display.segment_done()
        self._done += 1
        if self._metrics is not None:
            self._metrics.segments_done.inc()
        self._note(force=True)

    def finished(self) -> None:
        self._display.finished()
        if self._metrics is not None:
            self._metrics.progressed(working=False)
        self._note(force=True)

    def _note(self, force: bool = False) -> None:
        if self._notes is not None:
            self._notes.note(
                force,
                phase="snapshot",
                snapshot_items=self._items,
                snapshot_items_before=self._items_before,
                snapshot_started_at=self._started_at,
                segments_done=self._done,
                segments_total=self._segments,
            )


class ReplayObserver:
    def __init__(
        self, display: ReplayStatus, metrics: TableMetrics | None, notes: StateNotes | None
    ) -> None:
        self._display, self._metrics, self._notes = display, metrics, notes
        self._applied_at: float | None = None
        self._ticked = False  # the first tick notes the new phase at once

    def batch_applied(self, counts: Mapping[str, int]) -> None:
        self._display.batch_applied(counts)
        self._applied_at = time.time()
        if self._metrics is not None:
            self._metrics.applied(counts)

    def tick(self, stats: ReplayStats) -> None:
        self._display.tick(stats)
        if self._metrics is not None:
            self._metrics.phase.state("replay")
            self._metrics.shards_open.set(stats.shards_open)
            self._metrics.shards_finished.set(stats.shards_finished)
            self._metrics.lagging(stats.lag_seconds, stats.behind)
        first, self._ticked = not self._ticked, True
        if self._notes is not None:
            self._notes.note(
                first,
                phase="replay",
                records=stats.records,
                shards_open=stats.shards_open,
                shards_finished=stats.shards_finished,
                last_applied_at=self._applied_at or "",
                lag_seconds=round(stats.lag_seconds, 3),
                quiet=int(stats.quiet),
            )


def watched(
    display: SnapshotProgress, status: ReplayStatus, state: RunState, metrics: TableMetrics | None
) -> tuple[SnapshotObserver, ReplayObserver]:
    """The run's progress and status, passed on to the display, the metrics and the state."""
    notes = StateNotes(state)
    return SnapshotObserver(display, metrics, notes), ReplayObserver(status, metrics, notes)
