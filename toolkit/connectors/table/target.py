"""A table as the target: DynamoDB, or Alternator, as capabilities of one writer.

It is checked before the run's state exists (its keys, that it is not the source,
an Alternator target's tablets), created with the source's schema or kept, given
the source's TTL attribute, and takes both the snapshot's pages and the stream's
changes through one BatchWriter (acknowledged before anything is recorded).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from toolkit.config import MigrationConfig
from toolkit.connectors.base import (
    ANOTHER_TABLE,
    Claim,
    Connect,
    CopyJob,
    Described,
    Part,
    Recorded,
    Request,
)
from toolkit.logic.table_identity import refuse_same_table
from toolkit.logic.tablets import TabletsChoice
from toolkit.wire.connections import connect
from toolkit.wire.dataplane import DataPlane
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.schema import check_target_keys, copy_ttl, describe, ensure_target, plan_tablets
from toolkit.wire.throughput import shared
from toolkit.wire.writer import BatchWriter, TargetCapabilities


class TableTarget:
    takes_changes: bool = True
    local_files: bool = False

    def __init__(
        self,
        config: MigrationConfig,
        connecting: Connect = connect,
        write_failed: Callable[[int], None] | None = None,  # counts writes that failed for good
    ) -> None:
        self.config = config
        self.name = config.target.table
        self.connection = connecting("target", config.target)
        self.write_failed = write_failed

    def check(self, described: Described) -> TabletsChoice | None:
        """Reach the target (its endpoint, TLS and credentials), check an existing table's
        keys, refuse the source table itself, and on Alternator decide whether the table
        can have a stream (the way back)."""
        target, config = self.connection, self.config
        existing = describe(target.control(), self.name, target.where)
        if existing is not None:
            if described.live is not None:
                source, description = described.live
                refuse_same_table(description, existing, (source.where, target.where))
            check_target_keys(described.description, existing, config.rename_map)
        if config.target.type != "alternator":
            return None
        return plan_tablets(
            *(target.control(), self.name, config.target.tablets),
            *(existing is not None, target.where),
        )

    def claims(self) -> list[Claim]:
        return [Claim("target table", self.name, ANOTHER_TABLE)]

    def begin(self, recorded: Recorded) -> dict[str, str]:
        return {}

    def prepare(self, described: Described, checked: Any, stop: threading.Event) -> None:
        """Create or check the target table, then copy the source's TTL attribute."""
        target, control = self.config.target, self.connection.control()
        renames = self.config.rename_map
        ensure_target(
            *(described.description, control, self.name, target.billing_mode, renames),
            self.connection.where,
            target.write_isolation,
            stop,
            checked,
        )
        if not stop.is_set():  # else the caller stops; TTL is copied by the next run
            copy_ttl(control, self.name, described.ttl, renames, self.connection.where)

    def address(self, part: Part) -> Part:
        return part

    @contextmanager
    def writer(
        self, job: CopyJob, share: float, connections: int, policy: RetryPolicy
    ) -> Iterator[TableWriter]:
        plane = self.connection.data_plane(connections, patience=job.patience)
        try:
            yield TableWriter(self._batch_writer(job, share, plane, policy))
        finally:
            plane.close()

    def changes_writer(self, job: CopyJob, connections: int, policy: RetryPolicy) -> BatchWriter:
        plane = self.connection.data_plane(connections, patience=job.patience)
        return self._batch_writer(job, 1.0, plane, policy)

    def finish(self, described: Described, files: Mapping[str, tuple[int, Any]]) -> None:
        """Nothing to write at the end: every page was written as it came."""

    def _batch_writer(
        self, job: CopyJob, share: float, plane: DataPlane, policy: RetryPolicy
    ) -> BatchWriter:
        target = self.config.target
        return BatchWriter(
            plane,
            target.table,
            TargetCapabilities.of(target),
            shared(job.write_units, share),
            policy,
            list(job.target_keys),
            self.write_failed,
        )


class TableWriter:
    """Every part's pages go through the one BatchWriter: nothing to close per part."""

    def __init__(self, writer: BatchWriter) -> None:
        self.writer = writer

    @contextmanager
    def part(self, part: Part) -> Iterator[TableWriter]:
        yield self

    def write(self, requests: list[Request]) -> int | None:
        self.writer.write(requests)
        return None

    def close(self) -> None:
        return None
