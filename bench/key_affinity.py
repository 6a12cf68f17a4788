"""Writes through three Alternator stand-in nodes: each key to its node, against round robin.

Run by hand (never part of the tests):

    .venv/bin/python bench/key_affinity.py --items 20000 50000 --rounds 3

It starts its own pair of DynamoDB Local servers on free ports and three stand-in
nodes in front of the target (tests/fakes/fake_alternator.py's fake_cluster, in this
process), then writes the same items of about 200 bytes into a fresh table per
contender, each a child process (this file with --child) whose wall time and CPU
are measured:

- `key`: the toolkit's BatchWriter over a data plane on the cluster's live nodes:
  batches cut per node, each sent to the node its keys map to;
- `round robin`: the same writer and data plane with the key mapping switched off
  (as before issue 24): batches cut in order, sent to the nodes in turn.

Both write 100 items per BatchWriteItem (Alternator's batch), 8 batches in flight
on each of 4 threads, as the snapshot does. items/s is the child's own timing
(first request to last acknowledgment); CPU µs/item is the child's user+sys over
the items. The child also times, alone, what the mapping costs per item (the key's
bytes, its hash and its node, and the grouping), with time.thread_time.
Each round runs the contenders in rotating order; the table shows medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from common import bench_items, create_table, local_servers, low_client, print_table, run_measured

from tests.fakes.fake_alternator import fake_cluster
from tests.tables import CREDENTIALS
from toolkit.config.alternator import NodeDiscovery
from toolkit.errors import ToolkitError
from toolkit.wire.dataplane import Answer, DataPlane
from toolkit.wire.nodes import LiveNodes
from toolkit.wire.pools import Pools
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.throughput import CapacityBudget
from toolkit.wire.writer import BatchWriter, TargetCapabilities

THREADS, AT_ONCE, BATCH, CHUNK = 4, 8, 100, 2000
CONTENDERS = ("key", "round robin")


class RoundRobin:
    """The data plane as it was: every request to the next node in turn."""

    spreads_writes = False

    def __init__(self, plane: DataPlane) -> None:
        self._plane = plane

    def node_for(self, key: bytes) -> str:
        return ""

    def call(self, operation: str, request: dict[str, Any]) -> Answer:
        return self._plane.call(operation, request)

    def call_all(
        self,
        operation: str,
        requests: Sequence[dict[str, Any]],
        *,
        keys: Sequence[bytes] | None = None,
    ) -> list[Answer | ToolkitError]:
        return self._plane.call_all(operation, requests)


def child(contender: str, seed: str, table: str, items: int) -> None:
    pools = Pools(THREADS * AT_ONCE)
    nodes = LiveNodes(NodeDiscovery((seed,), None, None, 10.0), pools.get)
    plane = DataPlane(nodes, "us-east-1", CREDENTIALS, pools=pools)
    target = plane if contender == "key" else RoundRobin(plane)
    writer = BatchWriter(
        *(target, table, TargetCapabilities(BATCH, False), CapacityBudget(None)),
        *(RetryPolicy(), ["id"]),
    )
    rows = [{"PutRequest": {"Item": item}} for item in bench_items(items)]
    chunks = [rows[at : at + CHUNK] for at in range(0, len(rows), CHUNK)]
    started = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda chunk: writer.write(chunk, AT_ONCE), chunks))
    seconds = time.monotonic() - started
    cpu = time.thread_time()
    writer._batches(rows)  # the mapping and the grouping alone (round robin: the cut alone)
    mapping = time.thread_time() - cpu
    print(json.dumps({"seconds": seconds, "mapping_us": mapping / items * 1e6}))


def measure(seed: str, target: str, contender: str, table: str, items: int) -> dict[str, float]:
    create_table(low_client(target), table)
    command = [sys.executable, str(Path(__file__)), "--child", contender, seed, table, str(items)]
    run = run_measured(command)
    own = json.loads(run.stdout.splitlines()[-1])
    return {
        "rate": items / own["seconds"],
        "cpu_us": run.cpu / items * 1e6,
        "mapping_us": own["mapping_us"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--items", type=int, nargs="+", default=[20_000, 50_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=4, metavar=("CONTENDER", "SEED", "TABLE", "ITEMS"))
    args = parser.parse_args()
    if args.child:
        contender, seed, table, items = args.child
        child(contender, seed, table, int(items))
        return
    rows: list[list[object]] = []
    with local_servers() as servers, fake_cluster(servers.target) as cluster:
        seed = cluster.urls[0]
        measure(seed, servers.target, "key", "warmup", 5_000)
        for items in args.items:
            rows += size_rows(items, rounds(seed, servers.target, items, args.rounds))
    print_table(
        "Writes through three stand-in nodes (medians; ratio: key / round robin, per round)",
        ["items", "contender", "items/s", "CPU µs/item", "mapping µs/item", "ratio by round"],
        rows,
    )


Runs = dict[str, list[dict[str, float]]]


def rounds(seed: str, target: str, items: int, count: int) -> Runs:
    runs: Runs = {c: [] for c in CONTENDERS}
    for round_ in range(count):
        for contender in CONTENDERS if round_ % 2 == 0 else CONTENDERS[::-1]:
            table = f"t{items}_{round_}_{contender.replace(' ', '_')}"
            runs[contender].append(measure(seed, target, contender, table, items))
    return runs


def size_rows(items: int, runs: Runs) -> list[list[object]]:
    pairs = zip(runs["key"], runs["round robin"], strict=True)
    ratios = " ".join(f"{key['rate'] / rr['rate']:.2f}" for key, rr in pairs)
    rows: list[list[object]] = []
    for contender in CONTENDERS:
        median = {m: statistics.median(r[m] for r in runs[contender]) for m in runs[contender][0]}
        shown = [median["rate"], median["cpu_us"], median["mapping_us"]]
        rows.append([f"{items:,}", contender, *shown, ratios if contender == "key" else ""])
    return rows


if __name__ == "__main__":
    main()
