"""One node of the fake Alternator cluster (tests/fakes/fake_alternator.py): what it
answers itself, what it changes on the way to DynamoDB Local and back."""

from __future__ import annotations

import json
import ssl
import zlib
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from tests.fakes.alternator_clock import keys_of_write
from tests.fakes.alternator_system import (
    SYSTEM_PREFIX,
    Answer,
    consumed_capacity_refusal,
    create_table_refusal,
    error,
    initial_tablets,
    reserved_tag_refusal,
    system_table,
    system_table_denied,
    tags_of,
    update_table_refusal,
    validation,
    visible_tags,
)
from tests.fakes.fault_proxy import FaultProxy, Handler, send_answer

if TYPE_CHECKING:
    from tests.fakes.fake_alternator import FakeCluster

ALTERNATOR_BATCH = 100
UPSTREAM_BATCH = 25  # DynamoDB Local's limit
_FAILED: Answer = (502, b"upstream failed")
Upstream = Callable[[bytes], Answer]  # a body sent to the server as this request's: its answer


class AlternatorNode(FaultProxy):
    def __init__(
        self, cluster: FakeCluster, node: int, upstream: str, tls: ssl.SSLContext | None
    ) -> None:
        super().__init__(
            upstream,
            answer_get=partial(cluster.localnodes, node),
            observe=partial(cluster.observe, node),
            tls=tls,
        )
        self._cluster, self._node = cluster, node

    def received(self, handler: Handler, body: bytes) -> bytes | None:
        """A compressed body, decompressed (network.md "Compression of requests")."""
        encoding = handler.headers.get("Content-Encoding", "")
        if not encoding or handler.command != "POST":
            return body
        del handler.headers["Content-Encoding"]
        if self._cluster.release.takes_compressed_requests:
            outcome = _decompressed(body, encoding)
            if isinstance(outcome, bytes):
                self._cluster.compressed(self._node)
        else:  # an older server reads the body as JSON, whatever the header says
            outcome = body if _is_json(body) else _unparsable()
        if isinstance(outcome, bytes):
            return outcome
        send_answer(handler, outcome[0], outcome[1], {})
        return None

    def _forward(self, handler: Handler, body: bytes) -> None:
        operation = handler.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
        try:
            request = json.loads(body) if body else {}
        except ValueError:
            super()._forward(handler, body)  # the server's own refusal
            return
        upstream = partial(self._upstream_answer, handler)
        reading_system = str(request.get("TableName", "")).startswith(SYSTEM_PREFIX)
        if reading_system and self._cluster.system_tables == "denied":
            role = _role(handler.headers.get("Authorization", ""))
            answer: Answer | None = system_table_denied(request, role, self._cluster.release)
        elif reading_system and self._cluster.system_tables == "missing":
            answer = None  # not ScyllaDB, or before 4.1: the server's own "not found"
        else:
            answer = self._answer(operation, request, body, upstream)
        if answer is None:
            super()._forward(handler, body)
        else:
            send_answer(handler, answer[0], answer[1], {})

    def _upstream_answer(self, handler: Handler, body: bytes) -> Answer:
        answer = self.send_upstream(handler, body)
        return _FAILED if answer is None else (answer[0], answer[1])

    def _answer(
        self, operation: str, request: dict[str, Any], body: bytes, upstream: Upstream
    ) -> Answer | None:
        """The node's own answer, or None to relay the server's as it is."""
        cluster = self._cluster
        refused = consumed_capacity_refusal(request)
        if refused is not None:
            return refused
        if str(request.get("TableName", "")).startswith(SYSTEM_PREFIX):
            return system_table(operation, request, cluster.release, cluster.tablets_of())
        handlers = {
            "CreateTable": self._create_table,
            "UpdateTable": self._update_table,
            "DeleteTable": self._delete_table,
            "PutItem": self._write,
            "DeleteItem": self._write,
            "UpdateItem": self._write,
            "BatchWriteItem": self._batch_write,
            "ListTagsOfResource": self._tags,
            "TagResource": self._tags,
            "UntagResource": self._tags,
            "GetShardIterator": self._shard_iterator,
            "GetRecords": self._records,
        }
        handler = handlers.get(operation)
        return None if handler is None else handler(operation, request, body, upstream)

    def _create_table(
        self, _: str, request: dict[str, Any], body: bytes, upstream: Upstream
    ) -> Answer:
        release = self._cluster.release
        refused = create_table_refusal(request, release)
        if refused is not None:
            return refused
        answer = upstream(body)
        if answer[0] == 200:
            tags = tags_of(request)
            self._cluster.key_names.learn(request)
            self._cluster.created(request["TableName"], tags, initial_tablets(tags, release))
        return answer

    def _update_table(
        self, _: str, request: dict[str, Any], body: bytes, upstream: Upstream
    ) -> Answer:
        cluster = self._cluster
        refused = update_table_refusal(request, cluster.tablets_of(), cluster.release)
        return upstream(body) if refused is None else refused

    def _delete_table(
        self, _: str, request: dict[str, Any], body: bytes, upstream: Upstream
    ) -> Answer:
        answer = upstream(body)
        if answer[0] == 200:
            self._cluster.deleted(request["TableName"])
        return answer

    def _write(
        self, operation: str, request: dict[str, Any], body: bytes, upstream: Upstream
    ) -> Answer:
        """A write stamped with this node's clock: applied only if not older."""
        cluster = self._cluster
        key = keys_of_write(operation, request, cluster.key_names.of)[0]
        with cluster.writes.holding([key]):
            stamp = cluster.clocks.now(self._node)
            if not cluster.writes.wins(key, stamp):
                return 200, b"{}"  # acknowledged; the newer write stays
            answer = upstream(body)
            if answer[0] == 200:
                cluster.writes.applied(key, stamp)
        return answer

    def _batch_write(
        self, _: str, request: dict[str, Any], body: bytes, upstream: Upstream
    ) -> Answer:
        """Up to 100 items, each stamped with this node's clock, sent in parts of 25."""
        cluster = self._cluster
        writes = [(t, w) for t, ws in request.get("RequestItems", {}).items() for w in ws]
        if len(writes) > ALTERNATOR_BATCH:
            return upstream(body)  # the server's own refusal
        keys = keys_of_write("BatchWriteItem", request, cluster.key_names.of)
        unprocessed: dict[str, list[Any]] = {}
        with cluster.writes.holding(keys):
            stamp = cluster.clocks.now(self._node)
            kept = [
                (w, k) for w, k in zip(writes, keys, strict=True) if cluster.writes.wins(k, stamp)
            ]
            for start in range(0, len(kept), UPSTREAM_BATCH):
                part = kept[start : start + UPSTREAM_BATCH]
                items: dict[str, list[Any]] = {}
                for (table, write), _key in part:
                    items.setdefault(table, []).append(write)
                status, data = upstream(json.dumps({"RequestItems": items}).encode())
                if status != 200:
                    return status, data
                left = json.loads(data).get("UnprocessedItems", {})
                for table, writes_left in left.items():
                    unprocessed.setdefault(table, []).extend(writes_left)
                not_done = set(
                    keys_of_write("BatchWriteItem", {"RequestItems": left}, cluster.key_names.of)
                )
                for _write, key in part:
                    if key not in not_done:
                        cluster.writes.applied(key, stamp)
        return 200, json.dumps({"UnprocessedItems": unprocessed}).encode()

    def _tags(
        self, operation: str, request: dict[str, Any], body: bytes, upstream: Upstream
    ) -> Answer:
        """Tags of the tables created through a node (DynamoDB Local keeps none)."""
        table = str(request.get("ResourceArn", "")).rsplit("/", 1)[-1]
        added, removed = tags_of(request), request.get("TagKeys", ())
        refused = reserved_tag_refusal([*added, *removed], self._cluster.release)
        if refused is not None:
            return refused
        tags = self._cluster.retag(table, added, removed)
        if operation == "ListTagsOfResource":
            return 200, json.dumps({"Tags": visible_tags(tags)}).encode()
        return 200, b"{}"

    def _shard_iterator(
        self, _: str, request: dict[str, Any], body: bytes, upstream: Upstream
    ) -> Answer:
        translated = self._cluster.streams.iterator_request(request)
        return upstream(body if translated is request else json.dumps(translated).encode())

    def _records(self, _: str, request: dict[str, Any], body: bytes, upstream: Upstream) -> Answer:
        status, data = upstream(body)
        if status != 200:
            return status, data
        streams = self._cluster.streams
        answer = streams.records_answer(request, json.loads(data), self._cluster.streams_call)
        return 200, json.dumps(answer).encode()


def _role(authorization: str) -> str:
    """The role a request is signed as: its access key (Credential=KEY/...)."""
    _, found, rest = authorization.partition("Credential=")
    return rest.split("/", 1)[0] if found else "<anonymous>"


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def _unparsable() -> Answer:
    """What a server before 2026.1 says of a compressed body (utils/rjson.cc)."""
    return validation("Parsing JSON failed: Invalid value. at 0")


def _decompressed(body: bytes, encoding: str) -> bytes | Answer:
    """The body, or the error alternator/server.cc answers (500, as DynamoDB does)."""
    try:
        if encoding == "gzip":
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            return zlib.decompress(body)
    except zlib.error:
        return error("InternalServerError", "Error during gzip decompression of request body", 500)
    return error("InternalServerError", "Unsupported Content-Encoding", 500)
