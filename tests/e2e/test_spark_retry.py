"""A Spark task whose Python worker dies is retried by Spark, and copies only its segment again.

local[2,2]: two task slots, and a failed task is tried once more (local[2] never
retries). The worker is killed with SIGKILL in the middle of a segment copy, as
when an executor's machine is lost; the run must end with every segment recorded
once and the target identical to the source.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tests.conftest import Endpoints
from tests.e2e.test_spark import ITEMS, PAGES, SEGMENTS, copied, loaded, segments, spark_environment
from tests.tables import scan_all

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["spark_environment"]  # the fixture, used here too
RETRYING = ("--engine", "spark", "--master", "local[2,2]", "--spark-conf", "spark.ui.enabled=false")


def processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process now."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # ended meanwhile
        found[int(entry.name)] = (parent, command)
    return found


def python_workers(driver: int) -> list[int]:
    """Spark's Python workers under ``driver``: children forked by its pyspark daemon."""
    table = processes()

    def under(pid: int) -> bool:
        while pid > 1 and pid in table:
            if pid == driver:
                return True
            pid = table[pid][0]
        return False

    daemons = {pid for pid, (_, cmd) in table.items() if "pyspark.daemon" in cmd and under(pid)}
    return [pid for pid, (parent, _) in table.items() if parent in daemons]


def test_a_task_whose_worker_is_killed_is_retried_and_copies_only_its_segment(
    endpoints: Endpoints, source_client: DynamoDBClient, table_name: str, tmp_path: Path
) -> None:
    run = loaded(endpoints, source_client, table_name, tmp_path)
    try:
        migration = run.migrate(*PAGES, *RETRYING)
        deadline = time.monotonic() + 120
        while not (workers := python_workers(migration.pid)):
            run.alive(migration)
            assert time.monotonic() < deadline, "no Spark task started"
            time.sleep(0.05)
        assert not any(done for _, _, done in segments(run.state).values())
        os.kill(workers[0], signal.SIGKILL)  # a task in the middle of its segment
        out, err = run.finish(migration)
    finally:
        run.kill_all()
    assert "Snapshot done" in out, err
    assert "Lost task" in err and "Python worker exited unexpectedly" in err, err[-3000:]
    assert copied(out) == ITEMS  # the retried segment is counted once, from its retry
    recorded = segments(run.state)
    assert sorted(recorded) == list(range(SEGMENTS))
    assert all(pages == 1 and done for _, pages, done in recorded.values())
    assert sum(items for items, _, _ in recorded.values()) == ITEMS
    assert scan_all(endpoints.target, table_name) == scan_all(endpoints.source, table_name)
