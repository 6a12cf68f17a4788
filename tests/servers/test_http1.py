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
from toolkit.errors import ServiceBusy, ServiceError
from toolkit.wire.dataplane import Answer as PlaneAnswer
from toolkit.wire.dataplane import DataPlane
from toolkit.wire.http1 import Answer, BadAnswer, read_answer, request_bytes
from toolkit.wire.pools import Pools, Reuse

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

    def __init__(self, after_answer: Callable[[int], str], together: int = 0) -> None:
        self.after_answer = after_answer  # request number -> "keep", "close", "silent", "refuse"
        # Answers held until this many requests are in: only requests in flight together
        # are answered (the others, after 5 s, not at all).
        self._together = threading.Barrier(together) if together else None
        self._count = threading.Lock()
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
                with self._count:
                    self.requests += 1
                    number = self.requests
                how = self.after_answer(number)
                if how == "silent" or not self._all_in():
                    return
                body = b'{"n":%d}' % number
                status = b"200 OK"
                if how == "refuse":
                    status, body = b"400 Bad Request", REFUSED
                close = b"Connection: close\r\n" if how == "close" else b""
                conn.sendall(
                    b"HTTP/1.1 %s\r\n%sContent-Length: %d\r\n\r\n%s"
                    % (status, close, len(body), body)
                )
                if how != "keep":
                    return

    def _all_in(self) -> bool:
        try:
            if self._together is not None:
                self._together.wait(timeout=5)
        except threading.BrokenBarrierError:
            return False
        return True

    def close(self) -> None:
        self._server.close()


REFUSED = b'{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"no"}'
Start = Callable[..., Scripted]


@pytest.fixture
def scripted() -> Iterator[Start]:
    servers: list[Scripted] = []

    def start(after_answer: Callable[[int], str], together: int = 0) -> Scripted:
        servers.append(Scripted(after_answer, together))
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


def test_requests_sent_together_are_in_flight_before_any_answer_is_read(
    scripted: Start,
) -> None:
    server = scripted(lambda n: "keep", together=4)  # answers none until all 4 are in
    pools = Pools()
    request = request_bytes("POST", "/", {"Host": "x"}, b"{}")
    for round_ in range(2):
        answers = pools.send_all(server.url, [request] * 4)
        assert all(isinstance(a, Answer) and a.status == 200 for a in answers), answers
        bodies = {a.body for a in answers if isinstance(a, Answer)}
        assert bodies == {b'{"n":%d}' % n for n in range(4 * round_ + 1, 4 * round_ + 5)}
    assert server.connections == 4  # each its own connection, kept for the next ones


def test_a_request_that_fails_among_others_leaves_their_answers(scripted: Start) -> None:
    server = scripted(lambda n: "silent" if n == 2 else "keep")
    pools = Pools()
    request = request_bytes("POST", "/", {"Host": "x"}, b"{}")
    answers = pools.send_all(server.url, [request] * 3)
    failed = [a for a in answers if isinstance(a, OSError)]
    assert len(failed) == 1 and isinstance(failed[0], BadAnswer), answers
    assert sum(isinstance(a, Answer) and a.status == 200 for a in answers) == 2
    assert server.requests == 3  # the failed one is not sent again here


def test_errors_of_requests_sent_together_are_each_request_s_own(scripted: Start) -> None:
    server = scripted(lambda n: "refuse" if n == 1 else "keep", together=3)
    plane = DataPlane(server.url, "us-east-1", CREDENTIALS, role="source")
    outcomes = plane.call_all("GetRecords", [{"ShardIterator": str(i)} for i in range(3)])
    refused = [o for o in outcomes if isinstance(o, ServiceError)]
    assert len(refused) == 1 and refused[0].code == "ValidationException", outcomes
    assert not refused[0].transient
    assert sum(isinstance(o, PlaneAnswer) for o in outcomes) == 2


# --- the Alternator client settings that shape the pools ---------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_at_most_max_connections_stay_open_per_node_between_requests(scripted: Start) -> None:
    server = scripted(lambda n: "keep", together=4)
    pools = Pools(connections=2)  # maxConnections: 2
    request = request_bytes("POST", "/", {"Host": "x"}, b"{}")
    for _ in range(2):
        answers = pools.send_all(server.url, [request] * 4)
        assert all(isinstance(a, Answer) and a.status == 200 for a in answers), answers
    assert server.connections == 4 + 2  # 2 kept from the first round, 2 opened again
    assert all(server.ended_by_client.acquire(timeout=5) for _ in range(2 + 2))


@pytest.mark.parametrize(("idle", "connections"), [(0.5, 1), (1.5, 2)])
def test_a_connection_idle_longer_than_connection_max_idle_time_is_not_reused(
    scripted: Start, idle: float, connections: int
) -> None:
    server = scripted(lambda n: "keep")
    clock = Clock()
    pools = Pools(reuse=Reuse(max_idle_seconds=1.0), clock=clock)
    for _ in range(3):
        clock.now += 0.4  # busy: never idle for long
        post(pools, server.url)
    clock.now += idle
    assert post(pools, server.url).body == b'{"n":4}'
    assert server.connections == connections
    if connections == 2:  # closed by this side, not left to the server
        assert server.ended_by_client.acquire(timeout=5)


def test_a_connection_older_than_connection_time_to_live_is_not_reused(scripted: Start) -> None:
    server = scripted(lambda n: "keep")
    clock = Clock()
    pools = Pools(reuse=Reuse(max_age_seconds=10.0), clock=clock)
    for now in (0.0, 4.0, 8.0, 12.0, 16.0):  # busy all along: only its age ends it
        clock.now = now
        post(pools, server.url)
    assert server.connections == 2  # opened at 0 (used until 8) and at 12
    assert server.ended_by_client.acquire(timeout=5)


def test_a_connect_that_is_not_accepted_gives_up_at_connection_timeout() -> None:
    with socket.create_server(("127.0.0.1", 0), backlog=0) as server:
        address = server.getsockname()
        waiting = socket.create_connection(address)  # fills the backlog: the next SYN waits
        url = f"http://127.0.0.1:{address[1]}"
        pools = Pools(timeout=3600.0, reuse=Reuse(connect_seconds=0.2))
        with waiting, pytest.raises(TimeoutError):
            post(pools, url)
