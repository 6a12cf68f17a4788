"""A fault-injecting HTTP proxy for the tests, placed in front of a DynamoDB endpoint.

It listens on 127.0.0.1 and forwards each request to one upstream server, or
answers it with a fault, by a mode the test switches while clients run:

- PASS: forward the request, return the upstream's answer unchanged;
- REFUSE: the listening socket is closed (a new connection is refused) and open
  connections are cut: the server looks unreachable;
- RESET: connections are accepted, each request is read and the connection reset
  without an answer (nothing is forwarded);
- THROTTLE: HTTP 400 with ``__type`` ProvisionedThroughputExceededException;
- ERROR: HTTP 500 with ``__type`` InternalServerError.

Two more faults take a request's operation into account: ``answer_page`` answers
the chosen operations with a page of the test's (an XML error document, an HTML
page: what a proxy or a load balancer in front of a server sends), and ``hold``
keeps the chosen operations waiting until the test lets them through.

Every outcome is counted, so a test can assert that its faults really happened.
Hooks let a test answer GETs itself (a fake Alternator node's ``/localnodes``) and
see each request's operation and body, and a TLS context makes it an https server.
"""

from __future__ import annotations

import contextlib
import enum
import http.client
import json
import socket
import ssl
import struct
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_PREFIX = "com.amazonaws.dynamodb.v20120810#"
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"}
)


class Mode(enum.Enum):
    PASS = "pass"
    REFUSE = "refuse"
    RESET = "reset"
    THROTTLE = "throttle"
    ERROR = "error"


