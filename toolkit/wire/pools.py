"""Pools of kept-alive HTTP/1.1 connections, per node, and the rules for reusing one.

Several requests can be in flight together, each on its own connection: a quiet
stream's polls then wait for the server about once, not once each, which is most
of what an empty GetRecords costs the client (bench/RESULTS.md).
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from toolkit.wire.http1 import CONNECT_SECONDS, Answer, Connection, Stale, host_of, request_bytes


@dataclass(frozen=True)
class Reuse:
    """How long a connection may be kept, and how long its connect may take (None: no limit)."""

    connect_seconds: float | None = CONNECT_SECONDS
    max_idle_seconds: float | None = None  # idle longer: closed instead of reused
    max_age_seconds: float | None = None  # opened longer ago: closed instead of reused

    def too_old(self, connection: Connection, now: float) -> bool:
        age = self.max_age_seconds
        return age is not None and now - connection.born > age

    def worn(self, connection: Connection, now: float) -> bool:
        """Idle too long (a server may have closed it meanwhile) or too old to reuse."""
        idle = self.max_idle_seconds
        idled = idle is not None and now - connection.idle_since > idle
        return idled or self.too_old(connection, now)


class Pools:
    """Idle keep-alive connections per node, all with the same timeout and TLS trust.

    A request takes an idle connection, or opens one when none is idle: it never
    waits for one. At most ``connections`` are kept idle per node; the rest close.
    """

    def __init__(
        self,
        connections: int = 16,
        timeout: float = 30.0,
        ca_bundle: str | None = None,
        reuse: Reuse | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keep = connections  # idle connections kept per node
        self._timeout = timeout
        self._ca_bundle = ca_bundle
        self._reuse = reuse or Reuse()
        self._clock = clock
        self._tls: ssl.SSLContext | None = None
        self._idle: dict[str, list[Connection]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def send(self, url: str, request: bytes) -> Answer:
        """Send one request to the node at `url` and read its answer; OSError if it fails."""
        answer = self.send_all(url, [request])[0]
        if isinstance(answer, OSError):
            raise answer
        return answer

    def send_all(self, url: str, requests: Sequence[bytes]) -> list[Answer | OSError]:
        """Each request on a connection of its own, all sent before any answer is read,
        so that their waits for the server overlap: each one's answer, or its OSError."""
        return self.send_each([(url, request) for request in requests])

    def send_each(self, requests: Sequence[tuple[str, bytes]]) -> list[Answer | OSError]:
        """``send_all`` for requests to several nodes: (node's url, request) pairs."""
        sent: list[tuple[str, Connection, bytes, OSError | None]] = []
        for url, request in requests:
            connection = self._take(url)
            try:
                connection.send(request)
                sent.append((url, connection, request, None))
            except OSError as error:
                sent.append((url, connection, request, error))
        return [self._answer(*each) for each in sent]

    def _answer(
        self, url: str, connection: Connection, request: bytes, failed: OSError | None
    ) -> Answer | OSError:
        if failed is not None:
            return failed
        try:
            try:
                answer = connection.receive()
            except Stale:  # sent again once, on a new connection, as every HTTP client does
                connection = self._new(url)
                answer = connection.exchange(request)
        except OSError as error:
            return error
        self._give(url, connection)
        return answer

    def get(self, url: str) -> tuple[int, bytes]:
        """A short GET (Alternator's /localnodes) on a connection of its own."""
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request = request_bytes("GET", path, {"Host": host_of(url)}, b"")
        connection = self._new(url, CONNECT_SECONDS)
        try:
            answer = connection.exchange(request)
        finally:
            connection.close()
        return answer.status, answer.body

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def _take(self, url: str) -> Connection:
        while True:
            try:
                connection = self._idle[url].pop()  # list.pop is atomic: no lock needed
            except (KeyError, IndexError):
                return self._new(url)
            if not self._reuse.worn(connection, self._clock()):
                return connection
            connection.close()

    def _give(self, url: str, connection: Connection) -> None:
        now = self._clock()
        with self._lock:
            idle = self._idle.setdefault(url, [])
            keep = not self._closed and len(idle) < self._keep and connection.is_open
            keep = keep and not self._reuse.too_old(connection, now)
            if keep:
                connection.idle_since = now
                idle.append(connection)
        if not keep:
            connection.close()

    def _new(self, url: str, timeout: float | None = None) -> Connection:
        tls = self._context() if url.startswith("https:") else None
        timeout = self._timeout if timeout is None else timeout
        connection = Connection(url, tls, timeout, self._reuse.connect_seconds)
        connection.born = connection.idle_since = self._clock()
        return connection

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context(cafile=self._ca_bundle)
        return self._tls
