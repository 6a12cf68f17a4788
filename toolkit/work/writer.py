"""BatchWriteItem with retries: every request acknowledged, or the run stops.

Shared by the snapshot and the stream replay. Requests are BatchWriteItem's own
shapes ({"PutRequest": {"Item": ...}} or {"DeleteRequest": {"Key": ...}}), passed
through untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from toolkit.config import TargetConfig
from toolkit.errors import TerminalError, ToolkitError
from toolkit.logic.items import item_size
from toolkit.wire.dataplane import Answer
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.throughput import CapacityBudget

WriteRequest = dict[str, Any]
WRITE_UNIT_BYTES = 1024


class Plane(Protocol):
    """The part of the data plane a writer needs (a DataPlane, or a wrapper of one)."""

    def call(self, operation: str, request: dict[str, Any]) -> Answer: ...

    def call_all(
        self, operation: str, requests: Sequence[dict[str, Any]]
    ) -> list[Answer | ToolkitError]: ...


@dataclass(frozen=True)
class TargetCapabilities:
    """What the target accepts: data on the target, not branches on its type."""

    batch_size: int = 25
    reports_consumed_capacity: bool = True

    @classmethod
    def of(cls, target: TargetConfig) -> TargetCapabilities:
        return cls(target.batch_size, not target.remove_consumed_capacity)


def write_units(request: WriteRequest) -> int:
    """DynamoDB's write units for one request: one per 1 KB of the item, at least one.

    What a target that reports no consumed capacity (Alternator) is charged with, so
    that writeThroughput holds there too. A delete is one unit (its size is unknown).
    """
    put = request.get("PutRequest")
    return max(1, -(-item_size(put["Item"]) // WRITE_UNIT_BYTES)) if put else 1


class BatchWriter:
    def __init__(
        self,
        plane: Plane,
        table: str,
        capabilities: TargetCapabilities,
        budget: CapacityBudget,
        policy: RetryPolicy,
        key_names: Sequence[str],
        on_failed: Callable[[int], None] | None = None,
    ) -> None:
        self._on_failed = on_failed  # told how many writes failed for good
        self._plane = plane
        self._table = table
        self._capabilities = capabilities
        self._budget = budget
        self._policy = policy
        self._key_names = tuple(key_names)

    def write(self, requests: Sequence[WriteRequest], at_once: int = 1) -> None:
        """Write all requests; return only once the target acknowledged every one.
        ``at_once``: batches in flight together, on this thread (their waits for the
        target overlap without a hand-off to other threads)."""
        size = self._capabilities.batch_size
        batches = [list(requests[at : at + size]) for at in range(0, len(requests), size)]
        step = max(1, at_once)
        for at in range(0, len(batches), step):
            self._write_batches(batches[at : at + step])

    def _write_batches(self, pending: list[list[WriteRequest]]) -> None:
        """Send the batches together, then again what is left of each (its unprocessed
        items, or all of it after a transient error) until the policy gives up."""
        delays = self._policy.delays()
        while pending:
            self._budget.wait_turn()
            left: list[list[WriteRequest]] = []
            failure: ToolkitError | None = None
            for batch, outcome in zip(pending, self._send_all(pending), strict=True):
                if isinstance(outcome, ToolkitError):
                    if not outcome.transient:
                        raise self._failed(batch, outcome) from None
                    left.append(batch)
                    failure = outcome
                elif outcome:
                    left.append(outcome)
            pending = left
            if not pending:
                return
            delay = next(delays, None)
            if delay is None:
                raise self._failed([r for batch in pending for r in batch], failure) from None
            self._policy.sleep(delay)

    def _send_all(
        self, batches: list[list[WriteRequest]]
    ) -> list[list[WriteRequest] | ToolkitError]:
        """Each batch's unprocessed requests (empty: all written), or its error."""
        reported = self._capabilities.reports_consumed_capacity
        extra = {"ReturnConsumedCapacity": "TOTAL"} if reported and self._budget.limited else {}
        requests = [{"RequestItems": {self._table: batch}, **extra} for batch in batches]
        answers = self._plane.call_all("BatchWriteItem", requests)
        return [
            self._unprocessed(batch, answer) if isinstance(answer, Answer) else answer
            for batch, answer in zip(batches, answers, strict=True)
        ]

    def _unprocessed(self, batch: list[WriteRequest], answer: Answer) -> list[WriteRequest]:
        body = answer.body
        for used in body.get("ConsumedCapacity", ()):
            self._budget.spend(float(used.get("CapacityUnits", 0)))
        unprocessed: list[WriteRequest] = body.get("UnprocessedItems", {}).get(self._table, [])
        if not self._capabilities.reports_consumed_capacity and self._budget.limited:
            # Alternator: count what was written
            done = batch if not unprocessed else [r for r in batch if r not in unprocessed]
            self._budget.spend(sum(map(write_units, done)))
        return unprocessed

    def _failed(self, pending: list[WriteRequest], cause: ToolkitError | None) -> TerminalError:
        if self._on_failed is not None:
            self._on_failed(len(pending))
        keys = [orjson.dumps(self._key_of(r)).decode() for r in pending[:3]]
        more = f" and {len(pending) - 3} more" if len(pending) > 3 else ""
        why = str(cause) if cause else "the target kept returning them as unprocessed"
        return TerminalError(
            f"writing to table {self._table} failed for keys {', '.join(keys)}{more}: {why}"
        )

    def _key_of(self, request: WriteRequest) -> dict[str, Any]:
        if "DeleteRequest" in request:
            key: dict[str, Any] = request["DeleteRequest"]["Key"]
            return key
        item = request["PutRequest"]["Item"]
        return {name: item[name] for name in self._key_names if name in item}
