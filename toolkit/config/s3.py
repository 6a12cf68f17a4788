"""The config sections of `type: dynamodb-s3-export`, as a source and as a target.

The source keeps the Scylla Migrator's keys (bucket, manifestKey, tableDescription,
usePathStyleAccess, region, endpoint, credentials): endpoint, region and
credentials are S3's. Beyond the Migrator, manifestKey may list several exports
(one FULL, then INCREMENTAL ones), and `table` with `tableEndpoint` name the live
DynamoDB table whose stream `streamChanges: true` replays after the export.

The target keeps the Migrator's `path` (s3://bucket/prefix, or a local folder),
with S3's region, endpoint, credentials and usePathStyleAccess beside it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from toolkit.config import limits
from toolkit.config.access import read_ca_bundle, read_credentials
from toolkit.config.endpoint import read_endpoint
from toolkit.config.exports import ExportSource, ExportTarget, S3Access
from toolkit.config.model import SourceConfig, TargetConfig
from toolkit.config.reader import Node

EXPORT_TYPE = "dynamodb-s3-export"
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_ATTRIBUTE_TYPES = ("S", "N", "B")
_KEY_TYPES = ("HASH", "RANGE")
_SOURCE_KEYS = (
    *("type", "bucket", "manifestKey", "tableDescription", "usePathStyleAccess"),
    *("region", "endpoint", "credentials", "table", "tableEndpoint", "maxMapTasks", "caBundle"),
)
_TARGET_KEYS = (
    *("type", "path", "region", "endpoint", "credentials", "usePathStyleAccess", "caBundle"),
    "streamChanges",
)
_DESCRIPTION_KEYS = ("attributeDefinitions", "keySchema", "billingMode", "provisionedThroughput")


def is_export(node: Node) -> bool:
    kind = node.data.get("type")
    return isinstance(kind, str) and kind.strip().lower() == EXPORT_TYPE


def export_source(node: Node) -> SourceConfig:
    node.only(_SOURCE_KEYS)
    bucket = _bucket(node, "bucket", node.text("bucket"))
    table = node.text("table")
    source = ExportSource(
        bucket,
        _manifest_keys(node),
        _description(node.needed("tableDescription", _DESCRIPTION_FIX), table),
        _access(node),
    )
    if table is not None:
        _check_table(node, table)
    elif node.data.get("tableEndpoint") is not None:
        node.fail("tableEndpoint", "is set without table", "name the live table in table:")
    return SourceConfig(
        type=EXPORT_TYPE,
        table=table or "",
        region=node.text("region"),
        endpoint=read_endpoint(node.section("tableEndpoint")),
        credentials=read_credentials(node.section("credentials")),
        scan_segments=None,
        read_throughput=None,
        throughput_read_percent=None,
        max_map_tasks=node.integer("maxMapTasks", limits.MAP_TASKS),
        ca_bundle=read_ca_bundle(node),  # for S3's https endpoint, and the live table's
        s3_export=source,
    )


def export_target(node: Node) -> TargetConfig:
    node.only(_TARGET_KEYS)
    if node.flag("streamChanges", False):
        fix = "an export is one snapshot; write streamChanges: false"
        node.fail("streamChanges", "cannot be true on a dynamodb-s3-export target", fix)
    path = node.text("path") or node.fail("path", "is missing", "write e.g. path: s3://bucket/x")
    bucket, prefix = _split_path(node, path.strip())
    return TargetConfig(
        type=EXPORT_TYPE,
        table=path.strip(),
        region=node.text("region"),
        endpoint=None,
        credentials=read_credentials(node.section("credentials")),
        scan_segments=None,
        stream_changes=False,
        skip_initial_snapshot_transfer=False,
        write_throughput=None,
        throughput_write_percent=None,
        billing_mode="PAY_PER_REQUEST",
        batch_size=25,
        remove_consumed_capacity=False,
        ca_bundle=read_ca_bundle(node),
        nodes=None,
        write_isolation=None,
        s3_export=ExportTarget(bucket, prefix, _access(node)),
    )


_DESCRIPTION_FIX = "give tableDescription: {attributeDefinitions: [...], keySchema: [...]}"


def check_pair(root: Node, source: SourceConfig, target: TargetConfig) -> None:
    """What one section alone cannot tell: an export to an export, a stream without a table."""
    if source.s3_export is not None and target.s3_export is not None:
        fix = "copy the export into a table first, or copy its files with S3's own tools"
        root.fail("target.type", "is dynamodb-s3-export, and so is source.type", fix)
    if source.s3_export is not None and target.stream_changes and not source.table:
        fix = "name the live table whose stream to replay in source.table (and tableEndpoint)"
        root.fail("target.streamChanges", "needs source.table with an S3 export source", fix)


def _access(node: Node) -> S3Access:
    endpoint = read_endpoint(node.section("endpoint"))
    return S3Access(node.text("region"), endpoint, node.flag("usePathStyleAccess", False))


def _bucket(node: Node, key: str, name: str | None) -> str:
    if name is None:
        node.fail(key, "is missing", "name the S3 bucket that holds the export")
    if not _BUCKET.fullmatch(name) or ".." in name:
        node.wrong(key, name, "an S3 bucket name (3 to 63 lowercase letters, digits, '.', '-')")
    return name


def _manifest_keys(node: Node) -> tuple[str, ...]:
    value = node.data.get("manifestKey")
    fix = "give the key of the export's manifest-summary.json in the bucket"
    if value is None:
        node.fail("manifestKey", "is missing", fix)
    keys = value if isinstance(value, list) else [value]
    texts = [k for k in keys if isinstance(k, str) and k.strip()]
    if not keys or len(texts) != len(keys):
        node.wrong("manifestKey", value, "a key, or a list of keys, of manifest-summary.json", fix)
    stripped = tuple(k.strip().lstrip("/") for k in texts)
    if len(set(stripped)) != len(stripped):
        node.fail("manifestKey", "lists one export twice", "keep one of them")
    return stripped


def _description(node: Node, table: str | None) -> dict[str, Any]:
    node.only(_DESCRIPTION_KEYS)
    types = _pairs(node, "attributeDefinitions", _ATTRIBUTE_TYPES)
    keys = _pairs(node, "keySchema", _KEY_TYPES)
    roles = [role for _, role in keys]
    if sorted(roles) not in (["HASH"], ["HASH", "RANGE"]):
        node.fail("keySchema", "needs one HASH key and at most one RANGE key", "fix keySchema")
    defined = dict(types)
    for name, _ in keys:
        if name not in defined:
            node.fail(
                "keySchema", f"names {name!r}, which has no attributeDefinitions entry", "add it"
            )
    description: dict[str, Any] = {
        "TableName": table or "export",
        "KeySchema": [{"AttributeName": n, "KeyType": r} for n, r in keys],
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in types],
    }
    billing = (node.text("billingMode") or "PAY_PER_REQUEST").upper()
    if billing not in ("PAY_PER_REQUEST", "PROVISIONED"):
        node.wrong("billingMode", node.data["billingMode"], "PAY_PER_REQUEST or PROVISIONED")
    # As DescribeTable reports it: the source's mode, for whatever copies the source's mode.
    description["BillingModeSummary"] = {"BillingMode": billing}
    throughput = node.section("provisionedThroughput")
    if throughput is not None:
        throughput.only(("readCapacityUnits", "writeCapacityUnits"))
        read, write = (
            throughput.integer(key, limits.CAPACITY_UNITS) or 0
            for key in ("readCapacityUnits", "writeCapacityUnits")
        )
        description["ProvisionedThroughput"] = {
            "ReadCapacityUnits": read,
            "WriteCapacityUnits": write,
        }
    return description


def _pairs(node: Node, key: str, allowed: tuple[str, ...]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    items = node.items(key)
    if not items:
        node.fail(key, "is missing or empty", _DESCRIPTION_FIX)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            node.wrong(f"{key}[{i}]", item, "a mapping with name and type")
        entry = Node(node.origin, node.at(f"{key}[{i}]"), item, node.notes)
        entry.only(("name", "type"))
        name = entry.text("name") or entry.fail("name", "is missing", "name the attribute")
        kind = (entry.text("type") or "").upper()
        if kind not in allowed:
            entry.wrong("type", entry.data.get("type"), " or ".join(allowed))
        pairs.append((name, kind))
    return pairs


def _check_table(node: Node, table: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_.-]{3,255}", table):
        expected = "a table name of 3 to 255 letters, digits, '_', '-' or '.'"
        node.wrong("table", table, expected, "use the live table's exact name")


def _split_path(node: Node, path: str) -> tuple[str | None, str]:
    """s3://bucket/prefix (or s3a://) to (bucket, prefix); anything else is a local folder."""
    match = re.fullmatch(r"s3a?://([^/]*)/?(.*)", path)
    if match is None:
        if "://" in path:
            node.wrong("path", path, "s3://bucket/prefix or a local folder")
        return None, str(Path(path).expanduser())
    bucket = _bucket(node, "path", match.group(1) or None)
    return bucket, match.group(2).strip("/")
