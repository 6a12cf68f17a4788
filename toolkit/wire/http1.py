"""Keep-alive HTTP/1.1 connections for the data plane: one request out, one answer back.

The data plane sends only small POSTs to DynamoDB-compatible endpoints, so it
needs little of HTTP: a request written in one send, an answer delimited by
Content-Length or chunked encoding, keep-alive. urllib3 and http.client cost
about 30 us per item in 25-item batches (header objects, email parsing, retry
and timeout objects); this costs a few. Failures raise OSError (TlsFailed when
a TLS handshake fails); the data plane translates them in one place. The pools
that keep these connections, and their reuse rules, are in toolkit/wire/pools.py.
"""

from __future__ import annotations

import functools
import io
import socket
import ssl
import zlib
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urlsplit

CONNECT_SECONDS = 5.0  # unless the side's connectionTimeoutMs says otherwise
DEFAULT_PORTS = {"http": 80, "https": 443}


class TlsFailed(OSError):
    """The TLS handshake failed: sending again cannot help."""


class BadAnswer(OSError):
    """The server's answer is not HTTP/1.x as expected, or arrived damaged."""


class Stale(OSError):
    """A kept-alive connection was closed by the server before it answered anything."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes
    reusable: bool  # the connection may carry the next request


def request_bytes(method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    head = f"{method} {path} HTTP/1.1\r\n{lines}Content-Length: {len(body)}\r\n\r\n"
    return head.encode("latin-1") + body


def read_answer(stream: BinaryIO) -> Answer:
    """Read one answer from a buffered stream (1xx interim answers are skipped)."""
    while True:
        version, status = _status_line(stream.readline(65537))
        headers = _headers(stream)
        if not 100 <= status < 200:
            break
    body, delimited = _body(stream, headers)
    expected = headers.get("x-amz-crc32")
    if expected is not None and expected.isdigit() and zlib.crc32(body) != int(expected):
        raise BadAnswer("the answer's CRC32 does not match its body: damaged on the way")
    connection = headers.get("connection", "").lower()
    keep = connection == "keep-alive" if version == "HTTP/1.0" else connection != "close"
    return Answer(status, headers, body, keep and delimited)


def _status_line(line: bytes) -> tuple[str, int]:
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise BadAnswer(f"not an HTTP/1.x answer: {line[:80]!r}")
    return parts[0].decode("ascii"), int(parts[1])


def _headers(stream: BinaryIO) -> dict[str, str]:
    headers: dict[str, str] = {}
    while True:
        line = stream.readline(65537)
        if line in (b"\r\n", b"\n"):
            return headers
        if not line:
            raise BadAnswer("the answer's headers were cut short")
        name, colon, value = line.partition(b":")
        if not colon:
            raise BadAnswer(f"malformed header line {line[:80]!r}")
        headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")


def _body(stream: BinaryIO, headers: dict[str, str]) -> tuple[bytes, bool]:
    """The body, and whether its end was marked (else it ran to the connection's end)."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return _chunks(stream), True
    length = headers.get("content-length")
    if length is None:
        return stream.read(), False
    if not length.isdigit():
        raise BadAnswer(f"bad Content-Length {length!r}")
    return _exactly(stream, int(length)), True


def _chunks(stream: BinaryIO) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = stream.readline(1026).split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise BadAnswer(f"bad chunk size {size_line[:40]!r}") from None
        if size == 0:
            _headers(stream)  # trailers, up to the blank line
            return b"".join(parts)
        parts.append(_exactly(stream, size))
        _exactly(stream, 2)  # the chunk's CRLF


def _exactly(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise BadAnswer(f"the answer was cut short ({len(data)} of {size} bytes)")
    return data


class Connection:
    """One connection to one node, opened on first use and kept open while answers allow."""

    def __init__(
        self,
        url: str,
        tls: ssl.SSLContext | None,
        timeout: float,
        connect_seconds: float | None = CONNECT_SECONDS,  # None: the system's own limit
    ) -> None:
        parts = urlsplit(url)
        self._host = parts.hostname or ""
        self._port = parts.port or DEFAULT_PORTS.get(parts.scheme, 80)
        self._tls = tls
        self._timeout = timeout
        self._connect_seconds = connect_seconds
        self.born = self.idle_since = 0.0  # stamped by Pools, on its clock
        self._socket: socket.socket | None = None
        self._stream: io.BufferedReader | None = None
        self._reused = self._delivered = False  # of the request last sent

    def exchange(self, request: bytes) -> Answer:
        self.send(request)
        return self.receive()

    def send(self, request: bytes) -> None:
        """Send a request; its answer is read by ``receive``, so that several
        connections can wait for their answers at once."""
        self._reused = self._socket is not None
        if self._socket is None:
            self._open()
        assert self._socket is not None
        try:
            self._socket.sendall(request)
            self._delivered = True
        except (ConnectionError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
            self._delivered = False
        except OSError:
            self.close()
            raise

    def receive(self) -> Answer:
        assert self._stream is not None
        try:
            answered = self._delivered and bool(self._stream.peek(1))
        except (ConnectionError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
            answered = False
        except OSError:
            self.close()
            raise
        if not answered:
            self.close()
            if self._reused:  # closed while idle: the request never reached the server
                raise Stale("the server closed the kept-alive connection")
            raise BadAnswer("the server closed the connection without answering")
        try:
            answer = read_answer(self._stream)
        except OSError:
            self.close()
            raise
        if not answer.reusable:
            self.close()
        return answer

    @property
    def is_open(self) -> bool:
        return self._socket is not None

    def close(self) -> None:
        # The stream first: a socket with an open makefile() keeps its descriptor.
        if self._stream is not None:
            self._stream.close()
        if self._socket is not None:
            self._socket.close()
        self._socket = self._stream = None

    def _open(self) -> None:
        address = (self._host, self._port)
        sock = socket.create_connection(address, timeout=self._connect_seconds)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls is not None:
            try:
                sock = self._tls.wrap_socket(sock, server_hostname=self._host)
            except (ssl.SSLError, ssl.CertificateError) as error:
                sock.close()
                raise TlsFailed(str(error)) from None
        sock.settimeout(self._timeout)
        self._socket = sock
        self._stream = sock.makefile("rb")


@functools.cache  # asked for every request, of the few URLs of one cluster's nodes
def host_of(url: str) -> str:
    """The Host header for a URL: lower-case, no port when it is the scheme's default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    if parts.port is not None and parts.port != DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host
