"""The engine seam: the embedded engine runs units and reports each as it finishes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.engines.embedded import EmbeddedEngine
from toolkit.engines.spark import one_line
from toolkit.errors import TerminalError


@dataclass
class Squares:
    """A work whose unit squares a number; ``stop_at`` sets the run's stop."""

    stop: threading.Event
    stop_at: int | None = None
    fail_at: int | None = None
    ran: list[int] = field(default_factory=list)
    shares: list[float] = field(default_factory=list)

    @contextmanager
    def open(self, share: float) -> Iterator[Callable[[int], int]]:
        self.shares.append(share)
        yield self._square

    def _square(self, unit: int) -> int:
        self.ran.append(unit)
        if unit == self.fail_at:
            raise TerminalError(f"unit {unit} failed")
        if unit == self.stop_at:
            self.stop.set()
        return unit * unit


@given(st.lists(st.integers(0, 1000), unique=True, max_size=30), st.integers(1, 4))
def test_every_unit_is_run_once_and_reported_once_with_its_result(
    units: list[int], running: int
) -> None:
    stop = threading.Event()
    work = Squares(stop)
    reported: list[tuple[int, int]] = []
    EmbeddedEngine().run(work, units, running, lambda u, r: reported.append((u, r)), stop)
    assert sorted(reported) == sorted((u, u * u) for u in units)
    assert sorted(work.ran) == sorted(units)
    assert work.shares == ([1.0] if units else [])  # one set of tools, the whole budgets


@given(st.integers(0, 9))
def test_once_stop_is_set_no_unit_starts(stop_at: int) -> None:
    stop = threading.Event()
    work = Squares(stop, stop_at=stop_at)
    reported: list[int] = []
    EmbeddedEngine().run(work, list(range(10)), 1, lambda u, r: reported.append(u), stop)
    assert work.ran == list(range(stop_at + 1))
    assert sorted(reported) == work.ran  # a unit that ran (the stopping one too) is reported


def test_a_failing_unit_stops_the_rest_and_its_error_is_raised() -> None:
    stop = threading.Event()
    work = Squares(stop, fail_at=3)
    reported: list[int] = []
    with pytest.raises(TerminalError, match="unit 3 failed"):
        EmbeddedEngine().run(work, list(range(10)), 1, lambda u, r: reported.append(u), stop)
    assert stop.is_set()
    assert work.ran == [0, 1, 2, 3] and sorted(reported) == [0, 1, 2]


def test_spark_s_traces_come_down_to_the_line_that_names_the_exception() -> None:
    java = RuntimeError(
        "An error occurred while calling o42.collect.\n"
        ": org.apache.spark.SparkException: Job aborted due to stage failure: lost task\n"
        "\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages(x.scala:1)\n"
    )
    assert one_line(java) == (
        "org.apache.spark.SparkException: Job aborted due to stage failure: lost task"
    )
    python = RuntimeError(
        "Traceback (most recent call last):\n"
        '  File "worker.py", line 1, in main\n'
        "ModuleNotFoundError: No module named 'toolkit'\n"
    )
    assert one_line(python) == "ModuleNotFoundError: No module named 'toolkit'"
    assert one_line(RuntimeError("")) == "RuntimeError"
