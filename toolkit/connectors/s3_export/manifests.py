"""The manifests an export target writes last, once every data file is uploaded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

import orjson

from toolkit.config import MigrationConfig
from toolkit.logic.export_format import DataFile, files_manifest, md5_base64, show_time
from toolkit.logic.table_schema import create_table_request
from toolkit.wire.s3_store import Store


@dataclass(frozen=True)
class Export:
    store: Store
    prefix: str  # keys of the export start with it ("" for a local folder)
    absolute: bool  # keys in the manifests from the bucket's root (S3), or relative (a folder)
    export_id: str
    started: datetime

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def named(self, name: str) -> str:
        return self.key(name) if self.absolute else name


def write_manifests(
    export: Export,
    done: Mapping[str, tuple[int, Any]],
    source: dict[str, Any],
    config: MigrationConfig,
) -> str:
    """manifest-files.json, then manifest-summary.json (whose key is returned)."""
    description = renamed_description(source, config.rename_map)
    files = [
        DataFile(export.named(name), items, detail["md5"], detail["etag"] or None)
        for name, (items, detail) in sorted(done.items())
    ]
    manifest = files_manifest(files)
    _put(export, "manifest-files.json", manifest)
    table_arn = description.get("TableArn", description["TableName"])
    summary = {
        "version": "2020-06-30",
        "exportArn": f"{table_arn}/export/{export.export_id}",
        "startTime": show_time(export.started),
        "endTime": show_time(datetime.now(UTC)),
        "tableArn": description.get("TableArn"),
        "tableId": description.get("TableId"),
        "exportTime": show_time(export.started),
        "manifestFilesS3Key": export.named("manifest-files.json"),
        "manifestFilesMd5Checksum": md5_base64(manifest),
        "billedSizeBytes": sum(detail["bytes"] for _, detail in done.values()),
        "itemCount": sum(items for items, _ in done.values()),
        "outputFormat": "DYNAMODB_JSON",
        "exportType": "FULL_EXPORT",
        "tableKeySchema": description["KeySchema"],
        "tableAttributeDefinitions": description["AttributeDefinitions"],
    }
    if export.absolute:
        summary |= {"s3Bucket": getattr(export.store, "bucket", None), "s3Prefix": export.prefix}
    _put(export, "manifest-summary.json", orjson.dumps(summary))
    return export.key("manifest-summary.json")


def renamed_description(description: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    """The key schema and attribute definitions as the export's items name them."""
    request = create_table_request(
        description, description["TableName"], "PAY_PER_REQUEST", renames
    )
    return {**description, **{k: request[k] for k in ("KeySchema", "AttributeDefinitions")}}


def _put(export: Export, name: str, body: bytes) -> None:
    export.store.put(export.key(name), BytesIO(body))
