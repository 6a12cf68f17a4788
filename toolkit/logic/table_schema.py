"""Pure logic on table descriptions: the target's CreateTable request, key schemas.

Takes and returns boto3's low-level shapes (plain dicts); imports no boto3.
A check that fails raises a one-line UserError.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from toolkit.errors import UserError

Description = Mapping[str, Any]


@dataclass(frozen=True)
class KeyAttribute:
    name: str
    role: str  # HASH or RANGE
    type: str  # S, N or B

    def __str__(self) -> str:
        return f"{self.name} ({self.type}, {self.role})"


def key_schema(description: Description) -> tuple[KeyAttribute, ...]:
    types = {a["AttributeName"]: a["AttributeType"] for a in description["AttributeDefinitions"]}
    return tuple(
        KeyAttribute(k["AttributeName"], k["KeyType"], types[k["AttributeName"]])
        for k in sorted(description["KeySchema"], key=lambda k: k["KeyType"] != "HASH")
    )


def renamed_key_schema(
    keys: tuple[KeyAttribute, ...], renames: Mapping[str, str]
) -> tuple[KeyAttribute, ...]:
    return tuple(KeyAttribute(renames.get(k.name, k.name), k.role, k.type) for k in keys)


def show(keys: tuple[KeyAttribute, ...]) -> str:
    return ", ".join(str(k) for k in keys)


def billing_mode_for(source: Description, asked: str | None) -> str:
    """The target's billing mode: as asked, else the source's, as the Scylla Migrator does.

    A source with provisioned read and write capacity is copied as PROVISIONED with the
    same capacity; an on-demand source (0 and 0) as PAY_PER_REQUEST. PROVISIONED asked
    of an on-demand source has no capacity to copy, so it is refused.
    """
    throughput = source.get("ProvisionedThroughput") or {}
    units = [int(throughput.get(k) or 0) for k in ("ReadCapacityUnits", "WriteCapacityUnits")]
    if asked == "PROVISIONED" and not all(units):
        raise UserError(
            f"target.billingMode is PROVISIONED, but the source table {source['TableName']} "
            "is on demand: it has no read and write capacity to copy; write billingMode: "
            "PAY_PER_REQUEST, or leave it out to copy the source's mode"
        )
    return asked or ("PROVISIONED" if all(units) else "PAY_PER_REQUEST")


def create_table_request(
    source: Description, target_table: str, billing_mode: str | None, renames: Mapping[str, str]
) -> dict[str, Any]:
    """CreateTable for the target: the source's keys, indexes and (renamed) attributes."""
    billing_mode = billing_mode_for(source, billing_mode)

    def name(n: str) -> str:
        return renames.get(n, n)

    def keys(schema: list[dict[str, str]]) -> list[dict[str, str]]:
        return [
            {"AttributeName": name(k["AttributeName"]), "KeyType": k["KeyType"]} for k in schema
        ]

    request: dict[str, Any] = {
        "TableName": target_table,
        "KeySchema": keys(source["KeySchema"]),
        "AttributeDefinitions": [
            {"AttributeName": name(a["AttributeName"]), "AttributeType": a["AttributeType"]}
            for a in source["AttributeDefinitions"]
        ],
        "BillingMode": billing_mode,
    }
    provisioned = billing_mode == "PROVISIONED"
    if provisioned:
        request["ProvisionedThroughput"] = _throughput(source.get("ProvisionedThroughput"))
    global_indexes = [
        {
            "IndexName": index["IndexName"],
            "KeySchema": keys(index["KeySchema"]),
            "Projection": _projection(index["Projection"], name),
            **(
                {"ProvisionedThroughput": _throughput(index.get("ProvisionedThroughput"))}
                if provisioned
                else {}
            ),
        }
        for index in source.get("GlobalSecondaryIndexes", ())
    ]
    local_indexes = [
        {
            "IndexName": index["IndexName"],
            "KeySchema": keys(index["KeySchema"]),
            "Projection": _projection(index["Projection"], name),
        }
        for index in source.get("LocalSecondaryIndexes", ())
    ]
    if global_indexes:
        request["GlobalSecondaryIndexes"] = global_indexes
    if local_indexes:
        request["LocalSecondaryIndexes"] = local_indexes
    return request


def _projection(projection: Mapping[str, Any], name: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"ProjectionType": projection.get("ProjectionType", "ALL")}
    if projection.get("NonKeyAttributes"):
        result["NonKeyAttributes"] = [name(n) for n in projection["NonKeyAttributes"]]
    return result


def _throughput(source: Mapping[str, Any] | None) -> dict[str, int]:
    # An on-demand source reports 0; a provisioned target needs at least 1.
    read = int((source or {}).get("ReadCapacityUnits") or 0) or 5
    write = int((source or {}).get("WriteCapacityUnits") or 0) or 5
    return {"ReadCapacityUnits": read, "WriteCapacityUnits": write}


def check_renames(
    renames: Sequence[tuple[str, str]],
    key_names: Sequence[str],
    ttl_attribute: str | None,
    table: str,
    origin: str,
) -> None:
    """Refuse a rename onto a key attribute or the TTL attribute that keeps its name.

    Every item holds its key, so renaming another attribute onto it would lose one
    of the two values in every item that has both; onto the TTL attribute, the
    target would expire items by a value that never meant an expiry time. Renaming
    the key (or the TTL attribute) itself is fine, and so is renaming onto a name
    that is itself renamed away.
    """
    renamed = {old for old, _ in renames}
    for index, (old, new) in enumerate(renames):
        if new == old or new in renamed:
            continue
        if new in key_names:
            what = f"a key attribute of table {table}: every item has it"
        elif new == ttl_attribute:
            what = f"the TTL attribute of table {table}: the target would expire items by it"
        else:
            continue
        raise UserError(
            f"{origin}: renames[{index}] renames {old} onto {new}, {what}, and one of the two "
            f"values would be lost; rename {new} as well, or drop that rename"
        )
