"""Progress shown to a person: a rich progress bar on stderr, or log lines off a terminal."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Self

from rich.console import Console
from rich.live import Live
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from toolkit.logic.stream_records import operation_table
from toolkit.work.replay import ReplayStats

log = logging.getLogger("migrator")
LOG_EVERY_SECONDS = 30.0  # off a terminal: one progress line this often


def stdout_is_terminal() -> bool:
    """Whether a live display on stderr may carry stdout's lines above itself.

    Only when both share a terminal: stdout sent to a file or a pipe keeps its own
    lines (the tables of operations, the summaries), whatever stderr is.
    """
    return sys.stdout.isatty()


class Display:
    """A live display on stderr, used as a context manager: closed however the block ends."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        raise NotImplementedError


class SnapshotBar(Display):
    """Items copied, items/s and segments done, refreshed while workers run.

    Off a terminal (a log file, a pipe) nothing is redrawn, which would cost CPU for
    nobody to see: a progress line is logged every LOG_EVERY_SECONDS instead.
    """

    def __init__(
        self, console: Console | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        console = console or Console(stderr=True)
        self._terminal = console.is_terminal
        self._progress = Progress(
            TextColumn("snapshot"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("segments"),
            TextColumn("{task.fields[items]:>10,} items"),
            TextColumn("{task.fields[rate]:>8,.0f} items/s"),
            TimeElapsedColumn(),
            console=console,
            auto_refresh=self._terminal,
            refresh_per_second=4,
            transient=False,
            redirect_stdout=stdout_is_terminal(),
        )
        self._clock = clock
        self._lock = threading.Lock()
        self._items = self._items_before = 0
        self._started_at = self._logged_at = 0.0
        self._task = self._progress.add_task("snapshot", total=None, items=0, rate=0.0)
        self._shown = False

    def close(self) -> None:
        if self._shown:
            self._progress.stop()

    def started(self, segments: int, segments_done: int, items_done: int) -> None:
        # Shown only once copying starts, so that an early error stays a single line.
        self._progress.start()
        self._shown = True
        with self._lock:
            self._items = self._items_before = items_done  # a resumed run's earlier items
            self._started_at = self._logged_at = self._clock()
        self._progress.update(self._task, total=segments, completed=segments_done, items=items_done)

    def page_copied(self, items: int, size: int = 0, expired: int = 0) -> None:
        now = self._clock()
        with self._lock:
            self._items += items
            total = self._items
            elapsed = now - self._started_at
            due = not self._terminal and now - self._logged_at >= LOG_EVERY_SECONDS
            if due:
                self._logged_at = now
        rate = (total - self._items_before) / elapsed if elapsed > 0 else 0.0
        self._progress.update(self._task, items=total, rate=rate)
        if due:
            task = self._progress.tasks[0]
            log.info(
                "Snapshot: %s items copied, %s items/s, %d of %d segments done",
                f"{total:,}",
                f"{rate:,.0f}",
                task.completed,
                task.total or 0,
                extra={
                    "items": total,
                    "items_per_second": round(rate),
                    "segments_done": task.completed,
                },
            )

    def segment_done(self) -> None:
        self._progress.advance(self._task)

    def finished(self) -> None:
        if self._shown:
            self._progress.stop()
            self._shown = False


class ReplayConsole(Display):
    """The post's table of operations after each applied batch, and a live status line."""

    def __init__(self, console: Console | None = None) -> None:
        self._console = console or Console(stderr=True)
        self._live: Live | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()

    def batch_applied(self, counts: Mapping[str, int]) -> None:
        with self._lock:
            # On stdout, which the live line (on stderr) lets pass above itself.
            print(operation_table(counts), flush=True)

    def tick(self, stats: ReplayStats) -> None:
        since = "-" if stats.seconds_since_change is None else f"{stats.seconds_since_change:.1f}"
        line = Text(
            f"stream: {stats.records:,} records, {stats.records_per_second:,.0f} records/s, "
            f"shards {stats.shards_open} open / {stats.shards_finished} finished, "
            f"last change applied {since} s ago"
        )
        if self._live is None:
            self._live = Live(
                line,
                console=self._console,
                auto_refresh=self._console.is_terminal,  # off a terminal it is never drawn
                refresh_per_second=4,
                transient=True,
                redirect_stdout=stdout_is_terminal(),
            )
            self._live.start()
        else:
            self._live.update(line)
