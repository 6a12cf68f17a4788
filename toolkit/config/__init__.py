"""Typed YAML configuration, validated once at the edge.

The file keeps the Scylla Migrator's key names, so a Migrator DynamoDB config
loads unchanged. Everything is checked here, before any connection is made:
each problem is one ``UserError`` line naming the key by its dotted path. Keys
the Migrator accepts but that change nothing here become ``notes`` for the CLI.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.config import limits
from toolkit.config.alternator import (
    ALTERNATOR_MAX_BATCH,
    DYNAMODB_MAX_BATCH,
    OWN,
    SETTINGS,
    ClientSettings,
    NodeDiscovery,
    note_settings,
    read_settings,
    read_source_settings,
)
from toolkit.config.endpoint import Endpoint, read_endpoint
from toolkit.config.reader import Node, read_yaml, show
from toolkit.config.s3 import check_pair, export_source, export_target, is_export
from toolkit.config.validation import ValidationConfig, read_validation
from toolkit.errors import UserError

if TYPE_CHECKING:
    from toolkit.config.s3 import ExportSource, ExportTarget

__all__ = ["ALTERNATOR_MAX_BATCH", "DYNAMODB_MAX_BATCH", "Endpoint", "NodeDiscovery"]
BILLING_MODES = ("PAY_PER_REQUEST", "PROVISIONED")
# Alternator shows a change in its stream about 10 s after the write (its streams'
# time window): a replay must be quiet that long, and a little more, to be drained.
ALTERNATOR_STREAM_DELAY = 12.0
_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
_REDACTED = "<redacted>"


@dataclass(frozen=True)
class AssumeRole:
    arn: str
    session_name: str | None


@dataclass(frozen=True, repr=False)
class Credentials:
    access_key: str | None
    secret_key: str | None
    profile: str | None
    assume_role: AssumeRole | None  # all four None: boto3's default credential chain

    def __repr__(self) -> str:
        # Keys are shown only as set or unset, so logging a config never leaks them.
        hidden = [None if v is None else _REDACTED for v in (self.access_key, self.secret_key)]
        return (
            f"Credentials(access_key={hidden[0]}, secret_key={hidden[1]}, "
            f"profile={self.profile!r}, assume_role={self.assume_role!r})"
        )


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
class MigrationConfig:
    source: SourceConfig
    target: TargetConfig
    renames: tuple[Rename, ...]
    path: Path | None  # the file it was loaded from
    notes: tuple[str, ...]  # one line per Migrator key that has no effect here
    validation: ValidationConfig = dataclasses.field(default_factory=ValidationConfig)
    skip_segments: tuple[int, ...] = ()  # a Migrator savepoint's finished scan segments
    metrics_port: int | None = None  # serve Prometheus metrics there (--metrics-port wins)

    @property
    def rename_map(self) -> dict[str, str]:
        """Each renamed attribute's new name, by its old one."""
        return {rename.source_name: rename.target_name for rename in self.renames}

    @property
    def origin(self) -> str:
        """How errors name the file: its path, or "config" when it came from elsewhere."""
        return str(self.path or "config")


_TOP_KEYS: tuple[str, ...] = ("source", "target", "renames", "savepoints", "validation")
_TOP_KEYS += ("skipSegments", "metricsPort")
_INERT_TOP = {
    "skipTokenRanges": "it applies to Cassandra sources only",
    "skipParquetFiles": "it applies to Parquet sources only",
}
_COMMON = (
    "type",
    "table",
    "region",
    "endpoint",
    "credentials",
    "removeConsumedCapacity",
    "caBundle",
)
_READ_LIMITS = {
    "scanSegments": limits.SCAN_SEGMENTS,
    "readThroughput": limits.CAPACITY_UNITS,
    "throughputReadPercent": limits.THROUGHPUT_PERCENT,
    "maxMapTasks": limits.MAP_TASKS,
}
_READ_KEYS = tuple(_READ_LIMITS)
_WRITE_KEYS = ("writeThroughput", "throughputWritePercent", "streamChanges")
_TARGET_OWN = ("skipInitialSnapshotTransfer", "billingMode", "batchSize", "alternator")
_SAVEPOINTS = ("path", "intervalSeconds", "enableParquetFileTracking")
_STREAM_TYPES = {"dynamodb-streams": True, "dynamodb": True, "ddb": True}
_STREAM_TYPES |= {"disabled": False, "none": False, "off": False}


def _type(node: Node, allowed: Mapping[str, str], fix: str) -> str:
    # Absent means dynamodb: the Migrator needs it, but no other reading makes sense here.
    value = node.data.get("type", "dynamodb")
    name = value.strip().lower() if isinstance(value, str) else ""
    if name not in allowed:
        node.wrong("type", value, " or ".join(sorted(set(allowed.values()))), fix)
    return allowed[name]


