"""Stream replay against the real server, through the real CLI."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.conftest import Endpoints
from tests.helpers import run_cli
from tests.scenario import progress
from tests.tables import create_table, load, scan_all, section, write_config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def streaming_config(endpoints: Endpoints, table: str, tmp_path: Path, **source: Any) -> Path:
    return write_config(
        tmp_path / "config.yaml",
        section(endpoints.source, table, **source),
        section(endpoints.target, table, streamChanges=True),
    )


def migrate(
    config: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = ("migrate", "--config", str(config), "--stop-when-drained", *args)
    return run_cli(*command, timeout=300, env=env)


def item(key: str, version: int) -> dict[str, Any]:
    return {"id": {"S": key}, "version": {"N": str(version)}}


def test_changes_after_the_snapshot_are_replayed_in_order(
    endpoints: Endpoints, source_client: DynamoDBClient, table_name: str, tmp_path: Path
) -> None:
    create_table(source_client, table_name)
    load(endpoints.source, table_name, [item(f"k{n}", 0) for n in range(10)], ["id"])
    config = streaming_config(endpoints, table_name, tmp_path)
    first = migrate(config)
    assert first.returncode == 0, first.stderr
    assert "enabling Dynamo Stream" in first.stderr
    assert "Stream enabled successfully" in first.stderr
    assert "Done transferring table snapshot. Starting to transfer changes" in first.stderr

    put, delete = source_client.put_item, source_client.delete_item
    put(TableName=table_name, Item=item("new", 1))  # insert
    put(TableName=table_name, Item=item("k1", 5))  # modify
    delete(TableName=table_name, Key={"id": {"S": "k2"}})  # delete
    delete(TableName=table_name, Key={"id": {"S": "k3"}})  # delete, then put again
    put(TableName=table_name, Item=item("k3", 7))
    for version in range(1, 30):  # many changes to one key, likely in one batch
        put(TableName=table_name, Item=item("k4", version))
    put(TableName=table_name, Item=item("k5", 1))
    delete(TableName=table_name, Key={"id": {"S": "k5"}})  # put, then delete

    # As in a terminal with stdout sent to a file: the live line on stderr must not
    # take the tables of operations along with it.
    second = migrate(config, env={"FORCE_COLOR": "1"})

    assert second.returncode == 0, second.stderr
    assert "copied by an earlier run" in second.stderr
    assert "|_dynamo_op_type|count|" in second.stdout
    assert "| DELETE        |" in second.stdout
    assert "Stream replay drained: 36 records applied" in second.stdout
    assert "you can switch your application over" in second.stderr
    assert scan_all(endpoints.target, table_name) == scan_all(endpoints.source, table_name)


def test_changes_during_the_snapshot_are_not_lost(
    endpoints: Endpoints, source_client: DynamoDBClient, table_name: str, tmp_path: Path
) -> None:
    create_table(source_client, table_name)
    load(endpoints.source, table_name, [item(f"k{n:05d}", 0) for n in range(8000)], ["id"])
    config = streaming_config(endpoints, table_name, tmp_path, scanSegments=4, maxMapTasks=1)
    state = tmp_path / "run.sqlite"
    args = [sys.executable, "-m", "toolkit", "migrate", "--config", str(config)]
    run = subprocess.Popen(
        [*args, "--state", str(state), "--scan-page-items", "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while "LatestStreamArn" not in source_client.describe_table(TableName=table_name)["Table"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # Rewrite and delete keys while the snapshot copies them.
    for n in range(0, 8000, 40):
        source_client.put_item(TableName=table_name, Item=item(f"k{n:05d}", 1))
        source_client.delete_item(TableName=table_name, Key={"id": {"S": f"k{n + 1:05d}"}})
        if n == 400:
            assert not progress(state).snapshot_done, "the snapshot ended before the changes"
    # Stopped once every change was made (a busy machine may make them slower than the
    # snapshot copies), then drained: --stop-when-drained from the start could end first.
    deadline = time.monotonic() + 120
    while not progress(state).snapshot_done:
        assert run.poll() is None and time.monotonic() < deadline, "the migration ended early"
        time.sleep(0.2)
    run.send_signal(signal.SIGTERM)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    assert "Snapshot done" in out
    drained = migrate(config, "--state", str(state))
    assert drained.returncode == 0, drained.stderr
    assert scan_all(endpoints.target, table_name) == scan_all(endpoints.source, table_name)


def shard_records(state: Path) -> int:
    try:
        with sqlite3.connect(f"file:{state}?mode=ro", uri=True) as db:
            return int(db.execute("SELECT COALESCE(SUM(records), 0) FROM shards").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_kill_9_mid_replay_and_sigterm_then_resume(
    endpoints: Endpoints, source_client: DynamoDBClient, table_name: str, tmp_path: Path
) -> None:
    create_table(source_client, table_name)
    config = streaming_config(endpoints, table_name, tmp_path)
    state = tmp_path / "run.sqlite"
    assert migrate(config, "--state", str(state)).returncode == 0
    backlog = 30_000
    load(endpoints.source, table_name, [item(f"k{n:06d}", 1) for n in range(backlog)], ["id"])
    command = [sys.executable, "-m", "toolkit", "migrate", "--config", str(config)]
    command += ["--state", str(state)]

    killed = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while shard_records(state) < 1000:
        assert time.monotonic() < deadline and killed.poll() is None
        time.sleep(0.02)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    assert shard_records(state) < backlog, "the kill must land mid-replay"

    stopped = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    stopped.send_signal(signal.SIGTERM)
    out, err = stopped.communicate(timeout=60)
    assert stopped.returncode == 0, err
    assert "Stream replay stopped" in out

    resumed = migrate(config, "--state", str(state))
    assert resumed.returncode == 0, resumed.stderr
    assert scan_all(endpoints.target, table_name) == scan_all(endpoints.source, table_name)


def test_an_already_enabled_stream_is_refused_unless_accepted(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> None:
    create_table(
        source_client,
        table_name,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    load(endpoints.source, table_name, [item("a", 1)], ["id"])
    config = streaming_config(endpoints, table_name, tmp_path)
    refused = migrate(config)
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "already has an enabled stream" in lines[0]
    assert "24 hours" in lines[0]
    assert table_name not in target_client.list_tables()["TableNames"]

    accepted = migrate(config, "--accept-existing-stream")
    assert accepted.returncode == 0, accepted.stderr
    assert scan_all(endpoints.target, table_name) == scan_all(endpoints.source, table_name)


def test_a_state_of_another_stream_is_refused(
    endpoints: Endpoints, source_client: DynamoDBClient, table_name: str, tmp_path: Path
) -> None:
    create_table(source_client, table_name)
    config = streaming_config(endpoints, table_name, tmp_path)
    assert migrate(config).returncode == 0
    source_client.update_table(TableName=table_name, StreamSpecification={"StreamEnabled": False})
    source_client.update_table(
        TableName=table_name,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    result = migrate(config)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "follows stream" in lines[0]
    assert "new --state" in lines[0]
