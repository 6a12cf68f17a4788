"""The reads a comparison makes: Scan pages of one segment, and keys by BatchGetItem.

Both go through the data plane (signed HTTP, orjson), items stay in wire form.
Transient errors are retried with the toolkit's backoff; so are the keys that
BatchGetItem returns as unprocessed, until the retry policy gives up. A read
budget (the source's readThroughput) spaces requests by the capacity they consumed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from toolkit.errors import TerminalError
from toolkit.logic.items import Item, Key
from toolkit.wire.dataplane import Answer
from toolkit.wire.retry import RetryPolicy, call_with_retries
from toolkit.wire.throughput import CapacityBudget, charge_read

BATCH_GET_KEYS = 100  # BatchGetItem's limit, on DynamoDB and Alternator alike


class Plane(Protocol):
    """What the reads need of ``toolkit.wire.dataplane.DataPlane``."""

    def call(self, operation: str, request: dict[str, Any]) -> Answer: ...


@dataclass(frozen=True)
class Table:
    """One side's table as the reads see it."""

    plane: Plane
    name: str
    policy: RetryPolicy
    budget: CapacityBudget = field(default_factory=lambda: CapacityBudget(None))
    reports_capacity: bool = True  # False (Alternator): never ask for ConsumedCapacity

    def read(self, operation: str, request: dict[str, Any]) -> Answer:
        """One request, retried while transient, within the read budget."""
        if self.budget.limited and self.reports_capacity:
            request = {**request, "ReturnConsumedCapacity": "TOTAL"}
        self.budget.wait_turn()
        answer = call_with_retries(lambda: self.plane.call(operation, request), self.policy)
        charge_read(self.budget, answer.body, answer.size)
        return answer


def projection(names: Sequence[str]) -> dict[str, Any]:
    """ProjectionExpression for these attributes; placeholders keep any name legal."""
    return {
        "ProjectionExpression": ", ".join(f"#a{n}" for n in range(len(names))),
        "ExpressionAttributeNames": {f"#a{n}": name for n, name in enumerate(names)},
    }


def scan_pages(
    table: Table,
    segment: int,
    total_segments: int,
    *,
    attributes: Sequence[str] | None = None,
    page_items: int | None = None,
) -> Iterator[list[Item]]:
    """The items of one segment, page by page (only ``attributes``, when given)."""
    request: dict[str, Any] = {
        "TableName": table.name,
        "Segment": segment,
        "TotalSegments": total_segments,
    }
    if attributes:
        request |= projection(attributes)
    if page_items:
        request["Limit"] = page_items
    while True:
        answer = table.read("Scan", request)
        items: list[Item] = answer.body.get("Items", [])
        yield items
        start = answer.body.get("LastEvaluatedKey")
        if start is None:
            return
        request = {**request, "ExclusiveStartKey": start}


def batch_get(
    table: Table,
    keys: Sequence[Key],
    *,
    consistent: bool = False,
    attributes: Sequence[str] | None = None,
) -> list[Item]:
    """The items found for ``keys`` (absent keys are simply not there), any order."""
    found: list[Item] = []
    for start in range(0, len(keys), BATCH_GET_KEYS):
        found += _get_batch(
            table, list(keys[start : start + BATCH_GET_KEYS]), consistent, attributes
        )
    return found


def _get_batch(
    table: Table, keys: list[Key], consistent: bool, attributes: Sequence[str] | None
) -> list[Item]:
    shape: dict[str, Any] = {"ConsistentRead": consistent}
    if attributes:
        shape |= projection(attributes)
    found: list[Item] = []
    delays = table.policy.delays()
    while True:
        request = {"RequestItems": {table.name: {**shape, "Keys": keys}}}
        answer = table.read("BatchGetItem", request)
        found += answer.body.get("Responses", {}).get(table.name, [])
        sent, keys = (
            keys,
            answer.body.get("UnprocessedKeys", {}).get(table.name, {}).get("Keys", []),
        )
        if not keys:
            return found
        if len(keys) < len(sent):  # progress (a full 16 MB answer, say): back off afresh
            delays = table.policy.delays()
        delay = next(delays, None)
        if delay is None:
            raise TerminalError(
                f"reading table {table.name}: {len(keys)} keys stayed unprocessed by "
                "BatchGetItem however long it was retried; try again later or with fewer --workers"
            )
        table.policy.sleep(delay)
