"""Snapshot speed: `toolkit migrate` beside the floor, a boto3 copy and dynamodump.

Run by hand (never part of the tests):

    .venv/bin/python bench/snapshot.py --items 200000 --rounds 3

It starts its own pair of DynamoDB Local servers on free ports, loads one source
table with items of about 200 bytes, then copies it into fresh target tables with
each contender, each a child process whose wall time, CPU time and peak RSS are
measured, after one unmeasured copy that warms the servers up. With --rounds N,
the toolkit and the floor run N times in rotating order and the table shows each
one's median round; the others run in the first round only:

- `toolkit migrate` with a config without streamChanges: the snapshot only;
- the floor (bench/floor.py): segmented Scan into BatchWriteItem over plain HTTP,
  with the toolkit's own HTTP and signing; once also over urllib3 and botocore's
  SigV4 (the earlier floor, for scale);
- boto3: one Scan paginator into one `batch_writer`, the straightforward copy;
- dynamodump (its own venv, see bench/requirements.txt): backup to files, then
  restore. Its backup of one named table still waits about 25 s before it starts
  (version 1.11.1 falls into its multi-table path), so its time is counted from
  its "Starting backup" line; the restore is counted whole.

items/s is each copy's own timing (the toolkit's summary line, the floor's and
boto3's first request to last acknowledgment, dynamodump's as above); every copy
is checked to hold all items. CPU µs/item is the child process's user+sys time
over the items, start-up and imports included.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import boto3
from common import (
    REPO,
    Measured,
    Servers,
    create_table,
    load_table,
    local_servers,
    low_client,
    print_table,
    run_measured,
    section,
    toolkit_command,
    write_config,
)

TABLE = "bench"
DYNAMODUMP_VENV = REPO / ".toolkit" / "bench-venv"  # dynamodump pins its own boto3
REQUIREMENTS = Path(__file__).with_name("requirements.txt")


@dataclass(frozen=True)
class Copy:
    items: int
    seconds: float  # the copy's own timing
    run: Measured  # the child (for dynamodump: backup and restore added up)

    @property
    def rate(self) -> float:
        return self.items / self.seconds

    @property
    def cpu_per_item(self) -> float:
        return self.run.cpu / self.items * 1e6


def count(endpoint: str, table: str) -> int:
    pages = low_client(endpoint).get_paginator("scan").paginate(TableName=table, Select="COUNT")
    return sum(page["Count"] for page in pages)


def toolkit_copy(servers: Servers, into: str, segments: int) -> Copy:
    config = write_config(
        servers.work / f"{into}.yaml",
        section(servers.source, TABLE, scanSegments=segments, maxMapTasks=segments),
        section(servers.target, into),
    )
    run = run_measured(toolkit_command("migrate", "--config", str(config)))
    match = re.search(r"Snapshot done: (\d+) items, .*?, ([\d.]+) s, \d+ items/s", run.stdout)
    if match is None:
        raise SystemExit(f"no summary line in: {run.stdout}{run.stderr}")
    return Copy(int(match.group(1)), float(match.group(2)), run)


def floor_copy(servers: Servers, into: str, segments: int, transport: str = "toolkit") -> Copy:
    create_table(low_client(servers.target), into)
    floor = str(Path(__file__).with_name("floor.py"))
    command = [sys.executable, floor, "copy", servers.source, servers.target, TABLE, into]
    run = run_measured([*command, "--segments", str(segments), "--transport", transport])
    result = json.loads(run.stdout)
    return Copy(result["items"], result["seconds"], run)


def boto3_copy(servers: Servers, into: str, segments: int) -> Copy:
    create_table(low_client(servers.target), into)
    command = [sys.executable, __file__, "--boto3-child", servers.source, servers.target, into]
    run = run_measured(command)
    result = json.loads(run.stdout)
    return Copy(result["items"], result["seconds"], run)


def boto3_child(source: str, target: str, into: str) -> None:
    """The straightforward copy: one Scan paginator, one batch_writer."""

    def resource(endpoint: str) -> object:
        return boto3.resource(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )

    source_table = resource(source).Table(TABLE)  # type: ignore[attr-defined]
    target_table = resource(target).Table(into)  # type: ignore[attr-defined]
    started = time.monotonic()
    copied = 0
    request: dict[str, object] = {}
    with target_table.batch_writer() as batch:
        while True:
            page = source_table.scan(**request)
            for item in page["Items"]:
                batch.put_item(Item=item)
                copied += 1
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    print(json.dumps({"items": copied, "seconds": time.monotonic() - started}))


def dynamodump_venv() -> Path:
    """dynamodump's own venv (it pins an older boto3 than the project's), made once."""
    program = DYNAMODUMP_VENV / "bin" / "dynamodump"
    if not program.exists():
        subprocess.run([sys.executable, "-m", "venv", str(DYNAMODUMP_VENV)], check=True)
        pip = [str(DYNAMODUMP_VENV / "bin" / "pip"), "install", "--quiet"]
        subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    return program


def dynamodump_copy(servers: Servers, into: str, segments: int) -> Copy:
    program = str(dynamodump_venv())
    dump = servers.work / f"dump-{into}"

    def dynamodump(mode: str, endpoint: str, *extra: str) -> list[str]:
        host, port = endpoint.removeprefix("http://").rsplit(":", 1)
        return [
            *(program, "-m", mode, "-s", TABLE, "--host", host, "--port", port),
            *("--accessKey", "bench", "--secretKey", "bench", "-r", "us-east-1"),
            *("--dumpPath", str(dump), "--log", "info", *extra),
        ]

    started = "Starting backup for"
    backup = run_measured(dynamodump("backup", servers.source), marks=[started])
    restore = run_measured(
        dynamodump(
            "restore", servers.target, "-d", into, "--noConfirm", "--billingMode", "PAY_PER_REQUEST"
        )
    )
    items = sum(len(json.loads(page.read_text())["Items"]) for page in dump.glob("*/data/*.json"))
    seconds = backup.since(started) + restore.seconds
    both = Measured(
        backup.seconds + restore.seconds,
        backup.user + restore.user,
        backup.sys + restore.sys,
        max(backup.rss_mb, restore.rss_mb),
        "",
        "",
        {},
    )
    return Copy(items, seconds, both)


CONTENDERS: dict[str, Callable[[Servers, str, int], Copy]] = {
    "toolkit migrate (snapshot)": toolkit_copy,
    "floor: Scan → BatchWriteItem, plain HTTP": floor_copy,
    "earlier floor: urllib3 + botocore SigV4": partial(floor_copy, transport="urllib3"),
    "boto3 scan + batch_writer": boto3_copy,
    "dynamodump backup + restore": dynamodump_copy,
}
SHORT = dict(zip(CONTENDERS, ("tk", "floor", "floor-u3", "boto3", "dd"), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--segments", type=int, default=8, help="for the toolkit and the floor")
    parser.add_argument(
        "--rounds", type=int, default=1, help="the toolkit and the floor; boto3, dynamodump once"
    )
    parser.add_argument("--skip", nargs="*", default=[], choices=list(SHORT.values()))
    parser.add_argument("--boto3-child", nargs=3, metavar=("SOURCE", "TARGET", "INTO"))
    options = parser.parse_args()
    if options.boto3_child:
        boto3_child(*options.boto3_child)
        return
    names = [name for name in CONTENDERS if SHORT[name] not in options.skip]
    results: dict[str, list[Copy]] = {name: [] for name in names}
    with local_servers() as servers:
        load_table(servers.source, TABLE, options.items)
        # Unmeasured: the servers' JIT warms up on a whole copy, so that whoever runs
        # first in round 1 (the one round the slow peers run in) is not handicapped.
        floor_copy(servers, f"{TABLE}_warmup", options.segments)
        low_client(servers.target).delete_table(TableName=f"{TABLE}_warmup")
        for round_ in range(options.rounds):
            order = names[round_ % len(names) :] + names[: round_ % len(names)]
            if round_ > 0:  # the slow peers run once: their goals' margins are wide
                order = [n for n in order if SHORT[n] in ("tk", "floor")]
            for name in order:
                into = f"{TABLE}_{SHORT[name]}_{round_}"
                copy = CONTENDERS[name](servers, into, options.segments)
                copied = count(servers.target, into)
                if copied != options.items or copy.items != options.items:
                    raise SystemExit(f"{name}: {copy.items} items said, {copied} in the target")
                low_client(servers.target).delete_table(TableName=into)
                results[name].append(copy)
                print(f"round {round_ + 1} {name}: {copy.rate:,.0f} items/s", file=sys.stderr)
    report(options, results)


def report(options: argparse.Namespace, results: dict[str, list[Copy]]) -> None:
    """Each contender's median round; ratios are medians of same-round ratios."""
    median = {name: sorted(c, key=lambda c: c.rate)[len(c) // 2] for name, c in results.items()}
    tool_name = "toolkit migrate (snapshot)"
    tool_rounds = results.get(tool_name, [])
    ratios: dict[str, float] = {}
    for name, copies in results.items():
        # Round n of a contender ran beside round n of the toolkit (the slow ones: round 1).
        same_round = sorted(t.rate / c.rate for t, c in zip(tool_rounds, copies, strict=False))
        if same_round:
            ratios[name] = same_round[len(same_round) // 2]
    rows = []
    for name, copy in median.items():
        spread = [c.rate for c in results[name]]
        rows.append(
            [
                name,
                copy.rate,
                f"{min(spread):,.0f}-{max(spread):,.0f}" if len(spread) > 1 else "",
                copy.cpu_per_item,
                copy.run.rss_mb,
                f"{ratios[name]:.2f}x" if name in ratios else "",
            ]
        )
    header = ["copy", "items/s", "range", "client CPU µs/item", "peak RSS MB", "toolkit ÷ this"]
    rounds = f"median of {options.rounds} rounds" if options.rounds > 1 else "one round"
    title = (
        f"Snapshot: {options.items:,} items of about 200 bytes, DynamoDB Local → DynamoDB Local, "
        f"{options.segments} segments, {rounds} (ratios: median of same-round ratios)"
    )
    print_table(title, header, rows)
    if tool_name in median:
        goals = {"floor": 0.9, "boto3": 1.5, "dd": 3.0}
        for name, ratio in ratios.items():
            goal = goals.get(SHORT[name])
            if goal:
                verdict = "met" if ratio >= goal else "MISSED"
                print(f"goal toolkit ≥ {goal}x {SHORT[name]}: {ratio:.2f}x, {verdict}")
        cpu = median[tool_name].cpu_per_item
        verdict = "met" if cpu <= 30 else "MISSED"
        print(f"goal toolkit client CPU ≤ 30 µs/item: {cpu:.1f}, {verdict}")
    floor = results.get("floor: Scan → BatchWriteItem, plain HTTP", [])
    for name in ("boto3 scan + batch_writer", "dynamodump backup + restore"):
        if floor and results.get(name):  # what the servers allow: the floor beside the peer
            ratio = floor[0].rate / results[name][0].rate
            print(f"for scale, the floor ÷ {SHORT[name]} in the same round: {ratio:.2f}x")


if __name__ == "__main__":
    main()
