"""BatchWriteItem with retries: every request acknowledged, or the run stops.

Shared by every write of items to a target: the snapshot, the stream replay, the S3
export loads, verify's repair and the mutator's loads. Requests are BatchWriteItem's
own shapes ({"PutRequest": {"Item": ...}} or {"DeleteRequest": {"Key": ...}}), passed
through untouched.

Where the target spreads writes over several nodes (Alternator), each batch holds the
keys of one node and goes to it: an item's writes then all reach one node, which
applies them in the order they were sent (toolkit.logic.key_routing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from toolkit.config import TargetConfig
from toolkit.errors import TerminalError, ToolkitError
from toolkit.logic.items import item_size
from toolkit.logic.key_routing import routing_key
from toolkit.wire.dataplane import Answer
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.throughput import CapacityBudget

WriteRequest = dict[str, Any]
Batch = tuple[str, list[WriteRequest]]  # the node its keys go to ("": one endpoint), its requests
WRITE_UNIT_BYTES = 1024


class Plane(Protocol):
    """The part of the data plane a writer needs (a DataPlane, or a wrapper of one)."""

    def call(self, operation: str, request: dict[str, Any]) -> Answer: ...

    def call_all(
        self,
        operation: str,
        requests: Sequence[dict[str, Any]],
        *,
        keys: Sequence[bytes] | None = None,
    ) -> list[Answer | ToolkitError]: ...

    @property
    def spreads_writes(self) -> bool: ...

    def node_for(self, key: bytes) -> str: ...


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
        self._routed_by = tuple(sorted(key_names))  # as every writer of the table orders them

    def write(self, requests: Sequence[WriteRequest], at_once: int = 1) -> None:
        """Write all requests; return only once the target acknowledged every one.
        ``at_once``: batches in flight together, on this thread (their waits for the
        target overlap without a hand-off to other threads)."""
        batches = self._batches(requests)
        step = max(1, at_once)
        for at in range(0, len(batches), step):
            self._write_batches(self._fresh(batches[at : at + step]), step)

    def _batches(self, requests: Sequence[WriteRequest]) -> list[Batch]:
        """Cut in batch_size; where writes spread over nodes, per node first."""
        size = self._capabilities.batch_size
        groups = self._by_node(requests) if self._plane.spreads_writes else {"": requests}
        return [
            (node, list(group[at : at + size]))
            for node, group in groups.items()
            for at in range(0, len(group), size)
        ]

    def _by_node(self, requests: Sequence[WriteRequest]) -> dict[str, Sequence[WriteRequest]]:
        """The requests grouped by their key's node, each group in the order given."""
        groups: dict[str, list[WriteRequest]] = {}
        for request in requests:
            groups.setdefault(self._node_of(request), []).append(request)
        return dict(groups)

    def _fresh(self, batches: list[Batch]) -> list[Batch]:
        """The batches, those cut for a node their keys no longer go to cut again (a node
        failed, or the list changed, since: one check per batch, on its first key)."""
        if not self._plane.spreads_writes:
            return batches
        stale = [self._node_of(batch[0]) != node for node, batch in batches]
        if not any(stale):
            return batches
        kept = [batch for batch, moved in zip(batches, stale, strict=True) if not moved]
        moved = [r for (_, b), out in zip(batches, stale, strict=True) if out for r in b]
        return kept + self._batches(moved)

    def _write_batches(self, pending: list[Batch], step: int) -> None:
        """Send the batches together, then again what is left of each (its unprocessed
        items, or all of it after a transient error) until the policy gives up."""
        delays = self._policy.delays()
        while pending:
            self._budget.wait_turn()
            left: list[Batch] = []
            failure: ToolkitError | None = None
            for (node, batch), outcome in zip(pending, self._send_all(pending, step), strict=True):
                if isinstance(outcome, ToolkitError):
                    if not outcome.transient:
                        raise self._failed(batch, outcome) from None
                    left.append((node, batch))
                    failure = outcome
                elif outcome:
                    left.append((node, outcome))
            pending = self._regrouped(left)
            if not pending:
                return
            delay = next(delays, None)
            if delay is None:
                raise self._failed([r for _, batch in pending for r in batch], failure) from None
            self._policy.sleep(delay)

    def _regrouped(self, left: list[Batch]) -> list[Batch]:
        """What is left, cut again per node: a node that failed meanwhile moved its keys."""
        if not self._plane.spreads_writes or not left:
            return left
        return self._batches([request for _, batch in left for request in batch])

    def _send_all(self, batches: list[Batch], step: int) -> list[list[WriteRequest] | ToolkitError]:
        """Each batch's unprocessed requests (empty: all written), or its error; at most
        ``step`` batches in flight together (cut again, there may be a few more)."""
        outcomes: list[list[WriteRequest] | ToolkitError] = []
        for at in range(0, len(batches), step):
            outcomes.extend(self._send_together([batch for _, batch in batches[at : at + step]]))
        return outcomes

    def _send_together(
        self, batches: list[list[WriteRequest]]
    ) -> list[list[WriteRequest] | ToolkitError]:
        reported = self._capabilities.reports_consumed_capacity
        extra = {"ReturnConsumedCapacity": "TOTAL"} if reported and self._budget.limited else {}
        requests = [{"RequestItems": {self._table: batch}, **extra} for batch in batches]
        # Each batch to the node of its keys (its first key's: they share one node).
        spread = self._plane.spreads_writes
        keys = [self._routing_key(batch[0]) for batch in batches] if spread else None
        answers = self._plane.call_all("BatchWriteItem", requests, keys=keys)
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

    def _node_of(self, request: WriteRequest) -> str:
        return self._plane.node_for(self._routing_key(request))

    def _routing_key(self, request: WriteRequest) -> bytes:
        put = request.get("PutRequest")
        values = put["Item"] if put is not None else request["DeleteRequest"]["Key"]
        return routing_key(values, self._routed_by)

    def _key_of(self, request: WriteRequest) -> dict[str, Any]:
        if "DeleteRequest" in request:
            key: dict[str, Any] = request["DeleteRequest"]["Key"]
            return key
        item = request["PutRequest"]["Item"]
        return {name: item[name] for name in self._key_names if name in item}
