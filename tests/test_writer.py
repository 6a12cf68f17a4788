"""BatchWriter against a stand-in target that throttles and returns unprocessed items.

A real server cannot be made to throttle on demand; the same path runs against
DynamoDB Local in the migration tests.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import PlaneOneByOne
from toolkit.errors import ServiceBusy, ServiceError, TerminalError
from toolkit.wire.dataplane import Answer
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.throughput import CapacityBudget
from toolkit.work.writer import BatchWriter, TargetCapabilities, write_units


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
