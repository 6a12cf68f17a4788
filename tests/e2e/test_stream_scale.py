"""The whole CLI against a stream of many rolling shards (tests/fakes/stream_server.py).

DynamoDB Local keeps one shard; the stream server in front of it re-cuts Local's own
records into one shard per partition, rolls them over every couple of seconds,
pages DescribeStream, limits and throttles readers, expires iterators and trims old
generations. The migration must converge through all of it, and fail loudly when
shards it still had to read were trimmed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Endpoints
from tests.e2e.test_convergence import (
    SMALL_ITEMS,
    assert_identical,
    load_keys,
    replaying,
    stop_load,
)
from tests.fakes.stream_server import StreamServer
from tests.helpers import run_cli
from tests.scenario import Run, logged, progress

KEYS = 1000
# Shards that roll over every 3 s, a quarter of them splitting; some reads throttled,
# some iterators expired early; generations older than 12 s trimmed.
ROLLING: dict[str, Any] = {
    "partitions": 16,
    "rollover_seconds": 3.0,
    "split_chance": 0.25,
    "keep_generations": 4,
    "throttle_chance": 0.03,
    "expire_chance": 0.02,
}


@pytest.fixture
def scenario(endpoints: Endpoints, table_name: str, tmp_path: Path) -> Iterator[Run]:
    run = Run(endpoints, table_name, tmp_path)
    try:
        yield run
    finally:
        run.kill_all()


def through(run: Run, server: StreamServer) -> Run:
    """The same scenario with its source behind the stream server."""
    moved = Run(Endpoints(server.url, run.endpoints.target), run.table, run.tmp)
    moved.processes = run.processes  # killed by the fixture, whatever happens
    moved.configure(maxMapTasks=2)
    return moved


def wait_for(what: str, ready: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.05)


def test_live_load_through_rolling_shards_with_kill_9_converges(
    scenario: Run, endpoints: Endpoints
) -> None:
    server = StreamServer(endpoints.source, **ROLLING)
    with server:
        run = through(scenario, server)
        load_keys(run, 1, "--create-table", *SMALL_ITEMS, keys=KEYS)
        steady = run.mutate("--keys", str(KEYS), "--rate", "40-60", *SMALL_ITEMS)
        first = run.migrate()
        run.wait_until("replay progress", replaying(run, 100), first, steady)
        wait_for("two rollovers", lambda: server.counts["rollovers"] >= 2)
        run.kill(first)

        second = run.migrate()
        before = progress(run.state).records
        run.wait_until("the replay to go on", replaying(run, before + 100), second, steady)
        wait_for("trimmed generations", lambda: server.counts["trimmed"] > 0)
        run.alive(second)  # shards trimmed after they were replayed are ordinary
        stop_load(run, steady)
        assert "Stream replay stopped" in run.stop(second)[0]

        out, err = run.finish(run.migrate("--stop-when-drained"))
        assert "Stream replay drained" in out, err
        assert logged(run) > KEYS
        assert_identical(run)
    counts = server.counts
    assert counts["shards"] > 100, "shards rolled over and split"
    assert counts["pages with more"] > 0, "listings took more than one page"
    assert counts["ShardFilter"] > 0, "children were looked up with ShardFilter"
    assert counts["ExpiredIteratorException"] > 0
    assert counts["third reader"] == 0, "never more than 2 GetRecords at once on a shard"
    assert counts["LimitExceededException"] + counts["ProvisionedThroughputExceededException"] > 0


@pytest.mark.parametrize("shard_filter", ["reject", "ignore"])
def test_a_server_without_shard_filter_is_listed_instead(
    scenario: Run, endpoints: Endpoints, shard_filter: str
) -> None:
    with StreamServer(
        endpoints.source,
        partitions=40,
        rollover_seconds=4.0,
        split_chance=0.0,
        shard_filter=shard_filter,
    ) as server:
        run = through(scenario, server)
        load_keys(run, 1, "--create-table", *SMALL_ITEMS, keys=300)
        migration = run.migrate()
        run.wait_until("the snapshot", lambda: progress(run.state).snapshot_done, migration)
        load_keys(run, 2, *SMALL_ITEMS, keys=300)
        rolled = server.counts["rollovers"]
        wait_for("two rollovers", lambda: server.counts["rollovers"] >= rolled + 2)
        load_keys(run, 3, *SMALL_ITEMS, keys=300)  # changes in the children
        run.wait_until("replay progress", replaying(run, 300), migration)
        run.stop(migration)
        out, err = run.finish(run.migrate("--stop-when-drained"))
        assert "Stream replay drained" in out, err
        assert_identical(run)
        assert server.counts["ShardFilter"] == 0
        assert server.counts["pages with more"] > 0


def test_shards_trimmed_before_they_were_replayed_fail_loudly(
    scenario: Run, endpoints: Endpoints
) -> None:
    with StreamServer(endpoints.source, partitions=8, rollover_seconds=1.0) as server:
        run = through(scenario, server)
        load_keys(run, 1, "--create-table", *SMALL_ITEMS, keys=100)
        out, err = run.finish(run.migrate("--stop-when-drained"))
        assert "Stream replay drained" in out, err
        load_keys(run, 2, *SMALL_ITEMS, keys=100)  # changes no migrator has read yet
        rolled = server.counts["rollovers"]
        wait_for("two rollovers", lambda: server.counts["rollovers"] >= rolled + 2)
        assert server.trim(keep=1), "the generations holding the changes are trimmed"

        failed = run_cli(
            *("migrate", "--config", str(run.config), "--state", str(run.state)),
            "--stop-when-drained",
        )
        assert failed.returncode == 2, failed.stdout + failed.stderr
        lines = failed.stderr.strip().splitlines()
        assert "changes may have been lost" in lines[-1], failed.stderr
        assert "start a new full migration" in lines[-1]
        assert "Traceback" not in failed.stderr
