"""The target's CreateTable request, built from a source description (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from toolkit.errors import UserError
from toolkit.logic.table_schema import (
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


def test_the_billing_mode_is_the_sources_unless_asked() -> None:
    """As the Scylla Migrator: provisioned capacity is copied; on demand stays on demand."""
    provisioned = {
        **SOURCE,
        "ProvisionedThroughput": {"ReadCapacityUnits": 9, "WriteCapacityUnits": 4},
    }
    request = create_table_request(provisioned, "t", None, {})
    assert request["BillingMode"] == "PROVISIONED"
    assert request["ProvisionedThroughput"] == {"ReadCapacityUnits": 9, "WriteCapacityUnits": 4}
    assert request["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"] == {
        "ReadCapacityUnits": 7,
        "WriteCapacityUnits": 3,
    }
    assert create_table_request(provisioned, "t", "PAY_PER_REQUEST", {})["BillingMode"] == (
        "PAY_PER_REQUEST"
    )
    on_demand = create_table_request(SOURCE, "t", None, {})
    assert (
        on_demand["BillingMode"] == "PAY_PER_REQUEST" and "ProvisionedThroughput" not in on_demand
    )
    with pytest.raises(UserError, match="is on demand: it has no read and write capacity to copy"):
        create_table_request(SOURCE, "t", "PROVISIONED", {})


def test_renames_reach_keys_definitions_and_projections() -> None:
    renames = {"pk": "id", "note": "remark"}
    request = create_table_request(SOURCE, "t", "PAY_PER_REQUEST", renames)
    assert {"AttributeName": "id", "KeyType": "HASH"} in request["KeySchema"]
    assert {"AttributeName": "id", "AttributeType": "S"} in request["AttributeDefinitions"]
    assert request["GlobalSecondaryIndexes"][0]["Projection"]["NonKeyAttributes"] == ["remark"]
    assert renamed_key_schema(key_schema(SOURCE), renames)[0] == KeyAttribute("id", "HASH", "S")
    assert "'pk'" not in str(request)
