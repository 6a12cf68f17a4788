"""Snapshot speed: `toolkit migrate` beside a plain boto3 scan + batch_writer copy.

Run by hand (never part of the tests): `.venv/bin/python bench/snapshot.py`.
It starts its own pair of DynamoDB Local servers on free ports, loads one source
table, copies it both ways into fresh target tables in the same run, and prints
items/s side by side with their ratio.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.helpers import CACHE_DIR, free_port  # noqa: E402
from tests.tables import create_table, load, low_client, section, write_config  # noqa: E402
from toolkit.local import servers  # noqa: E402


def client(endpoint: str) -> object:
    return boto3.resource(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )


def boto3_copy(source: str, target: str, table: str, into: str) -> float:
    """The straightforward copy: one Scan paginator, one batch_writer."""
    source_table = client(source).Table(table)  # type: ignore[attr-defined]
    target_table = client(target).Table(into)  # type: ignore[attr-defined]
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
    return copied / (time.monotonic() - started)


def toolkit_copy(source: str, target: str, table: str, into: str, work: Path) -> float:
    config = write_config(
        work / f"{into}.yaml",
        section(source, table, scanSegments=8, maxMapTasks=8),
        section(target, into),
    )
    result = subprocess.run(
        [sys.executable, "-m", "toolkit", "migrate", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"Snapshot done: \d+ items, .*?, ([\d.]+) s, (\d+) items/s", result.stdout)
    if match is None:
        raise SystemExit(f"no summary line in: {result.stdout}{result.stderr}")
    return float(match.group(2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        settings = servers.LocalSettings(work, CACHE_DIR, free_port(), free_port(), heap="2g")
        started, _ = servers.up(settings)
        try:
            source, target = (s.endpoint for s in started)
            create_table(low_client(source), "bench")
            body = "x" * 180  # about 200 bytes an item
            items = (
                {"id": {"S": f"item-{n:08d}"}, "body": {"S": body}} for n in range(options.items)
            )
            load(source, "bench", items, ["id"])
            create_table(low_client(target), "bench_boto3")
            rates = {
                "toolkit migrate (snapshot)": toolkit_copy(
                    source, target, "bench", "bench_tk", work
                ),
                "boto3 scan + batch_writer": boto3_copy(source, target, "bench", "bench_boto3"),
            }
        finally:
            servers.down(settings)
    baseline = rates["boto3 scan + batch_writer"]
    print(f"\n{options.items} items of about 200 bytes, DynamoDB Local to DynamoDB Local")
    print(f"{'copy':<30} {'items/s':>10} {'vs boto3':>9}")
    for name, rate in rates.items():
        print(f"{name:<30} {rate:>10,.0f} {rate / baseline:>8.2f}x")


if __name__ == "__main__":
    main()
