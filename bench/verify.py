"""Verify speed and memory: `toolkit verify --both-directions` beside a plain boto3 diff.

Run by hand (never part of the tests):

    .venv/bin/python bench/verify.py --items 1000000
It starts its own pair of DynamoDB Local servers on free ports, loads the same
items (about 200 bytes each) into a source and a target table, then, in the same
run, compares them twice, each in a child process whose peak RSS is measured:

- `toolkit verify --both-directions` (streams pages; memory bounded);
- the baseline: a boto3 Scan of both tables into dicts, then set differences and
  item equality, as the Scylla Migrator's post did.

It prints items/s per direction, wall time and peak RSS side by side, as ratios,
and checks the toolkit's peak RSS against issue 8's goal (300 MB at 1M items).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from common import (
    Measured,
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
RSS_GOAL_MB = 300


def toolkit_verify(config: Path, report: Path, extra: Sequence[str]) -> dict[str, Any]:
    command = toolkit_command("verify", "--config", str(config), "--both-directions")
    run = run_measured([*command, "--report", str(report), *extra])
    summary = json.loads(report.read_text().splitlines()[-1])
    rates = [d["items"] / d["seconds"] for d in summary["directions"]]
    return {"rates": rates, "run": run}


def baseline(source: str, target: str) -> dict[str, Any]:
    run = run_measured([sys.executable, __file__, "--baseline-child", source, target])
    return {"rates": json.loads(run.stdout)["rates"], "run": run}


def baseline_child(source: str, target: str) -> None:
    """The straightforward diff: both tables into dicts, then set differences."""
    tables, scan_seconds = [], []
    for endpoint in (source, target):
        started = time.monotonic()
        items: dict[str, dict[str, Any]] = {}
        for page in low_client(endpoint).get_paginator("scan").paginate(TableName=TABLE):
            for item in page["Items"]:
                items[item["id"]["S"]] = item
        tables.append(items)
        scan_seconds.append(time.monotonic() - started)
    source_items, target_items = tables
    started = time.monotonic()
    missing = source_items.keys() - target_items.keys()
    different = [
        k for k in source_items.keys() & target_items.keys() if source_items[k] != target_items[k]
    ]
    forward = scan_seconds[0] + time.monotonic() - started
    started = time.monotonic()
    extra = target_items.keys() - source_items.keys()
    backward = scan_seconds[1] + time.monotonic() - started
    assert not (missing or different or extra)
    rates = [len(source_items) / forward, len(target_items) / backward]
    print(json.dumps({"rates": rates}))


def load_both(source: str, target: str, count: int) -> None:
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda endpoint: load_table(endpoint, TABLE, count), (source, target)))


def report(count: int, results: dict[str, dict[str, Any]]) -> None:
    base = results["boto3 scan + set compare"]
    rows: list[list[object]] = []
    for name, result in results.items():
        run: Measured = result["run"]
        rows.append([name, *result["rates"], f"{run.seconds:.1f}", run.rss_mb, run.cpu])
    tool = results["toolkit verify"]
    ratios = [tool["rates"][i] / base["rates"][i] for i in (0, 1)]
    tool_run, base_run = tool["run"], base["run"]
    rows.append(
        [
            "toolkit ÷ boto3",
            f"{ratios[0]:.2f}x",
            f"{ratios[1]:.2f}x",
            f"{tool_run.seconds / base_run.seconds:.2f}x",
            f"{tool_run.rss_mb / base_run.rss_mb:.2f}x",
            f"{tool_run.cpu / base_run.cpu:.2f}x",
        ]
    )
    header = ["compare", "src→tgt items/s", "tgt→src items/s", "wall s", "peak RSS MB", "CPU s"]
    title = f"Verify: {count:,} items of about 200 bytes in each table, identical, DynamoDB Local"
    print_table(title, header, rows)
    rss = tool_run.rss_mb
    verdict = "met" if rss <= RSS_GOAL_MB else "MISSED"
    print(f"goal toolkit verify peak RSS ≤ {RSS_GOAL_MB} MB: {rss:.0f} MB, {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--segments", type=int, default=8)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--skip-baseline", action="store_true", help="the toolkit only")
    parser.add_argument("--baseline-child", nargs=2, metavar=("SOURCE", "TARGET"))
    options = parser.parse_args()
    if options.baseline_child:
        baseline_child(*options.baseline_child)
        return
    with local_servers() as servers:
        load_both(servers.source, servers.target, options.items)
        config = write_config(
            servers.work / "config.yaml",
            section(servers.source, TABLE),
            section(servers.target, TABLE),
        )
        flags = ["--segments", str(options.segments), "--workers", str(options.workers)]
        results = {"toolkit verify": toolkit_verify(config, servers.work / "report.jsonl", flags)}
        if not options.skip_baseline:
            results["boto3 scan + set compare"] = baseline(servers.source, servers.target)
    if options.skip_baseline:
        run = results["toolkit verify"]["run"]
        rates = ", ".join(f"{r:,.0f}" for r in results["toolkit verify"]["rates"])
        print(f"toolkit verify: {rates} items/s, {run.seconds:.1f} s, {run.rss_mb:.0f} MB peak")
        return
    report(options.items, results)


if __name__ == "__main__":
    main()
