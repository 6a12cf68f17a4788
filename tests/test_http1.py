"""The data plane's HTTP/1.1: any well-framed answer is read exactly, damage is an error.

Answers are read from bytes (every framing, split at random), and connections are
tested against a scripted socket server on 127.0.0.1 for what DynamoDB Local does
not do on demand: closing a kept-alive connection, answering without keep-alive,
or closing without an answer.
"""

from __future__ import annotations

import io
import socket
import threading
import zlib
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.tables import CREDENTIALS
from toolkit.errors import ServiceBusy
from toolkit.wire.dataplane import DataPlane
from toolkit.wire.http1 import Answer, BadAnswer, Pools, read_answer, request_bytes

NEXT = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"  # what follows on the stream


@st.composite
def answers(draw: st.DrawFn) -> tuple[bytes, int, bytes, bool]:
    """The bytes of one answer, with its status, body and whether it keeps the connection."""
    status = draw(st.sampled_from([200, 400, 413, 500, 503]))
    body = draw(st.binary(max_size=3000))
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0"]))
    connection = draw(st.sampled_from([None, "close", "keep-alive", "Keep-Alive"]))
    framing = draw(st.sampled_from(["length", "chunked", "until-close"]))
    head = [f"{version} {status} Whatever Reason"]
    if draw(st.booleans()):
        head.append(f"x-amz-crc32: {zlib.crc32(body)}")
    if connection:
        head.append(f"Connection: {connection}")
    if framing == "length":
        head.append(f"content-LENGTH:  {len(body)} ")
        payload = body
    elif framing == "chunked":
        head.append("Transfer-Encoding: chunked")
        cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=6)))
        pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
        payload = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in pieces if p)
        payload += b"0\r\nTrailer-Name: x\r\n\r\n"
    else:
        payload = body
    interim = b"HTTP/1.1 100 Continue\r\n\r\n" if draw(st.booleans()) else b""
    raw = interim + ("\r\n".join(head) + "\r\n\r\n").encode() + payload
    keeps = (connection or "").lower() == "keep-alive" if version == "HTTP/1.0" else True
    keeps = keeps and connection != "close" and framing != "until-close"
    return raw, status, body, keeps


@given(answers())
def test_every_framing_is_read_to_its_exact_end(answer: tuple[bytes, int, bytes, bool]) -> None:
    raw, status, body, keeps = answer
    delimited = keeps or b"Transfer-Encoding" in raw or b"LENGTH" in raw
    stream = io.BytesIO(raw + (NEXT if delimited else b""))
    read = read_answer(stream)
    assert (read.status, read.body, read.reusable) == (status, body, keeps)
    if delimited:  # the next answer on the connection starts where this one ended
        assert read_answer(stream).status == 204


DAMAGED = {
    "a body that does not match its CRC32": (
        b"HTTP/1.1 200 OK\r\nx-amz-crc32: 1\r\nContent-Length: 2\r\n\r\n{}"
    ),
    "a body cut short": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}",
    "a chunk cut short": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n{}",
    "a bad chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "a bad length": b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    "not HTTP": b"SSH-2.0-OpenSSH_9.2\r\n",
    "nothing at all": b"",
    "a header without a colon": b"HTTP/1.1 200 OK\r\nbroken\r\n\r\n",
    "headers cut short": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n",
}


@pytest.mark.parametrize("raw", DAMAGED.values(), ids=DAMAGED.keys())
def test_a_damaged_answer_is_an_error(raw: bytes) -> None:
    with pytest.raises(BadAnswer):
        read_answer(io.BytesIO(raw))


class Scripted:
    """A socket server whose connections follow a script: how to end each answer."""

    def __init__(self, after_answer: Callable[[int], str]) -> None:
        self.after_answer = after_answer  # request number -> "keep", "close" or "silent"
        self.connections = 0
        self.requests = 0
        self.ended_by_client = threading.Semaphore(0)  # released at each end the client made
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        stream = conn.makefile("rb")
        with conn:
            while True:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = stream.readline()
                    if not line:
                        self.ended_by_client.release()
                        return
                    head += line
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                stream.read(length)
                self.requests += 1
                how = self.after_answer(self.requests)
                if how == "silent":
                    return
                body = b'{"n":%d}' % self.requests
                close = b"Connection: close\r\n" if how == "close" else b""
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n%s" % (close, len(body), body)
                )
                if how != "keep":
                    return

    def close(self) -> None:
        self._server.close()


Start = Callable[[Callable[[int], str]], Scripted]


@pytest.fixture
def scripted() -> Iterator[Start]:
    servers: list[Scripted] = []

    def start(after_answer: Callable[[int], str]) -> Scripted:
        servers.append(Scripted(after_answer))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def post(pools: Pools, url: str) -> Answer:
    return pools.send(url, request_bytes("POST", "/", {"Host": "x"}, b"{}"))


def test_one_connection_carries_every_request_while_answers_keep_it(scripted: Start) -> None:
    server = scripted(lambda n: "keep")
    pools = Pools()
    assert [post(pools, server.url).body for _ in range(5)] == [
        b'{"n":%d}' % n for n in range(1, 6)
    ]
    assert server.connections == 1


def test_an_answer_that_closes_is_followed_by_a_new_connection(scripted: Start) -> None:
    server = scripted(lambda n: "close")
    pools = Pools()
    assert [post(pools, server.url).body for _ in range(3)] == [b'{"n":1}', b'{"n":2}', b'{"n":3}']
    assert server.connections == 3


def test_a_kept_connection_closed_while_idle_is_replaced_and_the_request_sent_once(
    scripted: Start,
) -> None:
    server = scripted(lambda n: "hang up")  # answers, then closes without saying so
    pools = Pools()
    assert post(pools, server.url).body == b'{"n":1}'
    assert post(pools, server.url).body == b'{"n":2}'
    assert (server.connections, server.requests) == (2, 2)


def test_no_answer_on_a_new_connection_is_a_transient_error_naming_the_side(
    scripted: Start,
) -> None:
    server = scripted(lambda n: "silent")
    plane = DataPlane(server.url, "us-east-1", CREDENTIALS, role="source")
    with pytest.raises(ServiceBusy) as raised:
        plane.call("Scan", {"TableName": "t"})
    assert raised.value.transient
    assert f"Scan: cannot reach source {server.url} (" in str(raised.value)
    assert "without answering" in str(raised.value)
    assert server.requests == 1  # a request that may have arrived is not sent again here


def test_closing_the_pools_closes_their_idle_connections(scripted: Start) -> None:
    server = scripted(lambda n: "keep")
    pools = Pools()
    post(pools, server.url)
    pools.close()
    assert server.ended_by_client.acquire(timeout=5), "the idle connection was left open"
    assert post(pools, server.url).body == b'{"n":2}'  # still usable: a new connection
    assert server.connections == 2