def _table(node: Node) -> str:
    name = node.text("table")
    if name is None:
        node.fail("table", "is missing", "name the table, e.g. table: my_table")
    if not _TABLE_NAME.fullmatch(name):
        expected = "a table name of 3 to 255 letters, digits, '_', '-' or '.'"
        node.wrong("table", name, expected, "use the table's exact name")
    return name


def _credentials(node: Node | None) -> Credentials:
    if node is None:
        return Credentials(None, None, None, None)
    node.only(("accessKey", "secretKey", "profile", "assumeRole"))
    access, secret = node.text("accessKey"), node.text("secretKey")
    for key, have, other in (("secretKey", access, secret), ("accessKey", secret, access)):
        if have and not other:
            node.fail(key, "is missing", "give accessKey and secretKey together, or neither")
        if other == _REDACTED:
            node.fail(key, "is redacted (a Migrator savepoint?)", "use the original config file")
    profile = node.text("profile")
    if profile and access:
        node.fail("profile", "is set together with accessKey", "keep either the profile or keys")
    return Credentials(access, secret, profile, _assume_role(node.section("assumeRole")))


def _assume_role(node: Node | None) -> AssumeRole | None:
    if node is None:
        return None
    node.only(("arn", "sessionName"))
    arn = node.text("arn") or node.fail("arn", "is missing", "give the ARN of the role to assume")
    return AssumeRole(arn, node.text("sessionName"))


def _stream_changes(node: Node) -> bool:
    value = node.data.get("streamChanges")
    if not isinstance(value, dict):
        return node.flag("streamChanges", False)
    inner = Node(node.origin, node.at("streamChanges"), value, node.notes)
    inner.only(("type", "streamArn", "initialTimestamp", "appName"))
    kind = (inner.text("type") or "").lower()
    if kind not in _STREAM_TYPES:
        fix = "the toolkit reads DynamoDB Streams only, so write streamChanges: true"
        inner.wrong("type", inner.data.get("type"), "dynamodb-streams or disabled", fix)
    return _STREAM_TYPES[kind]


def _source(node: Node) -> SourceConfig:
    if is_export(node):
        return export_source(node)
    kinds = {"dynamodb": "dynamodb", "dynamo": "dynamodb", "alternator": "alternator"}
    kind = _type(node, kinds, "write type: dynamodb, or alternator to read from ScyllaDB")
    endpoint, nodes, client = read_endpoint(node.section("endpoint")), None, ClientSettings()
    if kind == "alternator":
        node.only((*_COMMON, *_READ_KEYS, "alternator", *SETTINGS, "seeds", "localNodes"))
        if endpoint is None:
            node.fail(
                "endpoint", "is missing", "Alternator needs endpoint: {host: ..., port: 8000}"
            )
        nodes, client = read_source_settings(node, endpoint)
        remove = node.flag("removeConsumedCapacity", True)
    else:
        node.only((*_COMMON, *_READ_KEYS, "alternator"))
        note_settings(node)
        remove = False
        if node.data.get("removeConsumedCapacity") is not None:
            node.flag("removeConsumedCapacity", False)
            node.note("removeConsumedCapacity", "it applies to an Alternator source's reads")
    return SourceConfig(
        type=kind,
        table=_table(node),
        region=node.text("region"),
        endpoint=endpoint,
        credentials=_credentials(node.section("credentials")),
        scan_segments=node.integer("scanSegments", limits.SCAN_SEGMENTS),
        read_throughput=node.integer("readThroughput", limits.CAPACITY_UNITS),
        throughput_read_percent=node.number("throughputReadPercent", limits.THROUGHPUT_PERCENT),
        max_map_tasks=node.integer("maxMapTasks", limits.MAP_TASKS),
        ca_bundle=_ca_bundle(node),
        nodes=nodes,
        remove_consumed_capacity=remove,
        stream_visibility_seconds=ALTERNATOR_STREAM_DELAY if kind == "alternator" else 0.0,
        client=client,
    )