# The answer each answering fault mode sends: (status, __type, counter).
_ANSWERS = {
    Mode.THROTTLE: (400, "ProvisionedThroughputExceededException", "throttled"),
    Mode.ERROR: (500, "InternalServerError", "error500"),
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, proxy: FaultProxy, tls: ssl.SSLContext | None) -> None:
        self.proxy = proxy
        super().__init__(("127.0.0.1", port), Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the clients' connection pools expect
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and
        # the client's delayed ACK hold each answer back about 40 ms.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.proxy.opened(self.connection)

    def finish(self) -> None:
        try:
            with contextlib.suppress(OSError):  # the connection was cut on purpose
                super().finish()
        finally:
            self.server.proxy.closed(self.connection)

    def do_POST(self) -> None:
        self.server.proxy.handle(self)

    do_GET = do_POST

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read the counters instead."""


@dataclass(frozen=True)
class Page:
    """An answer of the test's own: any status, body and content type."""

    status: int
    body: bytes
    content_type: str = "text/html"


AnswerGet = Callable[[str], bytes | None]  # path -> the answer's body, or None to forward
Observe = Callable[[str, bytes], None]  # (X-Amz-Target, body) of each request
Upstream = tuple[int, bytes, dict[str, str]]  # an answer: status, body, headers


class FaultProxy:
    """Start with ``start()`` (or as a context manager); ``url`` is where clients go."""

    def __init__(
        self,
        upstream: str,
        *,
        answer_get: AnswerGet | None = None,
        observe: Observe | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.hostname not in ("127.0.0.1", "localhost") or parts.port is None:
            raise ValueError(f"the proxy forwards to this machine only, not {upstream}")
        self._upstream = (parts.hostname, parts.port)
        self._lock = threading.Lock()
        self._mode = Mode.PASS
        self._counts: Counter[str] = Counter()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._answer_get, self._observe, self._tls = answer_get, observe, tls
        self._pages: dict[str, Page] = {}  # operation -> the page it is answered with
        self._held: dict[str, threading.Event] = {}  # operation -> set when it may go on
        self.port = 0

    @property
    def url(self) -> str:
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        with self._lock:
            self._listen()

    def close(self) -> None:
        with self._lock:
            self._stop_listening()
            self._cut_connections()

    def set_mode(self, mode: Mode) -> None:
        """Switch modes; when this returns, the new mode holds for every connection."""
        with self._lock:
            self._mode = mode
            if mode is Mode.REFUSE:
                self._stop_listening()
            elif self._server is None:
                self._listen()
            if mode in (Mode.REFUSE, Mode.RESET):
                self._counts["cut"] += self._cut_connections()

    def answer_page(self, operations: Iterable[str], page: Page | None) -> None:
        """Answer these operations (e.g. "DescribeTable") with ``page``; None forwards again."""
        with self._lock:
            for operation in operations:
                if page is None:
                    self._pages.pop(operation, None)
                else:
                    self._pages[operation] = page

    def hold(self, operation: str) -> threading.Event:
        """Keep requests of ``operation`` waiting until the returned event is set."""
        with self._lock:
            return self._held.setdefault(operation, threading.Event())

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def count(self, name: str) -> int:
        with self._lock:
            return self._counts[name]

    # --- called by the handler threads ----------------------------------------------

    def opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)
            self._counts["connections"] += 1

    def closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def handle(self, handler: Handler) -> None:
        received = self.received(
            handler, handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        )
        if received is None:
            return
        body, mode = received, self._mode
        target = handler.headers.get("X-Amz-Target", "")
        if self._observe is not None:
            self._observe(target, body)
        operation = target.rsplit(".", 1)[-1]
        with self._lock:
            page, held = self._pages.get(operation), self._held.get(operation)
        if held is not None:
            self._tally(f"held {operation}")
            held.wait(60)
        if page is not None:
            self._tally(f"page {operation}")
            send_answer(handler, page.status, page.body, {"Content-Type": page.content_type})
            return
        getting = handler.command == "GET" and self._answer_get is not None
        answer = self._answer_get(handler.path) if self._answer_get and getting else None
        if mode in (Mode.REFUSE, Mode.RESET):
            self._tally("reset")
            handler.close_connection = True
            _reset(handler.connection)
        elif mode in _ANSWERS:
            status, code, counter = _ANSWERS[mode]
            message = {"__type": _PREFIX + code, "message": f"injected by the test proxy ({code})"}
            self._tally(counter)
            send_answer(handler, status, json.dumps(message).encode(), {})
        elif answer is not None:
            self._tally("answered")
            send_answer(handler, 200, answer, {"Content-Type": "application/json"})
        else:
            self._forward(handler, body)

    def received(self, handler: Handler, body: bytes) -> bytes | None:
        """The request's body as the proxy goes on with it; None when answered already
        (a subclass's hook: a fake Alternator node decompresses a body here)."""
        return body

    # --- internals ----------------------------------------------------------------

    def _tally(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def _forward(self, handler: Handler, body: bytes) -> None:
        """Send the request upstream on a connection of its own; relay the answer as is."""
        answer = self.send_upstream(handler, body)
        if answer is None:
            send_answer(handler, 502, b"upstream failed", {})
            return
        status, data, headers = answer
        send_answer(handler, status, data, headers)

    def send_upstream(self, handler: Handler, body: bytes) -> Upstream | None:
        """The upstream's answer to this request with ``body``: status, data, headers."""
        headers = {
            k: v
            for k, v in handler.headers.items()
            if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length"
        }
        upstream = http.client.HTTPConnection(*self._upstream, timeout=60)
        try:
            upstream.request(handler.command, handler.path, body, headers)
            response = upstream.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self._tally("upstream_failed")
            return None
        finally:
            upstream.close()
        self._tally("forwarded")
        kept = {k: v for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP}
        return response.status, data, kept

    def _listen(self) -> None:
        if self._server is not None:
            return
        server = _Server(self.port, self, self._tls)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def _stop_listening(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def _cut_connections(self) -> int:
        """Shut every open connection down (its handler wakes, the client sees EOF)."""
        for connection in self._connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        return len(self._connections)


def send_answer(handler: Handler, status: int, data: bytes, headers: dict[str, str]) -> None:
    try:
        handler.send_response_only(status)
        for name, value in headers.items():
            if name.lower() != "content-length":
                handler.send_header(name, value)
        if not any(name.lower() == "content-type" for name in headers):
            handler.send_header("Content-Type", "application/x-amz-json-1.0")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()
    except OSError:
        handler.close_connection = True  # cut while answering: the client retries


def _reset(connection: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer gets a TCP RST instead of an orderly close."""
    try:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        return
    # The handler's files still hold the socket: it really closes, with the RST, when
    # the handler finishes a moment later.
    connection.close()
