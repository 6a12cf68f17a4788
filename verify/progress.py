"""Progress shown to a person while a direction is scanned: only on a terminal."""

from __future__ import annotations

import threading

from rich.console import Console
from rich.progress import Progress, TaskID, TextColumn, TimeElapsedColumn

from toolkit.driver.metrics import Metrics
from toolkit.driver.progress import Display, stdout_is_terminal
from verify.compare import Progress as ComparisonProgress


def _items_shown(console: Console | None, *more: TextColumn) -> Progress:
    """Items compared (and ``more``) a line, on a terminal only, gone once done."""
    console = console or Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        TextColumn("{task.completed:>12,.0f} items"),
        *more,
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
        redirect_stdout=stdout_is_terminal(),
    )


class ComparisonBar(Display):
    """Items compared and items/s on stderr, shown only while a direction runs.

    It stops between directions, so that the report printed on stdout after a
    pass never interleaves with a live display on the same terminal.
    """

    def __init__(self, console: Console | None = None) -> None:
        self._progress = _items_shown(console, TextColumn("{task.fields[rate]:>9,.0f} items/s"))
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


class VerifyObserver:
    """The comparison's progress, passed on to the bar and to the metrics (when served)."""

    def __init__(self, display: ComparisonProgress, metrics: Metrics | None) -> None:
        self._display, self._metrics = display, metrics
        self._direction = ""

    def direction_started(self, name: str, segments: int) -> None:
        self._direction = name
        self._display.direction_started(name, segments)
        if self._metrics is not None:
            self._metrics.phase.state("snapshot")  # scanning, as a snapshot does
            self._metrics.progressed()

    def page_compared(self, items: int) -> None:
        self._display.page_compared(items)
        if self._metrics is not None:
            self._metrics.items_compared.labels(self._direction).inc(items)
            self._metrics.progressed()

    def direction_done(self) -> None:
        self._display.direction_done()
        if self._metrics is not None:
            self._metrics.progressed(working=False)


class TablesBar(Display):
    """A line per direction being compared, for the tables compared at once: one live
    display on stderr for all of them (a terminal shows only one)."""

    def __init__(self, console: Console | None = None) -> None:
        self._progress = _items_shown(console)
        self._progress.start()

    def close(self) -> None:
        self._progress.stop()

    def for_table(self, name: str) -> ComparisonProgress:
        return _TableLine(self._progress, name)


class _TableLine:
    """One table's line on a TablesBar, while one of its directions is compared."""

    def __init__(self, progress: Progress, name: str) -> None:
        self._progress, self._name = progress, name
        self._task: TaskID | None = None

    def direction_started(self, name: str, segments: int) -> None:
        self._task = self._progress.add_task(f"{self._name}: {name} ({segments} segments)")

    def page_compared(self, items: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, items)

    def direction_done(self) -> None:
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._task = None
