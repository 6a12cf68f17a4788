"""The data-plane calls the mutator makes, retried with backoff and counted.

``Plane`` (the writer's) is what the mutator needs of the data plane, so tests can
pass a fake server. Every failed attempt that is retried is counted by error code;
nothing is retried silently. A PutItem or DeleteItem names its key, so that on a
cluster every write of an item goes to one node, as a careful application does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mutator.stats import Counters
from toolkit.errors import ToolkitError
from toolkit.wire.dataplane import Answer
from toolkit.wire.retry import RetryPolicy, call_with_retries
from toolkit.wire.writer import Plane


def call_counted(
    plane: Plane,
    operation: str,
    request: dict[str, Any],
    policy: RetryPolicy,
    counters: Counters,
    key: bytes | None = None,
) -> Answer:
    """Send one request (to ``key``'s node, if given: the item it writes); retry
    transient failures (each counted) until the policy gives up."""
    counting = CountingPlane(plane, counters)
    return call_with_retries(lambda: counting.call(operation, request, key=key), policy)


class CountingPlane:
    """Counts what ``BatchWriter`` retries on its own: transient errors, unprocessed items."""

    def __init__(self, inner: Plane, counters: Counters) -> None:
        self._inner = inner
        self._counters = counters

    @property
    def spreads_writes(self) -> bool:
        return self._inner.spreads_writes

    def node_for(self, key: bytes) -> str:
        return self._inner.node_for(key)

    def call(self, operation: str, request: dict[str, Any], *, key: bytes | None = None) -> Answer:
        outcome = self.call_all(operation, [request], keys=None if key is None else [key])[0]
        if isinstance(outcome, ToolkitError):
            raise outcome
        return outcome

    def call_all(
        self,
        operation: str,
        requests: Sequence[dict[str, Any]],
        *,
        keys: Sequence[bytes] | None = None,
    ) -> list[Answer | ToolkitError]:
        outcomes = self._inner.call_all(operation, requests, keys=keys)
        for outcome in outcomes:
            if isinstance(outcome, ToolkitError):
                if outcome.transient:
                    self._counters.retried(getattr(outcome, "code", "") or type(outcome).__name__)
            elif any((outcome.body.get("UnprocessedItems") or {}).values()):
                self._counters.retried("UnprocessedItems")
        return outcomes
