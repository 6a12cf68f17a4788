"""Replication lag: from a source write's acknowledgment to its visibility on the target.

Importable (a notebook plots its samples) and runnable by hand:

    from bench.lag_probe import measure_lag, summarize
    lags = measure_lag("http://127.0.0.1:8000", "http://127.0.0.1:8001", "migration_test",
                       markers=200, interval=0.05)
    summarize(lags)  # {"markers": 200, "p50": ..., "p99": ..., "max": ...} in seconds

    .venv/bin/python bench/lag_probe.py --source URL --target URL --table NAME

The probe writes `markers` marker items to the source, one every `interval` seconds
(PutItem; the clock starts when the write is acknowledged), while a second thread
polls the target with consistent BatchGetItem every `poll` seconds for the markers
not seen yet; a marker's lag is from its acknowledgment to the answer that showed
it. So each sample errs high by at most one poll period plus one read.

Marker keys never collide with the mutator's (`toolkit mutate`) keys nor with another
probe run's: the key schema comes from DescribeTable, and every key part gets a value
the mutator never makes (S: "lag-probe-<run>-<n>"; N: a negative number; B: 16
bytes, where the mutator's are 8). Markers stay in the source (and so reach the
target too) unless `cleanup=True`, which deletes them from the source at the end.

Only boto3 is needed: the module imports nothing from the toolkit, tests or benches.
"""

from __future__ import annotations

import argparse
import base64
import math
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import boto3
from botocore.config import Config

__all__ = ["MarkerTimeout", "marker_keys", "measure_lag", "percentile", "summarize"]

Key = dict[str, dict[str, str]]


class MarkerTimeout(Exception):
    """Some markers were not visible on the target within the timeout."""

    def __init__(self, lags: list[float], missing: int, timeout: float) -> None:
        super().__init__(f"{missing} marker(s) not visible on the target after {timeout:g} s")
        self.lags = lags  # the markers that were seen, in seconds
        self.missing = missing


def client(endpoint: str, region: str, access_key: str, secret_key: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(retries={"max_attempts": 5, "mode": "standard"}, max_pool_connections=4),
    )


