"""`toolkit status` of a run of several tables: a row per table and their total (pure).

Each table's figures are a single run's (toolkit/logic/status.py), read from that
table's own part of the state file. A table whose last attempt failed is never ready,
whatever its figures say: its copy or replay stopped there. The run is ready for the
cut-over only when every table is. With tens of tables a summary line comes first,
then one line per table, then the total.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from toolkit.logic.status import Status, duration

# The phases in the user's words, the ones that need attention first.
PHASE_WORDS = {
    "failed": "failed",
    "starting": "starting",
    "snapshot": "copying snapshot",
    "replay": "replaying",
    "drained": "drained",
    "done": "done",
}
HEADER = ("table", "phase", "snapshot", "records applied", "lag")


def table_pairs(text: str) -> list[tuple[str, str]]:
    """The run's tables as its state lists them: a JSON list of [source, target] pairs,
    in the run's order. ValueError when it is anything else (a damaged file)."""
    try:
        listed = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ValueError("its list of tables is not JSON") from None
    if not isinstance(listed, list) or not listed:
        raise ValueError("its list of tables is empty or not a list")
    pairs = []
    for pair in listed:
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(n, str) for n in pair)
        ):
            raise ValueError(f"its list of tables holds {pair!r}, not a [source, target] pair")
        pairs.append((pair[0], pair[1]))
    return pairs


@dataclass(frozen=True)
class TableStatus:
    source: str
    target: str
    status: Status  # built as not running when the table failed: it copies nothing now
    failed: str = ""  # the one error line of the table's last failure; "" when none

    @property
    def phase(self) -> str:
        return "failed" if self.failed else self.status.phase

    def ready(self, max_lag: float | None) -> bool:
        return not self.failed and self.status.ready(max_lag)

    def as_json(self, max_lag: float | None) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            **self.status.as_json(),
            "phase": self.phase,
            "failed": self.failed,
            "ready": self.ready(max_lag),
        }

    def cells(self) -> tuple[str, ...]:
        now = self.status
        name = self.source if self.target == self.source else f"{self.source} -> {self.target}"
        return (
            name,
            PHASE_WORDS.get(self.phase, self.phase),
            now.snapshot_text(with_rate=False),
            f"{now.records_applied:,}" if now.follows_stream else "-",
            "-" if self.failed else now.lag_text(no_stream="-"),  # a failed table follows nothing
        )


@dataclass(frozen=True)
class Total:
    tables: int
    phases: dict[str, int]  # tables per phase ("failed", "snapshot", "replay", ...)
    ready_tables: int
    items_copied: int
    items_estimate: int | None  # None: a table's estimate is not known
    eta_seconds: float | None  # the snapshots still copying, at their rates together
    records_applied: int
    shards_open: int
    shards_finished: int
    follows_stream: bool  # a table (not failed) follows a stream
    lag_seconds: float | None  # the largest of the tables not failed; None: one not known


@dataclass(frozen=True)
class RunOfTables:
    live: bool  # a process holds the run
    tables: tuple[TableStatus, ...]

    def ready(self, max_lag: float | None) -> bool:
        """Ready for the cut-over: every table ready, none failed."""
        return bool(self.tables) and all(table.ready(max_lag) for table in self.tables)

    def total(self, max_lag: float | None) -> Total:
        going = [t.status for t in self.tables if not t.failed]
        following = [s for s in going if s.follows_stream]
        lags = [s.lag_seconds for s in following]
        estimates = [t.status.items_estimate for t in self.tables]
        return Total(
            tables=len(self.tables),
            phases=dict(Counter(t.phase for t in self.tables)),
            ready_tables=sum(t.ready(max_lag) for t in self.tables),
            items_copied=sum(t.status.items_copied for t in self.tables),
            items_estimate=None if None in estimates else sum(e or 0 for e in estimates),
            eta_seconds=_eta([s for s in going if not s.snapshot_done]),
            records_applied=sum(t.status.records_applied for t in self.tables),
            shards_open=sum(t.status.shards_open for t in self.tables),
            shards_finished=sum(t.status.shards_finished for t in self.tables),
            follows_stream=bool(following),
            lag_seconds=None if None in lags or not lags else max(x or 0.0 for x in lags),
        )

    def as_json(self, max_lag: float | None) -> dict[str, Any]:
        return {
            "tables": [table.as_json(max_lag) for table in self.tables],
            "total": asdict(self.total(max_lag)),
            "ready": self.ready(max_lag),
        }

    def lines(self, max_lag: float | None) -> list[str]:
        total = self.total(max_lag)
        return [_summary(total, self.live), *_rows(self.tables), _total_line(total)]


def _eta(copying: list[Status]) -> float | None:
    """The snapshots still copying share the budgets: their items left at their rates
    together. None when one's size or the rates are not known."""
    if any(s.items_estimate is None for s in copying):
        return None
    left = sum(max(0, (s.items_estimate or 0) - s.items_copied) for s in copying)
    rate = sum(s.items_per_second or 0.0 for s in copying)
    return left / rate if left and rate > 0 else None


def _summary(total: Total, live: bool) -> str:
    phases = ", ".join(
        f"{total.phases[phase]} {words}"
        for phase, words in PHASE_WORDS.items()
        if phase in total.phases
    )
    others = sum(n for phase, n in total.phases.items() if phase not in PHASE_WORDS)
    phases += f", {others} other" if others else ""
    running = "running" if live else "not running"
    return (
        f"{total.tables} tables ({running}): {phases}; "
        f"{total.ready_tables} of {total.tables} ready for the cut-over"
    )


def _rows(tables: tuple[TableStatus, ...]) -> list[str]:
    """A header and one line per table, in columns; a failed table's line ends with why."""
    cells = [HEADER, *(table.cells() for table in tables)]
    widths = [max(len(row[column]) for row in cells) for column in range(len(HEADER))]
    why = ["", *(f"  why: {table.failed}" if table.failed else "" for table in tables)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        + reason
        for row, reason in zip(cells, why, strict=True)
    ]


def _total_line(total: Total) -> str:
    estimate = f" of about {total.items_estimate:,}" if total.items_estimate else ""
    eta = f", about {duration(total.eta_seconds)} left" if total.eta_seconds else ""
    if not total.follows_stream:
        stream = "no stream followed"
    else:
        lag = "unknown" if total.lag_seconds is None else f"{total.lag_seconds:.1f} s"
        stream = f"{total.records_applied:,} records applied, largest lag {lag}"
    return f"total: {total.items_copied:,}{estimate} items copied{eta}; {stream}"
