"""What gzip-compressed request bodies cost the client and save on the wire, run by hand.

For items of several sizes and batches of several lengths, one BatchWriteItem request
is built the way the data plane builds it (orjson, then SigV4) with and without
compression (zlib levels 1 and 6, gzip framing), in the same run: client CPU per
request and bytes on the wire (headers included), and their ratios. Items are
text-like (words drawn from a fixed vocabulary, as names, descriptions and JSON
documents are) or, the worst case, random bytes (already compressed or encrypted).
No server: Alternator's own CPU to decompress is its side of the trade.

    python bench/compression.py [--seconds 0.3]
"""

from __future__ import annotations

import argparse
import base64
import random
import time
import zlib
from collections.abc import Callable
from typing import Any

import orjson
from common import print_table

from toolkit.wire.http1 import request_bytes
from toolkit.wire.sigv4 import Signer


class Secret:
    access_key = "AKIDEXAMPLE"
    secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    token = None


ITEM_BYTES = (200, 1_000, 4_000, 40_000)
BATCHES = (1, 25, 100)
WORDS = [
    "".join(random.Random(n).choices("abcdefghijklmnopqrstuvwxyz", k=3 + n % 9))
    for n in range(2000)
]


def item(n: int, size: int, kind: str, rng: random.Random) -> dict[str, Any]:
    key = {"id": {"S": f"item-{n:08d}"}, "n": {"N": str(rng.randrange(10**9))}}
    if kind == "random":
        raw = rng.randbytes(size * 3 // 4)
        return {**key, "blob": {"B": base64.b64encode(raw).decode()}}
    text = " ".join(rng.choice(WORDS) for _ in range(size // 6))
    return {**key, "body": {"S": text[:size]}}


def request(size: int, batch: int, kind: str) -> dict[str, Any]:
    rng = random.Random(size * 1000 + batch)
    writes = [{"PutRequest": {"Item": item(n, size, kind, rng)}} for n in range(batch)]
    return {"RequestItems": {"bench": writes}}


def build(req: dict[str, Any], signer: Signer, level: int | None) -> bytes:
    body = orjson.dumps(req)
    encoding = None
    if level is not None:
        body, encoding = zlib.compress(body, level, 31), "gzip"
    target = "DynamoDB_20120810.BatchWriteItem"
    headers = signer.headers("node:8000", "/", target, body, Secret(), time.time(), encoding)
    return request_bytes("POST", "/", headers, body)


def cpu_per_call(action: Callable[[], object], seconds: float) -> float:
    """Client CPU per call in microseconds, over about `seconds` of repeated calls."""
    calls, start = 0, time.process_time()
    while (spent := time.process_time() - start) < seconds:
        action()
        calls += 1
    return spent / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.3, help="CPU time per measure")
    args = parser.parse_args()
    signer = Signer("us-east-1")
    rows = []
    for kind in ("text", "random"):
        for size in ITEM_BYTES:
            for batch in BATCHES:
                req = request(size, batch, kind)
                plain = build(req, signer, None)
                base = cpu_per_call(lambda r=req: build(r, signer, None), args.seconds)
                row: list[object] = [kind, size, batch, len(plain), base]
                for level in (1, 6):
                    sent = build(req, signer, level)
                    cost = cpu_per_call(lambda r=req, v=level: build(r, signer, v), args.seconds)
                    row += [len(sent) / len(plain), cost / base, (cost - base) / len(plain) * 1e3]
                rows.append(row)
    header = ["items", "item bytes", "batch", "bytes sent", "µs plain"]
    for level in (1, 6):
        header += [f"bytes L{level}/plain", f"CPU L{level}/plain", f"extra ns/byte L{level}"]
    print_table("gzip request bodies: client CPU and bytes on the wire", header, rows)


if __name__ == "__main__":
    main()
