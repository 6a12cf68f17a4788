"""Counts of acknowledged operations and retried errors, and the lines that show them.

Pure logic (a lock, no I/O): workers count, the reporter reads consistent snapshots.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from mutator.mix import DELETE, PUT
from toolkit.driver.metrics import Metrics


@dataclass(frozen=True)
class Tally:
    puts: int = 0
    deletes: int = 0
    errors: int = 0  # failed attempts that were retried
    error_codes: tuple[tuple[str, int], ...] = ()

    @property
    def operations(self) -> int:
        return self.puts + self.deletes

    def __add__(self, other: Tally) -> Tally:
        return self._plus(other, 1)

    def __sub__(self, other: Tally) -> Tally:
        return self._plus(other, -1)

    def _plus(self, other: Tally, sign: int) -> Tally:
        codes = Counter(dict(self.error_codes))
        for code, n in other.error_codes:
            codes[code] += sign * n
        return Tally(
            self.puts + sign * other.puts,
            self.deletes + sign * other.deletes,
            self.errors + sign * other.errors,
            tuple(sorted((c, n) for c, n in codes.items() if n)),
        )


@dataclass
class Counters:
    """Thread-safe: ``acknowledged`` after the server's answer, ``retried`` per failure."""

    metrics: Metrics | None = None  # served on --metrics-port
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counts: Counter[str] = field(default_factory=Counter)
    _codes: Counter[str] = field(default_factory=Counter)

    def acknowledged(self, kind: str, count: int = 1) -> None:
        with self._lock:
            self._counts[kind] += count
        if self.metrics is not None:
            self.metrics.operations.labels(kind).inc(count)
            self.metrics.progressed()

    def retried(self, code: str) -> None:
        with self._lock:
            self._counts["errors"] += 1
            self._codes[code or "error"] += 1

    def snapshot(self) -> Tally:
        with self._lock:
            return Tally(
                self._counts[PUT],
                self._counts[DELETE],
                self._counts["errors"],
                tuple(sorted(self._codes.items())),
            )


class TableCounters:
    """One ``Counters`` per table of a run; a snapshot is their sum, the run's total."""

    def __init__(self, tables: int, metrics: Metrics | None = None) -> None:
        self.tables = [Counters(metrics) for _ in range(tables)]

    def snapshot(self) -> Tally:
        return sum((counters.snapshot() for counters in self.tables), Tally())


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def errors_text(tally: Tally) -> str:
    if not tally.errors:
        return "0 errors"
    codes = ", ".join(f"{n} {code}" for code, n in tally.error_codes)
    return f"{tally.errors} errors retried ({codes})"


def window_line(ended_at: float, seconds: float, tally: Tally, partial: bool = False) -> str:
    """One line per window: '[  20 s] 172 ops: 130 puts, 42 deletes, 17.2 ops/s, 0 errors'."""
    mark = f", last {seconds:.1f} s" if partial else ""
    return (
        f"[{ended_at:6.0f} s] {tally.operations} ops: {tally.puts} puts, "
        f"{tally.deletes} deletes, {rate(tally.operations, seconds):.1f} ops/s, "
        f"{errors_text(tally)}{mark}"
    )


def table_line(name: str, tally: Tally, live: int, keys: int) -> str:
    """A table's part of a run over several: 'Table a: 40 operations (30 puts, ...'."""
    return (
        f"Table {name}: {tally.operations} operations ({tally.puts} puts, "
        f"{tally.deletes} deletes); {errors_text(tally)}; {live} of {keys} keys live"
    )


def mutate_summary(
    state: str, tally: Tally, seconds: float, live: int, keys: int, restarts: int, tables: int = 1
) -> str:
    behind = (
        f"; fell behind the asked rate {restarts} times (the server was slower)" if restarts else ""
    )
    return (
        f"Mutate {state}: {tally.operations} operations ({tally.puts} puts, "
        f"{tally.deletes} deletes) in {seconds:.1f} s, "
        f"{rate(tally.operations, seconds):.1f} ops/s; {errors_text(tally)}; "
        f"{live} of {keys} keys live{f' in {tables} tables' if tables > 1 else ''}{behind}"
    )


def load_line(
    state: str, items: int, total: int, seconds: float, tally: Tally, tables: int = 1
) -> str:
    into = f" into {tables} tables" if tables > 1 else ""
    return (
        f"Load {state}: {items} of {total} items{into} in {seconds:.1f} s, "
        f"{rate(items, seconds):.0f} items/s; {errors_text(tally)}"
    )
