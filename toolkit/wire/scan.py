"""Reading one side's table: requests within a read budget, and the one Scan loop.

Every Scan of the toolkit goes through ``scan_answers``: the snapshot's segments,
an export written from a table, and verify's comparison. Transient errors are
retried with the toolkit's backoff; a read budget (readThroughput) spaces requests
by the capacity they consumed (or, on Alternator, which reports none, their size).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from toolkit.wire.dataplane import Answer
from toolkit.wire.retry import RetryPolicy, call_with_retries
from toolkit.wire.throughput import CapacityBudget, charge_read


class Plane(Protocol):
    """What the reads need of ``toolkit.wire.dataplane.DataPlane``."""

    def call(self, operation: str, request: dict[str, Any]) -> Answer: ...


@dataclass(frozen=True)
class Table:
    """One side's table as its reads see it."""

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


def scan_answers(
    table: Table,
    segment: int,
    total_segments: int,
    *,
    attributes: Sequence[str] | None = None,
    page_items: int | None = None,
    start: dict[str, Any] | None = None,
) -> Iterator[Answer]:
    """One segment's Scan answers, page by page, from after ``start`` to its end."""
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
        if start is not None:
            request = {**request, "ExclusiveStartKey": start}
        answer = table.read("Scan", request)
        yield answer
        start = answer.body.get("LastEvaluatedKey")
        if start is None:
            return
