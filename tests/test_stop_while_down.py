"""Ctrl-C or SIGTERM stops a run promptly even while the target does not answer."""

from __future__ import annotations

import signal
import time

import pytest

from tests.fault_proxy import FaultProxy, Mode
from tests.scenario import Run
from tests.test_convergence import SMALL_ITEMS, STEADY, load_keys, replaying, run

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
