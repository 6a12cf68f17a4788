"""The data plane's one I/O seam: signed JSON requests over pooled HTTP.

Scan, BatchWriteItem, BatchGetItem, GetItem, GetShardIterator and GetRecords carry
items, so they skip boto3: requests are signed with botocore's SigV4, sent over a
urllib3 connection pool and encoded/decoded with orjson. Items stay in DynamoDB's
wire form from one answer to the next request; nothing here looks inside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import orjson
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from toolkit.service_errors import code_of, connection_failed, from_answer

DYNAMODB_API = "DynamoDB_20120810"
STREAMS_API = "DynamoDBStreams_20120810"


class CredentialSource(Protocol):
    """botocore credentials (static or refreshing): asked afresh for every request."""

    def get_frozen_credentials(self) -> Any: ...


@dataclass(frozen=True)
class Answer:
    body: dict[str, Any]
    size: int  # bytes on the wire, for progress and summaries


class DataPlane:
    """One endpoint, one region, one pool of connections shared by all workers."""

    def __init__(
        self,
        url: str,
        region: str,
        credentials: CredentialSource,
        *,
        connections: int = 16,
        timeout: float = 30.0,
        ca_bundle: str | None = None,
    ) -> None:
        parts = urlsplit(url)
        self.url = url
        self._path = parts.path or "/"
        self._region = region
        self._credentials = credentials
        self._pool = urllib3.connection_from_url(
            url,
            maxsize=connections,
            block=True,
            timeout=urllib3.Timeout(connect=5.0, read=timeout),
            **({"ca_certs": ca_bundle} if ca_bundle else {}),
        )

    def call(self, operation: str, request: dict[str, Any], api: str = DYNAMODB_API) -> Answer:
        body = orjson.dumps(request)
        headers = self._signed_headers(body, f"{api}.{operation}")
        try:
            response = self._pool.urlopen(
                "POST", self._path, body=body, headers=headers, retries=False, redirect=False
            )
        except urllib3.exceptions.HTTPError as error:
            raise connection_failed(error, operation, self.url) from None
        data = response.data
        if response.status == 200:
            return Answer(orjson.loads(data), len(data))
        raise self._error(response.status, data, operation)

    def close(self) -> None:
        self._pool.close()

    def _signed_headers(self, body: bytes, target: str) -> dict[str, str]:
        request = AWSRequest(
            method="POST",
            url=self.url,
            data=body,
            headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target},
        )
        credentials = self._credentials.get_frozen_credentials()
        SigV4Auth(credentials, "dynamodb", self._region).add_auth(request)
        return dict(request.headers.items())

    def _error(self, status: int, data: bytes, operation: str) -> Exception:
        try:
            body = orjson.loads(data)
        except orjson.JSONDecodeError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        message = str(
            body.get("message") or body.get("Message") or data[:200].decode(errors="replace")
        )
        return from_answer(status, code_of(body), message, operation, self.url)
