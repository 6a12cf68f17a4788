"""One `toolkit migrate` run's options, its result, and the pieces its phases share."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from toolkit.config import MigrationConfig
from toolkit.connectors.base import CopyJob, Described, Source, Target
from toolkit.driver.estimate import read_budget, write_budget
from toolkit.driver.metrics import Metrics
from toolkit.engines.base import Engine
from toolkit.engines.embedded import EmbeddedEngine
from toolkit.logic.table_schema import key_schema, renamed_key_schema
from toolkit.wire.retry import RetryPolicy
from toolkit.work.replay import ReplaySettings, ReplaySummary
from toolkit.work.snapshot import SnapshotProgress, SnapshotSummary
from toolkit.work.state import RunState


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
    """One run's source, target, state and shared pieces, built once."""

    options: MigrateOptions
    source: Source
    target: Target
    described: Described
    state: RunState
    progress: SnapshotProgress
    stop: threading.Event
    checked: Any = None  # what the target's check learnt (an Alternator target's tablets)

    @property
    def config(self) -> MigrationConfig:
        return self.options.config

    @cached_property
    def job(self) -> CopyJob:
        """The copy's (and the replay's writer's) job: picklable, for any engine."""
        config, described = self.config, self.described
        keys = renamed_key_schema(key_schema(described.description), config.rename_map)
        return CopyJob(
            config,
            self.source.name,
            described.key_names,
            tuple(k.name for k in keys),
            described.ttl,
            1,
            read_budget(config.source, described.description),
            write_budget(config.target),
            self.options.retry.give_up_after,
            self.options.page_items,
            config.rename_map,
        )
