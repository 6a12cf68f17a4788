"""A fake Alternator cluster for the tests: nodes that forward to one DynamoDB Local.

Each node is a ``FaultProxy`` on its own port of 127.0.0.1 that answers
``GET /localnodes`` like Alternator does (the live nodes, here as ``127.0.0.1:PORT``
since they share one address) and forwards every other request to the server. A
BatchWriteItem of up to 100 items, which Alternator takes, goes to DynamoDB Local
(which takes 25) in parts, and their unprocessed items come back as one answer.
A node stopped with ``stop`` refuses connections and leaves the list the others
give. What each node was asked is counted per operation, so a test can see where
the requests went.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import partial

from tests.fault_proxy import FaultProxy, Handler, Mode, send_answer

ALTERNATOR_BATCH = 100
UPSTREAM_BATCH = 25  # DynamoDB Local's limit


class AlternatorNode(FaultProxy):
    def _forward(self, handler: Handler, body: bytes) -> None:
        if not handler.headers.get("X-Amz-Target", "").endswith(".BatchWriteItem"):
            super()._forward(handler, body)
            return
        request = json.loads(body)
        writes = [(table, w) for table, ws in request["RequestItems"].items() for w in ws]
        if len(writes) > ALTERNATOR_BATCH:
            super()._forward(handler, body)  # the server's own refusal
            return
        unprocessed: dict[str, list[object]] = {}
        for start in range(0, len(writes), UPSTREAM_BATCH):
            part: dict[str, list[object]] = {}
            for table, write in writes[start : start + UPSTREAM_BATCH]:
                part.setdefault(table, []).append(write)
            answer = self.send_upstream(handler, json.dumps({"RequestItems": part}).encode())
            if answer is None or answer[0] != 200:
                status, data, headers = answer or (502, b"upstream failed", {})
                send_answer(handler, status, data, headers)
                return
            for table, left in json.loads(answer[1]).get("UnprocessedItems", {}).items():
                unprocessed.setdefault(table, []).extend(left)
        send_answer(handler, 200, json.dumps({"UnprocessedItems": unprocessed}).encode(), {})


class FakeCluster:
    def __init__(self, upstream: str, size: int = 3, tls: ssl.SSLContext | None = None) -> None:
        self._lock = threading.Lock()
        self._live = set(range(size))
        self.operations: list[Counter[str]] = [Counter() for _ in range(size)]
        self.bodies: list[tuple[str, bytes]] = []  # control-plane requests, in order
        self.listings: list[str] = []  # the paths of /localnodes requests, with queries
        self.nodes = [
            AlternatorNode(
                upstream,
                answer_get=self._localnodes,
                observe=partial(self._observe, node),
                tls=tls,
            )
            for node in range(size)
        ]

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def stop(self, node: int) -> None:
        """The node goes away: no connections, and no longer listed by the others."""
        with self._lock:
            self._live.discard(node)
        self.nodes[node].set_mode(Mode.REFUSE)

    def count(self, node: int, operation: str) -> int:
        with self._lock:
            return self.operations[node][operation]

    def _localnodes(self, path: str) -> bytes | None:
        if not path.startswith("/localnodes"):
            return None
        with self._lock:
            self.listings.append(path)
            live = sorted(self._live)
        return json.dumps([f"127.0.0.1:{self.nodes[n].port}" for n in live]).encode()

    def _observe(self, node: int, target: str, body: bytes) -> None:
        operation = target.rsplit(".", 1)[-1]
        with self._lock:
            self.operations[node][operation] += 1
            if operation in ("CreateTable", "UpdateTimeToLive") or b"ReturnConsumed" in body:
                self.bodies.append((operation, body))


@contextmanager
def fake_cluster(
    upstream: str, size: int = 3, tls: ssl.SSLContext | None = None
) -> Iterator[FakeCluster]:
    cluster = FakeCluster(upstream, size, tls)
    with ExitStack() as stack:
        for node in cluster.nodes:
            stack.enter_context(node)
        yield cluster
