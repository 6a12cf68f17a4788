"""The data-plane calls the mutator makes, retried with backoff and counted.

``Plane`` (the writer's) is what the mutator needs of the data plane, so tests can
pass a fake server. Every failed attempt that is retried is counted by error code;
nothing is retried silently.
"""

from __future__ import annotations

from typing import Any

from mutator.stats import Counters
from toolkit.errors import ToolkitError
from toolkit.wire.dataplane import Answer
from toolkit.wire.retry import RetryPolicy, call_with_retries
from toolkit.work.writer import Plane


def call_counted(
    plane: Plane,
    operation: str,
    request: dict[str, Any],
    policy: RetryPolicy,
    counters: Counters,
) -> Answer:
    """Send one request; retry transient failures (each counted) until the policy gives up."""
    counting = CountingPlane(plane, counters)
    return call_with_retries(lambda: counting.call(operation, request), policy)


class CountingPlane:
    """Counts what ``BatchWriter`` retries on its own: transient errors, unprocessed items."""

    def __init__(self, inner: Plane, counters: Counters) -> None:
        self._inner = inner
        self._counters = counters

    def call(self, operation: str, request: dict[str, Any]) -> Answer:
        try:
            answer = self._inner.call(operation, request)
        except ToolkitError as error:
            if error.transient:
                self._counters.retried(getattr(error, "code", "") or type(error).__name__)
            raise
        unprocessed = answer.body.get("UnprocessedItems") or {}
        if any(unprocessed.values()):
            self._counters.retried("UnprocessedItems")
        return answer
