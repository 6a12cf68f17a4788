"""Numbers beyond what a run holds, through the real CLI (issue 23, point 3).

`scanSegments: 1000000000` was accepted: the target created, the source's stream
enabled, then 14 GB of memory and a process deaf to SIGTERM. Now such numbers are
one line before any table is touched (the `case` fixture checks both servers and
the run's folder), and a run at the caps still stops on SIGTERM.
"""

from __future__ import annotations

import signal
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_signals import migration, wait_for
from tests.fakes.fault_proxy import FaultProxy
from tests.refusals import Case
from tests.tables import section, write_config
from toolkit.config import limits

BOTH = pytest.mark.parametrize("command", ["migrate", "verify"])


def config_with_source(case: Case, source: str | None = None, **extra: Any) -> Path:
    """The case's streaming config with ``extra`` in the source section."""
    return write_config(
        case.tmp / "config.yaml",
        section(source or case.endpoints.source, case.table, **extra),
        section(case.endpoints.target, case.table, streamChanges=True),
    )


@BOTH
def test_a_billion_scan_segments_are_refused_before_any_table_is_touched(
    case: Case, command: str
) -> None:
    case.source_table()
    config = config_with_source(case, scanSegments=1_000_000_000)
    case.refused(
        command,
        config,
        "source.scanSegments must be an integer from 1 to 10000, got 1000000000",
        "give at most 10,000",
    )


@BOTH
def test_more_map_tasks_than_a_process_runs_are_refused(case: Case, command: str) -> None:
    case.source_table()
    config = config_with_source(case, maxMapTasks=100_000)
    case.refused(
        command,
        config,
        "source.maxMapTasks must be an integer from 1 to 256, got 100000",
        "give at most 256",
    )


@BOTH
def test_a_batch_size_beyond_the_targets_api_is_refused(case: Case, command: str) -> None:
    case.source_table()
    config = case.config(batchSize=26)
    case.refused(command, config, "target.batchSize must be an integer from 1 to 25, got 26")


@pytest.mark.parametrize(
    ("flag", "value", "phrase"),
    [
        ("--keys", "2000000000", "must be an integer from 1 to 10,000,000, got 2000000000"),
        ("--duration", "inf", "must be a number above 0 and at most 2,592,000 seconds, got inf"),
        ("--workers", "65", "must be an integer from 1 to 64, got 65"),
    ],
)
def test_a_mutate_flag_out_of_range_is_refused(
    case: Case, flag: str, value: str, phrase: str
) -> None:
    case.source_table()
    config = case.config()
    before = case.seen()
    result = case.run("mutate", config, flag, value)  # after the case's own, so it counts
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert f"'{flag}'" in lines[0] and phrase in lines[0]
    assert case.seen() == before


def test_a_run_at_the_caps_stops_on_sigterm(case: Case) -> None:
    """10,000 segments and no maxMapTasks: 256 at a time (not one thread per segment).
    SIGTERM while the first scans are in flight stops the run, its state kept."""
    case.source_table()
    segments, tasks = int(limits.SCAN_SEGMENTS.high), int(limits.MAP_TASKS.high)
    with FaultProxy(case.endpoints.source) as proxy:
        held = proxy.hold("Scan")
        config = config_with_source(case, proxy.url, scanSegments=segments)
        run = migration(config, case.tmp)
        wait_for(proxy, "held Scan", run)
        run.send_signal(signal.SIGTERM)
        held.set()
        out, err = run.communicate(timeout=300)
    assert run.returncode == 0, (out, err)
    assert "Traceback" not in err and "Snapshot stopped" in out
    assert f"{segments} segments, {tasks} at a time" in err
    with closing(sqlite3.connect(case.tmp / "run.sqlite")) as state:
        rows, done = state.execute("SELECT count(*), sum(done) FROM segments").fetchone()
    assert rows == segments and done < segments