def key_parts(description: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, type) of the key attributes, hash first, from a DescribeTable answer."""
    types = {a["AttributeName"]: a["AttributeType"] for a in description["AttributeDefinitions"]}
    ordered = sorted(description["KeySchema"], key=lambda k: k["KeyType"] != "HASH")
    return [(k["AttributeName"], types[k["AttributeName"]]) for k in ordered]


def marker_keys(parts: Sequence[tuple[str, str]], count: int, run: int | None = None) -> list[Key]:
    """`count` marker keys for a key schema, unique to this run (a random 48-bit id)."""
    run = secrets.randbits(48) if run is None else run
    keys = []
    for n in range(count):
        key: Key = {}
        for name, kind in parts:
            if kind == "S":
                key[name] = {"S": f"lag-probe-{run:012x}-{n:06d}"}
            elif kind == "N":
                key[name] = {"N": str(-(run * 1_000_000 + n + 1))}
            elif kind == "B":
                raw = run.to_bytes(8, "big") + n.to_bytes(8, "big")
                key[name] = {"B": base64.b64encode(raw).decode()}
            else:
                raise ValueError(f"key attribute {name} has type {kind}; expected S, N or B")
        keys.append(key)
    return keys


def measure_lag(
    source_endpoint: str,
    target_endpoint: str,
    table: str,
    *,
    markers: int = 100,
    interval: float = 0.1,
    target_table: str | None = None,
    poll: float = 0.01,
    timeout: float = 60.0,
    cleanup: bool = False,
    region: str = "us-east-1",
    access_key: str = "test",
    secret_key: str = "test",
    clock: Callable[[], float] = time.monotonic,
) -> list[float]:
    """Write `markers` markers to the source; return each one's lag in seconds, in order.

    `target_table` defaults to `table`. Raises MarkerTimeout (carrying the lags seen)
    when markers are still missing on the target `timeout` seconds after the last
    write was acknowledged.
    """
    source = client(source_endpoint, region, access_key, secret_key)
    target = client(target_endpoint, region, access_key, secret_key)
    parts = key_parts(source.describe_table(TableName=table)["Table"])
    keys = marker_keys(parts, markers)
    acked: dict[int, float] = {}  # marker -> acknowledgment time, until seen
    lags: list[float | None] = [None] * markers
    lock = threading.Lock()
    writing_done = threading.Event()
    failure: list[BaseException] = []

    def poller() -> None:
        try:
            _poll_target(target, target_table or table, keys, acked, lags, lock, stop, poll, clock)
        except BaseException as error:  # surfaced by the caller's thread
            failure.append(error)

    def all_seen() -> bool:
        with lock:
            return not acked and writing_done.is_set()

    stop = threading.Event()
    thread = threading.Thread(target=poller, name="lag-probe-poller", daemon=True)
    thread.start()
    try:
        next_at = clock()
        for n, key in enumerate(keys):
            pause = next_at - clock()
            if pause > 0:
                time.sleep(pause)
            next_at += interval
            item = {**key, "lag_probe": {"N": str(n)}}
            source.put_item(TableName=table, Item=item)
            with lock:
                acked[n] = clock()
            if failure:
                raise failure[0]
        writing_done.set()
        deadline = clock() + timeout
        while not all_seen() and clock() < deadline and not failure:
            time.sleep(poll)
        if failure:
            raise failure[0]
    finally:
        stop.set()
        thread.join(timeout=5)
        if cleanup:
            for key in keys:
                source.delete_item(TableName=table, Key=key)
    seen = [lag for lag in lags if lag is not None]
    if len(seen) < markers:
        raise MarkerTimeout(seen, markers - len(seen), timeout)
    return seen


def _poll_target(
    target: Any,
    table: str,
    keys: list[Key],
    acked: dict[int, float],
    lags: list[float | None],
    lock: threading.Lock,
    stop: threading.Event,
    poll: float,
    clock: Callable[[], float],
) -> None:
    while not stop.is_set():
        with lock:
            waiting = sorted(acked)
        for start in range(0, len(waiting), 100):
            chunk = waiting[start : start + 100]
            by_key = {_identity(keys[n]): n for n in chunk}
            answer = target.batch_get_item(
                RequestItems={table: {"Keys": [keys[n] for n in chunk], "ConsistentRead": True}}
            )
            now = clock()
            found = [by_key[_identity(item)] for item in answer["Responses"].get(table, [])]
            with lock:
                for n in found:
                    if n in acked:
                        lags[n] = now - acked.pop(n)
        stop.wait(poll)


def _identity(item: dict[str, Any]) -> str:
    """A marker's identity from any item holding it (the S/N/B text of its key parts)."""
    values = []
    for name in sorted(item):
        if name == "lag_probe":
            continue
        value = item[name]
        kind, payload = next(iter(value.items()))
        if isinstance(payload, bytes | bytearray):  # boto3 decodes B values
            payload = base64.b64encode(payload).decode()
        values.append(f"{name}:{kind}:{payload}")
    return "|".join(values)


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), nearest rank: a value that was actually measured."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summarize(lags: Sequence[float]) -> dict[str, float]:
    return {
        "markers": len(lags),
        "p50": percentile(lags, 50),
        "p99": percentile(lags, 99),
        "max": max(lags),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", required=True, help="source endpoint URL")
    parser.add_argument("--target", required=True, help="target endpoint URL")
    parser.add_argument("--table", required=True)
    parser.add_argument("--target-table")
    parser.add_argument("--markers", type=int, default=100)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--cleanup", action="store_true")
    options = parser.parse_args()
    lags = measure_lag(
        options.source,
        options.target,
        options.table,
        markers=options.markers,
        interval=options.interval,
        target_table=options.target_table,
        timeout=options.timeout,
        cleanup=options.cleanup,
    )
    summary = summarize(lags)
    print(
        f"{summary['markers']:.0f} markers: p50 {summary['p50'] * 1000:.0f} ms, "
        f"p99 {summary['p99'] * 1000:.0f} ms, max {summary['max'] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
