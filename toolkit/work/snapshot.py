"""Copy a snapshot: every part of the source, wave after wave, into the target; resumable.

Each part (a scan segment, an export's data file) is one unit of work
(``toolkit.work.copy.copy_part``), run by an engine: threads of this process, or
Spark tasks. The waves run in order (an incremental export after the one before).
On the embedded engine a resumable part's every page is checkpointed once its
writes are acknowledged, so a restart continues it after its last finished page; a
part recorded whole (and every part a Spark task copies) is recorded when its unit
ends, and a restart copies an unfinished one again from its last recorded position.
The driver alone writes the state, here and in ``toolkit.work.copy_work``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from toolkit.connectors.base import Part
from toolkit.engines.base import Engine, Work
from toolkit.wire.retry import StopRequested
from toolkit.work.copy import PartCopied, PartStart
from toolkit.work.ledger import Ledger

__all__ = ["PartsCopier", "SnapshotProgress", "SnapshotSummary"]
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
class PartsCopier:
    waves: Sequence[Sequence[Part]]
    work: Work[PartStart, PartCopied]
    engine: Engine
    ledger: Ledger
    progress: SnapshotProgress
    stop: threading.Event
    workers: int
    records_pages: bool  # the work checkpoints each page of a resumable part itself
    _copied: list[PartCopied] = field(default_factory=list)

    def run(self) -> SnapshotSummary:
        started = time.monotonic()
        self._skip([part for wave in self.waves for part in wave if part.skipped])
        standing = [self.ledger.standing(wave) for wave in self.waves]
        self.progress.started(
            sum(map(len, self.waves)), sum(s.done for s in standing), sum(s.items for s in standing)
        )
        try:
            for wave in standing:  # in order: an incremental export after the one before
                self.engine.run(self.work, wave.todo, self.workers, self._done, self.stop)
                if self.stop.is_set():
                    break
        except StopRequested:
            pass  # asked to stop while retrying: the unwritten page is not recorded
        finally:
            self.progress.finished()
        complete = all(self.ledger.all_done(wave) for wave in self.waves)
        seconds = time.monotonic() - started
        items, size, expired = (sum(getattr(c, n) for c in self._copied) for n in _SUMMED)
        return SnapshotSummary(items, size, seconds, expired, complete)

    def _done(self, start: PartStart, copied: PartCopied) -> None:
        """A part's unit ended (or stopped): record it, unless its pages were."""
        self._copied.append(copied)
        pages_recorded = self.records_pages and start.part.resumable
        if not self.records_pages:
            self.progress.page_copied(copied.items, copied.size, copied.expired)
        if copied.done:
            if not pages_recorded:
                self.ledger.done(start.part, copied.items, copied.detail)
            self.progress.segment_done()

    def _skip(self, parts: Sequence[Part]) -> None:
        """Record the skipped parts as done (none of their items counted)."""
        skipped = [start.part for start in self.ledger.standing(parts).todo] if parts else []
        if not skipped:
            return
        log.info(
            "Skipping scan segments %s: skipSegments says they were copied already",
            ", ".join(str(part.number) for part in skipped),
        )
        for part in skipped:
            self.ledger.done(part, 0, None)


_SUMMED = ("items", "size", "expired")
