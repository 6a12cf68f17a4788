"""The snapshot's work for a Spark task: tools rebuilt from the config, in the task.

Picklable: it holds the validated config and numbers, never a connection, a lock
or the state. Each task opens its own connections and gets its share of the read
and write budgets; what it copied is recorded by the driver when the task ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from toolkit.config import MigrationConfig
from toolkit.wire.connections import connect
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.throughput import shared
from toolkit.work.segment_copy import (
    CopyTools,
    SegmentCopied,
    SegmentStart,
    SnapshotJob,
    copy_segment,
)
from toolkit.work.writer import BatchWriter, TargetCapabilities

CONNECTIONS = 2  # a task copies one segment: a page's writes, one Scan at a time


@dataclass(frozen=True)
class SegmentsFromConfig:
    config: MigrationConfig
    job: SnapshotJob
    target_keys: tuple[str, ...]  # the target's key attributes, to name a failed write
    read_units: float | None  # the run's whole budgets, shared out by the engine
    write_units: float | None
    patience: float  # seconds of retrying before a request's failure is final

    @contextmanager
    def open(self, share: float) -> Iterator[Callable[[SegmentStart], SegmentCopied]]:
        policy = RetryPolicy(give_up_after=self.patience)
        config = self.config
        source = connect("source", config.source).data_plane(CONNECTIONS, patience=self.patience)
        target = connect("target", config.target).data_plane(CONNECTIONS, patience=self.patience)
        try:
            writer = BatchWriter(
                *(target, config.target.table, TargetCapabilities.of(config.target)),
                *(shared(self.write_units, share), policy, self.target_keys),
            )
            tools = CopyTools(source, writer, shared(self.read_units, share), policy)
            yield lambda start: copy_segment(self.job, start, tools)
        finally:
            source.close()
            target.close()
