"""Test helpers for tables on the real servers: configs, bulk loads, exact scans."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import orjson
import yaml
from botocore.config import Config
from botocore.credentials import Credentials

from toolkit.logic.items import canonical, digest, key_id
from toolkit.wire.dataplane import DataPlane
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.throughput import CapacityBudget
from toolkit.wire.writer import BatchWriter, TargetCapabilities

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.literals import ScalarAttributeTypeType

CREDENTIALS = Credentials("test", "test")


def plane(endpoint: str) -> DataPlane:
    return DataPlane(endpoint, "us-east-1", CREDENTIALS, connections=8)


def section(endpoint: str, table: str, **extra: Any) -> dict[str, Any]:
    host, port = endpoint.rsplit(":", 1)
    return {
        "type": "dynamodb",
        "table": table,
        "region": "us-east-1",
        "endpoint": {"host": host, "port": int(port)},
        "credentials": {"accessKey": "test", "secretKey": "test"},
        **extra,
    }


def write_config(
    path: Path,
    source: Mapping[str, Any],
    target: Mapping[str, Any],
    **top: Any,
) -> Path:
    path.write_text(yaml.safe_dump({"source": dict(source), "target": dict(target), **top}))
    return path


def create_table(
    client: DynamoDBClient,
    name: str,
    keys: Sequence[tuple[str, ScalarAttributeTypeType]] = (("id", "S"),),
    **extra: Any,
) -> None:
    """keys: (name, type) pairs, hash first."""
    client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": n, "KeyType": "HASH" if i == 0 else "RANGE"}
            for i, (n, _) in enumerate(keys)
        ],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in keys],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )


def load(
    endpoint: str, table: str, items: Iterable[dict[str, Any]], key_names: Sequence[str]
) -> int:
    """Write items fast (parallel BatchWriteItem), each acknowledged."""
    writer = BatchWriter(
        plane(endpoint), table, TargetCapabilities(), CapacityBudget(None), RetryPolicy(), key_names
    )
    chunks: list[list[dict[str, Any]]] = [[]]
    for item in items:
        if len(chunks[-1]) == 500:
            chunks.append([])
        chunks[-1].append({"PutRequest": {"Item": item}})
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(writer.write, chunks))
    return sum(len(c) for c in chunks)


def low_client(endpoint: str) -> DynamoDBClient:
    """boto3's low-level client for a local server: a path independent of the toolkit's."""
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 3, "mode": "standard"}),
    )


def scan_all(endpoint: str, table: str) -> dict[str, dict[str, Any]]:
    """Every item of a table by key, read with boto3."""
    client = low_client(endpoint)
    described = client.describe_table(TableName=table)["Table"]
    key_names = sorted(k["AttributeName"] for k in described["KeySchema"])
    items: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            items[repr([item[k] for k in key_names])] = dict(item)
    return items


def wire(value: Any) -> Any:
    """boto3's form of an item back to the wire form: binaries as base64 text."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {name: wire(member) for name, member in value.items()}
    if isinstance(value, list):
        return [wire(member) for member in value]
    return value


def keyed(item: dict[str, Any], key_names: Sequence[str]) -> bytes:
    return key_id(canonical({name: item[name] for name in key_names}))


def table_state(endpoint: str, table: str, key_names: Sequence[str]) -> dict[bytes, Any]:
    """A table in canonical form by key: the server normalises numbers, boto3 decodes binaries."""
    items = (wire(item) for item in scan_all(endpoint, table).values())
    return {keyed(item, key_names): canonical(item) for item in items}


def replayed(log: Path, key_names: Sequence[str]) -> dict[bytes, Any]:
    """The state the mutator's operation log leads to, in the same form as table_state."""
    state: dict[bytes, Any] = {}
    for line in log.read_bytes().splitlines():
        entry = orjson.loads(line)
        key = keyed(entry["key"], key_names)
        if entry["op"] == "put":
            assert entry["digest"] == digest(entry["item"])
            state[key] = canonical(entry["item"])
        else:
            assert entry["op"] == "delete"
            state.pop(key, None)
    return state
