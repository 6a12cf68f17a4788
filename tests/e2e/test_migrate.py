"""`toolkit migrate` through the real CLI, between the two real local servers."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.conftest import Endpoints
from tests.helpers import run_cli
from tests.tables import create_table, load, scan_all, section, write_config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def migrate(config: Path, *args: str) -> Any:
    return run_cli("migrate", "--config", str(config), *args, timeout=600)


def simple_items(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "id": {"S": f"key-{n:06d}"},
            "version": {"N": str(n % 7)},
            "payload": {"S": "p" + "x" * (n % 50)},
            "tags": {"SS": ["a", f"t{n % 3}"]},
        }
        for n in range(start, start + count)
    ]


def test_copies_schema_indexes_ttl_and_items_byte_for_byte(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> None:
    create_table(
        source_client,
        table_name,
        keys=(("id", "S"), ("version", "N")),
    )
    source_client.update_table(
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": "payload", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by_payload",
                    "KeySchema": [{"AttributeName": "payload", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )
    source_client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )
    items = simple_items(3000)
    now = int(time.time())
    for n, item in enumerate(items[:100]):
        # Expired items are skipped, as the Scylla Migrator does; future ones are copied.
        item["expires"] = {"N": str(now - 3600 if n % 2 else now + 3600)}
    load(endpoints.source, table_name, items, ["id", "version"])
    config = write_config(
        tmp_path / "config.yaml",
        section(endpoints.source, table_name, scanSegments=4, maxMapTasks=2),
        section(endpoints.target, table_name),
    )

    result = migrate(config)

    assert result.returncode == 0, result.stderr
    assert "Snapshot done: 2950 items" in result.stdout
    # DynamoDB Local runs its own TTL deletion too, so some expired items may be gone already.
    skipped = int(result.stdout.split("items/s, ")[1].split(" expired")[0])
    assert 0 < skipped <= 50
    source_items = scan_all(endpoints.source, table_name)
    expected = {
        k: v
        for k, v in source_items.items()
        if int(v.get("expires", {"N": str(now + 1)})["N"]) > now
    }
    assert scan_all(endpoints.target, table_name) == expected
    target = target_client.describe_table(TableName=table_name)["Table"]
    assert (
        target["KeySchema"]
        == source_client.describe_table(TableName=table_name)["Table"]["KeySchema"]
    )
    assert [i["IndexName"] for i in target.get("GlobalSecondaryIndexes", [])] == ["by_payload"]
    assert target["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = target_client.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    assert ttl.get("AttributeName") == "expires"


def test_renames_apply_to_every_item(
    endpoints: Endpoints, source_client: DynamoDBClient, table_name: str, tmp_path: Path
) -> None:
    create_table(source_client, table_name)
    load(endpoints.source, table_name, simple_items(500), ["id"])
    config = write_config(
        tmp_path / "config.yaml",
        section(endpoints.source, table_name),
        section(endpoints.target, table_name),
        renames=[{"from": "payload", "to": "body"}],
    )
    assert migrate(config).returncode == 0
    copied = scan_all(endpoints.target, table_name)
    assert len(copied) == 500
    for key, item in scan_all(endpoints.source, table_name).items():
        renamed = {("body" if name == "payload" else name): v for name, v in item.items()}
        assert copied[key] == renamed


def test_a_second_run_resumes_and_copies_nothing_again(
    endpoints: Endpoints, source_client: DynamoDBClient, table_name: str, tmp_path: Path
) -> None:
    create_table(source_client, table_name)
    load(endpoints.source, table_name, simple_items(200), ["id"])
    config = write_config(
        tmp_path / "config.yaml",
        section(endpoints.source, table_name),
        section(endpoints.target, table_name),
    )
    assert migrate(config).returncode == 0
    again = migrate(config)
    assert again.returncode == 0
    assert "copied by an earlier run" in again.stderr
    assert len(scan_all(endpoints.target, table_name)) == 200


def test_target_with_other_key_schema_stops_before_writing(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> None:
    create_table(source_client, table_name, keys=(("id", "S"), ("version", "N")))
    create_table(target_client, table_name, keys=(("id", "N"),))
    load(endpoints.source, table_name, simple_items(10), ["id", "version"])
    config = write_config(
        tmp_path / "config.yaml",
        section(endpoints.source, table_name),
        section(endpoints.target, table_name),
    )
    result = migrate(config)
    assert result.returncode == 2
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("error: ")
    assert "id (N, HASH)" in error
    assert "id (S, HASH), version (N, RANGE)" in error
    assert "Traceback" not in result.stderr
    assert scan_all(endpoints.target, table_name) == {}


def test_missing_source_table_is_one_line_and_creates_nothing(
    endpoints: Endpoints, target_client: DynamoDBClient, table_name: str, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "config.yaml",
        section(endpoints.source, table_name),
        section(endpoints.target, table_name),
    )
    result = migrate(config)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: source table {table_name} does not exist on source "
        f"{endpoints.source}; check source.table"
    ]
    assert table_name not in target_client.list_tables()["TableNames"]


def test_unreachable_endpoint_is_one_line(tmp_path: Path, endpoints: Endpoints) -> None:
    config = write_config(
        tmp_path / "config.yaml",
        section("http://127.0.0.1:9", "nowhere"),
        section(endpoints.target, "nowhere"),
    )
    result = migrate(config)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "cannot reach source http://127.0.0.1:9" in lines[0]


def test_config_error_is_one_line_naming_the_key(tmp_path: Path, endpoints: Endpoints) -> None:
    config = write_config(
        tmp_path / "config.yaml",
        section(endpoints.source, "t", scanSegmets=4),
        section(endpoints.target, "t"),
    )
    result = migrate(config)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "source.scanSegmets" in lines[0]
    assert "scanSegments" in lines[0]
