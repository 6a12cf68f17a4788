"""`type: dynamodb-s3-export` in the config: the Migrator's shapes load, mistakes are one line."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from toolkit.config import parse_config
from toolkit.errors import UserError

# The shapes of the Scylla Migrator's own S3 export configurations (written here anew).
MIGRATOR_SOURCE: dict[str, Any] = {
    "type": "dynamodb-s3-export",
    "bucket": "my-exports",
    "manifestKey": "my-path/AWSDynamoDB/01234567890123-1234abcd/manifest-summary.json",
    "region": "eu-central-1",
    "endpoint": {"host": "http://s3", "port": 4566},
    "credentials": {"accessKey": "dummy", "secretKey": "dummy"},
    "usePathStyleAccess": True,
    "tableDescription": {
        "attributeDefinitions": [{"name": "id", "type": "S"}, {"name": "at", "type": "N"}],
        "keySchema": [{"name": "id", "type": "HASH"}, {"name": "at", "type": "RANGE"}],
        "billingMode": "PROVISIONED",
        "provisionedThroughput": {"readCapacityUnits": 25, "writeCapacityUnits": 25},
    },
}
TABLE_TARGET = {
    "type": "alternator",
    "table": "Basic",
    "endpoint": {"host": "http://s", "port": 8000},
}
MIGRATOR_TARGET = {"type": "dynamodb-s3-export", "path": "/app/parquet/s3export_basic_test"}
TABLE_SOURCE = {"type": "dynamodb", "table": "Basic", "region": "us-east-1", "scanSegments": 1}


def test_the_migrators_source_loads_with_its_table_description() -> None:
    config = parse_config({"source": MIGRATOR_SOURCE, "target": TABLE_TARGET})
    export = config.source.s3_export
    assert export is not None
    assert export.bucket == "my-exports" and export.s3.path_style
    assert export.manifest_keys == (MIGRATOR_SOURCE["manifestKey"],)
    assert export.s3.endpoint is not None and export.s3.endpoint.url == "http://s3:4566"
    assert config.source.endpoint is None and config.source.table == ""
    assert export.description["KeySchema"][1] == {"AttributeName": "at", "KeyType": "RANGE"}
    assert export.description["ProvisionedThroughput"]["ReadCapacityUnits"] == 25


def test_the_migrators_target_path_loads_as_a_local_folder_or_a_bucket() -> None:
    local = parse_config({"source": TABLE_SOURCE, "target": MIGRATOR_TARGET}).target.s3_export
    assert local is not None and local.bucket is None and local.prefix.endswith("basic_test")
    target = {**MIGRATOR_TARGET, "path": "s3a://backups/daily/one/"}
    remote = parse_config({"source": TABLE_SOURCE, "target": target}).target.s3_export
    assert remote is not None and (remote.bucket, remote.prefix) == ("backups", "daily/one")


def test_a_live_table_for_the_stream() -> None:
    source = {**MIGRATOR_SOURCE, "table": "orders", "tableEndpoint": {"host": "http://d:8000"}}
    config = parse_config({"source": source, "target": {**TABLE_TARGET, "streamChanges": True}})
    assert config.source.table == "orders" and config.source.endpoint is not None
    assert config.target.stream_changes


def without(data: dict[str, Any], path: str) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    *parents, last = path.split(".")
    node = changed
    for name in parents:
        node = node[name]
    del node[last]
    return changed


@pytest.mark.parametrize(
    ("change", "phrase"),
    [
        (lambda s: without(s, "bucket"), "source.bucket is missing"),
        (lambda s: without(s, "manifestKey"), "source.manifestKey is missing"),
        (lambda s: without(s, "tableDescription"), "source.tableDescription is missing"),
        (lambda s: {**s, "bucket": "Bad_Bucket"}, "source.bucket must be an S3 bucket name"),
        (lambda s: {**s, "manifestKey": [1]}, "source.manifestKey must be a key"),
        (lambda s: {**s, "manifestKey": ["a", "a"]}, "lists one export twice"),
        (lambda s: {**s, "usePathStyleAccess": "yes"}, "usePathStyleAccess must be true or false"),
        (lambda s: {**s, "tableEndpoint": {"host": "h"}}, "tableEndpoint is set without table"),
        (lambda s: {**s, "manifestkey": "x"}, "did you mean manifestKey?"),
        (lambda s: {**s, "caBundle": "/no/such.pem"}, "source.caBundle cannot be read"),
        (
            lambda s: without(s, "tableDescription.keySchema"),
            "source.tableDescription.keySchema is missing",
        ),
        (
            lambda s: {**s, "tableDescription": {**s["tableDescription"], "keySchema": []}},
            "keySchema is missing or empty",
        ),
    ],
)
def test_a_bad_source_key_is_one_line(change: Any, phrase: str) -> None:
    with pytest.raises(UserError, match=phrase):
        parse_config({"source": change(MIGRATOR_SOURCE), "target": TABLE_TARGET})


@pytest.mark.parametrize(
    ("target", "phrase"),
    [
        ({"type": "dynamodb-s3-export"}, "target.path is missing"),
        ({**MIGRATOR_TARGET, "streamChanges": True}, "cannot be true on a dynamodb-s3-export"),
        ({**MIGRATOR_TARGET, "path": "hdfs://x/y"}, "s3://bucket/prefix or a local folder"),
        ({**MIGRATOR_TARGET, "table": "x"}, "unknown key target.table"),
        ({**MIGRATOR_TARGET, "caBundle": "/no/such.pem"}, "target.caBundle cannot be read"),
    ],
)
def test_a_bad_target_key_is_one_line(target: dict[str, Any], phrase: str) -> None:
    with pytest.raises(UserError, match=phrase):
        parse_config({"source": TABLE_SOURCE, "target": target})


def test_an_export_into_an_export_is_refused() -> None:
    with pytest.raises(UserError, match=r"and so is source\.type"):
        parse_config({"source": MIGRATOR_SOURCE, "target": MIGRATOR_TARGET})
