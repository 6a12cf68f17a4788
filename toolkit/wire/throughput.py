"""Keep reads (or writes) within a budget of capacity units per second.

The budget is charged with what the server reports as consumed, after the
fact, like the Scylla Migrator's throughput settings: a worker may start a
request while the budget is not in debt, and waits while it is.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

READ_UNIT_BYTES = 8 * 1024  # what one eventually consistent read unit reads


class CapacityBudget:
    def __init__(
        self,
        units_per_second: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.units_per_second = units_per_second
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = units_per_second or 0.0
        self._updated = clock()

    @property
    def limited(self) -> bool:
        return self.units_per_second is not None

    def wait_turn(self) -> None:
        """Block until the budget is out of debt."""
        if self.units_per_second is None:
            return
        while True:
            with self._lock:
                self._refill()
                if self._tokens > 0:
                    return
                wait = -self._tokens / self.units_per_second + 0.001
            self._sleep(wait)

    def spend(self, units: float) -> None:
        if self.units_per_second is None:
            return
        with self._lock:
            self._refill()
            self._tokens -= units

    def _refill(self) -> None:
        assert self.units_per_second is not None
        now = self._clock()
        # At most one second of unused budget carries over: bursts stay short.
        self._tokens = min(
            self.units_per_second, self._tokens + (now - self._updated) * self.units_per_second
        )
        self._updated = now


def charge_read(budget: CapacityBudget, body: Mapping[str, Any], size: int) -> None:
    """Charge a read answer: the capacity the server reports, else its size in read units.

    Alternator reports none (and some versions refuse to be asked): an eventually
    consistent read unit is 8 KB, so the answer's bytes stand in for it.
    """
    used = body.get("ConsumedCapacity")
    entries = [used] if isinstance(used, dict) else list(used or [])
    for entry in entries:
        budget.spend(float(entry.get("CapacityUnits", 0)))
    if not entries and budget.limited:
        budget.spend(max(1.0, math.ceil(size / READ_UNIT_BYTES)))


def shared(units: float | None, share: float) -> CapacityBudget:
    """A budget of ``share`` of ``units`` a second: one of the tasks that run at once."""
    return CapacityBudget(None if units is None else units * share)
