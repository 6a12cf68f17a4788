"""One `toolkit migrate` run's options, its result, and the pieces its phases share."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.config import MigrationConfig
from toolkit.driver.estimate import write_budget
from toolkit.driver.metrics import Metrics
from toolkit.engines.base import Engine
from toolkit.engines.embedded import EmbeddedEngine
from toolkit.logic.table_schema import key_schema, renamed_key_schema
from toolkit.logic.tablets import TabletsChoice
from toolkit.wire.connections import Connection
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.throughput import CapacityBudget
from toolkit.work.replay import ReplaySettings, ReplaySummary
from toolkit.work.snapshot import SnapshotProgress, SnapshotSummary
from toolkit.work.state import RunState
from toolkit.work.writer import BatchWriter, TargetCapabilities


@dataclass(frozen=True)
class MigrateOptions:
    config: MigrationConfig
    state_path: Path
    page_items: int | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    accept_existing_stream: bool = False
    replay: ReplaySettings = field(default_factory=ReplaySettings)
    stream_poll_seconds: float = 5.0
    metrics: Metrics | None = None  # served on --metrics-port
    engine: Engine = field(default_factory=EmbeddedEngine)  # what runs the snapshot's segments


@dataclass(frozen=True)
class MigrationResult:
    snapshot: SnapshotSummary | None
    replay: ReplaySummary | None


@dataclass
class _Run:
    """One run's connections, state and shared pieces, built once."""

    options: MigrateOptions
    source: Connection
    target: Connection
    description: dict[str, Any]
    state: RunState
    progress: SnapshotProgress
    stop: threading.Event
    tablets: TabletsChoice | None = None  # an Alternator target's, from check_target

    @property
    def config(self) -> MigrationConfig:
        return self.options.config

    @property
    def renames(self) -> dict[str, str]:
        return self.config.rename_map

    def writer(self, connections: int) -> BatchWriter:
        keys = renamed_key_schema(key_schema(self.description), self.renames)
        target = self.config.target
        return BatchWriter(
            self.target.data_plane(connections, patience=self.options.retry.give_up_after),
            target.table,
            TargetCapabilities.of(target),
            CapacityBudget(write_budget(target)),
            self.options.retry,
            [k.name for k in keys],
            None if self.options.metrics is None else self.options.metrics.writes_failed.inc,
        )
