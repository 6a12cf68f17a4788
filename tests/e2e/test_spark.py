"""The Spark engine through the real CLI, on local[2]: each scan segment a Spark task.

Every `toolkit ... --engine spark` here is its own Spark driver (a JVM started by
PySpark), so the tests run as few of them as they can.
"""

from __future__ import annotations

import signal
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest

from tests.conftest import Endpoints
from tests.e2e.test_convergence import (
    KEYS,
    SMALL_ITEMS,
    STEADY,
    assert_identical,
    load_keys,
    replaying,
    stop_load,
)
from tests.e2e.test_stream_scale import ROLLING, through, wait_for
from tests.fakes.fake_alternator import fake_cluster
from tests.fakes.stream_server import StreamServer
from tests.helpers import run_cli
from tests.scenario import Run, progress
from tests.tables import create_table, load, scan_all, section, write_config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.convergence

SPARK = ("--engine", "spark", "--master", "local[2]", "--spark-conf", "spark.ui.enabled=false")
ITEMS = 16_000
SEGMENTS = 8
PAGES = ("--scan-page-items", "100")
SHARDED_KEYS = 1000


@pytest.fixture(autouse=True)
def spark_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """What PySpark needs on this machine: loopback only, executors on this venv's Python."""
    monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)


@pytest.fixture
def run(endpoints: Endpoints, table_name: str, tmp_path: Path) -> Iterator[Run]:
    scenario = Run(endpoints, table_name, tmp_path)
    try:
        yield scenario
    finally:
        scenario.kill_all()


def segments(state: Path) -> dict[int, tuple[int, int, bool]]:
    """segment -> (items, pages recorded, done), read as another process would."""
    try:
        with closing(sqlite3.connect(f"file:{state}?mode=ro", uri=True)) as db:
            rows = db.execute("SELECT segment, items, pages, done FROM segments").fetchall()
    except sqlite3.OperationalError:  # not created yet
        return {}
    return {segment: (items, pages, bool(done)) for segment, items, pages, done in rows}


def finished(state: Path, seen: dict[int, tuple[int, int, bool]] | None = None) -> set[int]:
    """The segments recorded as done (in ``seen``, else in the state file now)."""
    return {s for s, (_, _, done) in (segments(state) if seen is None else seen).items() if done}


def copied(out: str) -> int:
    return int(out.split("Snapshot ")[1].split(": ")[1].split(" items")[0])


def test_spark_snapshot_and_replay_under_a_live_load_survive_kill_9_and_end_identical(
    run: Run,
) -> None:
    run.configure(maxMapTasks=2)
    load_keys(run, 1, "--create-table", *SMALL_ITEMS)
    steady = run.mutate("--keys", str(KEYS), *STEADY, *SMALL_ITEMS)
    migration = run.migrate("--scan-page-items", "50", *SPARK)
    run.wait_until("the replay on Spark", replaying(run, 30), migration, steady)
    run.kill(migration)  # mid-replay: turns in flight are read again after their checkpoints
    _, err = run.output(migration)
    assert "4 segments, 2 at a time, on the spark engine" in err
    assert "Replaying the stream's shards on the spark engine: 2 tasks a round" in err
    done = segments(run.state)
    # Each segment recorded once, whole, when its task ended: one checkpoint per segment.
    assert sorted(done) == [0, 1, 2, 3] and all(pages == 1 and d for _, pages, d in done.values())
    assert sum(items for items, _, _ in done.values()) > KEYS / 2  # the load deletes some

    resumed = run.migrate(*SPARK)
    before = progress(run.state).records
    run.wait_until("the replay to go on", replaying(run, before + 30), resumed, steady)
    stop_load(run, steady)
    out, _ = run.stop(resumed, signal.SIGTERM)  # a graceful stop: its running tasks cancelled
    assert "Stream replay stopped" in out

    out, err = run.finish(run.migrate("--stop-when-drained", *SPARK))
    assert "copied by an earlier run" in err and "on the spark engine" in err
    assert "Stream replay drained" in out and "|_dynamo_op_type|count|" in out
    assert_identical(run)


