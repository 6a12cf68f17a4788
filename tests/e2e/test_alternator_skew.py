"""There and back through a fake ScyllaDB whose nodes' clocks disagree, through the real CLI.

The cluster (tests/fakes/fake_alternator.py) applies a write only when its node's timestamp is
newer than the item's last one, as ScyllaDB does without LWT, with clocks 150 ms apart;
it plays 2026.1, whose new tables use tablets and refuse streams on them, and its
stream records are Alternator's (INSERT and MODIFY swapped, events of writes that
changed nothing). With requests spread round robin over the nodes, a key written again
within the skew lost its later write (the issue measured 113 of ~3,000 items wrong).

The way there: a live load on DynamoDB Local, a migration into the cluster with a burst
of writes to few keys, `--stop-when-drained`, verify. The way back: the same table read
from the cluster (its stream possible only because the toolkit created it with
`system:initial_tablets: none`), a live load through the cluster's nodes, back into a
new DynamoDB Local table, drained and verified. Both must end identical, and no write
may have lost to an older one on any node.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Endpoints
from tests.fakes.fake_alternator import FakeCluster, fake_cluster
from tests.helpers import run_cli
from tests.scenario import Process, Run, logged, progress
from tests.tables import scan_all, section, write_config

pytestmark = pytest.mark.convergence

KEYS = 800
SKEWS = (0.0, 0.15, -0.15)  # seconds: what each node's clock is off by
ITEMS = ("--max-item-bytes", "400")
BURST = ("--keys", "25", "--rate", "400-500", "--operations", "300", *ITEMS)
STEADY = ("--keys", str(KEYS), "--rate", "15-25", *ITEMS)


@pytest.fixture
def cluster(endpoints: Endpoints) -> Iterator[FakeCluster]:
    with fake_cluster(endpoints.target, skews=SKEWS, swap_every=2, noop_every=3) as nodes:
        yield nodes


def alternator(url: str, table: str, **extra: Any) -> dict[str, Any]:
    return {**section(url, table, **extra), "type": "alternator", "activeRefreshIntervalMs": 500}


def test_there_and_back_through_skewed_clocks_ends_identical(
    endpoints: Endpoints, table_name: str, tmp_path: Path, cluster: FakeCluster
) -> None:
    there = Run(endpoints, table_name, tmp_path / "there")
    back = Run(endpoints, table_name, tmp_path / "back")
    for run in (there, back):
        run.tmp.mkdir()
    write_config(
        there.config,
        section(endpoints.source, table_name, scanSegments=4),
        alternator(cluster.urls[0], table_name, streamChanges=True),
    )
    write_config(
        back.config,
        alternator(cluster.urls[1], table_name, scanSegments=4),
        section(endpoints.source, f"{table_name}_back", streamChanges=True),
    )
    try:
        out, _ = there.finish(there.mutate("--load", str(KEYS), "--create-table", *ITEMS))
        assert f"Load done: {KEYS} of {KEYS} items" in out
        assert "system:initial_tablets" in migrate_under_load(there)  # the tag, said once
        there.finish(there.migrate("--stop-when-drained"))
        assert_identical(there, (endpoints.source, table_name), (endpoints.target, table_name))
        migrate_under_load(back)
        back.finish(back.migrate("--stop-when-drained"))
        home = (endpoints.source, f"{table_name}_back")
        assert_identical(back, (endpoints.target, table_name), home)
    finally:
        there.kill_all()
        back.kill_all()
    assert cluster.lost_writes == 0, "a write lost to an older one: an item's writes crossed nodes"
    assert cluster.streams.changed["swapped"] > 0 and cluster.streams.changed["no-op"] > 0


def migrate_under_load(run: Run) -> str:
    """A steady load, the migration, a burst on few keys replayed, then a clean stop:
    the migration's log."""
    steady = run.mutate(*STEADY)
    migration = run.migrate()
    run.wait_until("the snapshot", lambda: progress(run.state).snapshot_done, migration, steady)
    stop_load(run, steady)
    before = progress(run.state).records
    assert "Mutate done: 300 operations" in run.finish(run.mutate(*BURST))[0]
    replayed = lambda: progress(run.state).records >= before + 300  # noqa: E731
    run.wait_until("the burst replayed", replayed, migration)
    out, err = run.stop(migration, signal.SIGTERM)
    assert "Stream replay stopped" in out
    return err


def stop_load(run: Run, mutator: Process) -> None:
    before = run.logged_at_start[mutator]
    run.wait_until("load operations", lambda: logged(run) >= before + 5, mutator)
    run.stop(mutator)


def assert_identical(run: Run, source: tuple[str, str], target: tuple[str, str]) -> None:
    """verify says so, and the two tables read straight from their servers are equal."""
    verify = run_cli("verify", "--config", str(run.config), "--both-directions", timeout=300)
    assert verify.returncode == 0, verify.stdout[-3000:] + verify.stderr[-3000:]
    assert "IDENTICAL (both directions)" in verify.stdout
    expected = scan_all(*source)
    assert len(expected) >= KEYS // 2
    assert scan_all(*target) == expected
