"""The floor: the barest pipeline that copies a table, to compare the toolkit against.

Segmented Scan into BatchWriteItem over plain HTTP: one thread per segment, each
scanning a page and writing it in batches of 25 before scanning the next; requests
signed with SigV4 (as any real client must), encoded and decoded with orjson. No
checkpoints, no progress, no throughput budget, no retries except of
UnprocessedItems; any error ends the run.

Its HTTP and signing are the cheapest this project has: the toolkit's own
(toolkit/wire/http1.py, pools.py, sigv4.py), so that the toolkit is measured against a
floor with the same wire costs and none of its features. `--transport urllib3`
gives the earlier floor: pooled urllib3 connections and botocore's SigV4Auth.

Run as a child by the benches (so that its CPU time is measured on its own):

    python bench/floor.py copy SOURCE TARGET TABLE INTO --segments 8
    python bench/floor.py write TARGET TABLE --count 100000 --threads 8

Each prints one JSON line: {"items": N, "seconds": S} (first request to last ack).
"""

from __future__ import annotations

import argparse
import gc
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

from toolkit.cli import GC_NEW_OBJECTS
from toolkit.wire.http1 import host_of, request_bytes
from toolkit.wire.pools import Pools
from toolkit.wire.sigv4 import Signer

BATCH = 25  # BatchWriteItem's limit on DynamoDB (and DynamoDB Local)
TARGET_PREFIX = "DynamoDB_20120810."


class Http:
    """Signed JSON requests to one endpoint over kept-alive connections (the toolkit's)."""

    def __init__(self, url: str, connections: int, region: str = "us-east-1") -> None:
        self.url = url
        self.host = host_of(url)
        self.credentials = Credentials("bench", "bench").get_frozen_credentials()
        self.signer = Signer(region)
        self.pools = Pools(connections)

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        body = orjson.dumps(request)
        target = TARGET_PREFIX + operation
        headers = self.signer.headers(self.host, "/", target, body, self.credentials, time.time())
        answer = self.pools.send(self.url, request_bytes("POST", "/", headers, body))
        return checked(operation, answer.status, answer.body)


class Urllib3Http(Http):
    """The earlier floor: pooled urllib3 connections, botocore's SigV4Auth per request."""

    def __init__(self, url: str, connections: int, region: str = "us-east-1") -> None:
        super().__init__(url, connections, region)
        self.region = region
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
        return checked(operation, response.status, response.data)


def checked(operation: str, status: int, data: bytes) -> dict[str, Any]:
    if status != 200:
        raise RuntimeError(f"{operation}: HTTP {status}: {data[:300]!r}")
    answer: dict[str, Any] = orjson.loads(data)
    return answer


TRANSPORTS = {"toolkit": Http, "urllib3": Urllib3Http}


def write_batch(http: Http, table: str, requests: list[dict[str, Any]]) -> None:
    """One BatchWriteItem, resending its UnprocessedItems until none is left."""
    while requests:
        answer = http.call("BatchWriteItem", {"RequestItems": {table: requests}})
        requests = answer.get("UnprocessedItems", {}).get(table, [])


def copy(
    source: str, target: str, table: str, into: str, segments: int, http: type[Http] = Http
) -> int:
    """Copy every item of `table` (source) into `into` (target); return how many."""
    reader, writer = http(source, segments), http(target, segments)

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


def write_all(
    target: str, table: str, items: Iterable[dict[str, Any]], threads: int, http: type[Http] = Http
) -> int:
    """Put every item with BatchWriteItem from `threads` threads; return how many."""
    writer = http(target, threads)
    batches = []
    iterator = iter(items)
    while chunk := list(islice(iterator, BATCH)):
        batches.append([{"PutRequest": {"Item": i}} for i in chunk])
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda batch: write_batch(writer, table, batch), batches))
    return sum(len(b) for b in batches)


def main() -> None:
    gc.set_threshold(GC_NEW_OBJECTS, 10, 10)  # as the toolkit's CLI does: no handicap
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
    for command in (copying, writing):
        command.add_argument("--transport", choices=list(TRANSPORTS), default="toolkit")
    options = parser.parse_args()
    http = TRANSPORTS[options.transport]
    if options.command == "copy":
        started = time.monotonic()
        count = copy(
            options.source, options.target, options.table, options.into, options.segments, http
        )
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from common import bench_items  # the same items the benches load

        items = list(bench_items(options.count))  # made before the clock starts
        started = time.monotonic()
        count = write_all(options.target, options.table, items, options.threads, http)
    seconds = time.monotonic() - started
    print(orjson.dumps({"items": count, "seconds": seconds}).decode())


if __name__ == "__main__":
    main()
