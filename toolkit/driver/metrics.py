"""A run's progress for machines: Prometheus metrics on /metrics (``--metrics-port``).

One registry per process (not prometheus_client's global one), filled by the same
calls that drive the progress bar and the status line, and by the data plane's
failed requests. Labels carry only table names, operation names, error codes, sides,
change types and directions: never a credential, a key or an item's value.

Every table of `toolkit migrate` reports through its own view (``Metrics.for_table``),
whose series carry a ``table`` label (the source table's name), one run of one table
too; the run as a whole keeps the unlabeled ``toolkit_phase`` and the stall gauge.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Enum, Gauge, start_http_server

# A segment: a scan segment of a table source or an export target (one data file
# each), or a data file of an export source.
SEGMENTS = "Scan segments (data files, for an export source)"
PHASES = ("starting", "snapshot", "replay", "drained", "stopped", "done", "failed")
ENDED = frozenset(PHASES[PHASES.index("drained") :])  # a table in these has no work left
NO_TABLE = ""  # verify's and mutate's requests: Prometheus reads table="" as no label
THROTTLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "LimitExceededException",
    }
)


def run_phase(tables: Iterable[str]) -> str:
    """The run's phase from its tables': the least advanced one (a run is in its snapshot
    while any table is)."""
    return min(tables, key=PHASES.index, default="starting")


class Metrics:
    """Thread-safe (prometheus_client's own locks, and one of its own); cheap enough for
    every page."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, per_shard: bool = False
    ) -> None:
        r = self.registry = CollectorRegistry()
        self._liveness = _Liveness(clock)
        self._tables = _TableFamilies(r, per_shard)
        self._views: dict[str, TableMetrics] = {}
        self._views_lock = threading.Lock()
        self.phase = _RunPhase(
            Enum("toolkit_phase", "The run's phase", states=list(PHASES), registry=r),
            self._tables.phase,
            self._liveness,
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
        stall = Gauge(
            "toolkit_seconds_since_progress",
            "Seconds since the last progress of any table while work remains (0 when there "
            "is none)",
            registry=r,
        )
        stall.set_function(self._liveness.stalled_for)

    def serve(self, port: int, address: str = "0.0.0.0") -> None:
        """Serve /metrics on a thread of its own, for as long as the process runs."""
        start_http_server(port, addr=address, registry=self.registry)

    def for_table(self, table: str) -> TableMetrics:
        """The view one table's run reports to: the same one for the same name."""
        with self._views_lock:
            view = self._views.get(table)
            if view is None:
                view = self._views[table] = TableMetrics(self._tables, self.phase, table)
            return view

    # --- what verify and mutate report (no table) ----------------------------------------

    def progressed(self, working: bool = True) -> None:
        """Progress was made; ``working`` says whether work remains after it."""
        self._liveness.progressed(NO_TABLE, working)

    def request_failed(self, side: str, operation: str, code: str) -> None:
        self._tables.request_failed(NO_TABLE, side, operation, code)


def table_view(metrics: Metrics | None, table: str) -> TableMetrics | None:
    """One table's view of the run's metrics, when they are served."""
    return None if metrics is None else metrics.for_table(table)


class TableMetrics:
    """One table's metrics: the names a run reports to, each series labeled with the table.

    Its progress counts for the run's liveness: the run is stalled only when no table
    progresses while one has work left.
    """

    def __init__(self, families: _TableFamilies, run: _RunPhase, table: str) -> None:
        f = self._families = families
        self.table = table
        self._liveness = run.liveness
        self.phase = _TablePhase(run, table)
        self.segments_total = f.segments_total.labels(table)
        self.segments_done = f.segments_done.labels(table)
        self.items_copied = f.items_copied.labels(table)
        self.bytes_copied = f.bytes_copied.labels(table)
        self.items_expired = f.items_expired.labels(table)
        self.shards_open = f.shards_open.labels(table)
        self.shards_finished = f.shards_finished.labels(table)
        self.lag = f.lag.labels(table)
        self.writes_failed = f.writes_failed.labels(table)
        self._lagging: set[str] = set()
        self.phase.state("starting")

    def progressed(self, working: bool = True) -> None:
        """Progress was made; ``working`` says whether this table has work left after it."""
        self._liveness.progressed(self.table, working)

    def request_failed(self, side: str, operation: str, code: str) -> None:
        self._families.request_failed(self.table, side, operation, code)

    def applied(self, counts: Mapping[str, int]) -> None:
        for kind, count in counts.items():
            self._families.records_applied.labels(self.table, kind).inc(count)
        self.progressed()

    def lagging(self, seconds: float, by_shard: Mapping[str, float]) -> None:
        """The replay's lag; work remains while it is above 0 (a change is in hand)."""
        self.lag.set(seconds)
        if seconds <= 0:
            self._liveness.progressed(self.table, working=False)
        else:
            self._liveness.busy(self.table)
        shard_lag = self._families.shard_lag
        if shard_lag is not None:
            for shard in self._lagging - by_shard.keys():
                shard_lag.remove(self.table, shard)
            for shard, lag in by_shard.items():
                shard_lag.labels(self.table, shard).set(lag)
            self._lagging = set(by_shard)


class _Liveness:
    """When any table last progressed, and which tables have work left: the stall gauge."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._progress_at = clock()
        self._working: set[str] = set()

    def progressed(self, table: str, working: bool) -> None:
        with self._lock:
            self._progress_at = self._clock()
            if working:
                self._working.add(table)
            else:
                self._working.discard(table)

    def busy(self, table: str) -> None:
        """Work is in hand, and no progress was made."""
        with self._lock:
            self._working.add(table)

    def stalled_for(self) -> float:
        with self._lock:
            return self._clock() - self._progress_at if self._working else 0.0


class _RunPhase:
    """The run's phase: set by the command, or the least advanced of its tables' while
    they run. A run that ends ends every table still running with it (a stop stops
    them all)."""

    def __init__(self, run: Enum, tables: Enum, liveness: _Liveness) -> None:
        self._run, self._tables, self.liveness = run, tables, liveness
        self._lock = threading.Lock()
        self._of: dict[str, str] = {}  # each table's phase
        self._ended = False
        self._run.state("starting")

    def state(self, phase: str) -> None:
        with self._lock:
            self._run.state(phase)
            self._ended = phase in ENDED
            if self._ended:
                for table in [t for t, was in self._of.items() if was not in ENDED]:
                    self._table_is(table, phase)

    def table_is(self, table: str, phase: str) -> None:
        with self._lock:
            self._table_is(table, phase)
            if not self._ended:
                self._run.state(run_phase(self._of.values()))

    def _table_is(self, table: str, phase: str) -> None:
        self._of[table] = phase
        self._tables.labels(table).state(phase)
        if phase in ENDED:
            self.liveness.progressed(table, working=False)


class _TablePhase:
    """A table's phase, as a run's phase is set: ``.state(name)``."""

    def __init__(self, run: _RunPhase, table: str) -> None:
        self._run, self._table = run, table

    def state(self, phase: str) -> None:
        self._run.table_is(self._table, phase)


class _TableFamilies:
    """The metrics of `toolkit migrate`, each with a ``table`` label."""

    def __init__(self, r: CollectorRegistry, per_shard: bool) -> None:
        table = ["table"]
        self.phase = Enum(
            "toolkit_table_phase", "Each table's phase", table, states=list(PHASES), registry=r
        )
        self.items_copied = Counter(
            "toolkit_items_copied",
            "Items the snapshot wrote to the target (the export's items, for an export)",
            table,
            registry=r,
        )
        self.bytes_copied = Counter(
            "toolkit_bytes_copied",
            "Bytes of the items the snapshot copied, as DynamoDB JSON uncompressed (the "
            "source's answers, or an export's lines)",
            table,
            registry=r,
        )
        self.items_expired = Counter(
            "toolkit_items_expired_skipped",
            "Items skipped because their TTL had passed",
            table,
            registry=r,
        )
        self.segments_total = Gauge(
            "toolkit_segments_total", f"{SEGMENTS} in all", table, registry=r
        )
        self.segments_done = Gauge("toolkit_segments_done", f"{SEGMENTS} copied", table, registry=r)
        self.records_applied = Counter(
            "toolkit_stream_records_applied",
            "Stream records applied to the target, by type, counted after the per-batch "
            "collapse (a batch keeps only the last change per key)",
            ["table", "type"],
            registry=r,
        )
        self.shards_open = Gauge(
            "toolkit_shards_open", "Stream shards not finished", table, registry=r
        )
        self.shards_finished = Gauge(
            "toolkit_shards_finished", "Stream shards read to their end", table, registry=r
        )
        self.lag = Gauge(
            "toolkit_replication_lag_seconds",
            "Now minus the creation time of the oldest change not yet applied (0: drained)",
            table,
            registry=r,
        )
        by_request = ["table", "side", "operation", "code"]
        self.request_errors = Counter(
            "toolkit_request_errors",
            "Failed requests, by table, side, operation and error code (transient ones "
            "are retried; table is empty for verify's and mutate's)",
            by_request,
            registry=r,
        )
        self.throttles = Counter(
            "toolkit_throttles",
            "Requests refused for throughput, by table, side, operation and error code",
            by_request,
            registry=r,
        )
        self.writes_failed = Counter(
            "toolkit_writes_failed",
            "Writes that failed for good (the run stops)",
            table,
            registry=r,
        )
        # One series per shard only when asked: a big stream has thousands of shards.
        self.shard_lag = (
            Gauge(
                "toolkit_shard_lag_seconds",
                "Each shard's lag, for the shards with changes read and not applied yet",
                ["table", "shard"],
                registry=r,
            )
            if per_shard
            else None
        )

    def request_failed(self, table: str, side: str, operation: str, code: str) -> None:
        self.request_errors.labels(table, side, operation, code or "none").inc()
        if code in THROTTLE_CODES:
            self.throttles.labels(table, side, operation, code).inc()
