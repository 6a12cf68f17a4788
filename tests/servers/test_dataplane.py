"""The data plane's seam: signed requests to a real server, errors sorted once."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar, cast

import pytest

from tests.conftest import Endpoints
from tests.helpers import free_port
from tests.tables import CREDENTIALS, plane
from toolkit.config.alternator import NodeDiscovery
from toolkit.errors import ServiceBusy, ServiceError
from toolkit.logic.key_routing import NodeMap
from toolkit.wire.dataplane import Answer, DataPlane
from toolkit.wire.nodes import LiveNodes


def test_a_signed_request_reaches_the_real_server(endpoints: Endpoints) -> None:
    answer = plane(endpoints.source).call("ListTables", {})
    assert isinstance(answer.body["TableNames"], list)
    assert answer.size > 0


def test_a_missing_table_is_terminal_with_its_code(endpoints: Endpoints) -> None:
    with pytest.raises(ServiceError) as raised:
        plane(endpoints.source).call("Scan", {"TableName": "no_such_table_here"})
    assert raised.value.code == "ResourceNotFoundException"
    assert not raised.value.transient
    assert "Scan on http://127.0.0.1" in str(raised.value)


def test_a_refused_connection_is_transient_and_names_the_side() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ServiceBusy) as raised:
        DataPlane(url, "us-east-1", CREDENTIALS, role="target").call("ListTables", {})
    assert raised.value.transient
    assert f"ListTables: cannot reach target {url} (" in str(raised.value)


class Scripted(BaseHTTPRequestHandler):
    """Answers with the status and body the test sets: what a real server won't do on demand."""

    status = 500
    body = b'{"__type":"com.amazon.coral.service#InternalServerError","message":"boom"}'
    seen_headers: list[dict[str, str]] = []  # noqa: RUF012

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        Scripted.seen_headers.append(dict(self.headers))
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize(
    ("status", "code", "transient"),
    [
        (500, "InternalServerError", True),
        (503, "", True),
        (400, "ProvisionedThroughputExceededException", True),
        (400, "ThrottlingException", True),
        (400, "ValidationException", False),
        (400, "AccessDeniedException", False),
    ],
)
def test_answers_are_sorted_into_transient_and_terminal(
    scripted: str, status: int, code: str, transient: bool
) -> None:
    Scripted.status = status
    Scripted.body = (
        f'{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"m"}}'.encode()
        if code
        else b"<html>unavailable</html>"
    )
    with pytest.raises((ServiceBusy, ServiceError)) as raised:
        plane(scripted).call("BatchWriteItem", {"RequestItems": {}})
    assert raised.value.transient is transient
    assert getattr(raised.value, "code", None) == code


def test_requests_carry_sigv4_and_the_operation(scripted: str) -> None:
    Scripted.status, Scripted.body = 200, b"{}"
    Scripted.seen_headers.clear()
    plane(scripted).call("Scan", {"TableName": "t"})
    headers = {k.lower(): v for k, v in Scripted.seen_headers[-1].items()}
    assert headers["x-amz-target"] == "DynamoDB_20120810.Scan"
    assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=test/")
    assert "/us-east-1/dynamodb/aws4_request" in headers["authorization"]
    assert headers["content-type"] == "application/x-amz-json-1.0"


class Recording(BaseHTTPRequestHandler):
    """Answers {} to every POST and records, per server, the Host and the key it carried."""

    seen: ClassVar[list[tuple[int, str, str]]] = []  # (port, Host header, key)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        port = cast(ThreadingHTTPServer, self.server).server_port
        Recording.seen.append((port, self.headers["Host"], body["k"]))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def three_nodes() -> Iterator[list[str]]:
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), Recording) for _ in range(3)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield [f"127.0.0.1:{server.server_address[1]}" for server in servers]
    for server in servers:
        server.shutdown()


def test_each_request_goes_to_its_keys_node_signed_for_it(three_nodes: list[str]) -> None:
    listing = json.dumps(three_nodes).encode()
    discovery = NodeDiscovery((f"http://{three_nodes[0]}",), None, None, 60.0)
    nodes = LiveNodes(discovery, lambda url: (200, listing))
    data_plane = DataPlane(nodes, "us-east-1", CREDENTIALS, role="target")
    assert data_plane.spreads_writes and not plane(three_nodes[0]).spreads_writes
    keys = [f"k{n}".encode() for n in range(60)]
    Recording.seen.clear()
    outcomes = data_plane.call_all("PutItem", [{"k": k.decode()} for k in keys], keys=keys)
    data_plane.call("PutItem", {"k": "k0"}, key=b"k0")
    assert all(isinstance(outcome, Answer) for outcome in outcomes)
    mapping = NodeMap(f"http://{node}" for node in three_nodes)
    assert len(Recording.seen) == 61
    for port, host, key in Recording.seen:
        assert host == f"127.0.0.1:{port}"  # the Host header signed is the node's own
        assert mapping.node_for(key.encode()) == f"http://{host}"
    assert len({port for port, _, _ in Recording.seen}) == 3
