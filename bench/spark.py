"""The Spark engine beside the embedded one, on the same snapshot, in one run.

Run by hand (never part of the tests):

    .venv/bin/python bench/spark.py --items 100000 --master 'local[2]'

It starts its own pair of DynamoDB Local servers on free ports, loads one source
table with items of about 200 bytes, then copies it into fresh target tables with
`toolkit migrate` (snapshot only), once on the embedded engine (8 segments, 8
threads) and once with `--engine spark` (8 segments, one Spark task each, as many
at once as the master has slots), in alternating order over --rounds.

items/s is the summary line's own timing (the copy, without the driver's start).
CPU is the whole process tree's (the toolkit, and for Spark its JVM and Python
workers) from the moment the snapshot starts to the end, sampled from /proc every
0.1 s (the last tenth of a second of a process that exits can be missed). The
Spark engine's own CPU per item is its tree's beyond the embedded run's, over the
items; the driver's start is shown apart (wall seconds until the snapshot starts).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from common import Servers, load_table, local_servers, print_table, section, write_config

TABLE = "bench"
SEGMENTS = 8
STARTED = re.compile(r"Copying the snapshot of")
SUMMARY = re.compile(r"Snapshot done: (\d+) items, .*?, ([\d.]+) s, \d+ items/s")


@dataclass(frozen=True)
class Copy:
    items: int
    seconds: float  # the copy's own timing, from its summary line
    start: float  # wall seconds until the snapshot started (Spark's driver included)
    cpu: dict[str, float]  # CPU seconds of the tree while it copied, by kind: python, jvm

    @property
    def rate(self) -> float:
        return self.items / self.seconds

    def per_item(self, kind: str | None = None) -> float:
        total = sum(self.cpu.values()) if kind is None else self.cpu.get(kind, 0.0)
        return total / self.items * 1e6


def tree_cpu(root: int) -> dict[int, tuple[str, float]]:
    """pid -> (command, CPU seconds) for ``root`` and every process below it now."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, str, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            name = text[text.index("(") + 1 : text.rindex(")")]
            fields = text.rsplit(")", 1)[1].split()
            stats[int(entry.name)] = (
                int(fields[1]),
                name,
                (int(fields[11]) + int(fields[12])) / ticks,
            )
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (ppid, _, _) in stats.items() if ppid == parent]
        tree.update(children)
        frontier += children
    return {pid: stats[pid][1:] for pid in tree if pid in stats}


@dataclass(frozen=True)
class Sampled:
    out: str
    returncode: int
    started: float | None  # wall seconds until the line matching `started` (None: never)
    cpu: dict[int, tuple[str, float]]  # pid -> (command, CPU seconds since that line)


def run_sampled(command: list[str], started: re.Pattern[str]) -> Sampled:
    """Run ``command`` to its end; the CPU of its process tree from the first stderr
    line matching ``started`` on, sampled from /proc every 0.1 s."""
    began = time.monotonic()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: dict[int, tuple[str, float]] = {}
    at_start: dict[int, tuple[str, float]] = {}  # the tree's CPU when that line came
    start_at: list[float] = []

    def sample() -> None:
        while child.poll() is None:
            for pid, (name, cpu) in tree_cpu(child.pid).items():
                seen[pid] = (name, max(cpu, seen.get(pid, (name, 0.0))[1]))
            if start_at and not at_start:
                at_start.update(seen)
            time.sleep(0.1)

    def watch_stderr() -> None:
        assert child.stderr is not None
        for line in child.stderr:
            if not start_at and started.search(line):
                start_at.append(time.monotonic() - began)

    threads = [threading.Thread(target=f, daemon=True) for f in (sample, watch_stderr)]
    for thread in threads:
        thread.start()
    out = child.stdout.read() if child.stdout else ""
    child.wait()
    for thread in threads:
        thread.join()
    cpu = {
        pid: (name, seconds - at_start.get(pid, (name, 0.0))[1])
        for pid, (name, seconds) in seen.items()
    }
    return Sampled(out, child.returncode, start_at[0] if start_at else None, cpu)


def run_copy(command: list[str]) -> Copy:
    run = run_sampled(command, STARTED)
    match = SUMMARY.search(run.out)
    if run.returncode != 0 or match is None or run.started is None:
        raise SystemExit(f"{' '.join(command)} failed ({run.returncode}): {run.out}")
    cpu: dict[str, float] = {}
    for name, seconds in run.cpu.values():
        kind = "jvm" if name == "java" else "python"
        cpu[kind] = cpu.get(kind, 0.0) + seconds
    return Copy(int(match.group(1)), float(match.group(2)), run.started, cpu)


def copy(servers: Servers, into: str, engine: tuple[str, ...], tasks: int | None) -> Copy:
    extra = {"maxMapTasks": tasks} if tasks else {}
    config = write_config(
        servers.work / f"{into}.yaml",
        section(servers.source, TABLE, scanSegments=SEGMENTS, **extra),
        section(servers.target, into),
    )
    state = servers.work / f"{into}.sqlite"
    command = [sys.executable, "-m", "toolkit", "migrate", "--config", str(config)]
    return run_copy([*command, "--state", str(state), *engine])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = ("--engine", "spark", "--master", args.master, "--spark-conf", "spark.ui.enabled=false")
    with local_servers() as servers:
        load_table(servers.source, TABLE, args.items)
        copy(servers, "warmup", (), SEGMENTS)  # unmeasured: warms the servers up
        runs: dict[str, list[Copy]] = {"embedded": [], "spark": []}
        for round_ in range(args.rounds):
            order = ["embedded", "spark"] if round_ % 2 == 0 else ["spark", "embedded"]
            for name in order:
                engine, tasks = ((), SEGMENTS) if name == "embedded" else (spark, None)
                runs[name].append(copy(servers, f"{name}{round_}", engine, tasks))
    embedded, on_spark = (sorted(runs[n], key=lambda c: c.rate)[len(runs[n]) // 2] for n in runs)
    rows = []
    for name, result in (("embedded, 8 threads", embedded), (f"spark, {args.master}", on_spark)):
        rows.append(
            [
                name,
                result.rate,
                f"{result.rate / embedded.rate:.2f}x",
                result.start,
                result.per_item(),
                result.per_item("jvm"),
                result.per_item() - embedded.per_item(),
            ]
        )
    header = [
        "engine",
        "items/s",
        "÷ embedded",
        "start s",
        "CPU µs/item (tree)",
        "of it JVM",
        "beyond embedded",
    ]
    print_table(f"Snapshot of {args.items:,} items, median of {args.rounds}", header, rows)


if __name__ == "__main__":
    main()
