"""Verify speed and memory: `toolkit verify --both-directions` beside a plain boto3 diff.

Run by hand (never part of the tests): `.venv/bin/python bench/verify.py`.
It starts its own pair of DynamoDB Local servers on free ports, loads the same
items (about 200 bytes each) into a source and a target table, then, in the same
run, compares them twice, each in a child process whose peak RSS is measured:

- `toolkit verify --both-directions` (streams pages; memory bounded);
- the baseline: a boto3 Scan of both tables into dicts, then set differences and
  item equality, as the Scylla Migrator's post did.

It prints items/s per direction, wall time and peak RSS side by side, as ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.helpers import CACHE_DIR, free_port  # noqa: E402
from tests.tables import create_table, load, low_client, section, write_config  # noqa: E402
from toolkit.local import servers  # noqa: E402

TABLE = "bench"


# A child's peak RSS counts the memory of the process it was forked from (Linux keeps
# the pre-exec high-water mark), so children are started from this small launcher,
# not from the bench, which holds the loaded items: it reports its child's usage.
LAUNCHER = """
import json, os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=sys.stdout, stderr=sys.stderr)
_, status, usage = os.wait4(child.pid, 0)
print(json.dumps({"exit": os.waitstatus_to_exitcode(status), "rss_kb": usage.ru_maxrss}))
"""


def run_child(command: Sequence[str]) -> tuple[float, float, str]:
    """Run a child to its end: (wall seconds, its peak RSS in MB, its stdout)."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *command], capture_output=True, text=True, check=False
    )
    seconds = time.monotonic() - started
    *output, last = result.stdout.splitlines() or ["{}"]
    usage = json.loads(last)
    if result.returncode != 0 or usage.get("exit") != 0:
        raise SystemExit(f"{command[2:4]} failed:\n{result.stdout}{result.stderr}")
    return seconds, usage["rss_kb"] / 1024, "\n".join(output)  # ru_maxrss: KB on Linux


def toolkit_verify(config: Path, report: Path, extra: Sequence[str]) -> dict[str, Any]:
    command = [sys.executable, "-m", "toolkit", "verify", "--config", str(config)]
    command += ["--both-directions", "--report", str(report), *extra]
    seconds, rss, _ = run_child(command)
    summary = json.loads(report.read_text().splitlines()[-1])
    rates = [d["items"] / d["seconds"] for d in summary["directions"]]
    return {"rates": rates, "seconds": seconds, "rss": rss}


def baseline(source: str, target: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--baseline-child", source, target]
    seconds, rss, stdout = run_child(command)
    timings = json.loads(stdout)
    return {"rates": timings["rates"], "seconds": seconds, "rss": rss}


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
    body = "x" * 180  # about 200 bytes an item
    for endpoint in (source, target):
        create_table(low_client(endpoint), TABLE)

    def fill(endpoint: str) -> int:
        items = ({"id": {"S": f"item-{n:08d}"}, "body": {"S": body}} for n in range(count))
        return load(endpoint, TABLE, items, ["id"])

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(fill, (source, target)))


def report(count: int, results: dict[str, dict[str, Any]]) -> None:
    base = results["boto3 scan + set compare"]
    print(f"\n{count:,} items of about 200 bytes in each table, identical, DynamoDB Local")
    header = f"{'':<26} {'src→tgt/s':>10} {'tgt→src/s':>10} {'wall s':>7} {'peak RSS MB':>12}"
    print(header)
    for name, result in results.items():
        forward, backward = result["rates"]
        print(
            f"{name:<26} {forward:>10,.0f} {backward:>10,.0f} "
            f"{result['seconds']:>7.1f} {result['rss']:>12.0f}"
        )
    tool = results["toolkit verify"]
    ratios = [tool["rates"][i] / base["rates"][i] for i in (0, 1)]
    print(
        f"{'toolkit / boto3':<26} {ratios[0]:>9.2f}x {ratios[1]:>9.2f}x "
        f"{tool['seconds'] / base['seconds']:>6.2f}x {tool['rss'] / base['rss']:>11.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--segments", type=int, default=8)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--baseline-child", nargs=2, metavar=("SOURCE", "TARGET"))
    options = parser.parse_args()
    if options.baseline_child:
        baseline_child(*options.baseline_child)
        return
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        settings = servers.LocalSettings(work, CACHE_DIR, free_port(), free_port(), heap="2g")
        started, _ = servers.up(settings)
        try:
            source, target = (s.endpoint for s in started)
            load_both(source, target, options.items)
            config = write_config(
                work / "config.yaml", section(source, TABLE), section(target, TABLE)
            )
            flags = ["--segments", str(options.segments), "--workers", str(options.workers)]
            results = {
                "toolkit verify": toolkit_verify(config, work / "report.jsonl", flags),
                "boto3 scan + set compare": baseline(source, target),
            }
        finally:
            servers.down(settings)
    report(options.items, results)


if __name__ == "__main__":
    main()
