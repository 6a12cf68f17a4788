"""Whether two table descriptions are one table: a table is never migrated onto itself.

The config cannot tell two spellings of one endpoint apart (localhost and 127.0.0.1, a
host name and its address, a load balancer and one of its nodes); and one endpoint may
serve two tables of one name (DynamoDB Local without -sharedDb keeps one database per
access key and region). The tables' own descriptions tell:

- DynamoDB (and moto) give every table a TableId, a UUID of its own
  (DescribeTable's TableDescription.TableId).
- DynamoDB Local gives no TableId, and the same ARN to a table of one name on every
  server (arn:aws:dynamodb:ddblocal:000000000000:table/NAME), but a creation time in
  milliseconds: two tables with the same ARN and creation time are one table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from toolkit.errors import UserError

Description = Mapping[str, Any]


def same_table(one: Description, other: Description) -> bool:
    """Whether two descriptions are of one table (by its id, else its ARN and creation time)."""
    if one.get("TableId") and other.get("TableId"):
        return bool(one["TableId"] == other["TableId"])
    created = one.get("CreationDateTime")
    return (
        created is not None
        and created == other.get("CreationDateTime")
        and one.get("TableArn") == other.get("TableArn")
    )


MIGRATED_ONTO_ITSELF = "a table replayed onto itself turns its writes back into older values"
COMPARED_WITH_ITSELF = "a table compared with itself is always identical and proves nothing"


def refuse_same_table(
    source: Description,
    target: Description | None,
    where: tuple[str, str],
    why: str = MIGRATED_ONTO_ITSELF,
) -> None:
    """One line, before anything is touched, when the target is the source itself."""
    if target is None or not same_table(source, target):
        return
    how = "TableId" if source.get("TableId") else "ARN and creation time"
    raise UserError(
        f"the target table {target.get('TableName')} on {where[1]} is the source table "
        f"{source.get('TableName')} on {where[0]} (the same {how}): {why}; point "
        "target.endpoint or target.table at another table"
    )
