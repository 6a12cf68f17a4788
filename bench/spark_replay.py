"""The stream replay on the Spark engine beside the embedded one, same backlog, one run.

Run by hand (never part of the tests):

    .venv/bin/python bench/spark_replay.py --shards 16 256 --records 30000

For each shard count: fresh DynamoDB Local servers and tests/fakes/stream_server.py in
front of the source (no rollover, no throttling; in this process, so its CPU is
not counted); `toolkit migrate --stop-when-drained` enables the stream on an empty
table; N items of ~200 bytes are written (a backlog spread over the shards by key
hash); then the same backlog is drained twice, from two copies of that state
file: once on the embedded engine, once with
`--engine spark` (one group of shard turns per task slot, a round at a time).

Then idle: `toolkit migrate` (no --stop-when-drained) on each engine, on the same
now quiet stream; after --settle seconds, the tree's CPU over --idle-seconds, as a
share of one core.

records/s is the replay's own timing (its summary line); CPU is the whole process
tree's (the toolkit, and for Spark its JVM and Python workers) from the line that
starts the replay to the exit, sampled from /proc every 0.1 s.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import (
    Servers,
    create_table,
    load_table,
    local_servers,
    low_client,
    print_table,
    section,
    write_config,
)
from shards import QUIET, Drain, wait_pumped
from spark import run_sampled, tree_cpu

from tests.fakes.stream_server import StreamServer

STARTED = re.compile(r"Starting to transfer changes")
SUMMARY = re.compile(r"Stream replay drained: (\d+) records applied in ([\d.]+) s")


def run_tree(command: list[str], shards: int = 0) -> Drain:
    run = run_sampled(command, STARTED)
    match = SUMMARY.search(run.out)
    if run.returncode != 0 or match is None:
        raise SystemExit(f"{' '.join(command)} failed ({run.returncode}): {run.out[-2000:]}")
    cpu = sum(seconds for _, seconds in run.cpu.values())
    return Drain(shards, int(match.group(1)), float(match.group(2)), cpu)


def drains(
    shards: int, records: int, spark: tuple[str, ...], settle: float, seconds: float
) -> tuple[dict[str, Drain], dict[str, dict[str, float]]]:
    with local_servers() as servers, StreamServer(servers.source, partitions=shards, **QUIET) as s:
        table = f"replay_{shards}"
        create_table(low_client(servers.source), table)
        first = migrate(servers, s, table, servers.work / "empty.sqlite")
        run_tree([*first, "--stop-when-drained"])  # enables the stream; nothing to drain
        load_table(servers.source, table, records, create=False)
        wait_pumped(s, records)
        results, idle = {}, {}
        for name, engine in (("embedded", ()), ("spark", spark)):
            state = servers.work / f"{name}.sqlite"
            shutil.copy(servers.work / "empty.sqlite", state)
            command = [*migrate(servers, s, table, state), *engine]
            results[name] = run_tree([*command, "--stop-when-drained"], shards)
            idle[name] = idle_share(command, settle, seconds)
        return results, idle


def idle_share(command: list[str], settle: float, seconds: float) -> dict[str, float]:
    """The tree's CPU over ``seconds`` of a replay with nothing to do, per wall second,
    by process: the toolkit (driver), its JVM, its Python workers."""
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert child.stderr is not None
    for line in child.stderr:
        if STARTED.search(line):
            break
    threading.Thread(target=child.stderr.read, daemon=True).start()
    time.sleep(settle)
    first = tree_cpu(child.pid)
    time.sleep(seconds)
    last = tree_cpu(child.pid)
    by_kind: dict[str, float] = {}
    for pid, (name, cpu) in last.items():
        kind = "jvm" if name == "java" else "driver" if pid == child.pid else "workers"
        by_kind[kind] = by_kind.get(kind, 0.0) + (cpu - first.get(pid, (name, 0.0))[1]) / seconds
    if child.poll() is not None:
        raise SystemExit(f"{' '.join(command)} ended while idle ({child.returncode})")
    child.send_signal(signal.SIGTERM)
    child.wait(60)
    return by_kind


def migrate(servers: Servers, stream: StreamServer, table: str, state: Path) -> list[str]:
    """Both drains write the same target table (the state names it): the second
    writes items that are there already, which costs the same."""
    config = write_config(
        servers.work / f"{state.stem}.yaml",
        section(stream.url, table),
        section(servers.target, table, streamChanges=True),
    )
    command = [sys.executable, "-m", "toolkit", "migrate", "--config", str(config)]
    return [*command, "--state", str(state)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shards", type=int, nargs="+", default=[16, 256])
    parser.add_argument("--records", type=int, default=30_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--settle", type=float, default=10.0)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    args = parser.parse_args()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = ("--engine", "spark", "--master", args.master, "--spark-conf", "spark.ui.enabled=false")
    rows = []
    for shards in args.shards:
        result, idle = drains(shards, args.records, spark, args.settle, args.idle_seconds)
        embedded = result["embedded"]
        for name, drained in result.items():
            rows.append(
                [
                    shards,
                    name,
                    drained.rate,
                    f"{drained.rate / embedded.rate:.2f}x",
                    drained.cpu_per_record,
                    f"{drained.cpu_per_record / embedded.cpu_per_record:.2f}x",
                    f"{sum(idle[name].values()):.1%}",
                    f"{idle[name].get('jvm', 0.0):.1%}",
                ]
            )
    header = ["shards", "engine", "records/s", "÷ embedded", "CPU µs/record (tree)", "÷ embedded"]
    header += ["idle CPU (of one core)", "of it JVM"]
    print_table(f"Replay of a {args.records:,}-record backlog", header, rows)


if __name__ == "__main__":
    main()
