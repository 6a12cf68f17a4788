"""BatchWriter against a stand-in target that throttles and returns unprocessed items.

A real server cannot be made to throttle on demand; the same path runs against
DynamoDB Local in the migration tests.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import PlaneOneByOne
from toolkit.errors import ServiceBusy, ServiceError, TerminalError, ToolkitError
from toolkit.logic.key_routing import NodeMap, routing_key
from toolkit.wire.dataplane import Answer
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.throughput import CapacityBudget
from toolkit.wire.writer import BatchWriter, TargetCapabilities, write_units


class StormyTarget(PlaneOneByOne):
    """Acknowledges a random part of each batch, throttles some calls outright."""

    def __init__(self, seed: int, throttle_rate: float = 0.3, keep_rate: float = 0.5) -> None:
        self.rng = random.Random(seed)
        self.throttle_rate = throttle_rate
        self.keep_rate = keep_rate
        self.stored: dict[str, Any] = {}
        self.batch_sizes: list[int] = []

    def call(self, operation: str, request: dict[str, Any]) -> Answer:
        assert operation == "BatchWriteItem"
        ((table, batch),) = request["RequestItems"].items()
        self.batch_sizes.append(len(batch))
        if self.rng.random() < self.throttle_rate:
            raise ServiceBusy("throttled", code="ProvisionedThroughputExceededException")
        unprocessed = []
        for entry in batch:
            if self.rng.random() < self.keep_rate:
                unprocessed.append(entry)
            else:
                self.stored[entry["PutRequest"]["Item"]["id"]["S"]] = entry
        body = {"UnprocessedItems": {table: unprocessed} if unprocessed else {}}
        return Answer(body, 0)


def writer(target: Any, batch_size: int = 25, give_up_after: float = 1e9) -> BatchWriter:
    policy = RetryPolicy(give_up_after=give_up_after, sleep=lambda _: None)
    return BatchWriter(
        target, "t", TargetCapabilities(batch_size=batch_size), CapacityBudget(None), policy, ["id"]
    )


def puts(count: int) -> list[dict[str, Any]]:
    return [{"PutRequest": {"Item": {"id": {"S": f"k{n}"}}}} for n in range(count)]


@given(
    seed=st.integers(0, 10**6),
    count=st.integers(0, 300),
    size=st.sampled_from([25, 100]),
    at_once=st.integers(1, 9),
)
@settings(max_examples=60, deadline=None)
def test_every_item_is_acknowledged_through_a_storm(
    seed: int, count: int, size: int, at_once: int
) -> None:
    target = StormyTarget(seed)
    writer(target, size).write(puts(count), at_once)
    assert sorted(target.stored) == sorted(f"k{n}" for n in range(count))
    assert all(0 < s <= size for s in target.batch_sizes)
    assert all(0 < n <= at_once for n in getattr(target, "in_flight", []))


def test_batches_go_in_flight_together_and_only_the_failed_one_is_sent_again() -> None:
    class OneThrottledOnce(PlaneOneByOne):
        def __init__(self) -> None:
            self.sent: list[str] = []  # each batch's first key, as sent

        def call(self, operation: str, request: dict[str, Any]) -> Answer:
            (batch,) = request["RequestItems"].values()
            first = batch[0]["PutRequest"]["Item"]["id"]["S"]
            self.sent.append(first)
            if first == "k25" and self.sent.count(first) == 1:
                raise ServiceBusy("throttled", code="ThrottlingException")
            return Answer({}, 0)

    target = OneThrottledOnce()
    writer(target).write(puts(100), at_once=4)
    assert target.in_flight == [4, 1]  # four batches together, then the throttled one alone
    assert target.sent == ["k0", "k25", "k50", "k75", "k25"]


def test_a_rejected_batch_among_several_stops_the_write_naming_its_keys() -> None:
    class RejectsOne(PlaneOneByOne):
        def call(self, operation: str, request: dict[str, Any]) -> Answer:
            (batch,) = request["RequestItems"].values()
            if batch[0]["PutRequest"]["Item"]["id"]["S"] == "k50":
                raise ServiceError("ValidationException: bad item", code="ValidationException")
            return Answer({}, 0)

    with pytest.raises(TerminalError, match="bad item") as raised:
        writer(RejectsOne()).write(puts(100), at_once=4)
    assert '{"id":{"S":"k50"}}' in str(raised.value)
    assert "k0" not in str(raised.value)


def test_a_write_that_keeps_failing_stops_with_table_and_keys() -> None:
    target = StormyTarget(seed=1, throttle_rate=1.0)
    with pytest.raises(TerminalError) as raised:
        writer(target, give_up_after=0.5).write(puts(5))
    message = str(raised.value)
    assert "table t" in message
    assert '{"id":{"S":"k0"}}' in message
    assert "and 2 more" in message


def test_a_rejected_write_is_not_retried() -> None:
    class Rejecting(PlaneOneByOne):
        calls = 0

        def call(self, operation: str, request: dict[str, Any]) -> Answer:
            Rejecting.calls += 1
            raise ServiceError("ValidationException: item too large", code="ValidationException")

    with pytest.raises(TerminalError, match="item too large"):
        writer(Rejecting()).write(puts(3))
    assert Rejecting.calls == 1


class SpendLog(CapacityBudget):
    """A budget that records what it is charged, and never waits."""

    def __init__(self) -> None:
        super().__init__(100.0, sleep=lambda _: None)
        self.spent: list[float] = []

    def spend(self, units: float) -> None:
        self.spent.append(units)


def test_a_target_without_consumed_capacity_is_charged_by_written_size() -> None:
    """Alternator sends no ConsumedCapacity: writeThroughput counts 1 KB units itself."""
    target = StormyTarget(seed=3, throttle_rate=0.0, keep_rate=0.3)
    budget = SpendLog()
    capabilities = TargetCapabilities(batch_size=25, reports_consumed_capacity=False)
    policy = RetryPolicy(give_up_after=1e9, sleep=lambda _: None)
    small = [{"PutRequest": {"Item": {"id": {"S": f"s{n}"}}}} for n in range(30)]
    big = [
        {"PutRequest": {"Item": {"id": {"S": f"b{n}"}, "p": {"S": "x" * 2500}}}} for n in range(5)
    ]
    BatchWriter(target, "t", capabilities, budget, policy, ["id"]).write([*small, *big], 2)
    assert target.in_flight[0] == 2  # both batches together, charged each for what it wrote
    assert len(target.stored) == 35
    assert sum(budget.spent) == 30 * 1 + 5 * 3  # each write once, acknowledged: 2.5 KB is 3 units
    assert write_units({"DeleteRequest": {"Key": {"id": {"S": "k"}}}}) == 1


NODES = ("http://a:8000", "http://b:8000", "http://c:8000")


class ThreeNodes(PlaneOneByOne):
    """A target that spreads writes over three nodes, as LiveNodes maps them: records
    the node each batch went to; a node in ``failing`` fails the batches of the next
    round sent to it, and is then skipped, as DataPlane marks a node it cannot reach."""

    spreads_writes = True

    def __init__(self, failing: tuple[str, ...] = ()) -> None:
        self.mapping = NodeMap(NODES)
        self.down: list[str] = []
        self.failing = list(failing)
        self.sent: list[tuple[str, list[bytes]]] = []  # (node, keys of the batch)
        self.stored: dict[bytes, str] = {}  # key -> node that acknowledged its last write

    def node_for(self, key: bytes) -> str:
        return self.mapping.without(self.down).node_for(key)

    def call_all(
        self,
        operation: str,
        requests: Sequence[dict[str, Any]],
        *,
        keys: Sequence[bytes] | None = None,
    ) -> list[Answer | ToolkitError]:
        assert keys is not None and len(keys) == len(requests)
        outcomes: list[Answer | ToolkitError] = []
        self.in_flight = [*getattr(self, "in_flight", []), len(requests)]
        nodes = [self.node_for(key) for key in keys]  # all sent before any answer
        for request, node in zip(requests, nodes, strict=True):
            batch = [key_of_write(write) for write in request["RequestItems"]["t"]]
            self.sent.append((node, batch))
            if node in self.failing:  # every batch of this round to it fails
                self.down.append(node)
                outcomes.append(ServiceBusy(f"cannot reach {node}", code=""))
                continue
            self.stored.update(dict.fromkeys(batch, node))
            outcomes.append(Answer({}, 0))
        self.failing = [node for node in self.failing if node not in self.down]
        return outcomes


def key_of_write(write: dict[str, Any]) -> bytes:
    if "DeleteRequest" in write:
        return routing_key(write["DeleteRequest"]["Key"], ["id"])
    return routing_key(write["PutRequest"]["Item"], ["id"])


def writes(names: list[int]) -> list[dict[str, Any]]:
    """Puts of even names, deletes of odd ones (a delete's key maps as its put's)."""
    return [
        {"DeleteRequest": {"Key": {"id": {"S": f"k{n}"}}}}
        if n % 2
        else {"PutRequest": {"Item": {"p": {"S": "x"}, "id": {"S": f"k{n}"}}}}
        for n in names
    ]


@given(
    calls=st.lists(st.lists(st.integers(0, 400), unique=True, max_size=250), max_size=6),
    size=st.sampled_from([2, 25, 100]),
    at_once=st.integers(1, 6),
)
@settings(max_examples=60, deadline=None)
def test_each_key_always_reaches_one_node_and_a_batch_never_mixes_nodes(
    calls: list[list[int]], size: int, at_once: int
) -> None:
    target = ThreeNodes()
    for names in calls:
        writer(target, size).write(writes(names), at_once)
    nodes_of: dict[bytes, set[str]] = {}
    for node, batch in target.sent:
        assert 0 < len(batch) <= size
        for key in batch:
            assert target.mapping.node_for(key) == node
            nodes_of.setdefault(key, set()).add(node)
    assert all(len(nodes) == 1 for nodes in nodes_of.values())
    assert len(target.stored) == len({n for names in calls for n in names})
    assert all(0 < n <= at_once for n in getattr(target, "in_flight", []))


def test_a_failed_nodes_keys_move_to_their_next_node_and_no_other_key_moves() -> None:
    target = ThreeNodes(failing=("http://b:8000",))
    writer(target, 25).write(writes(list(range(0, 600, 2))), at_once=3)
    mapping = NodeMap(NODES)
    first = {key: mapping.node_for(key) for key in target.stored}
    moved = {key for key, node in first.items() if node == "http://b:8000"}
    assert moved and len(moved) < len(first)
    for key, node in target.stored.items():
        assert node == (mapping.ranking(key)[1] if key in moved else first[key])
    # b's batches were cut again per node: none went back to b
    failed = [batch for node, batch in target.sent if node == "http://b:8000"]
    assert failed and {key for batch in failed for key in batch} <= moved


def test_a_target_of_one_endpoint_gets_no_keys_and_its_batches_in_order() -> None:
    class OneEndpoint(PlaneOneByOne):
        def __init__(self) -> None:
            self.keys_given: list[Sequence[bytes] | None] = []
            self.firsts: list[str] = []

        def call_all(
            self,
            operation: str,
            requests: Sequence[dict[str, Any]],
            *,
            keys: Sequence[bytes] | None = None,
        ) -> list[Answer | ToolkitError]:
            self.keys_given.append(keys)
            return super().call_all(operation, requests, keys=keys)

        def call(self, operation: str, request: dict[str, Any]) -> Answer:
            self.firsts.append(request["RequestItems"]["t"][0]["PutRequest"]["Item"]["id"]["S"])
            return Answer({}, 0)

    target = OneEndpoint()
    writer(target, 25).write(puts(100), at_once=2)
    assert target.keys_given == [None, None]
    assert target.firsts == ["k0", "k25", "k50", "k75"]
