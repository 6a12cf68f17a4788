"""Objects of one S3 bucket (through boto3, any endpoint), or of a local folder.

S3 errors become the toolkit's tree: a missing key or bucket and a refused access
are the user's to fix (one line naming s3://bucket/key), 5xx and throttling are
retried by botocore's standard mode first and then reported as transient.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal, Protocol

from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from toolkit.config import SourceConfig, TargetConfig
from toolkit.config.exports import S3Access
from toolkit.errors import ServiceError, UserError
from toolkit.logic.export_files import StoredFile
from toolkit.wire.connections import connect
from toolkit.wire.service_errors import translated

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_MISSING = ("NoSuchKey", "NoSuchBucket", "404", "AccessDenied", "403", "InvalidBucketName")
_DENIED = ("AccessDenied", "403")
_PART_SIZE = 64 * 1024 * 1024  # multipart uploads above this size


class Store(Protocol):
    def url(self, key: str) -> str: ...
    def get(self, key: str) -> bytes: ...
    def put(self, key: str, body: BinaryIO) -> str: ...  # returns the object's ETag
    def holds_any(self, prefix: str) -> bool: ...
    # every object under the prefix; None: the credentials may not list it
    def listing(self, prefix: str) -> dict[str, StoredFile] | None: ...


class S3Store:
    def __init__(self, client: S3Client, bucket: str, where: str) -> None:
        self._client = client
        self.bucket = bucket
        self._where = where

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def get(self, key: str) -> bytes:
        with self._errors("GetObject", key):
            body: bytes = self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body

    def put(self, key: str, body: BinaryIO) -> str:
        config = TransferConfig(multipart_threshold=_PART_SIZE, multipart_chunksize=_PART_SIZE)
        with self._errors("PutObject", key):
            self._client.upload_fileobj(body, self.bucket, key, Config=config)
            etag: str = self._client.head_object(Bucket=self.bucket, Key=key)["ETag"]
        return etag.strip('"')

    def holds_any(self, prefix: str) -> bool:
        with self._errors("ListObjectsV2", prefix):
            listed = self._client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=1)
        return bool(listed.get("KeyCount"))

    def listing(self, prefix: str) -> dict[str, StoredFile] | None:
        """Size and ETag of every object under the prefix: 1,000 to a ListObjectsV2 request.

        None when listing is refused: it needs s3:ListBucket, a permission apart from
        reading (S3 API reference, ListObjectsV2).
        """
        found: dict[str, StoredFile] = {}
        try:
            with _errors("ListObjectsV2", self._where, self.url(prefix), passed=_DENIED):
                pages = self._client.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=prefix
                )
                for page in pages:
                    for entry in page.get("Contents", []):
                        found[entry["Key"]] = StoredFile(entry["Size"], entry["ETag"].strip('"'))
        except ServiceError as failed:
            if failed.code not in _DENIED:
                raise
            return None
        return found

    def _errors(self, operation: str, key: str) -> AbstractContextManager[None]:
        return _errors(operation, self._where, self.url(key))


@contextmanager
def _errors(operation: str, where: str, url: str, passed: tuple[str, ...] = ()) -> Iterator[None]:
    """translated(), with a missing object or bucket as one UserError line naming it
    (the codes ``passed`` stay ServiceErrors, for the caller to judge)."""
    try:
        with translated(operation, where):
            yield
    except ServiceError as failed:
        if failed.code in _MISSING and failed.code not in passed:
            raise UserError(
                f"cannot read or write {url} on {where} ({failed.code}); check "
                "the bucket, the key and the credentials' access to them"
            ) from None
        raise


class LocalStore:
    """A local folder in place of a bucket: the Scylla Migrator's target path may be one."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def url(self, key: str) -> str:
        return str(self._root / key)

    def get(self, key: str) -> bytes:
        return (self._root / key).read_bytes()

    def put(self, key: str, body: BinaryIO) -> str:
        path = self._root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("wb") as file:
                while chunk := body.read(1 << 20):
                    file.write(chunk)
        except OSError as error:
            raise UserError(f"cannot write {path} ({error.strerror}); check target.path") from None
        return ""

    def holds_any(self, prefix: str) -> bool:
        folder = self._root / prefix
        return folder.is_dir() and any(folder.iterdir())

    def listing(self, prefix: str) -> dict[str, StoredFile] | None:
        """Size of every file under the prefix, a folder here (a file system has no ETag)."""
        folder = self._root / prefix
        if not folder.is_dir():
            return {}
        return {
            path.relative_to(self._root).as_posix(): StoredFile(path.stat().st_size, None)
            for path in folder.rglob("*")
            if path.is_file()
        }


def s3_store(
    role: str, section: SourceConfig | TargetConfig, access: S3Access, bucket: str
) -> S3Store:
    """A client for the bucket with the section's credentials and S3's own endpoint."""
    s3_section = dataclasses.replace(section, endpoint=access.endpoint, region=access.region)
    connection = connect(role, s3_section)
    style: Literal["path", "auto"] = "path" if access.path_style else "auto"
    client = connection.session.client(
        "s3",
        region_name=connection.region,
        endpoint_url=access.endpoint.url if access.endpoint else None,
        config=Config(
            retries={"max_attempts": 4, "mode": "standard"},
            connect_timeout=5,
            s3={"addressing_style": style},
        ),
        verify=str(section.ca_bundle) if section.ca_bundle else None,
    )
    where = f"{role} S3 {access.endpoint.url if access.endpoint else connection.region}"
    return S3Store(client, bucket, where)
