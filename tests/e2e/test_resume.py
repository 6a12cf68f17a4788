"""A killed snapshot, started again, continues every segment from its checkpoint."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tests.conftest import Endpoints
from tests.helpers import run_cli
from tests.tables import create_table, load, scan_all, section, write_config
from toolkit.work.state import RunState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ITEMS = 20_000
SEGMENTS = 4
PAGE = 100


def checkpointed(state: Path) -> tuple[int, int]:
    """(items checkpointed, segments done), read as another process would."""
    try:
        with sqlite3.connect(f"file:{state}?mode=ro", uri=True) as db:
            query = "SELECT COALESCE(SUM(items), 0), COALESCE(SUM(done), 0) FROM segments"
            items, done = db.execute(query).fetchone()
    except sqlite3.OperationalError:  # the run has not created its tables yet
        return 0, 0
    return int(items), int(done)


def test_kill_9_mid_snapshot_then_resume_copies_at_most_a_page_per_segment_again(
    endpoints: Endpoints, source_client: DynamoDBClient, table_name: str, tmp_path: Path
) -> None:
    create_table(source_client, table_name)
    items = [{"id": {"S": f"k{n:06d}"}, "body": {"S": "v" * 150}} for n in range(ITEMS)]
    load(endpoints.source, table_name, items, ["id"])
    config = write_config(
        tmp_path / "config.yaml",
        section(endpoints.source, table_name, scanSegments=SEGMENTS, maxMapTasks=2),
        section(endpoints.target, table_name),
    )
    state = tmp_path / "run.sqlite"
    args = ["migrate", "--config", str(config), "--state", str(state), "--scan-page-items", "100"]
    first = subprocess.Popen(
        [sys.executable, "-m", "toolkit", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if state.exists() and checkpointed(state)[0] >= 3000:
                break
            time.sleep(0.05)
        os.kill(first.pid, signal.SIGKILL)
    finally:
        first.wait()
    copied_before, done_before = checkpointed(state)
    assert 3000 <= copied_before < ITEMS, "the kill must land mid-snapshot"
    assert done_before < SEGMENTS

    second = run_cli(*args)

    assert second.returncode == 0, second.stderr
    copied_again = int(second.stdout.split("Snapshot done: ")[1].split(" items")[0])
    remaining = ITEMS - copied_before
    assert remaining <= copied_again <= remaining + SEGMENTS * PAGE
    assert scan_all(endpoints.target, table_name) == scan_all(endpoints.source, table_name)


def test_a_state_held_by_a_live_run_is_refused_before_any_table_is_touched(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> None:
    create_table(source_client, table_name)
    config = write_config(
        tmp_path / "config.yaml",
        section(endpoints.source, table_name),
        section(endpoints.target, table_name),
    )
    state_path = tmp_path / "run.sqlite"
    held = RunState(state_path)
    try:
        result = run_cli("migrate", "--config", str(config), "--state", str(state_path))
    finally:
        held.close()
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"in use by a live run (pid {os.getpid()})" in lines[0]
    assert table_name not in target_client.list_tables()["TableNames"]


def test_a_state_of_another_table_is_refused(
    endpoints: Endpoints, source_client: DynamoDBClient, table_name: str, tmp_path: Path
) -> None:
    create_table(source_client, table_name)
    state_path = tmp_path / "run.sqlite"
    held = RunState(state_path)
    held.claim("source table", "some_other_table", "")
    held.close()
    config = write_config(
        tmp_path / "config.yaml",
        section(endpoints.source, table_name),
        section(endpoints.target, table_name),
    )
    result = run_cli("migrate", "--config", str(config), "--state", str(state_path))
    assert result.returncode == 2
    assert "belongs to source table 'some_other_table'" in result.stderr
