"""gzip request bodies for Alternator: compressed from a size, signed as sent, refusals said once.

The requests are caught by a small HTTP server on 127.0.0.1 that keeps what it was
sent: what reaches the wire is what a real Alternator would read, and its signature is
checked with botocore's own SigV4 over the bytes received.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import Endpoints
from tests.fakes.fault_proxy import FaultProxy, Handler, send_answer
from tests.helpers import run_cli
from tests.tables import CREDENTIALS, create_table, load, section, write_config
from toolkit.config import parse_config
from toolkit.errors import ServiceError, UserError
from toolkit.wire.compression import GZIP_FROM_BYTES, gzipped
from toolkit.wire.connections import connect
from toolkit.wire.dataplane import DataPlane

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# What ScyllaDB before 2026.1 answers a compressed body: it parses the gzip bytes as JSON.
OLD_SCYLLA = (
    b'{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException",'
    b'"message":"Parsing JSON failed: Invalid value. at 70459088"}'
)


class Catcher(BaseHTTPRequestHandler):
    answer: tuple[int, bytes] = (200, b"{}")
    seen: list[tuple[dict[str, str], bytes]] = []  # noqa: RUF012

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Catcher.seen.append((dict(self.headers), body))
        status, data = Catcher.answer
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def catcher() -> Iterator[str]:
    Catcher.seen, Catcher.answer = [], (200, b"{}")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Catcher)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def batch(items: int) -> dict[str, Any]:
    """A BatchWriteItem of text-like items: about 60 bytes of JSON each."""
    writes = [
        {"PutRequest": {"Item": {"id": {"S": f"item-{n:06d}"}, "text": {"S": f"word {n % 7}"}}}}
        for n in range(items)
    ]
    return {"RequestItems": {"t": writes}}


def signature_holds(headers: dict[str, str], body: bytes, url: str) -> bool:
    """botocore's SigV4 over the request as received gives the signature it carries."""
    given_auth = headers["Authorization"]
    signed = given_auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    request = AWSRequest(method="POST", url=url + "/", data=body)
    for name, value in headers.items():
        if name.lower() in signed:
            request.headers[name] = value
    request.context["timestamp"] = headers["X-Amz-Date"]
    auth = SigV4Auth(Credentials("test", "test"), "dynamodb", "us-east-1")
    auth.add_auth(request)
    return request.headers["Authorization"] == given_auth


@given(st.binary(max_size=3 * GZIP_FROM_BYTES), st.integers(0, 2 * GZIP_FROM_BYTES))
def test_a_body_is_compressed_only_from_the_threshold_and_only_when_it_shrinks(
    body: bytes, threshold: int
) -> None:
    packed = gzipped(body, threshold)
    if packed is not None:
        assert len(body) >= threshold and len(packed) < len(body)
        assert gzip.decompress(packed) == body
    elif len(body) >= threshold:
        assert len(gzip.compress(body, 1, mtime=0)) >= len(body)


def test_a_large_request_is_sent_gzipped_and_signed_as_sent(catcher: str) -> None:
    plane = DataPlane(catcher, "us-east-1", CREDENTIALS, compression=True)
    request = batch(100)
    assert len(orjson.dumps(request)) >= GZIP_FROM_BYTES
    plane.call("BatchWriteItem", request)
    headers, body = Catcher.seen[-1]
    assert headers["Content-Encoding"] == "gzip"
    assert "content-encoding;content-type;" in headers["Authorization"]
    assert orjson.loads(gzip.decompress(body)) == request
    assert len(body) < len(orjson.dumps(request)) / 2
    assert signature_holds(headers, body, catcher)
    assert not signature_holds(headers, orjson.dumps(request), catcher)  # not of the JSON


@pytest.mark.parametrize(("compression", "items"), [(True, 2), (False, 100)])
def test_a_small_request_or_compression_off_sends_the_body_as_it_is(
    catcher: str, compression: bool, items: int
) -> None:
    plane = DataPlane(catcher, "us-east-1", CREDENTIALS, compression=compression)
    plane.call("BatchWriteItem", batch(items))
    headers, body = Catcher.seen[-1]
    assert "Content-Encoding" not in headers
    assert orjson.loads(body) == batch(items)
    assert signature_holds(headers, body, catcher)


def test_a_server_that_cannot_read_compressed_requests_is_said_once_not_retried(
    catcher: str,
) -> None:
    Catcher.answer = (400, OLD_SCYLLA)
    plane = DataPlane(catcher, "us-east-1", CREDENTIALS, role="target", compression=True)
    with pytest.raises(UserError) as raised:
        plane.call("BatchWriteItem", batch(100))
    message = str(raised.value)
    assert not raised.value.transient and "\n" not in message
    assert "cannot read gzip-compressed requests" in message
    assert "set compression: false" in message and f"target {catcher}" in message
    assert len(Catcher.seen) == 1
    with pytest.raises(ServiceError) as plain:  # the same answer to a plain body: as it says
        plane.call("BatchWriteItem", batch(2))
    assert plain.value.code == "ValidationException"
    assert "compression" not in str(plain.value)


def alternator_target(url: str, **settings: object) -> dict[str, Any]:
    host, port = url.rsplit(":", 1)
    return {
        "type": "alternator",
        "table": "dst",
        "endpoint": {"host": host, "port": int(port)},
        "credentials": {"accessKey": "test", "secretKey": "test"},
        "localNodes": False,
        **settings,
    }


@pytest.mark.parametrize(
    ("settings", "compressed"),
    [({"compression": True}, True), ({"alternator": {"compression": True}}, True), ({}, False)],
)
def test_the_compression_setting_reaches_the_target_s_requests(
    catcher: str, settings: dict[str, object], compressed: bool
) -> None:
    config = parse_config(
        {"source": {"table": "src"}, "target": alternator_target(catcher, **settings)}
    )
    assert not [n for n in config.notes if "compression" in n]
    plane = connect("target", config.target).data_plane(4)
    plane.call("BatchWriteItem", batch(100))
    assert ("Content-Encoding" in Catcher.seen[-1][0]) == compressed


class OldScylla(FaultProxy):
    """A node of a ScyllaDB before 2026.1: a compressed body is parsed as JSON, and refused."""

    refused = 0

    def _forward(self, handler: Handler, body: bytes) -> None:
        if handler.headers.get("Content-Encoding"):
            OldScylla.refused += 1
            send_answer(handler, 400, OLD_SCYLLA, {})
            return
        super()._forward(handler, body)


def test_migrate_to_a_scylla_that_cannot_read_compressed_requests_stops_with_one_line(
    endpoints: Endpoints, table_name: str, tmp_path: Path, source_client: DynamoDBClient
) -> None:
    create_table(source_client, table_name)
    items = ({"id": {"S": f"k{n:04}"}, "pad": {"S": "x" * 100}} for n in range(100))
    load(endpoints.source, table_name, items, ["id"])
    OldScylla.refused = 0
    with OldScylla(endpoints.target) as node:
        target = section(node.url, table_name, type="alternator", localNodes=False)
        config = write_config(
            tmp_path / "c.yaml",
            section(endpoints.source, table_name, scanSegments=1),
            {**target, "compression": True, "streamChanges": False},
        )
        result = run_cli("migrate", "--config", str(config), "--state", str(tmp_path / "s"))
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "set compression: false" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert OldScylla.refused == 1  # one batch of 100 items: sent once, never again
