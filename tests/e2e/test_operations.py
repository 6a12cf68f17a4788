"""Operating a run: metrics scraped while it runs, `toolkit status`, JSON log lines.

Everything through the real CLI against the local servers: the figures the metrics
and `toolkit status` show are checked against the run's own summary lines.
"""

from __future__ import annotations

import re
import signal
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from tests.fakes.fault_proxy import FaultProxy, Mode
from tests.helpers import free_port, run_cli
from tests.refusals import Case
from tests.scenario import Run, progress
from tests.tables import create_table, load

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ITEMS, CHANGES = 1200, 40
SAMPLE = re.compile(r"^(\w+)(\{[^}]*\})? (\S+)$")


def scrape(port: int) -> dict[str, float]:
    """Every sample on /metrics, by its name and labels as written."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    samples = {}
    for line in text.splitlines():
        found = SAMPLE.match(line)
        if found and not line.startswith("#"):
            samples[found.group(1) + (found.group(2) or "")] = float(found.group(3))
    return samples


def status(state: Path, *more: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("status", "--state", str(state), "--json", *more)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, orjson.loads(result.stdout)


def until(what: str, ready: Callable[[], bool], run: Run, *processes: Any) -> None:
    run.wait_until(what, ready, *processes)


def items(start: int, count: int, version: int = 0) -> list[dict[str, Any]]:
    return [
        {"id": {"S": f"k{n:05}"}, "v": {"N": str(version)}} for n in range(start, start + count)
    ]


def test_metrics_status_and_json_logs_follow_a_run(
    case: Case, source_client: DynamoDBClient
) -> None:
    create_table(source_client, case.table)
    load(case.endpoints.source, case.table, items(0, ITEMS), ["id"])
    run = Run(case.endpoints, case.table, case.tmp)
    run.configure()
    port = free_port()
    try:
        migration = run.migrate("--log-format", "json", "--metrics-port", str(port))
        until("the replay", lambda: scrape_phase(port) == "replay", run, migration)
        metrics, table = scrape(port), f'{{table="{case.table}"}}'  # a single run's table too
        assert metrics["toolkit_items_copied_total" + table] == ITEMS
        assert metrics["toolkit_segments_done" + table] == 4
        assert metrics["toolkit_segments_total" + table] == 4
        assert metrics["toolkit_seconds_since_progress"] == 0  # no work waits
        code, now = status(run.state)
        assert now["live"] and now["snapshot_done"] and code == (0 if now["drained"] else 1)
        assert now["phase"] in ("replay", "drained")  # drained for now: no change waits
        assert (now["items_copied"], now["segments_done"]) == (ITEMS, 4)

        load(case.endpoints.source, case.table, items(0, CHANGES, version=1), ["id"])
        until("the changes", lambda: progress(run.state).records >= CHANGES, run, migration)
        until("their metrics", lambda: applied(port) >= CHANGES, run, migration)
        last = scrape(port)
        assert last["toolkit_replication_lag_seconds" + table] == 0  # every change read is applied
        out, err = run.stop(migration, signal.SIGTERM)
    finally:
        run.kill_all()
    tables = [int(n) for n in re.findall(r"^\| MODIFY\s+\|\s*(\d+)\|$", out, re.MULTILINE)]
    assert sum(tables) == CHANGES == applied_from(last)
    assert f"Snapshot done: {ITEMS} items" in out
    lines = [orjson.loads(line) for line in err.splitlines()]  # every stderr line is JSON
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    copying = next(line for line in lines if line["message"].startswith("Copying the snapshot"))
    assert (copying["table"], copying["segments"]) == (case.table, 4)

    code, stopped = status(run.state)
    assert code == 1 and not stopped["live"] and stopped["records_applied"] == CHANGES
    drained = run_cli(
        *("migrate", "--config", str(run.config), "--state", str(run.state)),
        "--stop-when-drained",
    )
    assert drained.returncode == 0, drained.stderr
    code, after = status(run.state)
    assert code == 0 and after["drained"] and after["phase"] == "drained"
    plain = run_cli("status", "--state", str(run.state))
    assert plain.returncode == 0 and "replication lag: 0.0 s (drained)" in plain.stdout


def scrape_phase(port: int) -> str:
    try:
        samples = scrape(port)
    except OSError:
        return ""
    return next((k for k, v in samples.items() if k.startswith("toolkit_phase{") and v), "")[
        len('toolkit_phase{toolkit_phase="') : -2
    ]


def applied(port: int) -> float:
    return applied_from(scrape(port))


def applied_from(samples: dict[str, float]) -> float:
    return sum(
        v for k, v in samples.items() if k.startswith("toolkit_stream_records_applied_total")
    )


def test_a_stalled_target_shows_in_the_stall_gauge_and_in_status(
    case: Case, source_client: DynamoDBClient
) -> None:
    create_table(source_client, case.table)
    load(case.endpoints.source, case.table, items(0, ITEMS), ["id"])
    port = free_port()
    with FaultProxy(case.endpoints.target) as proxy:
        run = Run(case.endpoints, case.table, case.tmp)
        run.configure(target=proxy.url)
        try:
            migration = run.migrate("--metrics-port", str(port), "--scan-page-items", "20")
            until("some pages", lambda: progress(run.state).copied >= 100, run, migration)
            proxy.set_mode(Mode.REFUSE)
            time.sleep(5)
            stall = scrape(port)["toolkit_seconds_since_progress"]
            code, now = status(run.state)
            assert stall >= 3, stall
            assert code == 1 and now["checkpoint_age_seconds"] >= 3 and not now["snapshot_done"]
            errors = (
                'toolkit_request_errors_total{code="ConnectionError",operation="BatchWriteItem",'
            )
            labels = f'side="target",table="{case.table}"}}'  # labels in sorted order
            assert scrape(port)[errors + labels] >= 1
            proxy.set_mode(Mode.PASS)
            run.kill(migration)
        finally:
            run.kill_all()
    code, killed = status(run.state)
    assert code == 1 and not killed["live"] and killed["segments_done"] < 4
