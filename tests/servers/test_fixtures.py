"""The session's servers are real, separate, and each test's table is its own."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def test_source_and_target_are_separate_servers(
    source_client: DynamoDBClient, target_client: DynamoDBClient, table_name: str
) -> None:
    source_client.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert table_name in source_client.list_tables()["TableNames"]
    assert table_name not in target_client.list_tables()["TableNames"]


def test_each_test_gets_a_fresh_table_name(source_client: DynamoDBClient, table_name: str) -> None:
    assert table_name not in source_client.list_tables()["TableNames"]
