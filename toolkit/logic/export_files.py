"""An export's data files as one listing shows them, checked before any of them is read.

What a listing tells without reading a file (S3 API reference: ListObjectsV2 gives each
object's Key, Size and ETag, up to 1,000 objects a request), and what follows:

- A file that manifest-files.json names but the listing lacks is missing.
- A file of fewer bytes than any gzip stream (RFC 1952: a 10-byte header and an
  8-byte trailer around at least 2 bytes of deflate data) holds no line, so it is
  damaged when its itemCount says it holds items. DynamoDB writes an empty file only
  for an empty partition (Developer Guide, "DynamoDB table export output format").
- An ETag is the hex MD5 of the object only for an object put in one part,
  unencrypted or under SSE-S3; a multipart upload's ends in "-N", and under SSE-KMS
  or SSE-C it is no MD5 (S3 API reference, Object's ETag). An ETag equal to the
  manifest's etag, or to its md5Checksum in hex, shows the very file that was
  exported. One equal to neither shows a file rewritten since, when the export is
  still in the bucket it was written to (its summary's s3Bucket); in a copy it proves
  nothing (copies may be made in parts, or under another encryption), so such a
  file's MD5 is checked only when it is read.

Not checked here, only during the copy: each file's MD5, every line's shape, and
each file's item count against its lines.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass

from toolkit.logic.export_format import DataFile

GZIP_MIN_BYTES = 20  # header 10 + the smallest deflate data 2 + trailer 8 (RFC 1952)


@dataclass(frozen=True)
class StoredFile:
    """An object as a listing gives it."""

    size: int
    etag: str | None  # without quotes; None where there is none (a local file)


def data_folder(keys: Iterable[str]) -> str:
    """The deepest folder holding every key ('' or ending in '/'): one listing's prefix."""
    listed = sorted(keys)
    if not listed:
        return ""
    first, last = listed[0], listed[-1]  # the common prefix of all is that of these two
    common = 0
    while common < min(len(first), len(last)) and first[common] == last[common]:
        common += 1
    return first[: first.rfind("/", 0, common) + 1]


def file_problem(data_file: DataFile, stored: StoredFile | None, in_place: bool) -> str | None:
    """What is wrong with a data file, as the listing shows it, or None.

    ``in_place``: the export is read from the bucket it was written to.
    """
    if stored is None:
        return "is missing (manifest-files.json lists it)"
    items = data_file.item_count or 0
    if items > 0 and stored.size < GZIP_MIN_BYTES:
        return (
            f"is {stored.size} bytes, too few for the {items} items manifest-files.json "
            "counts in it"
        )
    if not in_place or stored.etag is None or data_file.etag is None:
        return None
    if stored.etag in (data_file.etag, md5_hex(data_file.md5)):
        return None
    return (
        f"has ETag {stored.etag}, but manifest-files.json gives {data_file.etag}: it was "
        "rewritten after the export was written"
    )


def md5_hex(md5_base64: str | None) -> str | None:
    """manifest-files.json's md5Checksum (base64) as an ETag would show it (hex)."""
    if md5_base64 is None:
        return None
    try:
        return base64.b64decode(md5_base64, validate=True).hex()
    except (binascii.Error, ValueError):
        return None
