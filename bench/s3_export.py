"""S3 exports: writing a table as an export and loading it back, beside a snapshot by Scan.

Run by hand (never part of the tests):

    .venv/bin/python bench/s3_export.py --items 100000 --segments 8

It starts its own pair of DynamoDB Local servers and moto's S3 server on free
ports, loads one source table with items of about 200 bytes, then runs, each as a
measured child process:

- the baseline: `toolkit migrate` table to table (the snapshot by parallel Scan);
- `toolkit migrate` into `target.type: dynamodb-s3-export` (Scan into gzipped data
  files in S3, one per segment);
- `toolkit migrate` from that export (`source.type: dynamodb-s3-export`) into a
  fresh target table: data files read in parallel, no Scan of the source.

items/s is each run's own summary line; ratios are against the baseline of the
same run. moto's S3 is a Python server on the same 2 cores, so S3 costs here are
not AWS's: the numbers say what the toolkit's side costs, not what S3 gives.
"""

from __future__ import annotations

import argparse
import re
import uuid
from pathlib import Path
from typing import Any

from common import (
    Measured,
    load_table,
    local_servers,
    print_table,
    run_measured,
    section,
    toolkit_command,
    write_config,
)

from tests.fakes.s3_server import s3_client, s3_section, s3_server

TABLE = "bench"
SUMMARY = re.compile(r"Snapshot done: (\d+) items, .*?, ([\d.]+) s, \d+ items/s")


def migrate(config: Path) -> tuple[int, float, Measured]:
    run = run_measured(toolkit_command("migrate", "--config", str(config)))
    match = SUMMARY.search(run.stdout)
    if match is None:
        raise SystemExit(f"no summary line in:\n{run.stdout}")
    return int(match.group(1)), float(match.group(2)), run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--segments", type=int, default=8)
    options = parser.parse_args()
    rows: list[list[Any]] = []
    with local_servers() as servers, s3_server(servers.work) as s3:
        load_table(servers.source, TABLE, options.items)
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        s3_client(s3).create_bucket(Bucket=bucket)
        read = {"scanSegments": options.segments, "maxMapTasks": options.segments}
        configs = {
            "snapshot table → table (baseline)": (
                section(servers.source, TABLE, **read),
                section(servers.target, f"{TABLE}_snapshot"),
            ),
            "table → S3 export": (
                section(servers.source, TABLE, **read),
                {"type": "dynamodb-s3-export", "path": f"s3://{bucket}/x", **s3_section(s3)},
            ),
            "S3 export → table": (
                {
                    "type": "dynamodb-s3-export",
                    "bucket": bucket,
                    "manifestKey": "x/manifest-summary.json",
                    "tableDescription": {
                        "attributeDefinitions": [{"name": "id", "type": "S"}],
                        "keySchema": [{"name": "id", "type": "HASH"}],
                    },
                    "maxMapTasks": options.segments,
                    **s3_section(s3),
                },
                section(servers.target, f"{TABLE}_from_export"),
            ),
        }
        baseline = 0.0
        for n, (name, (source, target)) in enumerate(configs.items()):
            config = write_config(servers.work / f"c{n}.yaml", source, target)
            items, seconds, run = migrate(config)
            if items != options.items:
                raise SystemExit(f"{name} copied {items} items, not {options.items}")
            rate = items / seconds
            baseline = baseline or rate
            cpu = run.cpu / items * 1e6
            rows.append([name, items, rate, f"{rate / baseline:.2f}x", f"{cpu:.1f}", run.rss_mb])
    header = ("run", "items", "items/s", "vs baseline", "CPU µs/item", "peak RSS MB")
    print_table(f"S3 exports, {options.items:,} items, {options.segments} segments", header, rows)


if __name__ == "__main__":
    main()
