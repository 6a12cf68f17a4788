"""A `type: alternator` source, the way back: ScyllaDB replicated into a DynamoDB table.

The source is a fake three-node cluster in front of the source DynamoDB Local
(tests/fakes/fake_alternator.py: forwarding ports that answer ``/localnodes``), so the
run reads through every node as it would from ScyllaDB: scans and stream reads
spread over the live nodes, and no request asks for ConsumedCapacity, which
Alternator does not report (its reads are charged by their size instead).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import Endpoints
from tests.fakes.fake_alternator import FakeCluster, fake_cluster
from tests.helpers import run_cli
from tests.scenario import Run, progress
from tests.tables import create_table, load, scan_all, section, write_config
from toolkit.config import parse_config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SNAPSHOT, LATER = 800, 200


def items(start: int, count: int) -> Iterator[dict[str, Any]]:
    for n in range(start, start + count):
        yield {"id": {"S": f"k{n:05}"}, "n": {"N": str(n)}, "pad": {"S": "y" * 200}}


@pytest.fixture
def cluster(endpoints: Endpoints) -> Iterator[FakeCluster]:
    with fake_cluster(endpoints.source) as nodes:
        yield nodes


def alternator_source(url: str, table: str) -> dict[str, Any]:
    return {
        **section(url, table, scanSegments=6, readThroughput=1_000_000),
        "type": "alternator",
        "alternator": {"activeRefreshIntervalMs": 200},
    }


def test_the_source_config_takes_the_alternator_settings(endpoints: Endpoints) -> None:
    source = alternator_source("http://scylla-1:8000", "t_x") | {"seeds": ["scylla-2"]}
    config = parse_config({"source": source, "target": section(endpoints.target, "t_x")})
    assert config.source.type == "alternator" and config.source.remove_consumed_capacity
    assert config.source.nodes is not None
    assert config.source.nodes.seeds == ("http://scylla-1:8000", "http://scylla-2:8000")
    assert config.source.nodes.refresh_seconds == 0.2
    batch = parse_config(
        {"source": {**source, "maxItemsPerBatch": 50}, "target": section(endpoints.target, "t_x")}
    )
    assert [n.split()[0] for n in batch.notes] == ["source.maxItemsPerBatch"]


def test_scylla_back_into_dynamodb_through_every_node(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
    cluster: FakeCluster,
) -> None:
    create_table(source_client, table_name)
    load(endpoints.source, table_name, items(0, SNAPSHOT), ["id"])
    run = Run(endpoints, table_name, tmp_path)
    write_config(
        run.config,
        alternator_source(cluster.urls[1], table_name),
        section(endpoints.target, table_name, streamChanges=True),
    )
    try:
        migration = run.migrate()
        run.wait_until("the snapshot", lambda: progress(run.state).snapshot_done, migration)
        load(endpoints.source, table_name, items(SNAPSHOT, LATER), ["id"])
        changed = lambda: progress(run.state).records >= LATER  # noqa: E731
        run.wait_until("the changes replayed", changed, migration)
        assert "Stream replay stopped" in run.stop(migration, signal.SIGTERM)[0]
    finally:
        run.kill_all()

    verify = run_cli("verify", "--config", str(run.config), "--both-directions", timeout=300)
    assert verify.returncode == 0, verify.stdout[-2000:] + verify.stderr[-2000:]
    assert len(scan_all(endpoints.target, table_name)) == SNAPSHOT + LATER
    for operation in ("Scan", "GetRecords", "BatchGetItem"):
        reached = [cluster.count(node, operation) for node in range(3)]
        assert sum(1 for count in reached if count) >= 2, f"{operation} per node: {reached}"
    assert [op for op, body in cluster.bodies if b"ReturnConsumedCapacity" in body] == []
