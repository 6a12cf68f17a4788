"""Every write of an item reaches one node, through the real CLI on a fake cluster.

The cluster is tests/fakes/fake_alternator.py's three forwarding nodes in front of the target
DynamoDB Local; this test's subclass also records, per node, the keys of the writes it
was sent. The snapshot writes every item and the replay writes each again (once or
twice: two changes of a key in one page are one write): all of an item's writes must
reach the same node, and the tables must end identical.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import Endpoints
from tests.fakes.fake_alternator import FakeCluster
from tests.helpers import run_cli
from tests.scenario import Run, progress
from tests.tables import create_table, load
from toolkit.logic.items import key_id

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ITEMS = 600
WRITES = ("BatchWriteItem", "PutItem", "DeleteItem")


class KeysPerNode(FakeCluster):
    """Records the key of every write each node was sent, in order."""

    def __init__(self, upstream: str) -> None:
        self.written: list[tuple[int, bytes]] = []  # (node, key)
        super().__init__(upstream)

    def observe(self, node: int, target: str, body: bytes) -> None:
        super().observe(node, target, body)
        if target.rsplit(".", 1)[-1] in WRITES:
            keys = list(written_keys(json.loads(body)))
            with self._lock:
                self.written.extend((node, key) for key in keys)


def written_keys(request: dict[str, Any]) -> Iterator[bytes]:
    if "Key" in request:
        yield key_id(request["Key"])
    elif "Item" in request:
        yield key_id({"id": request["Item"]["id"]})
    for writes in request.get("RequestItems", {}).values():
        for write in writes:
            if "PutRequest" in write:
                yield key_id({"id": write["PutRequest"]["Item"]["id"]})
            else:
                yield key_id(write["DeleteRequest"]["Key"])


@pytest.fixture
def cluster(endpoints: Endpoints) -> Iterator[KeysPerNode]:
    nodes = KeysPerNode(endpoints.target)
    with ExitStack() as stack:
        for node in nodes.nodes:
            stack.enter_context(node)
        yield nodes


def items(version: int) -> Iterator[dict[str, Any]]:
    for n in range(ITEMS):
        yield {"id": {"S": f"k{n:05}"}, "v": {"N": str(version)}, "pad": {"S": "z" * 80}}


def test_each_items_writes_reach_one_node_in_the_snapshot_and_the_replay(
    endpoints: Endpoints,
    table_name: str,
    tmp_path: Path,
    source_client: DynamoDBClient,
    cluster: KeysPerNode,
) -> None:
    create_table(source_client, table_name)
    load(endpoints.source, table_name, items(0), ["id"])
    run = Run(endpoints, table_name, tmp_path)
    target = {"type": "alternator", "alternator": {"activeRefreshIntervalMs": 200}}
    run.configure(cluster.urls[0], target)
    try:
        migration = run.migrate()
        run.wait_until("the snapshot", lambda: progress(run.state).snapshot_done, migration)
        load(endpoints.source, table_name, items(1), ["id"])
        load(endpoints.source, table_name, items(2), ["id"])
        replayed = lambda: progress(run.state).records >= 2 * ITEMS  # noqa: E731
        run.wait_until("the changes replayed", replayed, migration)
        assert "Stream replay stopped" in run.stop(migration, signal.SIGTERM)[0]
    finally:
        run.kill_all()

    nodes_of: dict[bytes, set[int]] = {}
    writes_of: dict[bytes, int] = {}
    for node, key in cluster.written:
        nodes_of.setdefault(key, set()).add(node)
        writes_of[key] = writes_of.get(key, 0) + 1
    # the snapshot, then the replay (two changes of a key in one page are one write)
    assert len(nodes_of) == ITEMS and min(writes_of.values()) >= 2
    assert [key for key, nodes in nodes_of.items() if len(nodes) > 1] == []
    shares = [sum(1 for nodes in nodes_of.values() if node in nodes) for node in range(3)]
    assert all(share > ITEMS / 5 for share in shares), f"each node takes a share: {shares}"
    verify = run_cli("verify", "--config", str(run.config), "--both-directions", timeout=300)
    assert verify.returncode == 0, verify.stdout[-2000:] + verify.stderr[-2000:]
