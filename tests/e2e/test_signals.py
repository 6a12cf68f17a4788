"""Stop means stop: SIGINT and SIGTERM honoured from the first moment, through the real CLI.

A background job of a script starts with SIGINT ignored; Python then installs no
handler of its own, so the toolkit takes both signals over itself, first thing.
The fault proxy holds one request of the run's, so the signal arrives at a known
moment: while the source is described, or while the target table is created.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.fakes.fault_proxy import FaultProxy
from tests.helpers import run_cli
from tests.refusals import Case

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def started_ignoring_sigint(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """`toolkit ARGS` started as a script's background job is: with SIGINT ignored."""

    def ignore_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    return subprocess.Popen(
        [sys.executable, "-m", "toolkit", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        preexec_fn=ignore_sigint,
    )


def migration(config: Path, cwd: Path) -> subprocess.Popen[str]:
    return started_ignoring_sigint(
        *("migrate", "--config", str(config), "--state", "run.sqlite", "--stop-when-drained"),
        cwd=cwd,
    )


def wait_for(proxy: FaultProxy, counter: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while proxy.count(counter) == 0:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"no {counter} within 60 s"
        time.sleep(0.05)


def stream_of(client: DynamoDBClient, table: str) -> Any:
    return client.describe_table(TableName=table)["Table"].get("StreamSpecification")


def test_sigint_while_the_source_is_described_touches_nothing(case: Case) -> None:
    case.source_table()
    with FaultProxy(case.endpoints.source) as proxy:
        held = proxy.hold("DescribeTable")
        migrate = migration(case.config(source=proxy.url), case.tmp)
        wait_for(proxy, "held DescribeTable", migrate)
        before = case.seen()
        migrate.send_signal(signal.SIGINT)
        time.sleep(0.5)
        held.set()
        out, err = migrate.communicate(timeout=60)
    assert migrate.returncode == 0, (out, err)
    assert "Stopped before any table was touched" in err and "Traceback" not in err
    assert case.seen() == before  # no target table, no stream


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_while_the_target_table_is_created_enables_no_stream(
    case: Case, signum: signal.Signals
) -> None:
    case.source_table()
    with FaultProxy(case.endpoints.target) as proxy:
        config = case.config(target=proxy.url)
        held = proxy.hold("CreateTable")
        migrate = migration(config, case.tmp)
        wait_for(proxy, "held CreateTable", migrate)
        migrate.send_signal(signum)
        time.sleep(0.5)  # the signal is taken while CreateTable is still in flight
        held.set()
        out, err = migrate.communicate(timeout=60)
        assert migrate.returncode == 0, (out, err)
        assert "Stopping: finishing the batch in flight" in err
        assert "Stopped while preparing the target table" in err
        assert stream_of(case.source, case.table) is None
        assert "Snapshot" not in out

        again = run_cli(
            *("migrate", "--config", str(config), "--state", "run.sqlite"),
            "--stop-when-drained",
            cwd=case.tmp,
        )
    assert again.returncode == 0, again.stderr
    assert stream_of(case.source, case.table) == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_IMAGE",
    }
    assert "Stream replay drained" in again.stdout


def test_verify_started_ignoring_sigint_is_interrupted_by_it(case: Case) -> None:
    """A command without a graceful stop is interrupted at once (exit 130), not ignored."""
    case.source_table()
    with FaultProxy(case.endpoints.source) as proxy:
        held = proxy.hold("DescribeTable")
        config = case.config(source=proxy.url)
        verify = started_ignoring_sigint("verify", "--config", str(config), cwd=case.tmp)
        wait_for(proxy, "held DescribeTable", verify)
        verify.send_signal(signal.SIGINT)
        out, err = verify.communicate(timeout=30)
        held.set()
    assert verify.returncode == 130, (out, err)
    assert err.strip().splitlines() == ["error: interrupted"]
