"""What a run's state file says about it, read by another process: pure figures, no I/O.

A live `toolkit migrate` notes its figures in the state at most once a second
(toolkit/driver/observers.py); `toolkit status` reads them with the file's own tables
(segments copied, export files finished, shards and records applied) and tells
whether the migration is ready for the cut-over: the stream drained, or the lag below
what was asked, or the run done with no stream to follow.

Every kind of run copies in units: a table source's scan segments, an export
source's data files, an export target's scan segments (one data file each). The
claims every run makes at its start tell the kinds apart, in old state files too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

# What a "segment" is for each kind of run, in the user's words.
SEGMENTS_ARE = {
    "table": "scan segments",
    "export source": "data files of the export",
    "export target": "scan segments, each written as a data file",
}


@dataclass(frozen=True)
class Tables:
    """The counts of the state's own tables (a table a state lacks counts 0)."""

    segments_total: int  # rows of scan segments (a table source's)
    segments_done: int
    items_copied: int  # the items of the segments' checkpoints
    shards_open: int
    shards_finished: int
    records_applied: int  # stream records, counted before the per-batch collapse
    files_done: int = 0  # data files finished: loaded (export source) or written (target)
    files_items: int = 0


@dataclass(frozen=True)
class Status:
    kind: str  # what the run copies: "table", "export source" or "export target"
    phase: str
    live: bool  # a process holds the run
    done: bool  # the snapshot is copied and there is no stream to follow: nothing left
    follows_stream: bool  # a stream is recorded (streamChanges)
    snapshot_done: bool
    segments_done: int
    segments_total: int | None  # None: not recorded (a state older than the run's notes)
    segments_are: str  # what a segment is for this kind of run
    items_copied: int
    items_estimate: int | None  # the source's ItemCount when the run started
    items_per_second: float | None
    eta_seconds: float | None
    shards_open: int
    shards_finished: int
    records_applied: int  # stream records applied, counted before the per-batch collapse
    checkpoint_age_seconds: float | None
    lag_seconds: float | None  # None: not known (no replay yet, or not noted), or no stream
    drained: bool

    def ready(self, max_lag: float | None) -> bool:
        """Ready for the cut-over: done or drained, or the lag below ``max_lag`` seconds."""
        if self.done or self.drained:
            return True
        return max_lag is not None and self.lag_seconds is not None and self.lag_seconds < max_lag

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        age = self.checkpoint_age_seconds
        return [
            f"phase: {self.phase} ({'running' if self.live else 'not running'})",
            f"snapshot: {self.snapshot_text()} ({self.segments_done} of "
            f"{'?' if self.segments_total is None else self.segments_total} {self.segments_are})",
            self._stream(),
            f"last checkpoint: {'none' if age is None else duration(age) + ' ago'}",
            f"replication lag: {self.lag_text()}",
        ]

    def snapshot_text(self, with_rate: bool = True) -> str:
        """The snapshot's items and ETA (and this run's rate, unless a row has no room)."""
        if self.snapshot_done:
            return f"done, {self.items_copied:,} items"
        copied = f"{self.items_copied:,}" + (
            f" of about {self.items_estimate:,}" if self.items_estimate else ""
        )
        rate = (
            f", {self.items_per_second:,.0f} items/s" if self.items_per_second and with_rate else ""
        )
        eta = f", about {duration(self.eta_seconds)} left" if self.eta_seconds else ""
        return f"{copied} items{rate}{eta}"

    def _stream(self) -> str:
        if not self.follows_stream:
            return "stream: none followed"
        return (
            f"stream: {self.shards_open} shards open, {self.shards_finished} finished, "
            f"{self.records_applied:,} records applied (counted before the per-batch collapse)"
        )

    def lag_text(self, no_stream: str = "none (no stream followed)") -> str:
        if not self.follows_stream:
            return no_stream
        if self.lag_seconds is None:
            return "unknown"
        return f"{self.lag_seconds:.1f} s" + (" (drained)" if self.drained else "")


def status_of(notes: Mapping[str, str], tables: Tables, live: bool, now: float) -> Status:
    """The run's status from its noted figures and its tables, at wall-clock ``now``."""
    kind = kind_of(notes)
    snapshot_done = notes.get("snapshot") == "done"
    # The stream is recorded before any copy starts: none recorded once copied, none to follow.
    done = snapshot_done and not notes.get("stream")
    drained = not done and (
        (bool(notes.get("drained_at")) and not live) or _drained_now(notes, live)
    )
    phase = notes.get("phase") or ("replay" if snapshot_done else "starting")
    if done or drained:
        phase = "done" if done else "drained"
    segments_done, items = _copied(kind, notes, tables, live)
    rate = _rate(notes) if live else None  # a run that is not running copies nothing
    estimate = _number(notes.get("source_items"))
    left = None if estimate is None else max(0.0, estimate - items)
    eta = left / rate if rate and left is not None and not snapshot_done else None
    checkpoint = _number(notes.get("checkpoint_at"))
    return Status(
        kind=kind,
        phase=phase,
        live=live,
        done=done,
        follows_stream=bool(notes.get("stream")),
        snapshot_done=snapshot_done,
        segments_done=segments_done,
        segments_total=_segments_total(notes, tables),
        segments_are=SEGMENTS_ARE[kind],
        items_copied=items,
        items_estimate=None if estimate is None else int(estimate),
        items_per_second=rate,
        eta_seconds=eta,
        shards_open=tables.shards_open,
        shards_finished=tables.shards_finished,
        records_applied=tables.records_applied,
        checkpoint_age_seconds=None if checkpoint is None else max(0.0, now - checkpoint),
        lag_seconds=0.0 if drained else None if done else _number(notes.get("lag_seconds")),
        drained=drained,
    )


def _copied(kind: str, notes: Mapping[str, str], tables: Tables, live: bool) -> tuple[int, int]:
    """Units done and items copied: a table's segments, an export's data files; while the
    run is live, the items it noted too (of its pages, in a finished unit or not)."""
    done, items = (
        (tables.segments_done, tables.items_copied)
        if kind == "table"
        else (tables.files_done, tables.files_items)
    )
    if live:
        items = max(items, int(_number(notes.get("snapshot_items")) or 0))
    return done, items


def kind_of(notes: Mapping[str, str]) -> str:
    """The kind of run, from the claims it made at its start."""
    if "source exports" in notes:
        return "export source"
    if "target export" in notes:
        return "export target"
    return "table"


def _segments_total(notes: Mapping[str, str], tables: Tables) -> int | None:
    """A table's segment rows, else the scan's claimed segments (an export target's files),
    else the count the snapshot noted at its start (an export source's files)."""
    for found in (tables.segments_total, _number(notes.get("scan segments"))):
        if found:
            return int(found)
    noted = _number(notes.get("segments_total"))
    return None if noted is None else int(noted)


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
    """A noted figure; None when absent or not a finite number (a note is text)."""
    try:
        number = float(text) if text else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
