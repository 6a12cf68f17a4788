"""Backoff with full jitter, and the capacity budget, on a fake clock."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.errors import ServiceBusy, ServiceError
from toolkit.wire.retry import RetryPolicy, call_with_retries
from toolkit.wire.throughput import CapacityBudget


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def policy(clock: FakeClock, seed: int = 0, give_up_after: float = 60.0) -> RetryPolicy:
    return RetryPolicy(
        base=0.05,
        cap=5.0,
        give_up_after=give_up_after,
        sleep=clock.sleep,
        clock=clock,
        rng=random.Random(seed),
    )


@given(seed=st.integers(0, 2**32), give_up_after=st.floats(0.1, 600))
@settings(max_examples=50)
def test_delays_are_full_jitter_within_the_cap_and_the_deadline(
    seed: int, give_up_after: float
) -> None:
    clock = FakeClock()
    delays = []
    for attempt, delay in enumerate(policy(clock, seed, give_up_after).delays()):
        assert 0 <= delay <= min(5.0, 0.05 * 2**attempt)
        delays.append(delay)
        clock.sleep(delay)
    assert sum(delays) <= give_up_after


def test_transient_errors_are_retried_until_success() -> None:
    clock = FakeClock()
    answers: list[Exception | str] = [ServiceBusy("busy"), ServiceBusy("busy"), "ok"]

    def action() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert call_with_retries(action, policy(clock)) == "ok"
    assert len(clock.slept) == 2


def test_terminal_errors_are_not_retried() -> None:
    clock = FakeClock()
    calls = []

    def action() -> None:
        calls.append(1)
        raise ServiceError("bad request")

    with pytest.raises(ServiceError):
        call_with_retries(action, policy(clock))
    assert calls == [1]
    assert clock.slept == []


def test_transient_errors_give_up_after_the_deadline() -> None:
    clock = FakeClock()

    def action() -> None:
        raise ServiceBusy("still busy")

    with pytest.raises(ServiceBusy):
        call_with_retries(action, policy(clock, give_up_after=30))
    assert 0 < clock.now <= 30


def test_unlimited_budget_never_waits() -> None:
    clock = FakeClock()
    budget = CapacityBudget(None, clock=clock, sleep=clock.sleep)
    for _ in range(100):
        budget.wait_turn()
        budget.spend(1000)
    assert clock.slept == []


@given(rate=st.floats(1, 1000), costs=st.lists(st.floats(0.5, 500), min_size=1, max_size=60))
@settings(max_examples=50)
def test_budget_keeps_the_rate_over_time(rate: float, costs: list[float]) -> None:
    clock = FakeClock()
    budget = CapacityBudget(rate, clock=clock, sleep=clock.sleep)
    for cost in costs:
        budget.wait_turn()
        budget.spend(cost)
    budget.wait_turn()
    # One second of burst is allowed up front; after that, spending follows the rate.
    assert sum(costs) <= rate * (clock.now + 1) + 1e-6 * sum(costs)
