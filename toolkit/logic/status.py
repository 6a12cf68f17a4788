"""What a run's state file says about it, read by another process: pure figures, no I/O.

A live `toolkit migrate` notes its figures in the state at most once a second
(toolkit/driver/observers.py); `toolkit status` reads them with the file's own tables
(segments copied, shards and records applied) and tells whether the migration
is ready for the cut-over: the stream drained, or the lag below what was asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Tables:
    """The counts of the state's own tables."""

    segments_total: int
    segments_done: int
    items_copied: int
    shards_open: int
    shards_finished: int
    records_applied: int


@dataclass(frozen=True)
class Status:
    phase: str
    live: bool  # a process holds the run
    snapshot_done: bool
    segments_done: int
    segments_total: int
    items_copied: int
    items_estimate: int | None  # the source's ItemCount when the run started
    items_per_second: float | None
    eta_seconds: float | None
    shards_open: int
    shards_finished: int
    records_applied: int
    checkpoint_age_seconds: float | None
    lag_seconds: float | None  # None: not known (no replay yet, or not noted)
    drained: bool

    def ready(self, max_lag: float | None) -> bool:
        """Ready for the cut-over: drained, or the lag below ``max_lag`` seconds."""
        if self.drained:
            return True
        return max_lag is not None and self.lag_seconds is not None and self.lag_seconds < max_lag

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        copied = f"{self.items_copied:,}" + (
            f" of about {self.items_estimate:,}" if self.items_estimate else ""
        )
        rate = f", {self.items_per_second:,.0f} items/s" if self.items_per_second else ""
        eta = f", about {_duration(self.eta_seconds)} left" if self.eta_seconds else ""
        snapshot = "done" if self.snapshot_done else f"{copied} items{rate}{eta}"
        lag = "unknown" if self.lag_seconds is None else f"{self.lag_seconds:.1f} s"
        age = self.checkpoint_age_seconds
        return [
            f"phase: {self.phase} ({'running' if self.live else 'not running'})",
            f"snapshot: {snapshot} ({self.segments_done} of {self.segments_total} segments)",
            f"stream: {self.shards_open} shards open, {self.shards_finished} finished, "
            f"{self.records_applied:,} records applied",
            f"last checkpoint: {'none' if age is None else _duration(age) + ' ago'}",
            f"replication lag: {lag}" + (" (drained)" if self.drained else ""),
        ]


def status_of(notes: Mapping[str, str], tables: Tables, live: bool, now: float) -> Status:
    """The run's status from its noted figures and its tables, at wall-clock ``now``."""
    snapshot_done = notes.get("snapshot") == "done"
    drained = (bool(notes.get("drained_at")) and not live) or _drained_now(notes, live)
    phase = notes.get("phase") or ("replay" if snapshot_done else "starting")
    if drained:
        phase = "drained"
    rate = _rate(notes)
    estimate = _number(notes.get("source_items"))
    left = None if estimate is None else max(0.0, estimate - tables.items_copied)
    eta = left / rate if rate and left is not None and not snapshot_done else None
    checkpoint = _number(notes.get("checkpoint_at"))
    return Status(
        phase=phase,
        live=live,
        snapshot_done=snapshot_done,
        segments_done=tables.segments_done,
        segments_total=tables.segments_total,
        items_copied=tables.items_copied,
        items_estimate=None if estimate is None else int(estimate),
        items_per_second=rate,
        eta_seconds=eta,
        shards_open=tables.shards_open,
        shards_finished=tables.shards_finished,
        records_applied=tables.records_applied,
        checkpoint_age_seconds=None if checkpoint is None else max(0.0, now - checkpoint),
        lag_seconds=0.0 if drained else _number(notes.get("lag_seconds")),
        drained=drained,
    )


def _drained_now(notes: Mapping[str, str], live: bool) -> bool:
    """A live replay that found every shard empty at its last note: drained for now."""
    return live and notes.get("phase") == "replay" and notes.get("quiet") == "1"


def _rate(notes: Mapping[str, str]) -> float | None:
    started, noted = _number(notes.get("snapshot_started_at")), _number(notes.get("noted_at"))
    items = _number(notes.get("snapshot_items"))
    before = _number(notes.get("snapshot_items_before")) or 0.0
    if started is None or noted is None or items is None or noted <= started:
        return None
    return (items - before) / (noted - started)


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
