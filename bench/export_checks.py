"""The up-front check of an export's data files: what it costs per number of files.

Run by hand (never part of the tests):

    .venv/bin/python bench/export_checks.py --files 10 100 1000 --rounds 5

It starts moto's S3 server on a free port and writes, per size, one full export of
that many data files (two items each) as DynamoDB writes them. Then, in this process,
it times `load_exports` (both manifests read, the exports ordered, then every data
file checked through one ListObjectsV2 listing per 1,000 files) against the same
manifests read and parsed without the check, and, for scale, a HEAD request per file
(what the listing saves). Times are medians of the rounds (the HEADs: one round);
requests are counted from botocore's events. moto is a Python server on the same
cores: the numbers say what the check costs against a local S3 API, not AWS's
latency.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from common import print_table

from tests.fakes.s3_server import ExportWriter, s3_client, s3_server
from toolkit.config.exports import ExportSource, S3Access
from toolkit.connectors.s3_export.loading import load_exports
from toolkit.logic.export_format import parse_files, parse_summary
from toolkit.wire.s3_store import S3Store

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def median_seconds(action: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Median wall time and median CPU time of this process (the client's side)."""
    walls, cpus = [], []
    for _ in range(rounds):
        started, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def an_export(client: S3Client, files: int) -> tuple[str, str, list[str]]:
    """A bucket holding one full export of that many data files: bucket, summary, files."""
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=bucket)
    writer = ExportWriter(client, bucket, "exp", f"{files:014d}-bench")
    for n in range(files):
        writer.data_file([{"Item": {"id": {"S": f"k{n}-{i}"}}} for i in range(2)], f"p{n}")
    key = writer.finish(exportTime=datetime.now(UTC))
    return bucket, key, [f["dataFileS3Key"] for f in writer.files]


def measure(client: S3Client, files: int, rounds: int, calls: Counter[str]) -> list[Any]:
    bucket, key, data_keys = an_export(client, files)
    store = S3Store(client, bucket, "bench S3")
    source = ExportSource(bucket, (key,), {}, S3Access(None, None, True))

    def manifests_only() -> None:
        raw = store.get(key)
        summary = parse_summary(raw, key)
        parse_files(store.get(summary.files_key), summary, orjson.loads(raw))

    calls.clear()
    parts = load_exports(store, source)
    listings = calls["ListObjectsV2"]
    assert sum(len(p.files) for p in parts) == files
    checked, checked_cpu = median_seconds(lambda: load_exports(store, source), rounds)
    bare, bare_cpu = median_seconds(manifests_only, rounds)
    heads, _ = median_seconds(
        lambda: [client.head_object(Bucket=bucket, Key=k) for k in data_keys], 1
    )
    spent, cpu = checked - bare, checked_cpu - bare_cpu
    return [files, bare * 1e3, checked * 1e3, spent * 1e3, cpu * 1e3, listings, heads * 1e3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    with s3_server(Path(tempfile.mkdtemp(prefix="bench-export-checks-"))) as endpoint:
        client = s3_client(endpoint)
        calls: Counter[str] = Counter()
        client.meta.events.register(
            "before-call.s3.*", lambda model, **_: calls.update([model.name])
        )
        rows = [measure(client, files, options.rounds, calls) for files in options.files]
    header = (
        "data files",
        "manifests ms",
        "with the check ms",
        "the check ms",
        "its client CPU ms",
        "ListObjectsV2 requests",
        "a HEAD per file ms",
    )
    print_table(f"Up-front data file check on moto's S3, median of {options.rounds}", header, rows)


if __name__ == "__main__":
    main()
