"""Ctrl-C or SIGTERM stops a run promptly even while the target does not answer."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from tests.e2e.test_convergence import SMALL_ITEMS, STEADY, load_keys, replaying, run
from tests.fakes.fault_proxy import FaultProxy, Mode
from tests.refusals import Case
from tests.scenario import Run, progress
from tests.tables import load

__all__ = ["run"]  # the fixture, shared with the convergence tests


@pytest.mark.convergence
def test_sigterm_while_the_target_is_unreachable_stops_promptly(run: Run) -> None:
    with FaultProxy(run.endpoints.target) as proxy:
        run.configure(target=proxy.url)
        load_keys(run, 1, "--create-table", *SMALL_ITEMS, keys=200)
        steady = run.mutate("--keys", "200", *STEADY, *SMALL_ITEMS)
        migration = run.migrate()
        run.wait_until("replay progress", replaying(run, 10), migration, steady)
        proxy.set_mode(Mode.REFUSE)
        time.sleep(3)
        asked = time.monotonic()
        out, _ = run.stop(migration, signal.SIGTERM)  # asserts exit 0
        assert time.monotonic() - asked < 15
        assert "Stream replay stopped" in out
        run.stop(steady)


def test_a_target_that_stops_answering_is_said_and_so_is_its_return(case: Case) -> None:
    case.source_table()
    state, log = case.tmp / "run.sqlite", case.tmp / "migrate.err"
    with FaultProxy(case.endpoints.target) as proxy, log.open("w") as err:
        config = case.config(target=proxy.url)
        migrate = subprocess.Popen(
            [sys.executable, "-m", "toolkit", "migrate", "--config", str(config), "--state", state],
            stdout=subprocess.DEVNULL,
            stderr=err,
            text=True,
        )
        until(lambda: progress(state).snapshot_done, migrate)
        proxy.set_mode(Mode.REFUSE)
        load(case.endpoints.source, case.table, [{"id": {"S": "new"}}], ["id"])
        until(lambda: log.read_text().count("does not answer") >= 2, migrate)
        proxy.set_mode(Mode.PASS)
        until(lambda: "answers again" in log.read_text(), migrate)
        migrate.send_signal(signal.SIGTERM)
        assert migrate.wait(60) == 0, log.read_text()
    lines = log.read_text().splitlines()
    down = [line for line in lines if "does not answer" in line]
    assert all(f"target {proxy.url} does not answer (" in line for line in down), down
    assert all("keeps trying for up to 120 s before it stops" in line for line in down)
    ago = re.search(r"since \d\d:\d\d:\d\d, (\d+) s ago", down[1])
    assert ago is not None and int(ago.group(1)) >= 4, down  # lines 5 s apart at most
    assert re.search(rf"target {re.escape(proxy.url)} answers again, after \d+ s", log.read_text())


def until(ready: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90
    while not ready():
        assert process.poll() is None, "the migration ended"
        assert time.monotonic() < deadline, "not within 90 s"
        time.sleep(0.1)
