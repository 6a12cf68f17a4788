"""The embedded engine: units on threads of this process, sharing one set of tools.

The default: one process, one Python core, no cluster. Every unit shares the
same connection pools and the whole read and write budgets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from toolkit.engines.base import Work
from toolkit.engines.workers import wait_for_workers

U = TypeVar("U")
R = TypeVar("R")


class EmbeddedEngine:
    name = "embedded"
    in_process = True
    one_machine = True

    @property
    def parallelism(self) -> int | None:
        return None

    def run(
        self,
        work: Work[U, R],
        units: Sequence[U],
        running: int,
        done: Callable[[U, R], None],
        stop: threading.Event,
    ) -> None:
        if not units:
            return
        with (
            work.open(1.0) as do,
            ThreadPoolExecutor(max(1, running), thread_name_prefix="unit") as pool,
        ):
            futures = {pool.submit(self._unit, do, unit, stop): unit for unit in units}
            wait_for_workers(
                futures, stop, finished=lambda f: _report(f.result(), futures[f], done)
            )

    @staticmethod
    def _unit(do: Callable[[U], R], unit: U, stop: threading.Event) -> _Ran[R] | None:
        if stop.is_set():  # asked to stop before this unit started: it is not run
            return None
        try:
            return _Ran(do(unit))
        except BaseException:
            stop.set()  # at once: no other unit starts while the error travels up
            raise


@dataclass(frozen=True)
class _Ran(Generic[R]):
    result: R


def _report(outcome: _Ran[R] | None, unit: U, done: Callable[[U, R], None]) -> None:
    if outcome is not None:
        done(unit, outcome.result)
