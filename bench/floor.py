"""The floor: the barest pipeline that copies a table, to compare the toolkit against.

Segmented Scan into BatchWriteItem over plain HTTP: one thread per segment, each
scanning a page and writing it in batches of 25 before scanning the next; requests
signed with botocore's SigV4 (as any real client must), sent over pooled urllib3
connections, encoded and decoded with orjson. No checkpoints, no progress, no
throughput budget, no retries except of UnprocessedItems; any error ends the run.

Run as a child by the benches (so that its CPU time is measured on its own):

    python bench/floor.py copy SOURCE TARGET TABLE INTO --segments 8
    python bench/floor.py write TARGET TABLE --count 100000 --threads 8

Each prints one JSON line: {"items": N, "seconds": S} (first request to last ack).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

BATCH = 25  # BatchWriteItem's limit on DynamoDB (and DynamoDB Local)
TARGET_PREFIX = "DynamoDB_20120810."


class Http:
    """Signed JSON requests to one endpoint over a pool of keep-alive connections."""

    def __init__(self, url: str, connections: int, region: str = "us-east-1") -> None:
        self.url = url
        self.region = region
        self.credentials = Credentials("bench", "bench").get_frozen_credentials()
        self.pool = urllib3.connection_from_url(url, maxsize=connections, block=True)

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        body = orjson.dumps(request)
        signed = AWSRequest(
            method="POST",
            url=self.url,
            data=body,
            headers={
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": TARGET_PREFIX + operation,
            },
        )
        SigV4Auth(self.credentials, "dynamodb", self.region).add_auth(signed)
        response = self.pool.urlopen(
            "POST", "/", body=body, headers=dict(signed.headers.items()), retries=False
        )
        if response.status != 200:
            raise RuntimeError(f"{operation}: HTTP {response.status}: {response.data[:300]!r}")
        answer: dict[str, Any] = orjson.loads(response.data)
        return answer


def write_batch(http: Http, table: str, requests: list[dict[str, Any]]) -> None:
    """One BatchWriteItem, resending its UnprocessedItems until none is left."""
    while requests:
        answer = http.call("BatchWriteItem", {"RequestItems": {table: requests}})
        requests = answer.get("UnprocessedItems", {}).get(table, [])


def copy(source: str, target: str, table: str, into: str, segments: int) -> int:
    """Copy every item of `table` (source) into `into` (target); return how many."""
    reader, writer = Http(source, segments), Http(target, segments)

    def copy_segment(segment: int) -> int:
        request: dict[str, Any] = {"TableName": table, "Segment": segment}
        request["TotalSegments"] = segments
        copied = 0
        while True:
            page = reader.call("Scan", request)
            items = page.get("Items", [])
            for start in range(0, len(items), BATCH):
                batch = items[start : start + BATCH]
                write_batch(writer, into, [{"PutRequest": {"Item": i}} for i in batch])
            copied += len(items)
            if "LastEvaluatedKey" not in page:
                return copied
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    with ThreadPoolExecutor(segments) as pool:
        return sum(pool.map(copy_segment, range(segments)))


def write_all(target: str, table: str, items: Iterable[dict[str, Any]], threads: int) -> int:
    """Put every item with BatchWriteItem from `threads` threads; return how many."""
    writer = Http(target, threads)
    batches = []
    iterator = iter(items)
    while chunk := list(islice(iterator, BATCH)):
        batches.append([{"PutRequest": {"Item": i}} for i in chunk])
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda batch: write_batch(writer, table, batch), batches))
    return sum(len(b) for b in batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    copying = commands.add_parser("copy")
    copying.add_argument("source")
    copying.add_argument("target")
    copying.add_argument("table")
    copying.add_argument("into")
    copying.add_argument("--segments", type=int, default=8)
    writing = commands.add_parser("write")
    writing.add_argument("target")
    writing.add_argument("table")
    writing.add_argument("--count", type=int, required=True)
    writing.add_argument("--threads", type=int, default=8)
    options = parser.parse_args()
    if options.command == "copy":
        started = time.monotonic()
        count = copy(options.source, options.target, options.table, options.into, options.segments)
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from common import bench_items  # the same items the benches load

        items = list(bench_items(options.count))  # made before the clock starts
        started = time.monotonic()
        count = write_all(options.target, options.table, items, options.threads)
    seconds = time.monotonic() - started
    print(orjson.dumps({"items": count, "seconds": seconds}).decode())


if __name__ == "__main__":
    main()
