"""Request bodies gzip-compressed for an Alternator side whose ``compression`` is on.

Alternator takes a body sent with ``Content-Encoding: gzip`` from ScyllaDB 2026.1
(docs/alternator/network.md). It checks the signature against the bytes received,
so the body is compressed before it is signed, as the AWS SDKs do. Small bodies
are sent as they are: below GZIP_FROM_BYTES compressing costs more client CPU than
the bytes it saves are worth (bench/compression.py, bench/RESULTS.md). An older
ScyllaDB reads the compressed bytes as JSON and answers HTTP 400 ValidationException
"Parsing JSON failed": that answer to a compressed request means compression is off
there, and is said once, with what to do, instead of being retried. Pure: no I/O.
"""

from __future__ import annotations

import zlib

from toolkit.errors import UserError

ENCODING = "gzip"
GZIP_FROM_BYTES = 4096  # bodies this long or longer are compressed
LEVEL = 1  # zlib's fastest: most of level 6's saving on DynamoDB JSON, at less CPU
_GZIP_WBITS = 31  # zlib's gzip framing (header and CRC32), as Content-Encoding: gzip means


def gzipped(body: bytes, from_bytes: int = GZIP_FROM_BYTES) -> bytes | None:
    """The body compressed, or None when it is too short, or does not shrink, to be worth it."""
    if len(body) < from_bytes:
        return None
    packed = zlib.compress(body, LEVEL, _GZIP_WBITS)
    return packed if len(packed) < len(body) else None


def refused(status: int, code: str, message: str) -> bool:
    """Whether an error answer to a compressed request is a server that cannot read one."""
    return status == 400 and code == "ValidationException" and "Parsing JSON failed" in message


def compression_refused(operation: str, where: str, message: str) -> UserError:
    return UserError(
        f"{operation} on {where} failed: the server cannot read gzip-compressed requests "
        f"({message.strip()}; Alternator takes them from ScyllaDB 2026.1); set "
        "compression: false in this side's Alternator settings"
    )
