"""The source and target sections of a config, each read into its typed section.

An S3 export's sections are read by toolkit/config/s3.py; the keys every section
shares (credentials, caBundle) by toolkit/config/access.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from toolkit.config import limits
from toolkit.config.access import read_ca_bundle, read_credentials
from toolkit.config.alternator import (
    OWN,
    SETTINGS,
    ClientSettings,
    note_settings,
    read_settings,
    read_source_settings,
)
from toolkit.config.endpoint import read_endpoint
from toolkit.config.model import SourceConfig, TargetConfig
from toolkit.config.reader import Node
from toolkit.config.s3 import export_source, export_target, is_export

BILLING_MODES = ("PAY_PER_REQUEST", "PROVISIONED")
# Alternator shows a change in its stream about 10 s after the write (its streams'
# time window): a replay must be quiet that long, and a little more, to be drained.
ALTERNATOR_STREAM_DELAY = 12.0
_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
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
    return table_name(node, "table")


def table_name(node: Node, key: str) -> str:
    """The table name under ``key``: DynamoDB's rule for names, checked here."""
    name = node.text(key)
    if name is None:
        node.fail(key, "is missing", f"name the table, e.g. {key}: my_table")
    if not _TABLE_NAME.fullmatch(name):
        expected = "a table name of 3 to 255 letters, digits, '_', '-' or '.'"
        node.wrong(key, name, expected, "use the table's exact name")
    return name


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


def read_source(node: Node) -> SourceConfig:
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
        credentials=read_credentials(node.section("credentials")),
        scan_segments=node.integer("scanSegments", limits.SCAN_SEGMENTS),
        read_throughput=node.integer("readThroughput", limits.CAPACITY_UNITS),
        throughput_read_percent=node.number("throughputReadPercent", limits.THROUGHPUT_PERCENT),
        max_map_tasks=node.integer("maxMapTasks", limits.MAP_TASKS),
        ca_bundle=read_ca_bundle(node),
        nodes=nodes,
        remove_consumed_capacity=remove,
        stream_visibility_seconds=ALTERNATOR_STREAM_DELAY if kind == "alternator" else 0.0,
        client=client,
    )


def read_target(node: Node) -> TargetConfig:
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
        credentials=read_credentials(node.section("credentials")),
        scan_segments=node.integer("scanSegments", limits.SCAN_SEGMENTS),
        stream_changes=stream,
        skip_initial_snapshot_transfer=skip and stream,
        write_throughput=node.integer("writeThroughput", limits.CAPACITY_UNITS),
        throughput_write_percent=node.number("throughputWritePercent", limits.THROUGHPUT_PERCENT),
        billing_mode=billing,
        batch_size=alternator_settings.batch_size,
        remove_consumed_capacity=node.flag("removeConsumedCapacity", alternator),
        ca_bundle=read_ca_bundle(node),
        nodes=alternator_settings.nodes,
        write_isolation=alternator_settings.write_isolation,
        client=alternator_settings.client,
        tablets=alternator_settings.tablets,
    )
