"""Last-write-wins by the receiving node's clock, for the fake Alternator cluster.

Without LWT a write's timestamp is the wall clock (in microseconds) of the node
that received it, and the highest timestamp of a key wins, whatever the order the
writes arrived in (docs/alternator/compatibility.md, "Avoiding write reordering").
``LastWriteWins`` keeps the last applied timestamp of each (table, key) and tells
which writes of a request may go on to the server: a write older than the key's
last one is acknowledged and dropped, as a real node's write "succeeds" and loses.
Check-and-forward holds one lock per key (taken in a fixed order: no deadlock), so
writes of other keys never wait.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

from toolkit.logic.items import key_id

Key = tuple[str, bytes]  # (table, the key's identity)
WRITES = frozenset({"PutItem", "DeleteItem", "UpdateItem"})
_AUTH = (
    "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0"
)  # DynamoDB Local reads the access key of a request but checks no signature


def call_upstream(
    upstream: str, operation: str, request: Mapping[str, Any], api: str = "DynamoDB_20120810"
) -> tuple[int, Any]:
    """One request of the stand-in's own to the server: its status and decoded answer."""
    host, port = upstream.rsplit("//", 1)[-1].rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    headers = {
        "X-Amz-Target": f"{api}.{operation}",
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": _AUTH,
        "X-Amz-Date": "20240101T000000Z",
    }
    try:
        connection.request("POST", "/", json.dumps(request).encode(), headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


class KeyNames:
    """The key attributes of each table: from the CreateTable seen, else DescribeTable."""

    def __init__(self, upstream: str) -> None:
        self._upstream = upstream
        self._lock = threading.Lock()
        self._names: dict[str, tuple[str, ...]] = {}

    def learn(self, create_table: Mapping[str, Any]) -> None:
        names = tuple(k["AttributeName"] for k in create_table.get("KeySchema", ()))
        with self._lock:
            self._names[create_table["TableName"]] = names

    def forget(self, table: str) -> None:
        with self._lock:
            self._names.pop(table, None)

    def of(self, table: str) -> tuple[str, ...]:
        with self._lock:
            known = self._names.get(table)
        if known is not None:
            return known
        status, answer = call_upstream(self._upstream, "DescribeTable", {"TableName": table})
        if status != 200:
            return ()  # the write itself will get the server's refusal
        names = tuple(k["AttributeName"] for k in answer["Table"]["KeySchema"])
        with self._lock:
            self._names[table] = names
        return names


def keys_of_write(
    operation: str, request: Mapping[str, Any], names: Callable[[str], Sequence[str]]
) -> list[Key]:
    """The (table, key) each write of a request touches, in the request's order."""
    if operation in WRITES:
        return [_key(request["TableName"], request, names)]
    return [
        _key(table, write.get("PutRequest") or write.get("DeleteRequest") or {}, names)
        for table, writes in request.get("RequestItems", {}).items()
        for write in writes
    ]


def _key(table: str, write: Mapping[str, Any], names: Callable[[str], Sequence[str]]) -> Key:
    if "Key" in write:
        return table, key_id(write["Key"])
    item = write.get("Item", {})
    return table, key_id({name: item.get(name) for name in names(table)})


class NodeClocks:
    """Each node's wall clock in microseconds, plus its skew (seconds, settable)."""

    def __init__(self, skews: Sequence[float]) -> None:
        self._skews = list(skews)

    def set_skew(self, node: int, seconds: float) -> None:
        self._skews[node] = seconds

    def now(self, node: int) -> int:
        return int((time.time() + self._skews[node]) * 1_000_000)


class LastWriteWins:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key_locks: dict[Key, threading.Lock] = {}
        self._last: dict[Key, int] = {}
        self.lost = 0  # writes acknowledged and not applied

    @contextmanager
    def holding(self, keys: Sequence[Key]) -> Iterator[None]:
        """The keys' locks, for one check-and-forward."""
        with self._lock:
            locks = [self._key_locks.setdefault(k, threading.Lock()) for k in sorted(set(keys))]
        with ExitStack() as stack:
            for lock in locks:
                stack.enter_context(lock)
            yield

    def wins(self, key: Key, timestamp: int) -> bool:
        """Whether a write of this timestamp is applied (not older than the key's last);
        a loser is counted. Call while holding the key."""
        with self._lock:
            if timestamp >= self._last.get(key, timestamp):
                return True
            self.lost += 1
            return False

    def applied(self, key: Key, timestamp: int) -> None:
        with self._lock:
            self._last[key] = max(timestamp, self._last.get(key, timestamp))

    def forget(self, table: str) -> None:
        """The table was deleted: a new one of that name starts with no history."""
        with self._lock:
            for key in [k for k in self._last if k[0] == table]:
                del self._last[key]
