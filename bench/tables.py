"""Many tables: ONE `toolkit migrate` of N tables against N runs one after the other.

Run by hand (never part of the tests):

    .venv/bin/python bench/tables.py --shapes 10x20000 3x20000 30x2000 --rounds 1

It starts its own pair of DynamoDB Local servers on free ports. For each shape
(N tables x M items of about 200 bytes) it loads N source tables, then copies them
into fresh target tables twice, after one unmeasured copy that warms the servers up:

- one run: one `toolkit migrate` whose config lists all N tables (`tables:`);
- one run per table: N `toolkit migrate`, one after the other, each with a
  single-table config (the Migrator's way: a process, a config, a state file each).

Snapshot only (no `streamChanges`): the numbers are the copy and each process's
start and end, with no stream to wait on. Both variants use the same source and
target sections (scanSegments and maxMapTasks): the one run shares maxMapTasks
among the tables it copies at a time, so both keep the same number of Scans in
flight. Every target table is counted against M, then dropped.

What is measured: wall time of the whole variant; the CPU (user + sys) of the
toolkit processes, from the kernel's accounting of each waited-for child (what
getrusage(RUSAGE_CHILDREN) adds up), start-up and imports included; and the two
DynamoDB Local JVMs' CPU from /proc, apart (they are the servers, not the tool).
With --rounds N, the variants alternate which goes first and the table shows each
one's median round, and the ratios' medians of the same rounds.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import (
    LAUNCHER,
    Servers,
    load_table,
    local_servers,
    low_client,
    print_table,
    run_measured,
    section,
    toolkit_command,
    write_config,
)

DONE = re.compile(r"Snapshot done: (\d+) items")


@dataclass(frozen=True)
class Shape:
    tables: int
    items: int  # per table

    @property
    def total(self) -> int:
        return self.tables * self.items

    def __str__(self) -> str:
        return f"{self.tables} x {self.items:,}"


@dataclass(frozen=True)
class Variant:
    """One way of copying a shape's tables, measured whole."""

    seconds: float  # wall
    cpu: float  # the toolkit processes' user + sys
    server_cpu: float  # both DynamoDB Local JVMs
    rss_mb: float  # the largest process's peak
    processes: int


def shape_of(text: str) -> Shape:
    tables, _, items = text.partition("x")
    try:
        return Shape(int(tables), int(items))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write TABLESxITEMS, e.g. 10x20000") from None


def source_names(shape: Shape) -> list[str]:
    return [f"s{shape.tables}x{shape.items}_{n:02d}" for n in range(shape.tables)]


