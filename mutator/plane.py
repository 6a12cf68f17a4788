"""The data-plane calls the mutator makes, retried with backoff and counted.

``Plane`` (the writer's) is what the mutator needs of the data plane, so tests can
pass a fake server. Every failed attempt that is retried is counted by error code;
nothing is retried silently.
"""

from __future__ import annotations

from collections.abc import Sequence
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
        outcome = self.call_all(operation, [request])[0]
        if isinstance(outcome, ToolkitError):
            raise outcome
        return outcome

    def call_all(
        self, operation: str, requests: Sequence[dict[str, Any]]
    ) -> list[Answer | ToolkitError]:
        outcomes = self._inner.call_all(operation, requests)
        for outcome in outcomes:
            if isinstance(outcome, ToolkitError):
                if outcome.transient:
                    self._counters.retried(getattr(outcome, "code", "") or type(outcome).__name__)
            elif any((outcome.body.get("UnprocessedItems") or {}).values()):
                self._counters.retried("UnprocessedItems")
        return outcomes