def test_spark_tasks_send_each_items_writes_to_its_node_through_skewed_clocks(
    run: Run, endpoints: Endpoints
) -> None:
    """Spark's tasks, each in a worker process of its own, map every key to the same node
    as each other and as the driver: through a fake ScyllaDB whose node clocks are 150 ms
    apart, no write loses to an older one and the tables end identical."""
    with fake_cluster(endpoints.target, skews=(0.0, 0.15, -0.15)) as cluster:
        target = section(cluster.urls[0], run.table, streamChanges=True)
        write_config(
            run.config,
            section(endpoints.source, run.table, scanSegments=4, maxMapTasks=2),
            {**target, "type": "alternator"},
        )
        load_keys(run, 1, "--create-table", *SMALL_ITEMS)
        steady = run.mutate("--keys", str(KEYS), *STEADY, *SMALL_ITEMS)
        migration = run.migrate("--scan-page-items", "50", *SPARK)
        run.wait_until("the replay on Spark", replaying(run, 30), migration, steady)
        stop_load(run, steady)
        before = progress(run.state).records
        burst = ("--keys", "25", "--rate", "400-500", "--operations", "300", *SMALL_ITEMS)
        assert "Mutate done: 300 operations" in run.finish(run.mutate(*burst))[0]
        run.wait_until("the burst replayed", replaying(run, before + 300), migration)
        assert "Stream replay stopped" in run.stop(migration, signal.SIGTERM)[0]
        out, _ = run.finish(run.migrate("--stop-when-drained", *SPARK))
        assert "Stream replay drained" in out
        assert_identical(run)
        assert cluster.lost_writes == 0, "a write lost to an older one: writes crossed nodes"


def loaded(endpoints: Endpoints, source: DynamoDBClient, table: str, tmp_path: Path) -> Run:
    """A source of ITEMS items of ~160 bytes, copied in SEGMENTS segments, 2 at a time."""
    create_table(source, table)
    items = [{"id": {"S": f"k{n:06d}"}, "body": {"S": "v" * 150}} for n in range(ITEMS)]
    load(endpoints.source, table, items, ["id"])
    run = Run(endpoints, table, tmp_path)
    write_config(
        run.config,
        section(endpoints.source, table, scanSegments=SEGMENTS, maxMapTasks=2),
        section(endpoints.target, table),
    )
    return run


