"""Exponential backoff with full jitter, for every retried request.

Whether an error is worth retrying is decided once, by its class (see
``toolkit.errors``); this module only decides when to try again and when to stop.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TypeVar

from toolkit.errors import ToolkitError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    base: float = 0.05  # seconds before the first retry, at most
    cap: float = 5.0  # longest single wait
    give_up_after: float = 120.0  # seconds of retrying before a failure is final
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def delays(self) -> Iterator[float]:
        """Waits before each retry; ends when the time to give up has come."""
        deadline = self.clock() + self.give_up_after
        attempt = 0
        while True:
            delay = self.rng.uniform(0, min(self.cap, self.base * 2 ** min(attempt, 32)))
            if self.clock() + delay > deadline:
                return
            yield delay
            attempt += 1


def call_with_retries(action: Callable[[], T], policy: RetryPolicy) -> T:
    """Run ``action``; retry it on transient errors until the policy gives up."""
    delays = policy.delays()
    while True:
        try:
            return action()
        except ToolkitError as error:
            if not error.transient:
                raise
            delay = next(delays, None)
            if delay is None:
                raise
            policy.sleep(delay)


class StopRequested(Exception):
    """Raised from a retry's wait once the user asked the run to stop.

    The unacknowledged work is dropped without a checkpoint: a restart redoes it.
    """


def stoppable(policy: RetryPolicy, stop: threading.Event) -> RetryPolicy:
    """The same policy, whose waits end early, raising StopRequested, once ``stop`` is set."""

    def pause(seconds: float) -> None:
        if stop.wait(seconds):
            raise StopRequested

    return replace(policy, sleep=pause)
