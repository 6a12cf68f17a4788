"""A 100k-item table migrated between the local servers from the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tests.conftest import Endpoints
from tests.helpers import run_cli
from tests.tables import create_table, load, plane, section, write_config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ITEMS = 100_000


def count(endpoint: str, table: str) -> int:
    request = {"TableName": table, "Select": "COUNT"}
    total = 0
    while True:
        body = plane(endpoint).call("Scan", request).body
        total += int(body["Count"])
        if "LastEvaluatedKey" not in body:
            return total
        request["ExclusiveStartKey"] = body["LastEvaluatedKey"]


def test_100k_items_from_the_cli(
    endpoints: Endpoints, source_client: DynamoDBClient, table_name: str, tmp_path: Path
) -> None:
    create_table(source_client, table_name, keys=(("id", "S"), ("version", "N")))
    items = (
        {"id": {"S": f"user-{n}"}, "version": {"N": str(n % 3)}, "v": {"S": "x" * 120}}
        for n in range(ITEMS)
    )
    assert load(endpoints.source, table_name, items, ["id", "version"]) == ITEMS
    config = write_config(
        tmp_path / "config.yaml",
        section(endpoints.source, table_name, scanSegments=8, maxMapTasks=8),
        section(endpoints.target, table_name),
    )
    result = run_cli("migrate", "--config", str(config), timeout=900)
    assert result.returncode == 0, result.stderr
    assert f"Snapshot done: {ITEMS} items" in result.stdout
    assert count(endpoints.target, table_name) == ITEMS
