"""The data plane's one I/O seam: signed JSON requests over kept-alive HTTP.

Scan, BatchWriteItem, BatchGetItem, GetItem, GetShardIterator and GetRecords carry
items, so they skip boto3: requests are signed by toolkit.wire.sigv4 (botocore's
SigV4, with the signing key cached), sent by toolkit.wire.http1 and encoded/decoded
with orjson. Items stay in DynamoDB's wire form from one answer to the next
request; nothing here looks inside them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import orjson

from toolkit.errors import ServiceBusy, ServiceError, ToolkitError
from toolkit.logic.error_text import read_error
from toolkit.wire import http1
from toolkit.wire.compression import ENCODING, compression_refused, gzipped, refused
from toolkit.wire.http1 import TlsFailed, host_of, request_bytes
from toolkit.wire.pools import Pools
from toolkit.wire.reachability import Reachability
from toolkit.wire.service_errors import connection_failed, from_answer, tls_failed
from toolkit.wire.sigv4 import Secret, Signer, canonical_path

DYNAMODB_API = "DynamoDB_20120810"
STREAMS_API = "DynamoDBStreams_20120810"


class CredentialSource(Protocol):
    """botocore credentials (static or refreshing): asked afresh for every request."""

    def get_frozen_credentials(self) -> Secret: ...


@dataclass(frozen=True)
class Answer:
    body: dict[str, Any]
    size: int  # bytes on the wire, for progress and summaries


class Nodes(Protocol):
    """Where each request goes: one endpoint, or the live nodes of a cluster."""

    def pick(self) -> str: ...

    def for_key(self, key: bytes) -> str: ...

    def failed(self, url: str) -> None: ...

    @property
    def spreads_writes(self) -> bool: ...


class OneNode:
    spreads_writes = False  # one endpoint: grouping writes by node would buy nothing

    def __init__(self, url: str) -> None:
        self.url = url

    def pick(self) -> str:
        return self.url

    def for_key(self, key: bytes) -> str:
        return self.url

    def failed(self, url: str) -> None:
        """Nowhere else to go: the retries decide."""


class DataPlane:
    """One region's endpoint (or a cluster's nodes), pooled connections shared by all workers."""

    def __init__(
        self,
        nodes: Nodes | str,
        region: str,
        credentials: CredentialSource,
        *,
        connections: int = 16,
        timeout: float = 30.0,
        ca_bundle: str | None = None,
        pools: Pools | None = None,
        role: str = "",
        patience: float = 120.0,
        on_failure: Callable[[str, str], None] | None = None,
        compression: bool = False,
    ) -> None:
        self._nodes = OneNode(nodes) if isinstance(nodes, str) else nodes
        self._role = f"{role} " if role else ""  # errors name the side: "target http://..."
        self.url = self._nodes.pick()  # for messages that name the side's address
        self._path = urlsplit(self.url).path or "/"
        self._signed_path = canonical_path(self._path)
        self._signer = Signer(region)
        self._credentials = credentials
        self._pools = pools or Pools(connections, timeout, ca_bundle)
        # patience: how long the retries above go on, said while the side is down
        self._reachability = Reachability(self._role + self.url, patience)
        self._on_failure = on_failure  # (operation, error code) of each failed request
        self._compression = compression  # gzip the bodies long enough to be worth it

    @property
    def spreads_writes(self) -> bool:
        """Whether writes go to several nodes (then a batch holds one node's keys only)."""
        return self._nodes.spreads_writes

    def node_for(self, key: bytes) -> str:
        """The node the writes of ``key`` (its bytes, as ``routing_key`` gives them) go to."""
        return self._nodes.for_key(key)

    def call(
        self,
        operation: str,
        request: dict[str, Any],
        api: str = DYNAMODB_API,
        *,
        key: bytes | None = None,
    ) -> Answer:
        """One request; ``key``: the item it writes, so that it goes to that key's node."""
        outcome = self.call_all(operation, [request], api, keys=None if key is None else [key])[0]
        if isinstance(outcome, Answer):
            return outcome
        raise outcome

    def call_all(
        self,
        operation: str,
        requests: Sequence[dict[str, Any]],
        api: str = DYNAMODB_API,
        *,
        keys: Sequence[bytes] | None = None,
    ) -> list[Answer | ToolkitError]:
        """Several requests of one operation, in flight together: each one's answer, or
        its error (not raised, so that one failure leaves the others' answers usable).
        ``keys``: one per request, which then goes to that key's node; else the requests
        take the next node in turn (reads: any node serves them)."""
        if keys is None:
            urls = [self._nodes.pick()] * len(requests)
        else:
            urls = [self._nodes.for_key(key) for key in keys]
        secret = self._credentials.get_frozen_credentials()
        target, now = f"{api}.{operation}", time.time()
        sent, packed = [], []  # each request's node and bytes, and whether it is compressed
        for url, request in zip(urls, requests, strict=True):
            # Signed for the node it goes to: the Host header is part of the signature.
            data, gzip = self._encoded(request, host_of(url), target, secret, now)
            sent.append((url, data))
            packed.append(gzip)
        answers = self._pools.send_each(sent)
        return [
            self._outcome(answer, operation, url, gzip)
            for answer, url, gzip in zip(answers, urls, packed, strict=True)
        ]

    def _encoded(
        self, request: dict[str, Any], host: str, target: str, secret: Secret, now: float
    ) -> tuple[bytes, bool]:
        """The request's bytes: its JSON body (gzipped, when on and worth it), signed."""
        body = orjson.dumps(request)
        packed = gzipped(body) if self._compression else None
        encoding = None if packed is None else ENCODING
        body = body if packed is None else packed
        headers = self._signer.headers(host, self._signed_path, target, body, secret, now, encoding)
        return request_bytes("POST", self._path, headers, body), packed is not None

    def _outcome(
        self, answer: http1.Answer | OSError, operation: str, url: str, packed: bool = False
    ) -> Answer | ToolkitError:
        if isinstance(answer, TlsFailed):
            return tls_failed(answer, operation, self._role + url)
        if isinstance(answer, OSError):
            self._nodes.failed(url)
            self._reachability.failed(self._role + url, answer)
            return self._failed(connection_failed(answer, operation, self._role + url))
        self._reachability.answered()
        if answer.status == 200:
            return Answer(orjson.loads(answer.body), len(answer.body))
        if packed:
            code, message = read_error(answer.body)
            if refused(answer.status, code, message):
                return compression_refused(operation, self._role + url, message)
        return self._failed(self._error(answer.status, answer.body, operation, url))

    def close(self) -> None:
        self._pools.close()

    def _failed(self, error: ServiceError | ServiceBusy) -> ServiceError | ServiceBusy:
        if self._on_failure is not None:
            self._on_failure(error.operation, error.code)
        return error

    def _error(
        self, status: int, data: bytes, operation: str, url: str
    ) -> ServiceError | ServiceBusy:
        code, message = read_error(data)
        return from_answer(status, code, message, operation, self._role + url)
