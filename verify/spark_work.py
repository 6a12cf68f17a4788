"""The comparison's work for a Spark task: its own tables, rebuilt from the config.

Picklable: the validated config, the layout read by the driver and the pass's
settings. A task compares one segment with ``Comparison.segment``, the same unit as
the embedded engine's threads, and brings its confirmed differences back to the
driver, whose sink counts, reports and repairs them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from toolkit.config import MigrationConfig
from toolkit.wire.connections import connect
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.scan import Table
from toolkit.wire.throughput import shared
from verify.compare import Comparison, PassSettings, SegmentCompared, SegmentUnit
from verify.diff import Difference
from verify.layout import Layout

CONNECTIONS = 2  # a task compares one segment: one request at a time on each side


@dataclass
class _Kept:
    """The task's sink: its differences go back to the driver with its result."""

    differences: list[Difference] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def confirmed(self, difference: Difference) -> None:
        with self._lock:
            self.differences.append(difference)


class _Quiet:
    """No progress bar inside a task: the driver counts a segment when it ends."""

    def direction_started(self, name: str, segments: int) -> None: ...
    def page_compared(self, items: int) -> None: ...
    def direction_done(self) -> None: ...


@dataclass(frozen=True)
class ComparisonFromConfig:
    config: MigrationConfig
    layout: Layout
    settings: PassSettings
    read_units: float | None  # the source's whole read budget, shared out by the engine
    patience: float

    @contextmanager
    def open(self, share: float) -> Iterator[Callable[[SegmentUnit], SegmentCompared]]:
        policy = RetryPolicy(give_up_after=self.patience)
        config, patience = self.config, self.patience
        source = connect("source", config.source).data_plane(CONNECTIONS, patience=patience)
        target = connect("target", config.target).data_plane(CONNECTIONS, patience=patience)
        kept = _Kept()
        comparison = Comparison(
            self.layout,
            self.settings,
            Table(source, self.layout.source_table, policy, shared(self.read_units, share)),
            Table(target, self.layout.target_table, policy),
            kept,
            _Quiet(),
        )

        def compare(unit: SegmentUnit) -> SegmentCompared:
            compared = comparison.segment(unit)
            taken, kept.differences = kept.differences, []
            return replace(compared, differences=taken)

        try:
            yield compare
        finally:
            source.close()
            target.close()
