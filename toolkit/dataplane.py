"""The data plane's one I/O seam: signed JSON requests over pooled HTTP.

Scan, BatchWriteItem, BatchGetItem, GetItem, GetShardIterator and GetRecords carry
items, so they skip boto3: requests are signed with botocore's SigV4, sent over a
urllib3 connection pool and encoded/decoded with orjson. Items stay in DynamoDB's
wire form from one answer to the next request; nothing here looks inside them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import orjson
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from toolkit.service_errors import code_of, connection_failed, from_answer, tls_failed

DYNAMODB_API = "DynamoDB_20120810"
STREAMS_API = "DynamoDBStreams_20120810"


class CredentialSource(Protocol):
    """botocore credentials (static or refreshing): asked afresh for every request."""

    def get_frozen_credentials(self) -> Any: ...


@dataclass(frozen=True)
class Answer:
    body: dict[str, Any]
    size: int  # bytes on the wire, for progress and summaries


class Nodes(Protocol):
    """Where each request goes: one endpoint, or the live nodes of a cluster."""

    def pick(self) -> str: ...

    def failed(self, url: str) -> None: ...


class OneNode:
    def __init__(self, url: str) -> None:
        self.url = url

    def pick(self) -> str:
        return self.url

    def failed(self, url: str) -> None:
        """Nowhere else to go: the retries decide."""


class Pools:
    """A pool of keep-alive connections per node, all with the same size and TLS trust."""

    def __init__(
        self, connections: int = 16, timeout: float = 30.0, ca_bundle: str | None = None
    ) -> None:
        self._options: dict[str, Any] = {
            "maxsize": connections,
            "block": True,
            "timeout": urllib3.Timeout(connect=5.0, read=timeout),
            **({"ca_certs": ca_bundle} if ca_bundle else {}),
        }
        self._pools: dict[str, urllib3.HTTPConnectionPool] = {}
        self._lock = threading.Lock()

    def pool(self, url: str) -> urllib3.HTTPConnectionPool:
        pool = self._pools.get(url)
        if pool is None:
            with self._lock:
                pool = self._pools.get(url) or urllib3.connection_from_url(url, **self._options)
                self._pools[url] = pool
        return pool

    def get(self, url: str) -> tuple[int, bytes]:
        """A short GET (Alternator's /localnodes); connection failures raise OSError."""
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            response = self.pool(f"{parts.scheme}://{parts.netloc}").urlopen(
                "GET", path, retries=False, redirect=False, timeout=urllib3.Timeout(5.0, 5.0)
            )
        except urllib3.exceptions.HTTPError as error:
            raise OSError(str(error)) from None
        return response.status, response.data

    def close(self) -> None:
        with self._lock:
            for pool in self._pools.values():
                pool.close()


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
    ) -> None:
        self._nodes = OneNode(nodes) if isinstance(nodes, str) else nodes
        self._role = f"{role} " if role else ""  # errors name the side: "target http://..."
        self.url = self._nodes.pick()  # for messages that name the side's address
        self._path = urlsplit(self.url).path or "/"
        self._region = region
        self._credentials = credentials
        self._pools = pools or Pools(connections, timeout, ca_bundle)

    def call(self, operation: str, request: dict[str, Any], api: str = DYNAMODB_API) -> Answer:
        body = orjson.dumps(request)
        url = self._nodes.pick()
        headers = self._signed_headers(url, body, f"{api}.{operation}")
        try:
            response = self._pools.pool(url).urlopen(
                "POST", self._path, body=body, headers=headers, retries=False, redirect=False
            )
        except urllib3.exceptions.SSLError as error:
            raise tls_failed(error, operation, self._role + url) from None
        except urllib3.exceptions.HTTPError as error:
            self._nodes.failed(url)
            raise connection_failed(error, operation, self._role + url) from None
        data = response.data
        if response.status == 200:
            return Answer(orjson.loads(data), len(data))
        raise self._error(response.status, data, operation, url)

    def close(self) -> None:
        self._pools.close()

    def _signed_headers(self, url: str, body: bytes, target: str) -> dict[str, str]:
        # Signed for the node it goes to: the Host header is part of the signature.
        request = AWSRequest(
            method="POST",
            url=url,
            data=body,
            headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target},
        )
        credentials = self._credentials.get_frozen_credentials()
        SigV4Auth(credentials, "dynamodb", self._region).add_auth(request)
        return dict(request.headers.items())

    def _error(self, status: int, data: bytes, operation: str, url: str) -> Exception:
        try:
            body = orjson.loads(data)
        except orjson.JSONDecodeError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        message = str(
            body.get("message") or body.get("Message") or data[:200].decode(errors="replace")
        )
        return from_answer(status, code_of(body), message, operation, self._role + url)
