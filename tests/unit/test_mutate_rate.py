"""The mutator's rate controller, on a fake clock: every window stays within the range."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mutator.rate import RateController, RateRange

WINDOW = 10.0


class FakeClock:
    """Time moves only when the controller waits or an operation 'takes' time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.stop_at: float | None = None

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.now += seconds
        return self.stop_at is not None and self.now >= self.stop_at


def run(
    rates: RateRange,
    seconds: float,
    seed: int,
    latency: float = 0.0,
    stall: tuple[float, float] | None = None,
) -> tuple[RateController, list[float]]:
    """Times at which operations were sent during ``seconds``."""
    clock = FakeClock()
    controller = RateController(rates, random.Random(seed), clock, clock.wait)
    deadline = controller.start + seconds
    sent: list[float] = []
    while controller.next_turn(deadline):
        sent.append(clock.now)
        clock.now += latency
        if stall and clock.now - controller.start >= stall[0]:  # one slow answer
            clock.now += stall[1]
            stall = None
    return controller, sent


def window_counts(sent: list[float], start: float, seconds: float, offset: float) -> list[int]:
    edges = [start + offset + k * WINDOW for k in range(int((seconds - offset) // WINDOW))]
    return [sum(1 for t in sent if edge <= t < edge + WINDOW) for edge in edges]


rate_ranges = st.tuples(
    st.floats(0.2, 150, allow_nan=False), st.floats(0, 150, allow_nan=False)
).map(lambda pair: RateRange(pair[0], pair[0] + pair[1]))


@settings(max_examples=60, deadline=None)
@given(rates=rate_ranges, seed=st.integers(0, 2**32), offset=st.floats(0, WINDOW))
def test_every_ten_second_window_is_within_the_range(
    rates: RateRange, seed: int, offset: float
) -> None:
    controller, sent = run(rates, 40.0, seed)
    low, high = rates.window_bounds(WINDOW)
    counts = window_counts(sent, controller.start, 40.0, offset)
    assert counts
    for count in counts:
        assert low <= count <= high, (count, rates)


@settings(max_examples=30, deadline=None)
@given(rates=rate_ranges, seed=st.integers(0, 2**32), share=st.floats(0, 0.9))
def test_latency_below_the_interval_changes_nothing(
    rates: RateRange, seed: int, share: float
) -> None:
    """An operation that takes time (under the gap to the next one) does not slow the rate."""
    controller, sent = run(rates, 30.0, seed, latency=share / rates.high)
    low, high = rates.window_bounds(WINDOW)
    for count in window_counts(sent, controller.start, 30.0, 0.0):
        assert low <= count <= high


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_rates_vary_from_second_to_second_across_the_range(seed: int) -> None:
    controller, sent = run(RateRange(10, 25), 60.0, seed)
    per_second = [
        sum(1 for t in sent if controller.start + k <= t < controller.start + k + 1)
        for k in range(60)
    ]
    assert min(per_second) <= 14 and max(per_second) >= 21
    assert 60 * 10 <= len(sent) <= 60 * 25


def test_a_long_stall_restarts_the_schedule_instead_of_bursting() -> None:
    controller, sent = run(RateRange(20, 20), 20.0, 1, stall=(5.0, 4.0))
    assert controller.restarts == 1
    # after the stall, operations come at 20 a second again, not 80 at once
    after = [t for t in sent if t >= controller.start + 9.0]
    for k in range(int(after[0]), int(after[-1])):
        assert sum(1 for t in after if k <= t < k + 1) <= 21
    assert 15 * 20 <= len(sent) <= 16 * 20 + 1


def test_a_short_delay_is_caught_up() -> None:
    controller, sent = run(RateRange(20, 20), 20.0, 1, stall=(5.0, 0.5))
    assert controller.restarts == 0
    assert len(sent) == 400


def test_stops_at_the_deadline_and_when_asked() -> None:
    clock = FakeClock()
    controller = RateController(RateRange(10, 10), random.Random(0), clock, clock.wait)
    assert controller.next_turn(controller.start + 0.05)
    assert not controller.next_turn(controller.start + 0.05)
    assert clock.now == pytest.approx(controller.start + 0.05)
    clock.stop_at = clock.now + 0.5
    turns = 0
    while controller.next_turn():
        turns += 1
    assert turns == 5  # at 0.1 ... 0.5; the stop came while waiting for the sixth
    assert clock.now == pytest.approx(controller.start + 0.6)


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [("10-25", 10, 25), ("20", 20, 20), (" 0.5 - 2.5 ", 0.5, 2.5), ("200-300", 200, 300)],
)
def test_parses_ranges(text: str, low: float, high: float) -> None:
    assert RateRange.parse(text) == RateRange(low, high)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("25-10", "above the high end"),
        ("0-10", "above 0"),
        ("ten", "LOW-HIGH"),
        ("-5-10", "LOW-HIGH"),
        ("10-", "LOW-HIGH"),
        ("1-2000000", "at most"),
    ],
)
def test_rejects_bad_ranges(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        RateRange.parse(text)
