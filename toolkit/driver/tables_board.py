"""The live display of a run of several tables: a summary line, then the tables not done.

Each table's pipeline reports to its own pair of observers (the snapshot's progress,
the replay's status), as a single table's does; here they only count. On a terminal
the board is redrawn four times a second; off it (a log file, a pipe) a summary line
is logged every LOG_EVERY_SECONDS. With 50 tables it stays readable: the tables that
are drained or done are counted in the summary, not listed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from toolkit.driver.migration import MigrationResult
from toolkit.driver.progress import LOG_EVERY_SECONDS, Display, stdout_is_terminal
from toolkit.work.replay import ReplayStats, ReplayStatus
from toolkit.work.snapshot import SnapshotProgress

log = logging.getLogger("migrator")
SHOWN = 20  # tables listed under the summary, at most
DRAW_SECONDS = 0.25  # the board is rebuilt at most this often


@dataclass
class TableLine:
    name: str
    phase: str = "waiting"  # waiting, snapshot, replay, drained, done, stopped, failed
    segments: int = 0
    segments_done: int = 0
    items: int = 0
    records: int = 0
    lag: float = 0.0
    why: str = ""

    def text(self) -> str:
        if self.phase == "snapshot":
            return (
                f"{self.name}: snapshot {self.segments_done}/{self.segments} segments, "
                f"{self.items:,} items"
            )
        if self.phase == "replay":
            return f"{self.name}: replay {self.records:,} records, lag {self.lag:.1f} s"
        if self.phase == "failed":
            return f"{self.name}: FAILED: {self.why}"
        return f"{self.name}: {self.phase}"


class TablesBoard(Display):
    def __init__(
        self, console: Console | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._console = console or Console(stderr=True)
        self._lines: dict[str, TableLine] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._logged_at = self._drawn_at = clock()
        self._live: Live | None = None

    def table(self, name: str) -> tuple[SnapshotProgress, ReplayStatus]:
        with self._lock:
            line = self._lines.setdefault(name, TableLine(name))
        return _TableProgress(self, line), _TableStatus(self, line)

    def ended(self, name: str, result: MigrationResult) -> None:
        self.table(name)
        replay, snapshot = result.replay, result.snapshot
        phase = "stopped"
        if replay is not None:
            phase = "drained" if replay.drained else "stopped"
        elif snapshot is None or snapshot.complete:
            phase = "done"
        self.update(self._lines[name], phase=phase)

    def failed(self, name: str, why: str) -> None:
        self.table(name)
        self.update(self._lines[name], phase="failed", why=" ".join(why.split()))

    def update(self, line: TableLine, **changes: object) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(line, key, value)
            self._show()

    def add(self, line: TableLine, field: str, count: int) -> None:
        with self._lock:
            setattr(line, field, getattr(line, field) + count)
            self._show()

    def summary(self) -> str:
        lines = list(self._lines.values())
        phases = {p: sum(1 for t in lines if t.phase == p) for p in _PHASES}
        counts = ", ".join(f"{n} {p}" for p, n in phases.items() if n)
        items, records = sum(t.items for t in lines), sum(t.records for t in lines)
        return f"{len(lines)} tables: {counts}; {items:,} items copied, {records:,} records applied"

    def _show(self) -> None:
        now = self._clock()
        if not self._console.is_terminal:
            if now - self._logged_at >= LOG_EVERY_SECONDS:
                self._logged_at = now
                log.info("%s", self.summary())
            return
        if self._live is not None and now - self._drawn_at < DRAW_SECONDS:
            return
        self._drawn_at = now
        busy = [t.text() for t in self._lines.values() if t.phase not in ("drained", "done")]
        more = [f"... and {len(busy) - SHOWN} more"] if len(busy) > SHOWN else []
        shown = Group(Text(self.summary()), *(Text(f"  {b}") for b in busy[:SHOWN] + more))
        if self._live is None:
            self._live = Live(
                shown,
                console=self._console,
                refresh_per_second=4,
                transient=True,
                redirect_stdout=stdout_is_terminal(),
            )
            self._live.start()
        else:
            self._live.update(shown)

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
        if self._lines:  # a run refused before its tables began shows nothing
            log.info("%s", self.summary())


_PHASES = ("waiting", "snapshot", "replay", "drained", "done", "stopped", "failed")


class _TableProgress:
    def __init__(self, board: TablesBoard, line: TableLine) -> None:
        self._board, self._line = board, line

    def started(self, segments: int, segments_done: int, items_done: int) -> None:
        self._board.update(
            self._line,
            phase="snapshot",
            segments=segments,
            segments_done=segments_done,
            items=items_done,
        )

    def page_copied(self, items: int, size: int = 0, expired: int = 0) -> None:
        self._board.add(self._line, "items", items)

    def segment_done(self) -> None:
        self._board.add(self._line, "segments_done", 1)

    def finished(self) -> None:
        return None


class _TableStatus:
    def __init__(self, board: TablesBoard, line: TableLine) -> None:
        self._board, self._line = board, line

    def batch_applied(self, counts: Mapping[str, int]) -> None:
        return None  # the post's table of operations, per batch, is one table's view

    def tick(self, stats: ReplayStats) -> None:
        self._board.update(self._line, phase="replay", records=stats.records, lag=stats.lag_seconds)
