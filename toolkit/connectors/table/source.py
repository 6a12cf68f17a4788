"""A table as the source: DynamoDB, or Alternator (the way back), as capabilities.

Its parts are the parallel Scan's segments, one wave, each resumed after its last
recorded page; its stream is its own, enabled by the run (or an existing one, as
``toolkit.wire.stream_setup`` decides).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from toolkit.config import MigrationConfig
from toolkit.connectors.base import ANOTHER_TABLE, Claim, Connect, CopyJob, Described, Page, Part
from toolkit.connectors.table.fit import check_source_fits
from toolkit.errors import UserError
from toolkit.logic.sizing import default_segments
from toolkit.logic.table_schema import check_renames, key_schema
from toolkit.wire.connections import Connection, connect
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.scan import Table, scan_answers
from toolkit.wire.schema import describe_source, ttl_attribute
from toolkit.wire.stream_setup import Followed, StreamPlan, plan_stream, refuse_stream_on_tablets
from toolkit.wire.throughput import shared


class TableSource:
    parts_at_once: int | None = None  # every segment at once, unless maxMapTasks or the engine says

    def __init__(self, config: MigrationConfig, connecting: Connect = connect) -> None:
        self.config = config
        self.name = config.source.table
        self.connection: Connection = connecting("source", config.source)

    def describe(self) -> Described:
        config, where = self.config, self.connection.where
        description = describe_source(self.connection.control(), self.name, where)
        ttl = ttl_attribute(self.connection.control(), self.name, where)
        keys = tuple(k.name for k in key_schema(description))
        check_renames(list(config.rename_map.items()), list(keys), ttl, self.name, config.origin)
        self._check_skipped(self._segments(description))
        check_source_fits(config, self.connection, description)
        items, size = description.get("ItemCount", "?"), description.get("TableSizeBytes", "?")
        what = f"Copying the snapshot of {self.name} (about {items} items, {size} bytes)"
        return Described(description, ttl, keys, (self.connection, description), "segments", what)

    def claims(self, described: Described) -> list[Claim]:
        segments = str(self._segments(described.description))
        return [
            Claim("source table", self.name, ANOTHER_TABLE),
            Claim("scan segments", segments, "keep scanSegments, or use a new --state"),
        ]

    def waves(self, described: Described) -> list[list[Part]]:
        skipped = set(self.config.skip_segments)
        total = self._segments(described.description)
        return [[Part(f"segment {n}", n, detail=total, skipped=n in skipped) for n in range(total)]]

    def plan_stream(
        self, described: Described, followed: Followed, accept_existing: bool
    ) -> StreamPlan:
        plan = plan_stream(described.description, followed, accept_existing)
        if plan.arn is None and self.config.source.type == "alternator":
            refuse_stream_on_tablets(self.connection.control(), self.name, self.connection.where)
        return plan

    @contextmanager
    def reader(
        self, job: CopyJob, share: float, connections: int, policy: RetryPolicy
    ) -> Iterator[SegmentReader]:
        plane = self.connection.data_plane(connections, patience=job.patience)
        reports = not self.config.source.remove_consumed_capacity
        table = Table(plane, self.name, policy, shared(job.read_units, share), reports)
        try:
            yield SegmentReader(table, job.page_items)
        finally:
            plane.close()

    def _segments(self, description: dict[str, Any]) -> int:
        return self.config.source.scan_segments or default_segments(description)

    def _check_skipped(self, segments: int) -> None:
        beyond = [segment for segment in self.config.skip_segments if segment >= segments]
        if beyond:
            raise UserError(
                f"{self.config.origin}: skipSegments lists segment {beyond[0]}, but the scan has "
                f"{segments} segments (0 to {segments - 1}); give the scanSegments of the run "
                "that skipSegments comes from"
            )


class SegmentReader:
    """A scan segment's pages: its items as puts, each page's last key its position."""

    def __init__(self, table: Table, page_items: int | None) -> None:
        self.table, self.page_items = table, page_items

    def pages(self, part: Part, position: Any) -> Iterator[Page]:
        answers = scan_answers(
            self.table, part.number, part.detail, page_items=self.page_items, start=position
        )
        for answer in answers:
            items = answer.body.get("Items", [])
            requests = [{"PutRequest": {"Item": item}} for item in items]
            yield Page(requests, answer.size, answer.body.get("LastEvaluatedKey"))
