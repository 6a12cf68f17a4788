"""Progress shown to a person: a rich progress bar on stderr."""

from __future__ import annotations

import threading
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)


class SnapshotBar:
    """Items copied, items/s and segments done, refreshed while workers run."""

    def __init__(self, console: Console | None = None) -> None:
        self._progress = Progress(
            TextColumn("snapshot"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("segments"),
            TextColumn("{task.fields[items]:>10,} items"),
            TextColumn("{task.fields[rate]:>8,.0f} items/s"),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
        self._lock = threading.Lock()
        self._items = 0
        self._task = self._progress.add_task("snapshot", total=None, items=0, rate=0.0)
        self._shown = False

    def __enter__(self) -> SnapshotBar:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._shown:
            self._progress.stop()

    def started(self, segments: int, segments_done: int, items_done: int) -> None:
        # Shown only once copying starts, so that an early error stays a single line.
        self._progress.start()
        self._shown = True
        with self._lock:
            self._items = items_done
        self._progress.update(self._task, total=segments, completed=segments_done, items=items_done)

    def page_copied(self, items: int) -> None:
        with self._lock:
            self._items += items
            total = self._items
        elapsed = self._progress.tasks[0].elapsed or 0.0
        rate = total / elapsed if elapsed > 0 else 0.0
        self._progress.update(self._task, items=total, rate=rate)

    def segment_done(self) -> None:
        self._progress.advance(self._task)
