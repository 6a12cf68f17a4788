"""One listing of an export's data files: its pages, a refused listing, and what follows.

S3's answers are botocore's Stubber here (no server): pages of ListObjectsV2 as S3
gives them (quoted ETags, a continuation token), and an AccessDenied.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from toolkit.connectors.s3_export.files import ExportPart, check_files
from toolkit.errors import UserError
from toolkit.logic.export_files import StoredFile
from toolkit.logic.export_format import DataFile, ExportFormatError, parse_summary
from toolkit.wire.s3_store import LocalStore, S3Store

SUMMARY = parse_summary(b'{"manifestFilesS3Key": "e/files.json", "s3Bucket": "b"}', "e/s.json")


def stubbed() -> tuple[S3Store, Stubber]:
    client = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",  # never reached: the Stubber answers
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    return S3Store(client, "b", "source S3 test"), Stubber(client)


def page(keys: list[str], token: str | None = None) -> dict[str, Any]:
    contents = [{"Key": k, "Size": 30 + n, "ETag": f'"etag{n}"'} for n, k in enumerate(keys)]
    answer: dict[str, Any] = {"Contents": contents, "KeyCount": len(keys)}
    answer["IsTruncated"] = token is not None
    if token is not None:
        answer["NextContinuationToken"] = token
    return answer


def test_a_listing_reads_every_page() -> None:
    store, stubber = stubbed()
    stubber.add_response(
        "list_objects_v2", page(["e/d/a", "e/d/b"], "more"), {"Bucket": "b", "Prefix": "e/d/"}
    )
    stubber.add_response(
        "list_objects_v2",
        page(["e/d/c"]),
        {"Bucket": "b", "Prefix": "e/d/", "ContinuationToken": "more"},
    )
    with stubber:
        listed = store.listing("e/d/")
    assert listed == {
        "e/d/a": StoredFile(30, "etag0"),
        "e/d/b": StoredFile(31, "etag1"),
        "e/d/c": StoredFile(30, "etag0"),
    }
    stubber.assert_no_pending_responses()


def test_a_listing_refused_for_want_of_permission_is_none_and_a_missing_bucket_an_error() -> None:
    store, stubber = stubbed()
    stubber.add_client_error("list_objects_v2", "AccessDenied", http_status_code=403)
    stubber.add_client_error("list_objects_v2", "NoSuchBucket", http_status_code=404)
    with stubber:
        assert store.listing("e/d/") is None
        with pytest.raises(UserError, match=r"cannot read or write s3://b/e/d/ .*NoSuchBucket"):
            store.listing("e/d/")


class Listed(LocalStore):
    """A store whose listing is given (None: refused); check_files reads nothing else."""

    def __init__(self, listed: dict[str, StoredFile] | None) -> None:
        super().__init__(Path("/nowhere"))
        self.listed = listed
        self.prefixes: list[str] = []

    def url(self, key: str) -> str:
        return f"s3://b/{key}"

    def listing(self, prefix: str) -> dict[str, StoredFile] | None:
        self.prefixes.append(prefix)
        return self.listed


def test_data_files_are_checked_from_one_listing_of_their_folder(
    caplog: pytest.LogCaptureFixture,
) -> None:
    part = ExportPart(SUMMARY, [DataFile(f"e/d/{n}.gz", 2, None, None) for n in "abc"])
    whole = {f.key: StoredFile(40, None) for f in part.files}
    store = Listed(whole)
    check_files(store, part, in_place=True)
    assert store.prefixes == ["e/d/"]
    with pytest.raises(ExportFormatError) as refused:
        check_files(Listed({"e/d/a.gz": whole["e/d/a.gz"]}), part, in_place=True)
    assert str(refused.value) == (
        "the data file s3://b/e/d/b.gz is missing (manifest-files.json lists it) (1 more of "
        "its data files too): the export s3://b/e/s.json is incomplete or damaged; copy its "
        "files again from the original, or take a new export"
    )
    with caplog.at_level(logging.WARNING, logger="migrator"):
        check_files(Listed(None), part, in_place=True)
    assert "may not list s3://b/e/d/ (s3:ListBucket)" in caplog.text


def test_a_local_folder_is_listed_by_stat(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "00000.json.gz").write_bytes(b"x" * 25)
    (tmp_path / "manifest-files.json").write_bytes(b"{}")
    store = LocalStore(tmp_path)
    assert store.listing("data/") == {"data/00000.json.gz": StoredFile(25, None)}
    assert store.listing("nothing/") == {}
