"""The target's CreateTable request, built from a source description (pure)."""

from __future__ import annotations

from typing import Any

from toolkit.table_schema import (
    KeyAttribute,
    create_table_request,
    key_schema,
    renamed_key_schema,
    show,
)

SOURCE: dict[str, Any] = {
    "TableName": "orders",
    "KeySchema": [
        {"AttributeName": "sk", "KeyType": "RANGE"},
        {"AttributeName": "pk", "KeyType": "HASH"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "N"},
        {"AttributeName": "gpk", "AttributeType": "B"},
        {"AttributeName": "lsk", "AttributeType": "S"},
    ],
    "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "g",
            "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]},
            "IndexStatus": "ACTIVE",
            "ProvisionedThroughput": {"ReadCapacityUnits": 7, "WriteCapacityUnits": 3},
        }
    ],
    "LocalSecondaryIndexes": [
        {
            "IndexName": "l",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "lsk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
            "IndexSizeBytes": 0,
        }
    ],
}


def test_key_schema_puts_hash_first_with_types() -> None:
    assert key_schema(SOURCE) == (KeyAttribute("pk", "HASH", "S"), KeyAttribute("sk", "RANGE", "N"))
    assert show(key_schema(SOURCE)) == "pk (S, HASH), sk (N, RANGE)"


def test_on_demand_request_copies_keys_and_indexes_without_throughput() -> None:
    request = create_table_request(SOURCE, "orders_copy", "PAY_PER_REQUEST", {})
    assert request["TableName"] == "orders_copy"
    assert request["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in request
    assert request["KeySchema"] == SOURCE["KeySchema"]
    assert request["AttributeDefinitions"] == SOURCE["AttributeDefinitions"]
    assert request["GlobalSecondaryIndexes"] == [
        {
            "IndexName": "g",
            "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]},
        }
    ]
    assert request["LocalSecondaryIndexes"][0]["KeySchema"][1]["AttributeName"] == "lsk"


def test_provisioned_request_keeps_index_capacity_and_defaults_zero() -> None:
    request = create_table_request(SOURCE, "t", "PROVISIONED", {})
    assert request["ProvisionedThroughput"] == {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    assert request["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"] == {
        "ReadCapacityUnits": 7,
        "WriteCapacityUnits": 3,
    }


def test_renames_reach_keys_definitions_and_projections() -> None:
    renames = {"pk": "id", "note": "remark"}
    request = create_table_request(SOURCE, "t", "PAY_PER_REQUEST", renames)
    assert {"AttributeName": "id", "KeyType": "HASH"} in request["KeySchema"]
    assert {"AttributeName": "id", "AttributeType": "S"} in request["AttributeDefinitions"]
    assert request["GlobalSecondaryIndexes"][0]["Projection"]["NonKeyAttributes"] == ["remark"]
    assert renamed_key_schema(key_schema(SOURCE), renames)[0] == KeyAttribute("id", "HASH", "S")
    assert "'pk'" not in str(request)
