"""The typed configuration of one run: what parse_config gives the rest of the toolkit."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.config.access import Credentials
from toolkit.config.alternator import ClientSettings, NodeDiscovery
from toolkit.config.endpoint import Endpoint
from toolkit.config.exports import ExportSource, ExportTarget
from toolkit.config.validation import ValidationConfig


@dataclass(frozen=True)
class SourceConfig:
    type: str
    table: str
    region: str | None
    endpoint: Endpoint | None
    credentials: Credentials
    scan_segments: int | None
    read_throughput: int | None
    throughput_read_percent: float | None
    max_map_tasks: int | None
    ca_bundle: Path | None  # the CA certificates to trust on an https endpoint
    s3_export: ExportSource | None = None  # type dynamodb-s3-export: the export to read
    nodes: NodeDiscovery | None = None  # alternator: spread reads over the live nodes
    remove_consumed_capacity: bool = False  # alternator: never ask for ConsumedCapacity
    stream_visibility_seconds: float = 0.0  # how late a change can show up in the stream
    client: ClientSettings = field(default_factory=ClientSettings)  # alternator: its client


@dataclass(frozen=True)
class TargetConfig:
    type: str
    table: str
    region: str | None
    endpoint: Endpoint | None
    credentials: Credentials
    scan_segments: int | None
    stream_changes: bool
    skip_initial_snapshot_transfer: bool  # False unless stream_changes, as in the Migrator
    write_throughput: int | None
    throughput_write_percent: float | None
    billing_mode: str | None  # PAY_PER_REQUEST or PROVISIONED; None: as the source's
    batch_size: int  # items per BatchWriteItem: at most 25 on dynamodb, 100 on alternator
    remove_consumed_capacity: bool  # default True on alternator, which may reject it
    ca_bundle: Path | None
    nodes: NodeDiscovery | None  # alternator: spread requests over the live nodes
    write_isolation: str | None  # alternator: tag a table the toolkit creates
    tablets: str = "auto"  # alternator: may a table the toolkit creates use tablets
    s3_export: ExportTarget | None = None  # type dynamodb-s3-export: where to write
    client: ClientSettings = field(default_factory=ClientSettings)  # alternator: its client


@dataclass(frozen=True)
class Rename:
    source_name: str
    target_name: str


@dataclass(frozen=True)
class TableEntry:
    """One table of the run, with what it does differently from the shared sections."""

    source: str
    target: str
    renames: tuple[Rename, ...] | None = None  # None: the file's top-level renames
    scan_segments: int | None = None
    skip_initial_snapshot_transfer: bool | None = None


@dataclass(frozen=True)
class TableSelection:
    """The run's tables: an explicit list, or a pattern and/or a tag of source tables."""

    entries: tuple[TableEntry, ...] = ()
    pattern: str | None = None  # fnmatch over the source's table names
    tag: tuple[str, str | None] | None = None  # key, value (None: any value)

    @property
    def listed(self) -> bool:
        return bool(self.entries)

    def describe(self) -> str:
        """The selection in a line: the log's, and what the state keeps."""
        if self.listed:
            return "tables " + ", ".join(
                e.source if e.source == e.target else f"{e.source} -> {e.target}"
                for e in self.entries
            )
        said = [f"pattern {self.pattern!r}"] if self.pattern is not None else []
        if self.tag is not None:
            key, value = self.tag
            said.append(f"tag {key}" + ("" if value is None else f"={value}"))
        return "tables with " + " and ".join(said)


@dataclass(frozen=True)
class MigrationConfig:
    source: SourceConfig
    target: TargetConfig
    renames: tuple[Rename, ...]
    path: Path | None  # the file it was loaded from
    notes: tuple[str, ...]  # one line per Migrator key that has no effect here
    validation: ValidationConfig = dataclasses.field(default_factory=ValidationConfig)
    skip_segments: tuple[int, ...] = ()  # a Migrator savepoint's finished scan segments
    metrics_port: int | None = None  # serve Prometheus metrics there (--metrics-port wins)
    tables: TableSelection | None = None  # several tables (toolkit.config.tables); None: one

    @property
    def rename_map(self) -> dict[str, str]:
        """Each renamed attribute's new name, by its old one."""
        return {rename.source_name: rename.target_name for rename in self.renames}

    @property
    def origin(self) -> str:
        """How errors name the file: its path, or "config" when it came from elsewhere."""
        return str(self.path or "config")
