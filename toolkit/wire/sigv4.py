"""AWS Signature Version 4 for the data plane's JSON POSTs, with the signing key cached.

botocore's SigV4Auth derives the signing key (four HMACs) and builds a request
object and a header map for every request: about 10 us per item in 25-item
batches. Every data-plane request has the same shape (POST, JSON, one target
header), so this signer keeps the key per secret and day, and what a request
shape (host, target, credentials) shares within a second, and does one body
SHA-256, one canonical-request SHA-256 and one HMAC per request. Its output is
byte-for-byte what botocore would sign (tests/unit/test_sigv4.py checks it against
botocore). Pure: no I/O, no clock of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

CONTENT_TYPE = "application/x-amz-json-1.0"
ALGORITHM = "AWS4-HMAC-SHA256"
SIGNED = "content-type;host;x-amz-date;x-amz-target"
SIGNED_WITH_TOKEN = "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"


class Secret(Protocol):
    """One set of credentials, as botocore's get_frozen_credentials gives them."""

    @property
    def access_key(self) -> str | None: ...

    @property
    def secret_key(self) -> str | None: ...

    @property
    def token(self) -> str | None: ...


def canonical_path(path: str) -> str:
    """The URL path as SigV4 signs it: empty and dot segments removed, then quoted."""
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment not in ("", "."):
            kept.append(segment)
    lead = "/" if path.startswith("/") or not path else ""
    trail = "/" if path.endswith("/") and kept else ""
    return quote(lead + "/".join(kept) + trail, safe="/~")


class Signer:
    """Signs POSTs of JSON bodies for one region and service."""

    def __init__(self, region: str, service: str = "dynamodb") -> None:
        self._region = region
        self._service = service
        self._key: tuple[str | None, str, bytes] = (None, "", b"")  # (secret key, day, signing key)
        self._second: tuple[int, str, str] = (-1, "", "")  # (epoch second, stamp, scope)
        # What the requests of one shape share in one second: all but the body's hash
        # and the signature. By (host, path, target, stamp, token, access key, encoding).
        self._shapes: dict[tuple[str, str, str, str, str | None, str | None, str | None], _Shape]
        self._shapes = {}

    def headers(
        self,
        host: str,
        path: str,
        target: str,
        body: bytes,
        secret: Secret,
        now: float,
        encoding: str | None = None,
    ) -> dict[str, str]:
        """The request's headers, Authorization included, for the time `now` (epoch s).

        A compressed body is signed as sent, with its Content-Encoding signed too, as
        botocore signs a request it compressed."""
        stamp, scope = self._stamp(now)
        shape = self._shape(host, path, target, stamp, scope, secret, encoding)
        canonical = shape.canonical + hashlib.sha256(body).hexdigest()
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        # hmac.digest: OpenSSL's one-shot HMAC, without an HMAC object per request.
        key = self._signing_key(secret.secret_key, stamp[:8])
        signature = hmac.digest(key, (shape.to_sign + digest).encode(), "sha256")
        headers = shape.headers.copy()
        headers["Authorization"] = shape.authorization + signature.hex()
        return headers

    def _shape(
        self,
        host: str,
        path: str,
        target: str,
        stamp: str,
        scope: str,
        secret: Secret,
        encoding: str | None,
    ) -> _Shape:
        key = (host, path, target, stamp, secret.token, secret.access_key, encoding)
        shape = self._shapes.get(key)
        if shape is None:
            if len(self._shapes) >= 64:  # past seconds' shapes: not asked for again
                self._shapes.clear()
            of = _Shape.of(host, path, target, stamp, scope, secret, encoding)
            shape = self._shapes[key] = of
        return shape

    def _stamp(self, now: float) -> tuple[str, str]:
        """The X-Amz-Date and the credential scope of `now`, kept for its whole second."""
        second = int(now)
        cached = self._second
        if cached[0] == second:
            return cached[1], cached[2]
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second))
        scope = f"{stamp[:8]}/{self._region}/{self._service}/aws4_request"
        self._second = (second, stamp, scope)  # one tuple: readers never see half of it
        return stamp, scope

    def _signing_key(self, secret_key: str | None, day: str) -> bytes:
        cached = self._key
        if cached[0] == secret_key and cached[1] == day:
            return cached[2]
        key = hmac.new(f"AWS4{secret_key}".encode(), day.encode(), "sha256").digest()
        for part in (self._region, self._service, "aws4_request"):
            key = hmac.new(key, part.encode(), "sha256").digest()
        self._key = (secret_key, day, key)  # one tuple: readers never see half of it
        return key


@dataclass(frozen=True)
class _Shape:
    headers: dict[str, str]  # every header but Authorization
    canonical: str  # the canonical request, up to the body's hash
    to_sign: str  # the string to sign, up to the canonical request's hash
    authorization: str  # the Authorization header, up to the signature

    @classmethod
    def of(
        cls,
        host: str,
        path: str,
        target: str,
        stamp: str,
        scope: str,
        secret: Secret,
        encoding: str | None = None,
    ) -> _Shape:
        token = secret.token
        headers = {"Content-Encoding": encoding} if encoding else {}
        headers |= {"Content-Type": CONTENT_TYPE, "Host": host, "X-Amz-Date": stamp}
        if token:
            headers["X-Amz-Security-Token"] = token
        headers["X-Amz-Target"] = target
        # The names above are already in sorted order once lower-cased.
        names = SIGNED_WITH_TOKEN if token else SIGNED
        if encoding:
            names = f"content-encoding;{names}"
        lines = "".join(f"{name.lower()}:{' '.join(v.split())}\n" for name, v in headers.items())
        return cls(
            headers,
            f"POST\n{path}\n\n{lines}\n{names}\n",
            f"{ALGORITHM}\n{stamp}\n{scope}\n",
            f"{ALGORITHM} Credential={secret.access_key}/{scope}, "
            f"SignedHeaders={names}, Signature=",
        )
