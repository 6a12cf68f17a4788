"""A run's progress for machines: Prometheus metrics on /metrics (``--metrics-port``).

One registry per process (not prometheus_client's global one), filled by the same
calls that drive the progress bar and the status line, and by the data plane's
failed requests. Labels carry only operation names, error codes, sides, change
types and directions: never a credential, a key or an item's value.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from prometheus_client import CollectorRegistry, Counter, Enum, Gauge, start_http_server

# A segment: a scan segment of a table source or an export target (one data file
# each), or a data file of an export source.
SEGMENTS = "Scan segments (data files, for an export source)"
PHASES = ("starting", "snapshot", "replay", "drained", "stopped", "done", "failed")
THROTTLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "LimitExceededException",
    }
)


class Metrics:
    """Thread-safe (prometheus_client's own locks); cheap enough for every page."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, per_shard: bool = False
    ) -> None:
        r = self.registry = CollectorRegistry()
        self._clock = clock
        self._lock = threading.Lock()
        self._progress_at = clock()
        self._working = False
        self.phase = Enum("toolkit_phase", "The run's phase", states=list(PHASES), registry=r)
        self.items_copied = Counter(
            "toolkit_items_copied",
            "Items the snapshot wrote to the target (the export's items, for an export)",
            registry=r,
        )
        self.bytes_copied = Counter(
            "toolkit_bytes_copied",
            "Bytes of the items the snapshot copied, as DynamoDB JSON uncompressed (the "
            "source's answers, or an export's lines)",
            registry=r,
        )
        self.items_expired = Counter(
            "toolkit_items_expired_skipped",
            "Items skipped because their TTL had passed",
            registry=r,
        )
        self.segments_total = Gauge("toolkit_segments_total", f"{SEGMENTS} in all", registry=r)
        self.segments_done = Gauge("toolkit_segments_done", f"{SEGMENTS} copied", registry=r)
        self.records_applied = Counter(
            "toolkit_stream_records_applied",
            "Stream records applied to the target, by type, counted after the per-batch "
            "collapse (a batch keeps only the last change per key)",
            ["type"],
            registry=r,
        )
        self.shards_open = Gauge("toolkit_shards_open", "Stream shards not finished", registry=r)
        self.shards_finished = Gauge(
            "toolkit_shards_finished", "Stream shards read to their end", registry=r
        )
        self.lag = Gauge(
            "toolkit_replication_lag_seconds",
            "Now minus the creation time of the oldest change not yet applied (0: drained)",
            registry=r,
        )
        self.request_errors = Counter(
            "toolkit_request_errors",
            "Failed requests, by side, operation and error code (transient ones are retried)",
            ["side", "operation", "code"],
            registry=r,
        )
        self.throttles = Counter(
            "toolkit_throttles",
            "Requests refused for throughput, by side, operation and error code",
            ["side", "operation", "code"],
            registry=r,
        )
        self.writes_failed = Counter(
            "toolkit_writes_failed", "Writes that failed for good (the run stops)", registry=r
        )
        self.items_compared = Counter(
            "toolkit_items_compared", "Items compared by verify", ["direction"], registry=r
        )
        self.differences = Counter(
            "toolkit_differences", "Differences verify confirmed, by kind", ["kind"], registry=r
        )
        self.operations = Counter(
            "toolkit_mutate_operations", "Operations the load acknowledged", ["type"], registry=r
        )
        # One series per shard only when asked: a big stream has thousands of shards.
        self.shard_lag = (
            Gauge(
                "toolkit_shard_lag_seconds",
                "Each shard's lag, for the shards with changes read and not applied yet",
                ["shard"],
                registry=r,
            )
            if per_shard
            else None
        )
        self._lagging: set[str] = set()
        stall = Gauge(
            "toolkit_seconds_since_progress",
            "Seconds since the last progress while work remains (0 when there is none)",
            registry=r,
        )
        stall.set_function(self._stalled_for)
        self.phase.state("starting")

    def serve(self, port: int, address: str = "0.0.0.0") -> None:
        """Serve /metrics on a thread of its own, for as long as the process runs."""
        start_http_server(port, addr=address, registry=self.registry)

    # --- what the runs report -----------------------------------------------------------

    def progressed(self, working: bool = True) -> None:
        """Progress was made; ``working`` says whether work remains after it."""
        with self._lock:
            self._progress_at, self._working = self._clock(), working

    def request_failed(self, side: str, operation: str, code: str) -> None:
        self.request_errors.labels(side, operation, code or "none").inc()
        if code in THROTTLE_CODES:
            self.throttles.labels(side, operation, code).inc()

    def applied(self, counts: Mapping[str, int]) -> None:
        for kind, count in counts.items():
            self.records_applied.labels(kind).inc(count)
        self.progressed()

    def lagging(self, seconds: float, by_shard: Mapping[str, float]) -> None:
        """The replay's lag; work remains while it is above 0 (a change is in hand)."""
        self.lag.set(seconds)
        with self._lock:
            if seconds <= 0:
                self._progress_at, self._working = self._clock(), False
            else:
                self._working = True
        if self.shard_lag is not None:
            for shard in self._lagging - by_shard.keys():
                self.shard_lag.remove(shard)
            for shard, lag in by_shard.items():
                self.shard_lag.labels(shard).set(lag)
            self._lagging = set(by_shard)

    def _stalled_for(self) -> float:
        with self._lock:
            return self._clock() - self._progress_at if self._working else 0.0
