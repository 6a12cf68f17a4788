"""Waiting on workers: every success counts, the first failure stops the rest and is raised."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.engines.workers import wait_for_workers


def ended(outcomes: list[bool]) -> list[Future[int]]:
    """Futures already ended: True a success (its index), False a failure."""
    futures: list[Future[int]] = []
    for index, ok in enumerate(outcomes):
        future: Future[int] = Future()
        if ok:
            future.set_result(index)
        else:
            future.set_exception(ValueError(f"unit {index} failed"))
        futures.append(future)
    return futures


@given(st.lists(st.booleans(), max_size=40))
def test_each_success_is_reported_once_and_the_first_failure_raised(outcomes: list[bool]) -> None:
    stop, seen = threading.Event(), []
    futures = ended(outcomes)
    if all(outcomes):
        wait_for_workers(futures, stop, lambda f: seen.append(f.result()))
    else:
        with pytest.raises(ValueError, match=r"unit \d+ failed"):
            wait_for_workers(futures, stop, lambda f: seen.append(f.result()))
    assert sorted(seen) == [i for i, ok in enumerate(outcomes) if ok]
    assert stop.is_set() == (not all(outcomes))


def test_a_failure_stops_units_still_running_and_their_results_count() -> None:
    stop, seen = threading.Event(), []

    def unit(n: int) -> int:
        if n == 0:
            raise ValueError("unit 0 failed")
        assert stop.wait(10), "the failure set the stop"
        return n

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(unit, n) for n in range(4)]
        with pytest.raises(ValueError, match="unit 0 failed"):
            wait_for_workers(futures, stop, lambda f: seen.append(f.result()))
    assert sorted(seen) == [1, 2, 3]


def test_thousands_of_units_stopped_at_once_all_end() -> None:
    stop = threading.Event()
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(stop.wait, 10) for _ in range(5000)]
        threading.Timer(0.2, stop.set).start()
        seen: list[bool] = []
        wait_for_workers(futures, stop, lambda f: seen.append(f.result()))
    assert seen == [True] * 5000
