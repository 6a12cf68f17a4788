"""The table the mutator writes to: its key schema, its creation, its live keys.

DescribeTable and CreateTable go through boto3 (the control plane); the scan of
existing keys goes through the data plane, keys only.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from mutator.keys import KeySpace
from mutator.plane import call_counted
from mutator.stats import Counters
from toolkit.errors import ServiceError, UserError
from toolkit.logic.table_schema import KeyAttribute, key_schema
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.schema import describe
from toolkit.wire.service_errors import translated
from toolkit.wire.writer import Plane

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

log = logging.getLogger("mutator")

# The reference post's table: id (S) hash key, version (N) range key; on demand here.
MIGRATION_TEST_KEYS = (KeyAttribute("id", "HASH", "S"), KeyAttribute("version", "RANGE", "N"))
SCAN_SEGMENTS = 4


def create_request(table: str) -> dict[str, Any]:
    return {
        "TableName": table,
        "KeySchema": [{"AttributeName": k.name, "KeyType": k.role} for k in MIGRATION_TEST_KEYS],
        "AttributeDefinitions": [
            {"AttributeName": k.name, "AttributeType": k.type} for k in MIGRATION_TEST_KEYS
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


def table_keys(
    client: DynamoDBClient, table: str, where: str, create: bool
) -> tuple[tuple[KeyAttribute, ...], bool]:
    """The table's key schema (hash first), and whether this call created the table."""
    description = describe(client, table, where)
    created = False
    if description is None:
        if not create:
            raise UserError(
                f"table {table} does not exist on {where}; create it, or pass --create-table "
                "for the migration_test shape (id S hash key, version N range key)"
            )
        created = _create(client, table, where)
    if description is None or description.get("TableStatus") != "ACTIVE":
        _wait_active(client, table, where)
        description = describe(client, table, where)
    if description is None:
        raise ServiceError(f"table {table} on {where} was deleted while the mutator started")
    return key_schema(description), created


def _create(client: DynamoDBClient, table: str, where: str) -> bool:
    log.info("Creating table %s on %s (id S hash key, version N range key)", table, where)
    try:
        with translated("CreateTable", where):
            client.create_table(**create_request(table))
    except ServiceError as error:
        if error.code == "ResourceInUseException":  # created meanwhile by someone else
            return False
        raise
    return True


def _wait_active(client: DynamoDBClient, table: str, where: str) -> None:
    with translated("DescribeTable", where):
        client.get_waiter("table_exists").wait(
            TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 600}
        )


def live_indexes(
    plane: Plane, table: str, space: KeySpace, policy: RetryPolicy, counters: Counters
) -> list[int]:
    """Indexes of the key space that hold an item now (a parallel, keys-only Scan)."""
    with ThreadPoolExecutor(SCAN_SEGMENTS, thread_name_prefix="scan-keys") as pool:
        parts = pool.map(
            lambda segment: _scan_segment(plane, table, space, policy, counters, segment),
            range(SCAN_SEGMENTS),
        )
        return sorted(index for part in parts for index in part)


def _scan_segment(
    plane: Plane,
    table: str,
    space: KeySpace,
    policy: RetryPolicy,
    counters: Counters,
    segment: int,
) -> list[int]:
    names = {f"#k{i}": name for i, name in enumerate(space.names)}
    request: dict[str, Any] = {
        "TableName": table,
        "ProjectionExpression": ", ".join(names),
        "ExpressionAttributeNames": names,
        "Segment": segment,
        "TotalSegments": SCAN_SEGMENTS,
    }
    found: list[int] = []
    while True:
        body = call_counted(plane, "Scan", request, policy, counters).body
        for key in body.get("Items", ()):
            index = space.index_of(key)
            if index is not None:
                found.append(index)
        start = body.get("LastEvaluatedKey")
        if not start:
            return found
        request = {**request, "ExclusiveStartKey": start}
