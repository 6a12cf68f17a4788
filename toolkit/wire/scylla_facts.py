"""Read what an Alternator server says about itself through the DynamoDB API.

ScyllaDB serves its CQL system tables to Alternator clients under the names
``.scylla.alternator.KEYSPACE.TABLE`` (Scan and Query only): ``system.versions``
(column ``version``), ``system.config`` (``name`` -> ``value``, a JSON text) and
``system_schema.scylla_keyspaces`` (``keyspace_name`` -> ``initial_tablets``, set for
a keyspace that uses tablets; an Alternator table T lives in keyspace
``alternator_T``). Any other server, or a user not allowed to read them, answers
with an error: the fact is then unknown (None), never a failure of the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolkit.errors import ToolkitError
from toolkit.logic.tablets import ServerFacts, parse_mode
from toolkit.wire.service_errors import translated

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PREFIX = ".scylla.alternator."
VERSIONS = PREFIX + "system.versions"
CONFIG = PREFIX + "system.config"
KEYSPACES = PREFIX + "system_schema.scylla_keyspaces"
MODE_SETTING = "tablets_mode_for_new_keyspaces"


def server_facts(client: DynamoDBClient, where: str) -> ServerFacts:
    """The server's version and tablets mode, each None when it cannot be read."""
    versions = _items(client, where, VERSIONS, None)
    mode = _items(client, where, CONFIG, ("name", MODE_SETTING))
    return ServerFacts(_text(versions, "version"), parse_mode(_text(mode, "value")))


def uses_tablets(client: DynamoDBClient, table: str, where: str) -> bool | None:
    """Whether Alternator table ``table`` uses tablets; None when it cannot be read."""
    rows = _items(client, where, KEYSPACES, ("keyspace_name", f"alternator_{table}"))
    if rows is None:
        return None
    # A row without initial_tablets, or no row at all, is a keyspace on vnodes.
    return any(row.get("initial_tablets") for row in rows)


def _items(
    client: DynamoDBClient, where: str, table: str, key: tuple[str, str] | None
) -> list[dict[str, Any]] | None:
    """A system table's items (all, or those of one partition key); None if unreadable."""
    try:
        if key is None:
            with translated("Scan", where):
                return list(client.scan(TableName=table, Limit=10).get("Items", []))
        with translated("Query", where):
            answer = client.query(
                TableName=table,
                KeyConditionExpression="#k = :v",
                ExpressionAttributeNames={"#k": key[0]},
                ExpressionAttributeValues={":v": {"S": key[1]}},
            )
        return list(answer.get("Items", []))
    except ToolkitError:  # not ScyllaDB, too old, or not allowed: unknown
        return None


def _text(rows: list[dict[str, Any]] | None, column: str) -> str | None:
    for row in rows or []:
        value = row.get(column, {}).get("S")
        if isinstance(value, str):
            return value
    return None
