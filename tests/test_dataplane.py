"""The data plane's seam: signed requests to a real server, errors sorted once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import Endpoints
from tests.helpers import free_port
from tests.tables import CREDENTIALS, plane
from toolkit.errors import ServiceBusy, ServiceError
from toolkit.wire.dataplane import DataPlane


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
