"""A `type: alternator` target, through the real CLI, on a fake three-node cluster.

The nodes are forwarding ports in front of the target DynamoDB Local that answer
``/localnodes`` as Alternator does (tests/fakes/fake_alternator.py): requests must reach
every node, a node that goes away must be skipped, and the run must still end with
both tables identical.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import Endpoints
from tests.fakes.fake_alternator import FakeCluster, fake_cluster
from tests.helpers import run_cli
from tests.scenario import Run, progress
from tests.tables import create_table, load, scan_all

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ITEMS = 1500
LATER = 300  # written while a node is away


def items(start: int, count: int) -> Iterator[dict[str, Any]]:
    for n in range(start, start + count):
        yield {"id": {"S": f"k{n:05}"}, "n": {"N": str(n)}, "pad": {"S": "x" * 100}}


@pytest.fixture
def cluster(endpoints: Endpoints) -> Iterator[FakeCluster]:
    with fake_cluster(endpoints.target) as nodes:
        yield nodes


def alternator_target() -> dict[str, Any]:
    return {
        "type": "alternator",
        "writeIsolation": "forbid_rmw",
        "alternator": {"datacenter": "dc1", "activeRefreshIntervalMs": 200},
    }


def test_requests_spread_over_the_live_nodes_and_skip_one_that_went_away(
    endpoints: Endpoints,
    table_name: str,
    tmp_path: Path,
    source_client: DynamoDBClient,
    cluster: FakeCluster,
) -> None:
    create_table(source_client, table_name)
    load(endpoints.source, table_name, items(0, ITEMS), ["id"])
    run = Run(endpoints, table_name, tmp_path)
    run.configure(cluster.urls[0], alternator_target())
    try:
        migration = run.migrate()
        run.wait_until("the snapshot", lambda: progress(run.state).snapshot_done, migration)
        writes = [cluster.count(n, "BatchWriteItem") for n in range(3)]
        assert all(writes), f"every node takes writes: {writes}"

        cluster.stop(1)
        load(endpoints.source, table_name, items(ITEMS, LATER), ["id"])
        changed = lambda: progress(run.state).records >= LATER  # noqa: E731
        run.wait_until("the changes replayed", changed, migration)
        assert "Stream replay stopped" in run.stop(migration, signal.SIGTERM)[0]
    finally:
        run.kill_all()

    after = [cluster.count(n, "BatchWriteItem") - writes[n] for n in range(3)]
    assert after[0] and after[2] and not after[1], f"writes after node 1 left: {after}"
    verify = run_cli("verify", "--config", str(run.config), "--both-directions", timeout=300)
    assert verify.returncode == 0, verify.stdout[-2000:] + verify.stderr[-2000:]
    assert "IDENTICAL (both directions)" in verify.stdout
    assert len(scan_all(endpoints.target, table_name)) == ITEMS + LATER
    assert all("dc=dc1" in path for path in cluster.listings) and len(cluster.listings) > 3


def test_the_created_table_is_tagged_and_no_request_asks_for_consumed_capacity(
    endpoints: Endpoints,
    table_name: str,
    tmp_path: Path,
    source_client: DynamoDBClient,
    cluster: FakeCluster,
) -> None:
    create_table(source_client, table_name)
    load(endpoints.source, table_name, items(0, 400), ["id"])
    run = Run(endpoints, table_name, tmp_path)
    target = {"type": "alternator", "writeIsolation": "forbid_rmw", "streamChanges": False}
    run.configure(cluster.urls[2], target)
    migrate = run_cli("migrate", "--config", str(run.config), "--state", str(run.state))
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    assert "Tagged target table" in migrate.stderr and "forbid_rmw" in migrate.stderr

    created = [json.loads(body) for op, body in cluster.bodies if op == "CreateTable"]
    # The stand-in's version is unknown, so the table asks for vnodes
    # (tests/e2e/test_tablets_cli.py).
    assert [c["Tags"] for c in created] == [
        [
            {"Key": "system:write_isolation", "Value": "forbid_rmw"},
            {"Key": "system:initial_tablets", "Value": "none"},
        ]
    ]
    assert [op for op, body in cluster.bodies if b"ReturnConsumedCapacity" in body] == []
    batches = sum(cluster.count(n, "BatchWriteItem") for n in range(3))
    assert 4 <= batches < 400 / 25, "BatchWriteItem carries up to 100 items on Alternator"


def test_a_target_without_localnodes_gets_every_request_and_a_warning(
    endpoints: Endpoints, table_name: str, tmp_path: Path, source_client: DynamoDBClient
) -> None:
    create_table(source_client, table_name)
    load(endpoints.source, table_name, items(0, 200), ["id"])
    run = Run(endpoints, table_name, tmp_path)
    target = {"type": "alternator", "streamChanges": False, "batchSize": 25}
    run.configure(endpoints.target, target)
    migrate = run_cli("migrate", "--config", str(run.config), "--state", str(run.state))
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    warnings = [line for line in migrate.stderr.splitlines() if "localNodes: false" in line]
    assert len(warnings) == 1 and endpoints.target in warnings[0]
    assert len(scan_all(endpoints.target, table_name)) == 200
