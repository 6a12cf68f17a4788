"""A DynamoDB export in S3 as the source, then (streamChanges) the live table's stream.

Everything is read and checked before any table is touched (see manifests.py), and
also the key schema against the live table and the export's time against the
stream's creation: changes made between an export and a later stream would be in
neither. The parts are the data files, one wave per export: the FULL one first,
then each INCREMENTAL one in order. The stream is expected to exist already: it
has to predate the export.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from toolkit.config import MigrationConfig
from toolkit.connectors.base import Claim, Connect, CopyJob, Described, Page, Part
from toolkit.connectors.s3_export.files import ExportPart, file_pages
from toolkit.connectors.s3_export.loading import check_first_item, exports_named, load_exports
from toolkit.errors import UserError
from toolkit.logic.export_format import show_time
from toolkit.logic.table_schema import check_renames, key_schema, show
from toolkit.wire.connections import Connection, connect
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.s3_store import Store, s3_store
from toolkit.wire.schema import describe_source, ttl_attribute
from toolkit.wire.service_errors import translated
from toolkit.wire.stream_setup import RETENTION_HOURS, USABLE_VIEWS, Followed, StreamPlan

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

DEFAULT_FILES_AT_ONCE = 8


class ExportSource:
    parts_at_once: int | None = DEFAULT_FILES_AT_ONCE

    def __init__(self, config: MigrationConfig, connecting: Connect = connect) -> None:
        export = config.source.s3_export
        assert export is not None  # this kind's config
        self.config, self.export, self.connecting = config, export, connecting
        self.name = config.source.table or "(the exported one)"
        self.store: Store = s3_store("source", config.source, export.s3, export.bucket)
        self._parts: list[ExportPart] = []

    def describe(self) -> Described:
        config = self.config
        self._parts = parts = load_exports(self.store, self.export)
        description = dict(self.export.description)
        live = self._live_table(description) if config.source.table else None
        check_first_item(self.store, parts, description)
        ttl = ttl_attribute(live[0].control(), config.source.table, live[0].where) if live else None
        keys = tuple(k.name for k in key_schema(description))
        check_renames(list(config.rename_map.items()), list(keys), ttl, self.name, config.origin)
        what = f"Loading {exports_named(self.store, parts)}"
        return Described(description, ttl, keys, live, "data files", what)

    def claims(self, described: Described) -> list[Claim]:
        # Exports added to a finished load would undo newer changes: a new list, a new state.
        exports = " ".join(p.summary.export_arn for p in self._parts)
        return [Claim("source exports", exports, "use another --state for other exports")]

    def waves(self, described: Described) -> list[list[Part]]:
        return [
            [
                Part(
                    self.store.url(f.key),
                    n,
                    group=part.summary.export_arn,
                    key=f.key,
                    resumable=False,
                    detail=(part.summary, f),
                )
                for n, f in enumerate(part.files)
            ]
            for part in self._parts
        ]

    def plan_stream(
        self, described: Described, followed: Followed, accept_existing: bool
    ) -> StreamPlan:
        assert described.live is not None  # streamChanges needs the live table: checked
        source, live = described.live
        until = self._parts[-1].summary.covered_until
        return stream_plan(live, followed, until, source.streams(), source.where)

    @contextmanager
    def reader(
        self, job: CopyJob, share: float, connections: int, policy: RetryPolicy
    ) -> Iterator[FileReader]:
        yield FileReader(self.store, job.key_names)

    def _live_table(self, description: dict[str, Any]) -> tuple[Connection, dict[str, Any]]:
        """The live table the export came from: its connection and description, keys checked."""
        table = self.config.source.table
        source = self.connecting("source", self.config.source)
        live = describe_source(source.control(), table, source.where)
        if key_schema(live) != key_schema(description):
            raise UserError(
                f"source table {table} has key schema [{show(key_schema(live))}] but "
                f"source.tableDescription says [{show(key_schema(description))}]; "
                "fix tableDescription"
            )
        description["TableName"] = table
        return source, live


class FileReader:
    """A data file's pages: read whole (it is recorded whole), so no position is used."""

    def __init__(self, store: Store, key_names: tuple[str, ...]) -> None:
        self.store, self.key_names = store, key_names

    def pages(self, part: Part, position: Any) -> Iterator[Page]:
        summary, data_file = part.detail
        return file_pages(self.store, summary, data_file, self.key_names)


def stream_plan(
    live: dict[str, Any],
    followed: Followed,
    covered_until: datetime | None,
    streams: DynamoDBStreamsClient,
    where: str,
) -> StreamPlan:
    """The live table's stream, which must be older than the export (and still hold its changes)."""
    table = live["TableName"]
    spec = live.get("StreamSpecification") or {}
    arn = live.get("LatestStreamArn") if spec.get("StreamEnabled") else None
    if arn is None or spec.get("StreamViewType") not in USABLE_VIEWS:
        raise UserError(
            f"table {table} has no stream with new images; enable its stream (NEW_IMAGE or "
            "NEW_AND_OLD_IMAGES) first, then take the export, then run again"
        )
    recorded = followed.arn
    if recorded is not None and recorded != arn:
        raise UserError(
            f"the state file {followed.state_file} follows stream {recorded}, but table "
            f"{table} now has stream {arn}; start a new migration with a new --state"
        )
    if covered_until is None:
        raise UserError(
            "the export does not say when it was taken (no exportTime in its summary), so "
            "whether the stream holds every change since cannot be told; streamChanges needs "
            "an export made by DynamoDB's Export to S3"
        )
    with translated("DescribeStream", where):
        created = streams.describe_stream(StreamArn=arn, Limit=1)["StreamDescription"].get(
            "CreationRequestDateTime"
        )
    if created is not None and covered_until < created:
        raise UserError(
            f"the export was taken at {show_time(covered_until)}, before the stream of table "
            f"{table} was created at {show_time(created)}: changes made in between are in "
            "neither; take a new export of the table and run again"
        )
    oldest = datetime.now(UTC) - timedelta(hours=RETENTION_HOURS)
    if recorded is None and covered_until < oldest:
        raise UserError(
            f"the export was taken at {show_time(covered_until)}, more than {RETENTION_HOURS} "
            "hours ago: the stream no longer holds the changes made since; take a new export"
        )
    return StreamPlan(arn, resumed=recorded is not None)
