"""Progress shown to a person while a direction is scanned: only on a terminal."""

from __future__ import annotations

import threading

from rich.console import Console
from rich.progress import Progress, TaskID, TextColumn, TimeElapsedColumn

from toolkit.progress import Display, stdout_is_terminal


class ComparisonBar(Display):
    """Items compared and items/s on stderr, shown only while a direction runs.

    It stops between directions, so that the report printed on stdout after a
    pass never interleaves with a live display on the same terminal.
    """

    def __init__(self, console: Console | None = None) -> None:
        console = console or Console(stderr=True)
        self._progress = Progress(
            TextColumn("{task.description}"),
            TextColumn("{task.completed:>12,.0f} items"),
            TextColumn("{task.fields[rate]:>9,.0f} items/s"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
            redirect_stdout=stdout_is_terminal(),
        )
        self._lock = threading.Lock()
        self._task: TaskID | None = None
        self._items = 0

    def close(self) -> None:
        self._progress.stop()

    def direction_started(self, name: str, segments: int) -> None:
        with self._lock:
            self._items = 0
            self._task = self._progress.add_task(f"{name} ({segments} segments)", rate=0.0)
        self._progress.start()

    def page_compared(self, items: int) -> None:
        with self._lock:
            if self._task is None:
                return
            self._items += items
            elapsed = self._progress.tasks[-1].elapsed or 0.0
            rate = self._items / elapsed if elapsed > 0 else 0.0
            self._progress.update(self._task, completed=self._items, rate=rate)

    def direction_done(self) -> None:
        self._progress.stop()
        with self._lock:
            if self._task is not None:
                self._progress.remove_task(self._task)
            self._task = None
