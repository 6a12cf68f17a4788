"""When each operation is due: every second runs at a rate drawn uniformly from a range.

Pure logic: no I/O. The schedule is a cumulative count of due operations, C(t),
which grows in second k at rate r_k, drawn uniformly from [low, high]. Operation n
is due when C(t) reaches n, so any window of W seconds holds between
floor(W x low) and ceil(W x high) due operations, whatever the draws.

When the caller falls more than ``max_lag`` seconds behind (a slow or throttling
server), the schedule restarts from the present instead of bursting to catch up:
the achieved rate then drops below the range, and the lag is counted.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

_RANGE = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*(?:-\s*([0-9]*\.?[0-9]+)\s*)?")
MAX_RATE = 1_000_000.0


@dataclass(frozen=True)
class RateRange:
    """Operations a second: each second draws its rate uniformly from [low, high]."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not (0 < self.low <= self.high <= MAX_RATE):
            raise ValueError(f"need 0 < low <= high <= {MAX_RATE:.0f}, got {self}")

    def __str__(self) -> str:
        return f"{self.low:g}-{self.high:g}" if self.low != self.high else f"{self.low:g}"

    @classmethod
    def parse(cls, text: str) -> RateRange:
        """'10-25' or '20' (a fixed rate); ValueError with a one-line reason otherwise."""
        match = _RANGE.fullmatch(text)
        if match is None:
            raise ValueError("expected LOW-HIGH operations a second, e.g. 10-25, or one rate")
        low = float(match.group(1))
        high = float(match.group(2)) if match.group(2) is not None else low
        if low <= 0:
            raise ValueError("the rate must be above 0 operations a second")
        if low > high:
            raise ValueError(f"the low end {low:g} is above the high end {high:g}; write LOW-HIGH")
        if high > MAX_RATE:
            raise ValueError(f"at most {MAX_RATE:.0f} operations a second")
        return cls(low, high)

    def window_bounds(self, seconds: float) -> tuple[int, int]:
        """The fewest and most operations a full window of ``seconds`` may hold."""
        return math.floor(seconds * self.low), math.ceil(seconds * self.high)


class RateSchedule:
    """Due times of operations 0, 1, 2, ... from ``start`` on (seconds, any clock)."""

    def __init__(
        self, rates: RateRange, rng: random.Random, start: float, max_lag: float = 1.0
    ) -> None:
        self._rates = rates
        self._rng = rng
        self._max_lag = max_lag
        self._second_start = start  # when the current second of the schedule began
        self._base = 0.0  # C(t) at the start of the current second
        self._rate = self._draw()
        self._next = 0  # the next operation's number
        self.restarts = 0  # times the caller fell behind and the schedule restarted

    def due(self, now: float) -> float:
        """When the next operation is due; call ``taken`` once it is sent."""
        when = self._due_time(self._next)
        if now - when > self._max_lag:
            self._second_start, self._base = now, float(self._next)
            self.restarts += 1
            when = now
        return when

    def taken(self) -> None:
        self._next += 1

    def _due_time(self, n: int) -> float:
        while self._base + self._rate < n:
            self._base += self._rate
            self._second_start += 1.0
            self._rate = self._draw()
        return self._second_start + (n - self._base) / self._rate

    def _draw(self) -> float:
        return self._rng.uniform(self._rates.low, self._rates.high)


class RateController:
    """Waits for each operation's turn; the clock and the wait are injectable.

    ``wait(seconds)`` returns True when the run was asked to stop meanwhile
    (``threading.Event.wait`` does exactly that).
    """

    def __init__(
        self,
        rates: RateRange,
        rng: random.Random,
        clock: Callable[[], float],
        wait: Callable[[float], bool],
        max_lag: float = 1.0,
    ) -> None:
        self._clock = clock
        self._wait = wait
        self.start = clock()
        self._schedule = RateSchedule(rates, rng, self.start, max_lag)

    @property
    def restarts(self) -> int:
        return self._schedule.restarts

    def next_turn(self, deadline: float | None = None) -> bool:
        """Wait until the next operation is due; False if stopped or past ``deadline``."""
        now = self._clock()
        due = self._schedule.due(now)
        if deadline is not None and max(due, now) >= deadline:
            self._wait(max(0.0, deadline - self._clock()))
            return False
        delay = due - self._clock()
        if delay > 0 and self._wait(delay):
            return False
        self._schedule.taken()
        return True