def test_driver_killed_or_stopped_mid_snapshot_resumes_without_copying_finished_segments(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> None:
    run = loaded(endpoints, source_client, table_name, tmp_path)
    try:
        first = run.migrate(*PAGES, *SPARK)
        run.wait_until("a finished segment", lambda: len(finished(run.state)) > 0, first)
        run.kill(first)
        killed = segments(run.state)
        assert 0 < len(finished(run.state)) < SEGMENTS, "the kill must land mid-snapshot"

        second = run.migrate(*PAGES, *SPARK)
        at_kill = len(finished(run.state, killed))
        run.wait_until("one more segment", lambda: len(finished(run.state)) > at_kill, second)
        out, _ = run.stop(second, signal.SIGTERM)
    finally:
        run.kill_all()
    assert "Snapshot stopped: " in out
    stopped = segments(run.state)
    assert finished(run.state, killed) < finished(run.state, stopped) < set(range(SEGMENTS))
    # The segments whose tasks were cancelled are not recorded at all, and those
    # finished before are as they were.
    assert all(stopped[s] == (0, 0, False) for s in set(stopped) - finished(run.state, stopped))
    assert all(stopped[s] == killed[s] for s in finished(run.state, killed))

    out, _ = run.finish(run.migrate(*PAGES, *SPARK))

    assert copied(out) == ITEMS - sum(items for items, _, _ in stopped.values())
    after = segments(run.state)
    assert all(after[s] == stopped[s] for s in finished(run.state, stopped))
    assert finished(run.state, after) == set(range(SEGMENTS))
    assert sum(items for items, _, _ in after.values()) == ITEMS
    verify = ("verify", "--config", str(run.config), "--both-directions", *SPARK)
    identical = run_cli(*verify, "--report", str(tmp_path / "same.jsonl"), timeout=300)
    assert identical.returncode == 0, identical.stdout[-2000:] + identical.stderr[-2000:]
    assert "IDENTICAL (both directions)" in identical.stdout
    assert scan_all(endpoints.target, table_name) == scan_all(endpoints.source, table_name)

    spoil(target_client, table_name)
    on_spark = run_cli(*verify, "--report", str(tmp_path / "spark.jsonl"), timeout=300)
    embedded = run_cli(*verify[:4], "--report", str(tmp_path / "embedded.jsonl"), timeout=300)
    assert on_spark.returncode == embedded.returncode == 1, on_spark.stderr[-2000:]
    assert "DIFFERENT: 1 missing in target, 1 extra in target, 1 different" in on_spark.stdout
    assert differences(tmp_path / "spark.jsonl") == differences(tmp_path / "embedded.jsonl")


def spoil(target: DynamoDBClient, table: str) -> None:
    """One item missing in the target, one different, one extra."""
    target.delete_item(TableName=table, Key={"id": {"S": "k000001"}})
    target.put_item(TableName=table, Item={"id": {"S": "k000002"}, "body": {"S": "changed"}})
    target.put_item(TableName=table, Item={"id": {"S": "only-in-target"}})


def differences(report: Path) -> list[dict[str, Any]]:
    lines = [orjson.loads(line) for line in report.read_bytes().splitlines()]
    found = [line for line in lines if line["kind"] != "summary"]
    assert len(found) == 3
    return sorted(found, key=lambda line: orjson.dumps(line["key"]))


def test_replay_on_spark_through_rolling_shards_ends_under_load_and_fails_loudly_on_trim(
    run: Run, endpoints: Endpoints
) -> None:
    # Generations kept a minute: a Spark driver takes 10-20 s to start again.
    server = StreamServer(endpoints.source, **{**ROLLING, "keep_generations": 20})
    with server:
        moved = through(run, server)
        load_keys(moved, 1, "--create-table", *SMALL_ITEMS, keys=SHARDED_KEYS)
        steady = moved.mutate("--keys", str(SHARDED_KEYS), "--rate", "40-60", *SMALL_ITEMS)
        first = moved.migrate(*SPARK)
        moved.wait_until("replay progress", replaying(moved, 100), first, steady)
        wait_for("two rollovers", lambda: server.counts["rollovers"] >= 2)
        moved.kill(first)

        # While the load runs on: drained once every change made before it began is on
        # the target (a shard counts once it applied a change made after that).
        out, err = moved.finish(moved.migrate("--stop-when-drained", *SPARK))
        assert "Stream replay drained" in out and "on the spark engine" in err, err
        moved.alive(steady)
        stop_load(moved, steady)
        out, err = moved.finish(moved.migrate("--stop-when-drained"))  # the load's tail
        assert "Stream replay drained" in out, err
        assert_identical(moved)
        counts = server.counts
        assert counts["ShardFilter"] > 0 and counts["ExpiredIteratorException"] > 0, counts
        assert counts["third reader"] == 0, "never more than 2 GetRecords at once on a shard"

        load_keys(moved, 2, *SMALL_ITEMS, keys=100)  # changes no migrator has read yet
        rolled = server.counts["rollovers"]
        wait_for("two rollovers", lambda: server.counts["rollovers"] >= rolled + 2)
        assert server.trim(keep=1), "the generations holding the changes are trimmed"
        failed = run_cli(
            *("migrate", "--config", str(moved.config), "--state", str(moved.state)),
            *("--stop-when-drained", *SPARK),
            timeout=300,
        )
    assert failed.returncode == 2, failed.stdout + failed.stderr
    last = failed.stderr.strip().splitlines()[-1]
    assert "changes may have been lost" in last and "start a new full migration" in last, (
        failed.stderr
    )
    assert "Traceback" not in failed.stderr