def _target(node: Node) -> TargetConfig:
    if is_export(node):
        return export_target(node)
    kinds = {"dynamodb": "dynamodb", "dynamo": "dynamodb", "alternator": "alternator"}
    kind = _type(node, kinds, "write type: dynamodb or type: alternator")
    alternator = kind == "alternator"
    for key in node.data:
        if not alternator and key in (*SETTINGS, *OWN):
            fix = "set type: alternator, or move it under alternator:"
            node.fail(str(key), "is an Alternator setting", fix)
    node.only((*_COMMON, *_READ_KEYS, *_WRITE_KEYS, *_TARGET_OWN, *(SETTINGS + OWN)))
    endpoint = read_endpoint(node.section("endpoint"))
    if alternator and endpoint is None:
        node.fail("endpoint", "is missing", "Alternator needs endpoint: {host: ..., port: 8000}")
    alternator_settings = read_settings(node, kind, endpoint)
    billing = (node.text("billingMode") or "").upper() or None
    if billing is not None and billing not in BILLING_MODES:
        node.wrong("billingMode", node.data["billingMode"], " or ".join(BILLING_MODES))
    for key, limit in _READ_LIMITS.items():
        (node.integer if limit.integer else node.number)(key, limit)
        if node.data.get(key) is not None:  # the Migrator's docs list them on the target too
            node.note(key, "it applies to the source's reads")
    stream = _stream_changes(node)
    skip = node.flag("skipInitialSnapshotTransfer", False)
    if skip and not stream:
        node.note("skipInitialSnapshotTransfer", "the Migrator ignores it without streamChanges")
    return TargetConfig(
        type=kind,
        table=_table(node),
        region=node.text("region"),
        endpoint=endpoint,
        credentials=_credentials(node.section("credentials")),
        scan_segments=node.integer("scanSegments", limits.SCAN_SEGMENTS),
        stream_changes=stream,
        skip_initial_snapshot_transfer=skip and stream,
        write_throughput=node.integer("writeThroughput", limits.CAPACITY_UNITS),
        throughput_write_percent=node.number("throughputWritePercent", limits.THROUGHPUT_PERCENT),
        billing_mode=billing,
        batch_size=alternator_settings.batch_size,
        remove_consumed_capacity=node.flag("removeConsumedCapacity", alternator),
        ca_bundle=_ca_bundle(node),
        nodes=alternator_settings.nodes,
        write_isolation=alternator_settings.write_isolation,
        client=alternator_settings.client,
        tablets=alternator_settings.tablets,
    )


def _ca_bundle(node: Node) -> Path | None:
    """A readable file of PEM certificates; checked here, before any connection."""
    name = node.text("caBundle")
    if name is None:
        return None
    path = Path(name).expanduser()
    try:
        with path.open("rb") as file:
            head = file.read(4096)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        node.fail("caBundle", f"cannot be read ({name}: {reason})", "give a PEM file's path")
    if b"-----BEGIN CERTIFICATE-----" not in head:
        node.fail("caBundle", f"holds no PEM certificate ({name})", "give a PEM file's path")
    return path


def _renames(root: Node) -> tuple[Rename, ...]:
    renames: list[Rename] = []
    firsts: dict[tuple[str, str], int] = {}
    for i, item in enumerate(root.items("renames")):
        if not isinstance(item, dict):
            root.wrong(f"renames[{i}]", item, "a mapping with from and to")
        node = Node(root.origin, f"renames[{i}]", item, root.notes)
        node.only(("from", "to"))
        names = {
            key: node.text(key) or node.fail(key, "is missing", "give both from and to")
            for key in ("from", "to")
        }
        for key, name in names.items():
            first = firsts.setdefault((key, name), i)
            if first != i:
                node.fail(key, f"repeats renames[{first}].{key} ({name!r})", "keep one of them")
        renames.append(Rename(names["from"], names["to"]))
    return tuple(renames)


def _top_level_extras(root: Node) -> None:
    node = root.section("savepoints")
    if node is not None:
        node.only(_SAVEPOINTS)
        node.integer("intervalSeconds", limits.MIGRATOR_COUNT)
        root.note("savepoints", "the toolkit records progress in its state file (--state)")
    for key, why in _INERT_TOP.items():
        if root.items(key):
            root.note(key, why)


def _skip_segments(root: Node) -> tuple[int, ...]:
    """A Migrator savepoint's finished scan segments: the snapshot does not copy them."""
    segments = root.items("skipSegments")
    names = [f"skipSegments[{i}]" for i in range(len(segments))]  # as the error names one
    entries: dict[object, object] = dict(zip(names, segments, strict=True))
    for name in names:
        Node(root.origin, root.path, entries, root.notes).integer(name, limits.SKIPPED_SEGMENT)
    return tuple(sorted(set(segments)))  # type: ignore[arg-type]


def parse_config(data: object, origin: str = "config") -> MigrationConfig:
    """Validate a parsed YAML document; raise UserError on the first problem."""
    if not isinstance(data, dict):
        fix = "it needs a source and a target section"
        raise UserError(f"{origin}: the top level must be a mapping, got {show(data)}; {fix}")
    root = Node(origin, "", data, [])
    root.only((*_TOP_KEYS, *_INERT_TOP))
    source = root.needed("source", "add a source section with type and table")
    target = root.needed("target", "add a target section with type and table")
    config = MigrationConfig(
        _source(source),
        _target(target),
        _renames(root),
        None,
        (),
        read_validation(root.section("validation")),
        _skip_segments(root),
        root.integer("metricsPort", limits.PORT),
    )
    check_pair(root, config.source, config.target)
    _top_level_extras(root)
    return dataclasses.replace(config, notes=tuple(root.notes))


def load_config(path: Path) -> MigrationConfig:
    """Read, parse and validate one config file; every failure is one UserError line."""
    config = parse_config(read_yaml(path), origin=str(path))
    return dataclasses.replace(config, path=path)