def sections(servers: Servers, segments: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The shared source and target sections, without a table."""
    source = section(servers.source, "", scanSegments=segments, maxMapTasks=segments)
    target = section(servers.target, "")
    del source["table"], target["table"]
    return source, target


def one_run(servers: Servers, pairs: list[tuple[str, str]], segments: int, tag: str) -> Variant:
    """ONE `toolkit migrate` of every table."""
    source, target = sections(servers, segments)
    listed = [{"source": s, "target": t} for s, t in pairs]
    config = write_config(servers.work / f"{tag}.yaml", source, target, tables=listed)
    return measured(servers, [config], len(pairs))


def run_per_table(
    servers: Servers, pairs: list[tuple[str, str]], segments: int, tag: str
) -> Variant:
    """One `toolkit migrate` per table, one after the other."""
    source, target = sections(servers, segments)
    configs = [
        write_config(
            servers.work / f"{tag}-{n}.yaml", {**source, "table": s}, {**target, "table": t}
        )
        for n, (s, t) in enumerate(pairs)
    ]
    return measured(servers, configs, len(pairs))


def measured(servers: Servers, configs: list[Path], tables: int) -> Variant:
    """Run `toolkit migrate` on each config in turn; check each copied what it said."""
    server_before = servers.cpu_seconds()
    started = time.monotonic()
    runs = [run_measured(toolkit_command("migrate", "--config", str(c))) for c in configs]
    seconds = time.monotonic() - started
    said = [int(m.group(1)) for r in runs for m in DONE.finditer(r.stdout)]
    if len(said) != tables:
        raise SystemExit(f"{len(said)} snapshot summaries for {tables} tables:\n{runs[0].stdout}")
    return Variant(
        seconds,
        sum(r.cpu for r in runs),
        servers.cpu_seconds() - server_before,
        max(r.rss_mb for r in runs),
        len(runs),
    )


def count(endpoint: str, table: str) -> int:
    pages = low_client(endpoint).get_paginator("scan").paginate(TableName=table, Select="COUNT")
    return sum(page["Count"] for page in pages)


def checked_and_dropped(servers: Servers, targets: list[str], items: int) -> None:
    client = low_client(servers.target)
    for table in targets:
        copied = count(servers.target, table)
        if copied != items:
            raise SystemExit(f"{table}: {copied} items in the target, {items} expected")
        client.delete_table(TableName=table)


VARIANTS = {"one run": one_run, "a run per table": run_per_table}


def bench_shape(servers: Servers, shape: Shape, segments: int, rounds: int) -> list[list[object]]:
    sources = source_names(shape)
    for table in sources:
        load_table(servers.source, table, shape.items)
    results: dict[str, list[Variant]] = {name: [] for name in VARIANTS}
    for round_ in range(rounds):
        order = list(VARIANTS) if round_ % 2 == 0 else list(reversed(VARIANTS))
        for name in order:
            tag = f"{'one' if name == 'one run' else 'each'}{round_}"
            pairs = [(s, f"{s}_{tag}") for s in sources]
            variant = VARIANTS[name](servers, pairs, segments, f"{sources[0]}-{tag}")
            checked_and_dropped(servers, [t for _, t in pairs], shape.items)
            results[name].append(variant)
            print(f"{shape} round {round_ + 1} {name}: {variant.seconds:.1f} s", file=sys.stderr)
    client = low_client(servers.source)
    for table in sources:  # the next shape's servers hold only its own tables
        client.delete_table(TableName=table)
    return rows(shape, results)


def rows(shape: Shape, results: dict[str, list[Variant]]) -> list[list[object]]:
    one, each = results["one run"], results["a run per table"]
    wall = statistics.median(e.seconds / o.seconds for o, e in zip(one, each, strict=True))
    cpu = statistics.median(e.cpu / o.cpu for o, e in zip(one, each, strict=True))
    table = []
    for name, runs in results.items():
        v = sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]
        table.append(
            [
                str(shape),
                name,
                v.processes,
                v.seconds,
                shape.total / v.seconds,
                v.cpu,
                v.cpu / shape.total * 1e6,
                v.cpu / v.processes,
                v.server_cpu,
                v.rss_mb,
                f"{wall:.2f}x" if name == "one run" else "",
                f"{cpu:.2f}x" if name == "one run" else "",
            ]
        )
    return table


def start_up(servers: Servers) -> float:
    """CPU of a `toolkit migrate` that loads its config and stops at once: the per-process
    floor (imports, config, connecting), from a config whose source table is missing."""
    source, target = sections(servers, 1)
    config = write_config(
        servers.work / "start.yaml", {**source, "table": "none"}, {**target, "table": "none"}
    )
    command = toolkit_command("migrate", "--config", str(config))
    cpus: list[float] = []
    for _ in range(3):  # the launcher of run_measured, without its check that the run ended well
        done = subprocess.run(
            [sys.executable, "-c", LAUNCHER, *command], capture_output=True, text=True, check=False
        )
        usage = json.loads(done.stdout.splitlines()[-1])
        cpus.append(usage["user"] + usage["sys"])
    return statistics.median(cpus)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", nargs="+", type=shape_of, default=[Shape(10, 20_000)])
    parser.add_argument("--segments", type=int, default=8, help="scanSegments and maxMapTasks")
    parser.add_argument("--rounds", type=int, default=1)
    options = parser.parse_args(argv)
    table: list[list[object]] = []
    with local_servers() as servers:
        # Unmeasured: the servers' JIT warms up on a whole copy.
        warm = Shape(1, 20_000)
        load_table(servers.source, source_names(warm)[0], warm.items)
        run_per_table(servers, [(source_names(warm)[0], "warm")], options.segments, "warm")
        checked_and_dropped(servers, ["warm"], warm.items)
        low_client(servers.source).delete_table(TableName=source_names(warm)[0])
        floor = start_up(servers)
        for shape in options.shapes:
            table += bench_shape(servers, shape, options.segments, options.rounds)
    header = [
        "tables x items",
        "how",
        "processes",
        "wall s",
        "items/s",
        "toolkit CPU s",
        "CPU µs/item",
        "CPU s/process",
        "servers' CPU s",
        "peak RSS MB",
        "wall: runs ÷ one",
        "CPU: runs ÷ one",
    ]
    rounds = f"median of {options.rounds} rounds" if options.rounds > 1 else "one round"
    title = (
        f"Many tables, snapshot only, DynamoDB Local → DynamoDB Local, scanSegments and "
        f"maxMapTasks {options.segments}, {rounds}; a `toolkit migrate` that stops at its "
        f"first check costs {floor:.2f} s of CPU"
    )
    print_table(title, header, table)


if __name__ == "__main__":
    main()
